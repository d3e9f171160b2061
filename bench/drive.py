#!/usr/bin/env python3
"""Helpers for bench/run.sh: a full browser login (authorize, login form, code, token) as one
request chain, a closed-loop load of such logins, webhook deliveries to a local receiver, and the
RESULTS.md report from the run's JSON."""

import base64
import http.client
import http.server
import json
import re
import sys
import threading
import time
import urllib.parse


def request(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def login(base, issuer_path, client_id, secret, redirect_uri, email, password):
    """One whole login on a fresh browser; returns the token response."""
    parsed = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
        "scope": "openid email", "state": "bench", "nonce": "bench",
    })
    status, headers, page = request(conn, "GET", f"{issuer_path}/authorize?{query}")
    if status != 200:
        raise RuntimeError(f"authorize answered {status}")
    cookie = headers.get("set-cookie", headers.get("Set-Cookie", "")).split(";")[0]
    html = page.decode()
    action = re.search(r'<form method="post" action="([^"]+)"', html).group(1).replace("&#x2f;", "/")
    fields = [(n, v.replace("&#x2f;", "/").replace("&amp;", "&"))
              for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)]
    fields += [("airlock_email", email), ("airlock_password", password)]
    status, headers, _ = request(conn, "POST", urllib.parse.urlparse(action).path,
                                 urllib.parse.urlencode(fields),
                                 {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    location = headers.get("location", headers.get("Location", ""))
    code = urllib.parse.parse_qs(urllib.parse.urlparse(location).query).get("code", [None])[0]
    if status != 303 or not code:
        raise RuntimeError(f"login answered {status}")
    basic = __import__("base64").b64encode(f"{client_id}:{secret}".encode()).decode()
    status, _, body = request(conn, "POST", f"{issuer_path}/token",
                              urllib.parse.urlencode({"grant_type": "authorization_code", "code": code,
                                                      "redirect_uri": redirect_uri}),
                              {"Content-Type": "application/x-www-form-urlencoded",
                               "Authorization": f"Basic {basic}"})
    if status != 200:
        raise RuntimeError(f"token answered {status}")
    conn.close()
    return json.loads(body)


def login_load(args, seconds, workers):
    """Closed-loop logins from `workers` threads for `seconds`: logins/s, p50, p99 (ms), errors."""
    latencies, errors, lock = [], [0], threading.Lock()
    deadline = time.monotonic() + seconds

    def worker():
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                login(*args)
                with lock:
                    latencies.append((time.monotonic() - started) * 1000)
            except Exception:  # every failure counts as an error in the report
                with lock:
                    errors[0] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0.0
    return {"rps": len(latencies) / elapsed, "p50_ms": pick(0.50), "p99_ms": pick(0.99), "errors": errors[0]}


class Receiver(http.server.ThreadingHTTPServer):
    """Records when each token.issued event (by its access token's jti) arrives; answers 204."""
    daemon_threads = True

    def __init__(self, port):
        self.arrived, self.lock = {}, threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(handler):
                body = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
                now = time.monotonic()
                try:
                    jti = json.loads(body)["data"]["jti"]
                    with self.lock:
                        self.arrived.setdefault(jti, now)
                except (ValueError, KeyError):
                    pass
                handler.send_response(204)
                handler.send_header("Content-Length", "0")
                handler.end_headers()

            def log_message(handler, *args):
                pass

        super().__init__(("127.0.0.1", port), Handler)


def jti_of(access_token):
    payload = access_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"]


def webhook_load(base, token_path, authorization, port, seconds, rate):
    """token.issued events from client_credentials tokens, delivered to a receiver here: first at a
    steady `rate` for `seconds` (lag from the token's response, after its event committed, to the
    delivery), then as fast as 8 closed-loop clients go for `seconds` (deliveries/s, until the
    backlog drains)."""
    receiver = Receiver(port)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    host = urllib.parse.urlparse(base).netloc
    issued, errors, lock = {}, [0], threading.Lock()

    def issue(conn):
        headers = {"Authorization": authorization, "Content-Type": "application/x-www-form-urlencoded"}
        status, _, body = request(conn, "POST", token_path, "grant_type=client_credentials", headers)
        now = time.monotonic()
        with lock:
            if status == 200:
                issued[jti_of(json.loads(body)["access_token"])] = now
            else:
                errors[0] += 1

    def drain(jtis, wait):
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            with receiver.lock:
                if all(j in receiver.arrived for j in jtis):
                    return
            time.sleep(0.05)

    # Steady rate: the lag.
    conn = http.client.HTTPConnection(host)
    started = time.monotonic()
    for n in range(int(seconds * rate)):
        pause = started + n / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        issue(conn)
    steady = dict(issued)
    drain(steady, 15)
    with receiver.lock:
        lags = sorted((receiver.arrived[j] - t) * 1000 for j, t in steady.items() if j in receiver.arrived)
    missing = len(steady) - len(lags)
    pick = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))] if lags else 0.0

    # Closed loop: the sustained delivery rate.
    issued.clear()
    deadline = time.monotonic() + seconds

    def worker():
        conn = http.client.HTTPConnection(host)
        while time.monotonic() < deadline:
            issue(conn)

    burst_started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    burst = dict(issued)
    drain(burst, 60)
    with receiver.lock:
        arrivals = [receiver.arrived[j] for j in burst if j in receiver.arrived]
    missing += len(burst) - len(arrivals)
    elapsed = (max(arrivals) - burst_started) if arrivals else 1.0
    receiver.shutdown()
    return {"rps": len(arrivals) / elapsed, "p50_ms": pick(0.50), "p99_ms": pick(0.99),
            "errors": errors[0] + missing, "events": len(steady) + len(burst)}


def targets(data):
    """The issue's targets, checked against this run (Airlock on SQLite, the default backend)."""
    def run(case_prefix, server):
        for case in data["cases"]:
            if case["name"].startswith(case_prefix):
                return next((r for r in case["runs"] if r["server"] == server), None)
        return None
    rows = []
    def check(what, target, value, ok):
        rows.append(f"| {what} | {target} | {value} | {'met' if ok else 'not met'} |")
    limits = data["limits"]
    a, p = run("3.", "airlock-sqlite"), run("3.", "peer")
    if a and p:
        check("client_credentials ES256 vs peer", ">= 6x", f"{a['rps'] / p['rps']:.1f}x", a["rps"] >= 6 * p["rps"])
        if limits["es256_sign"]:
            share = a["rps"] / limits["es256_sign"]
            check("client_credentials ES256 vs one core's ES256 signing", ">= 60%", f"{share:.0%}", share >= 0.6)
        check("p99 at 50 connections, token case", "<= 1/5 of peer", f"{a['p99_ms']:.1f} vs {p['p99_ms']:.1f} ms",
              a["p99_ms"] * 5 <= p["p99_ms"])
        check("peak RSS under load (token case)", "<= 1/4 of peer", f"{a['rss_mb']:.0f} vs {p['rss_mb']:.0f} MB",
              a["rss_mb"] * 4 <= p["rss_mb"])
    a, hooked = run("3.", "airlock-sqlite"), run("3b.", "airlock-sqlite")
    if a and hooked:
        ratio = hooked["rps"] / a["rps"]
        check("client_credentials with an endpoint subscribed to user.* vs none", "within 10%",
              f"{ratio:.0%}", ratio >= 0.9)
    a, metered = run("3.", "airlock-sqlite"), run("3c.", "airlock-sqlite")
    if a and metered:
        ratio = metered["rps"] / a["rps"]
        check("client_credentials with metrics on vs off", "within 5%", f"{ratio:.0%}", ratio >= 0.95)
    a = run("4.", "airlock-sqlite")
    if a and limits["rs256_sign"]:
        share = a["rps"] / limits["rs256_sign"]
        check("client_credentials RS256 vs one core's RSA-2048 signing", ">= 85%", f"{share:.0%}", share >= 0.85)
    for prefix, what, factor in [("1.", "discovery", 10), ("2.", "JWKS", 10), ("5.", "introspection", 5),
                                 ("6.", "userinfo", 5)]:
        a, p = run(prefix, "airlock-sqlite"), run(prefix, "peer")
        if a and p:
            check(f"{what} vs peer", f">= {factor}x", f"{a['rps'] / p['rps']:.1f}x", a["rps"] >= factor * p["rps"])
    a = run("7.", "airlock-sqlite")
    if a and limits["argon2"]:
        share = a["rps"] / limits["argon2"]
        check("full login vs one core's argon2id rate", ">= 90%", f"{share:.0%}", share >= 0.9)
    scale = {row["environments"]: row for row in data.get("scale", [])}
    if 1 in scale:
        for count, row in scale.items():
            if count == 1:
                continue
            ratio = row["rps"] / scale[1]["rps"]
            check(f"token throughput at {count} environments vs 1", "within 10%", f"{ratio:.0%}", ratio >= 0.9)
            if "rps_one_zone" in row:
                ratio = row["rps_one_zone"] / scale[1]["rps"]
                check(f"the same, load on 1 of the {count} (cost of the count alone)", "within 10%",
                      f"{ratio:.0%}", ratio >= 0.9)
        biggest = scale[max(scale)]
        check(f"start-up at {max(scale)} environments", "< 2 s", f"{biggest['startup_s']:.2f} s", biggest["startup_s"] < 2)
        check(f"idle RSS at {max(scale)} environments", "< 100 MB", f"{biggest['idle_rss_mb']:.0f} MB",
              biggest["idle_rss_mb"] < 100)
    errors = sum(r["errors"] for c in data["cases"] for r in c["runs"])
    check("errors, every case", "zero", str(errors), errors == 0)
    return ["## Targets", "", "| target | wanted | this run | |", "| --- | --- | --- | --- |"] + rows + [""]


def report(results_path, out_path):
    data = json.load(open(results_path))
    lines = ["# Benchmark results", "",
             "Generated by `bench/run.sh` (see `bench/README.md`). Server pinned to CPU 0, load generator to",
             "CPU 1 (`taskset`). Ratios are against the peer measured in the same run.", "",
             "## Machine and versions", ""]
    lines += [f"- {key}: {value}" for key, value in data["machine"].items()]
    lines += ["", "## Physical limits (one core, same run)", "",
              f"- ECDSA P-256 signatures/s (`openssl speed ecdsap256`): {data['limits']['es256_sign']:.0f}",
              f"- RSA-2048 signatures/s (`openssl speed rsa2048`): {data['limits']['rs256_sign']:.0f}",
              f"- argon2id (m=19456 KiB, t=2, p=1) hashes/s (`cargo run --release --example argon2_rate`): "
              f"{data['limits']['argon2']:.1f}", ""]
    lines += targets(data)
    for case in data["cases"]:
        lines += [f"## {case['name']}", "", f"`{case['command']}`", "",
                  "| server | req/s | p50 ms | p99 ms | errors | peak RSS MB | vs peer (req/s) |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        peer = next((r for r in case["runs"] if r["server"] == "peer"), None)
        for run in case["runs"]:
            ratio = f"{run['rps'] / peer['rps']:.1f}x" if peer and peer["rps"] and run is not peer else ""
            lines.append(f"| {run['server']} | {run['rps']:.0f} | {run['p50_ms']:.2f} | {run['p99_ms']:.2f} | "
                         f"{run['errors']} | {run.get('rss_mb', 0):.0f} | {ratio} |")
        for note in case.get("notes", []):
            lines += ["", note]
        lines.append("")
    if data.get("scale"):
        lines += ["## Scale: environments in the database", "",
                  "| environments | token req/s (ES256, load spread over 100 zones) | p99 ms | "
                  "token req/s (load on 1 zone) | start-up s | idle RSS MB |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: |"]
        for row in data["scale"]:
            lines.append(f"| {row['environments']} | {row['rps']:.0f} | {row['p99_ms']:.2f} | "
                         f"{row.get('rps_one_zone', 0):.0f} | {row['startup_s']:.2f} | "
                         f"{row['idle_rss_mb']:.0f} |")
        lines.append("")
    open(out_path, "w").write("\n".join(lines))


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "login":
        print(json.dumps(login(*sys.argv[2:9])))
    elif command == "login-load":
        seconds, workers = float(sys.argv[9]), int(sys.argv[10])
        print(json.dumps(login_load(sys.argv[2:9], seconds, workers)))
    elif command == "webhook-load":
        base, path, authorization, port, seconds, rate = sys.argv[2:8]
        print(json.dumps(webhook_load(base, path, authorization, int(port), float(seconds), float(rate))))
    elif command == "report":
        report(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"unknown command {command}")
