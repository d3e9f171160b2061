#!/usr/bin/env bash
# Airlock against a certified peer (panva's oidc-provider), side by side in one run.
#
#   bench/run.sh            full run: release build, every case on SQLite, PostgreSQL and the peer,
#                           the physical limits, the scale case; writes bench/RESULTS.md
#   bench/run.sh --smoke    5-second pass on SQLite with the debug build, so the harness cannot rot (CI)
#   bench/run.sh --fuzz S   every fuzz target for S seconds (fuzz/run.sh); the table goes to bench/out/fuzz.md
#
# Environment: BENCH_SECONDS (per case, default 10), BENCH_SCALE ("1 1000 10000"; empty skips),
# BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres; "none" skips PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--fuzz" ]]; then
    exec bash fuzz/run.sh "${2:-60}"
fi
MODE=full
[[ "${1:-}" == "--smoke" ]] && MODE=smoke
SERVER_CPU=0
LOAD_CPU=1
OUT=bench/out
rm -rf "$OUT" && mkdir -p "$OUT"
RUNS="$OUT/runs.jsonl"
: >"$RUNS"
if [[ $MODE == smoke ]]; then
    SECONDS_PER_CASE=1
    SCALE=""
else
    SECONDS_PER_CASE=${BENCH_SECONDS:-10}
    SCALE=${BENCH_SCALE-"1 1000 10000"}
fi
PG_ADMIN=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
SECRET=bench-peer-secret-0123456789abcdef0123456789
echo "== bench ($MODE): server pinned to CPU $SERVER_CPU, load generator to CPU $LOAD_CPU (taskset)"

if ! command -v wrk >/dev/null; then
    echo "== installing wrk from Debian's packages"
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

if [[ $MODE == smoke ]]; then
    cargo build --quiet --bin airlock
    BIN=target/debug/airlock
else
    cargo build --release --quiet --bin airlock --examples
    BIN=target/release/airlock
fi

source bench/lib.sh
trap stop_server EXIT

rss_mb() { # PID FIELD
    awk -v f="$2:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}


# Runs wrk against the pinned server and records one result line.
measure() { # CASE SERVER URL [LUA]
    local case=$1 server=$2 url=$3 lua=${4:-}
    local args=(-t1 -c50 "-d${SECONDS_PER_CASE}s" --latency)
    [[ -n "$lua" ]] && args+=(-s "$lua")
    taskset -c "$LOAD_CPU" wrk "${args[@]}" "$url" >"$OUT/wrk.txt"
    python3 - "$case" "$server" "$(rss_mb "$SERVER_PID" VmHWM)" "taskset -c $LOAD_CPU wrk ${args[*]} $url" >>"$RUNS" <<'PY'
import json, re, sys
case, server, rss, command = sys.argv[1:5]
text = open("bench/out/wrk.txt").read()
def ms(label):
    m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\b", text, re.M)
    if not m: return 0.0
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", text))
errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
print(json.dumps({"case": case, "server": server, "rps": rps, "p50_ms": ms(50), "p99_ms": ms(99),
                  "errors": errors, "rss_mb": float(rss or 0), "command": command}))
PY
    tail -n1 "$RUNS"
}

# --- Airlock, on one backend -------------------------------------------------------------------
bench_airlock() { # BACKEND DATABASE_URL
    local backend=$1 database_url=$2 port=18080
    local dir="$OUT/airlock-$backend"
    mkdir -p "$dir"
    export AIRLOCK_DATABASE_URL=$database_url AIRLOCK_KEK_FILE="$dir/kek"
    export AIRLOCK_PUBLIC_URL="http://127.0.0.1:$port" AIRLOCK_LISTEN="127.0.0.1:$port" RUST_LOG=warn
    seed_zone "$BIN"
    local issuer="http://127.0.0.1:$port/bench/zone"
    start_airlock "$dir/serve.log" "$issuer/jwks"
    local login_args=("http://127.0.0.1:$port" /bench/zone "$(field "$WEB" client_id)" "$(field "$WEB" client_secret)"
        http://127.0.0.1/cb user@bench.example "bench password 1")
    local user_token
    user_token=$(python3 bench/drive.py login "${login_args[@]}" | python3 -c "import json,sys; print(json.load(sys.stdin)['access_token'])")
    post_lua "$OUT/es.lua" /bench/zone/token "Basic $(basic "$ES")" "grant_type=client_credentials"
    post_lua "$OUT/rs.lua" /bench/zone/token "Basic $(basic "$RS")" "grant_type=client_credentials"
    # Introspected by the client it was issued to (Airlock answers only those).
    post_lua "$OUT/introspect.lua" /bench/zone/introspect "Basic $(basic "$WEB")" "token=$user_token"
    bearer_lua "$OUT/userinfo.lua" "$user_token"
    local server="airlock-$backend"
    measure floor "$server" "http://127.0.0.1:$port/healthz"
    measure discovery "$server" "$issuer/.well-known/openid-configuration"
    measure jwks "$server" "$issuer/jwks"
    measure cc-es256 "$server" "http://127.0.0.1:$port/bench/zone/token" "$OUT/es.lua"
    measure cc-rs256 "$server" "http://127.0.0.1:$port/bench/zone/token" "$OUT/rs.lua"
    measure introspection "$server" "http://127.0.0.1:$port/bench/zone/introspect" "$OUT/introspect.lua"
    measure userinfo "$server" "$issuer/userinfo" "$OUT/userinfo.lua"
    local login_json
    login_json=$(taskset -c "$LOAD_CPU" python3 bench/drive.py login-load "${login_args[@]}" "$SECONDS_PER_CASE" 8)
    python3 - "$server" "$login_json" "$(rss_mb "$SERVER_PID" VmHWM)" >>"$RUNS" <<'PY'
import json, sys
run = json.loads(sys.argv[2])
run.update({"case": "login", "server": sys.argv[1], "rss_mb": float(sys.argv[3] or 0),
            "command": "taskset -c 1 python3 bench/drive.py login-load … 8 workers"})
print(json.dumps(run))
PY
    tail -n1 "$RUNS"
    stop_server

    # Webhooks. The token path with an endpoint subscribed to user.* (not to token.issued).
    local hook_port=18099
    "$BIN" --json webhook add bench/zone --url "http://127.0.0.1:$hook_port/hooks" --events 'user.*' >/dev/null
    start_airlock "$dir/serve-hooked.log" "$issuer/jwks"
    measure cc-es256-hooked "$server" "http://127.0.0.1:$port/bench/zone/token" "$OUT/es.lua"
    stop_server
    # The token path with metrics recorded (a scrape listener beside it).
    AIRLOCK_METRICS_LISTEN=127.0.0.1:18098 start_airlock "$dir/serve-metrics.log" "$issuer/jwks"
    measure cc-es256-metrics "$server" "http://127.0.0.1:$port/bench/zone/token" "$OUT/es.lua"
    stop_server
    # Deliveries: every token is a token.issued event for a receiver on the load generator's core.
    "$BIN" --json webhook add bench/zone --url "http://127.0.0.1:$hook_port/hooks" --events token.issued >/dev/null
    start_airlock "$dir/serve-deliveries.log" "$issuer/jwks"
    local deliveries
    deliveries=$(taskset -c "$LOAD_CPU" python3 bench/drive.py webhook-load "http://127.0.0.1:$port" \
        /bench/zone/token "Basic $(basic "$ES")" "$hook_port" "$SECONDS_PER_CASE" 200)
    python3 - "$server" "$deliveries" "$(rss_mb "$SERVER_PID" VmHWM)" >>"$RUNS" <<'PY'
import json, sys
run = json.loads(sys.argv[2])
run.update({"case": "webhooks", "server": sys.argv[1], "rss_mb": float(sys.argv[3] or 0),
            "command": "taskset -c 1 python3 bench/drive.py webhook-load … 200 (events/s steady, then 8 closed-loop clients)"})
print(json.dumps(run))
PY
    tail -n1 "$RUNS"
    stop_server
}

# Starts the built server on the pinned core with the exported AIRLOCK_* settings.
start_airlock() { # LOG READY_URL
    taskset -c "$SERVER_CPU" "$BIN" serve >"$1" 2>&1 &
    SERVER_PID=$!
    wait_ready "$2"
}

bench_airlock sqlite "sqlite://$PWD/$OUT/airlock-sqlite.db"

if [[ $MODE == full && "$PG_ADMIN" != none ]]; then
    psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS airlock_bench WITH (FORCE)" >/dev/null
    psql "$PG_ADMIN" -qc "CREATE DATABASE airlock_bench" >/dev/null
    bench_airlock postgres "$(python3 -c "import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p._replace(path='/airlock_bench').geturl())" "$PG_ADMIN")"
fi

# --- the peer ----------------------------------------------------------------------------------
if [[ $MODE == full ]]; then
    echo "== peer: oidc-provider 9.x, installed into bench/peer/ (git-ignored)"
    mkdir -p bench/peer
    [[ -d bench/peer/node_modules/oidc-provider ]] ||
        (cd bench/peer && npm install --no-audit --no-fund --silent oidc-provider@9 >/dev/null)
    cp bench/peer-server.mjs bench/peer/server.mjs
    PORT=19090
    NODE_ENV=production taskset -c "$SERVER_CPU" node bench/peer/server.mjs "$PORT" "$SECRET" "$OUT/peer.token" \
        >"$OUT/peer.log" 2>&1 &
    SERVER_PID=$!
    wait_ready "http://127.0.0.1:$PORT/jwks"
    peer_basic() { printf '%s:%s' "$1" "$SECRET" | base64 -w0; }
    post_lua "$OUT/peer-es.lua" /token "Basic $(peer_basic es)" "grant_type=client_credentials"
    post_lua "$OUT/peer-rs.lua" /token "Basic $(peer_basic rs)" "grant_type=client_credentials"
    post_lua "$OUT/peer-introspect.lua" /token/introspection "Basic $(peer_basic es)" "token=$(cat "$OUT/peer.token")"
    bearer_lua "$OUT/peer-userinfo.lua" "$(cat "$OUT/peer.token")"
    measure discovery peer "http://127.0.0.1:$PORT/.well-known/openid-configuration"
    measure jwks peer "http://127.0.0.1:$PORT/jwks"
    measure cc-es256 peer "http://127.0.0.1:$PORT/token" "$OUT/peer-es.lua"
    measure cc-rs256 peer "http://127.0.0.1:$PORT/token" "$OUT/peer-rs.lua"
    measure introspection peer "http://127.0.0.1:$PORT/token/introspection" "$OUT/peer-introspect.lua"
    measure userinfo peer "http://127.0.0.1:$PORT/me" "$OUT/peer-userinfo.lua"
    stop_server
fi

# --- physical limits ---------------------------------------------------------------------------
if [[ $MODE == full ]]; then
    ES_SIGN=$(taskset -c "$SERVER_CPU" openssl speed -seconds 3 ecdsap256 2>/dev/null | awk '/nistp256/ {print $(NF-1)}')
    RS_SIGN=$(taskset -c "$SERVER_CPU" openssl speed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa 2048/ {print $(NF-1)}')
    ARGON=$(taskset -c "$SERVER_CPU" target/release/examples/argon2_rate 5)
else
    ES_SIGN=0 RS_SIGN=0 ARGON=0
fi

# --- scale: many environments ------------------------------------------------------------------
: >"$OUT/scale.jsonl"
for count in $SCALE; do
    dir="$OUT/scale-$count"
    mkdir -p "$dir"
    url="sqlite://$PWD/$dir/airlock.db"
    echo "== scale: seeding $count environments"
    target/release/examples/seed_environments "$url" "$dir/kek" http://127.0.0.1:18081 "$count" "$dir/targets.txt"
    head -n1 "$dir/targets.txt" >"$dir/one.txt"
    for spread in spread one; do
        source_file="$dir/targets.txt"
        [[ $spread == one ]] && source_file="$dir/one.txt"
        python3 - "$source_file" >"$dir/$spread.lua" <<'PY'
import sys
targets = [line.split(" ", 1) for line in open(sys.argv[1]).read().splitlines() if line]
print("local targets = {")
for path, auth in targets:
    print(f'  {{"{path}", "{auth}"}},')
print("}")
print('''request = function()
  local t = targets[math.random(#targets)]
  return wrk.format("POST", t[1], {["Content-Type"] = "application/x-www-form-urlencoded", ["Authorization"] = t[2]}, "grant_type=client_credentials")
end''')
PY
    done
    started=$(date +%s.%N)
    AIRLOCK_DATABASE_URL=$url AIRLOCK_KEK_FILE="$dir/kek" AIRLOCK_PUBLIC_URL=http://127.0.0.1:18081 \
        AIRLOCK_LISTEN=127.0.0.1:18081 RUST_LOG=warn taskset -c "$SERVER_CPU" "$BIN" serve >"$dir/serve.log" 2>&1 &
    SERVER_PID=$!
    wait_ready http://127.0.0.1:18081/readyz
    startup=$(python3 -c "import sys,time; print(time.time() - float(sys.argv[1]))" "$started")
    sleep 2
    idle=$(rss_mb "$SERVER_PID" VmRSS)
    measure "scale-$count" "airlock-sqlite" "http://127.0.0.1:18081/" "$dir/spread.lua" >/dev/null
    measure "scale-$count-one-zone" "airlock-sqlite" "http://127.0.0.1:18081/" "$dir/one.lua" >/dev/null
    python3 - "$count" "$startup" "$idle" >>"$OUT/scale.jsonl" <<'PY'
import json, sys
spread, one = [json.loads(l) for l in open("bench/out/runs.jsonl").read().splitlines()[-2:]]
print(json.dumps({"environments": int(sys.argv[1]), "rps": spread["rps"], "p99_ms": spread["p99_ms"],
                  "rps_one_zone": one["rps"], "startup_s": float(sys.argv[2]),
                  "idle_rss_mb": float(sys.argv[3])}))
PY
    tail -n1 "$OUT/scale.jsonl"
    stop_server
done

# --- results -----------------------------------------------------------------------------------
python3 - "$MODE" "$ES_SIGN" "$RS_SIGN" "$ARGON" "$SECONDS_PER_CASE" >"$OUT/results.json" <<'PY'
import json, platform, subprocess, sys
mode, es, rs, argon = sys.argv[1], *map(float, sys.argv[2:5])
seconds_per_case = sys.argv[5]
runs = [json.loads(l) for l in open("bench/out/runs.jsonl") if l.strip()]
scale = [json.loads(l) for l in open("bench/out/scale.jsonl") if l.strip()]
def version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, shell=True).stdout.strip().splitlines()[0]
    except Exception:
        return "unknown"
names = {"floor": "0. GET /healthz: Airlock's HTTP stack alone, the ceiling of any endpoint (the peer has none)",
         "discovery": "1. GET discovery", "jwks": "2. GET JWKS",
         "cc-es256": "3. client_credentials, client_secret_basic, ES256 JWT access token",
         "cc-rs256": "4. client_credentials, client_secret_basic, RS256 JWT access token",
         "introspection": "5. Introspection of a valid access token", "userinfo": "6. UserInfo with a valid access token",
         "cc-es256-hooked": "3b. client_credentials ES256, with a webhook endpoint subscribed to user.*",
         "cc-es256-metrics": "3c. client_credentials ES256, with Prometheus metrics recorded",
         "login": "7. Full browser login: authorize, login form (argon2id), code, token exchange",
         "webhooks": "8. Webhook deliveries of token.issued events to a local receiver"}
cases = []
for key, name in names.items():
    case_runs = [r for r in runs if r["case"] == key]
    if case_runs:
        cases.append({"name": name, "command": case_runs[0]["command"], "runs": case_runs})
for case in cases:
    if case["name"].startswith("5."):
        case["notes"] = ["Airlock introspects its JWT user access token (signature, revocation and grant checked "
                         "in the database); the peer introspects its opaque user access token (in memory)."]
    if case["name"].startswith("8."):
        case["notes"] = ["req/s is deliveries/s while 8 closed-loop clients mint tokens (each a token.issued "
                         "event), until the backlog drains; p50/p99 are the lag from a token's response (its "
                         "event committed) to its delivery, at a steady 200 events/s. The receiver and the load "
                         "generator share one Python process on the load core. The peer has no webhooks."]
    if case["name"].startswith("7."):
        case["notes"] = [f"Physical limit: {argon:.1f} argon2id hashes/s on one core; the peer is not driven "
                         "through its interaction pages."]
machine = {"mode": mode, "cpu": version("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"),
           "cores": version("nproc"), "kernel": platform.release(), "rustc": version("rustc --version"),
           "node": version("node --version"),
           "oidc-provider": version("node -p \"require('./bench/peer/node_modules/oidc-provider/package.json').version\""),
           "wrk": version("wrk -v 2>&1 | head -1"), "postgresql": version("psql --version"),
           "seconds per case": seconds_per_case, "connections": "50 (wrk -t1 -c50)"}
print(json.dumps({"machine": machine, "limits": {"es256_sign": es, "rs256_sign": rs, "argon2": argon},
                  "cases": cases, "scale": scale}, indent=1))
PY
if [[ $MODE == full ]]; then
    python3 bench/drive.py report "$OUT/results.json" bench/RESULTS.md
    echo "== wrote bench/RESULTS.md"
else
    python3 - <<'PY'
import json
runs = [json.loads(l) for l in open("bench/out/runs.jsonl") if l.strip()]
bad = [r for r in runs if r["errors"] or r["rps"] <= 0]
for r in runs:
    print(f"{r['server']:>16} {r['case']:>14} {r['rps']:>10.0f} req/s  p99 {r['p99_ms']:.2f} ms  errors {r['errors']}")
if bad or len(runs) < 11:
    raise SystemExit(f"smoke pass failed: {bad or 'missing cases'}")
print("smoke pass ok")
PY
fi
