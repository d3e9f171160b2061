# Shared by bench/run.sh and bench/ab.sh (sourced, not run): the server's lifetime and the seeded zone.

SERVER_PID=""
stop_server() {
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}

wait_ready() { # URL
    for _ in $(seq 1 600); do
        curl -sf -o /dev/null "$1" && return 0
        sleep 0.05
    done
    echo "server did not come up: $1" >&2
    return 1
}

# Seeds bench/zone (kind test) with BINARY's CLI, on the database the AIRLOCK_* variables name: an
# ES256 and an RS256 confidential client, a first-party web client and a user. Sets ES, RS and WEB to
# the clients as the CLI printed them.
seed_zone() { # BINARY
    local cli=("$1" --json)
    "${cli[@]}" project create bench >/dev/null
    "${cli[@]}" env create bench/zone --kind test >/dev/null
    ES=$("${cli[@]}" client create bench/zone --name es --id-token-signed-response-alg ES256)
    RS=$("${cli[@]}" client create bench/zone --name rs --id-token-signed-response-alg RS256)
    WEB=$("${cli[@]}" client create bench/zone --name web --first-party --redirect-uri http://127.0.0.1/cb)
    "${cli[@]}" user create bench/zone --email user@bench.example --password "bench password 1" >/dev/null
}

field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
basic() { printf '%s:%s' "$(field "$1" client_id)" "$(field "$1" client_secret)" | base64 -w0; }

# wrk scripts of the cases that need a method, body or credentials.
post_lua() { # FILE PATH AUTHORIZATION BODY
    cat >"$1" <<LUA
wrk.method = "POST"
wrk.path = "$2"
wrk.body = "$4"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "$3"
LUA
}

bearer_lua() { # FILE TOKEN
    cat >"$1" <<LUA
wrk.headers["Authorization"] = "Bearer $2"
LUA
}
