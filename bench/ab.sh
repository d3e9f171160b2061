#!/usr/bin/env bash
# Two Airlock builds, A and B, measured in turns on the same database, so that a change can be told
# apart from this machine's drift (its speed moves by tens of percent within minutes).
#
#   bench/ab.sh A_BINARY B_BINARY [ROUNDS] [SECONDS]
#   bench/ab.sh --instructions A_BINARY B_BINARY [REQUESTS]
#
# Seeds one SQLite database with A's CLI (one ES256 and one RS256 confidential client, a first-party
# web client and a user) and signs the user in through A; B gets a copy of it, which it migrates
# forward if it is newer, so the two never share a schema. Then either, for each case, runs A, then B, ROUNDS times (default 5),
# SECONDS per measurement (default 5), server pinned to CPU 0 and wrk to CPU 1, and prints each
# build's median requests/s and the ratio B/A; or, with --instructions, counts with valgrind's
# callgrind the instructions each build executes for REQUESTS requests of each case (default 300,
# after 50 to warm up): a count that does not move with the machine's speed. Example, a commit
# against the one before it:
#
#   git worktree add ../airlock-a HEAD~1 && (cd ../airlock-a && cargo build --release --bin airlock)
#   cargo build --release --bin airlock
#   bash bench/ab.sh ../airlock-a/target/release/airlock target/release/airlock
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=wall
if [[ "${1:-}" == --instructions ]]; then
    MODE=instructions
    shift
fi
A=$(realpath "$1")
B=$(realpath "$2")
ROUNDS=${3:-5}
SECONDS_PER_RUN=${4:-5}
REQUESTS=${3:-300}
PORT=18090
OUT=bench/out/ab
rm -rf "$OUT" && mkdir -p "$OUT"
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }

export AIRLOCK_DATABASE_URL="sqlite://$PWD/$OUT/a.db" AIRLOCK_KEK_FILE="$OUT/kek"
export AIRLOCK_PUBLIC_URL="http://127.0.0.1:$PORT" AIRLOCK_LISTEN="127.0.0.1:$PORT" RUST_LOG=warn
source bench/lib.sh
seed_zone "$A"
trap stop_server EXIT
start_server() { # BINARY [WRAPPER…]
    local binary=$1 database="sqlite://$PWD/$OUT/a.db"
    shift
    [[ $binary == "$B" ]] && database="sqlite://$PWD/$OUT/b.db"
    AIRLOCK_DATABASE_URL=$database taskset -c 0 "$@" "$binary" serve >>"$OUT/serve.log" 2>&1 &
    SERVER_PID=$!
    wait_ready "http://127.0.0.1:$PORT/healthz"
}

issuer="http://127.0.0.1:$PORT/bench/zone"
start_server "$A"
user_token=$(python3 bench/drive.py login "http://127.0.0.1:$PORT" /bench/zone "$(field "$WEB" client_id)" \
    "$(field "$WEB" client_secret)" http://127.0.0.1/cb user@bench.example "bench password 1" |
    python3 -c "import json,sys; print(json.load(sys.stdin)['access_token'])")
stop_server
for part in "" -wal -shm; do
    [[ -f "$OUT/a.db$part" ]] && cp "$OUT/a.db$part" "$OUT/b.db$part"
done
post_lua "$OUT/es.lua" /bench/zone/token "Basic $(basic "$ES")" "grant_type=client_credentials"
post_lua "$OUT/rs.lua" /bench/zone/token "Basic $(basic "$RS")" "grant_type=client_credentials"
# Introspected by the client it was issued to (Airlock answers only those).
post_lua "$OUT/introspect.lua" /bench/zone/introspect "Basic $(basic "$WEB")" "token=$user_token"
bearer_lua "$OUT/userinfo.lua" "$user_token"

CASES=(
    "floor http://127.0.0.1:$PORT/healthz"
    "discovery $issuer/.well-known/openid-configuration"
    "jwks $issuer/jwks"
    "cc-es256 http://127.0.0.1:$PORT/bench/zone/token $OUT/es.lua"
    "cc-rs256 http://127.0.0.1:$PORT/bench/zone/token $OUT/rs.lua"
    "introspection http://127.0.0.1:$PORT/bench/zone/introspect $OUT/introspect.lua"
    "userinfo $issuer/userinfo $OUT/userinfo.lua"
)

# Sends REQUESTS of one case over one keep-alive connection.
send() { # REQUESTS URL [SCRIPT]
    python3 - "$@" <<'PY'
import http.client, re, sys, urllib.parse
count, url = int(sys.argv[1]), urllib.parse.urlparse(sys.argv[2])
script = open(sys.argv[3]).read() if len(sys.argv) > 3 else ""
found = lambda pattern: (re.search(pattern, script) or [None, None])[1]
body, authorization = found(r'wrk.body = "([^"]*)"'), found(r'Authorization"\] = "([^"]*)"')
headers = {"Authorization": authorization} if authorization else {}
if body is not None:
    headers["Content-Type"] = "application/x-www-form-urlencoded"
connection = http.client.HTTPConnection(url.hostname, url.port)
for _ in range(count):
    connection.request("POST" if body is not None else "GET", url.path, body, headers)
    response = connection.getresponse()
    response.read()
    assert response.status == 200, response.status
PY
}

if [[ $MODE == instructions ]]; then
    command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
    printf '\n%-14s%14s%14s%8s\n' case "A instr/req" "B instr/req" "B/A"
    for entry in "${CASES[@]}"; do
        read -r name url script <<<"$entry"
        counts=()
        for binary in "$A" "$B"; do
            rm -f "$OUT"/callgrind.*
            start_server "$binary" valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.%p"
            send 50 "$url" ${script:-}
            callgrind_control -z "$SERVER_PID" >/dev/null 2>&1
            send "$REQUESTS" "$url" ${script:-}
            callgrind_control -d "$SERVER_PID" >/dev/null 2>&1
            stop_server
            counts+=("$(awk '/^summary:/ {print $2}' "$OUT"/callgrind.*.1)")
        done
        python3 -c "import sys; a, b, n = map(int, sys.argv[1:4]); print(f'{sys.argv[4]:<14}{a // n:>14}{b // n:>14}{b / a:>8.3f}')" \
            "${counts[0]}" "${counts[1]}" "$REQUESTS" "$name"
    done
    exit 0
fi

: >"$OUT/runs.txt"
for round in $(seq 1 "$ROUNDS"); do
    for build in A B; do
        binary=$A
        [[ $build == B ]] && binary=$B
        start_server "$binary"
        for entry in "${CASES[@]}"; do
            read -r name url script <<<"$entry"
            args=(-t1 -c50 "-d${SECONDS_PER_RUN}s")
            [[ -n "${script:-}" ]] && args+=(-s "$script")
            rps=$(taskset -c 1 wrk "${args[@]}" "$url" | awk '/Requests\/sec/ {print $2}')
            echo "$name $build $round $rps" | tee -a "$OUT/runs.txt"
        done
        stop_server
    done
done

python3 - "$OUT/runs.txt" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, build, _, rps = line.split()
    runs.setdefault(name, {}).setdefault(build, []).append(float(rps))
print(f"\n{'case':<14}{'A median':>12}{'B median':>12}{'B/A':>8}")
for name, by_build in runs.items():
    a, b = statistics.median(by_build["A"]), statistics.median(by_build["B"])
    print(f"{name:<14}{a:>12.0f}{b:>12.0f}{b / a:>8.2f}")
PY
