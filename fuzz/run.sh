#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) and prints one Markdown row per target:
# executions, and whether a crash was found. Exits non-zero after the table if any target crashed.
# Installs the nightly toolchain and cargo-fuzz when missing.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_PER_TARGET=${1:-60}

if ! rustup toolchain list | grep -q '^nightly'; then
    echo "== installing the nightly toolchain (libFuzzer instrumentation needs it)"
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

# No sanitizer: the targets are safe Rust, and without one they run several times as many inputs.
cargo +nightly fuzz build -s none
mkdir -p ../bench/out
TABLE=../bench/out/fuzz.md
{
    echo "| target | seconds | executions | result |"
    echo "| --- | ---: | ---: | --- |"
} >"$TABLE"
crashed=0
for target in $(cargo +nightly fuzz list); do
    echo "== $target for ${SECONDS_PER_TARGET}s"
    log=$(mktemp)
    if cargo +nightly fuzz run -s none "$target" -- -max_total_time="$SECONDS_PER_TARGET" >"$log" 2>&1; then
        result="no crash"
    else
        result="CRASH: $(grep -o 'artifacts/[^ ]*' "$log" | head -1 || true)"
        crashed=1
        tail -30 "$log"
    fi
    executions=$(grep -o 'Done [0-9]* runs' "$log" | grep -o '[0-9]*' || true)
    echo "| $target | $SECONDS_PER_TARGET | ${executions:-?} | $result |" >>"$TABLE"
    rm -f "$log"
done
cat "$TABLE"
exit $crashed
