#!/usr/bin/env bash
# Integration check for `nyxctl bench`: against `nyxctl bench serve` directly and
# through `nyxctl bench proxy` (SOCKS5 by name), closed loop, open loop, a new
# connection per request and a bulk download all complete with zero errors.
#   tests/integration/bench_loopback_test.sh PATH/TO/nyxctl
set -euo pipefail
nyxctl=${1:?usage: $0 PATH/TO/nyxctl}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# start KIND: runs `nyxctl bench KIND` in the background. Called in this shell,
# never inside $(...): a pid appended to `pids` in a command substitution's
# subshell is lost with it, and cleanup would leave the process running.
start() {
  "$nyxctl" bench "$1" --listen 127.0.0.1:0 >"$work/$1.out" 2>&1 &
  pids+=($!)
}

# address KIND: waits until `nyxctl bench KIND` listens; prints its HOST:PORT.
address() {
  for _ in $(seq 200); do
    if grep -q '^listening on ' "$work/$1.out"; then
      sed -n 's/^listening on //p' "$work/$1.out"
      return 0
    fi
    sleep 0.05
  done
  echo "FAIL: nyxctl bench $1 did not start" >&2
  cat "$work/$1.out" >&2
  return 1
}
start serve
start proxy
origin=$(address serve)
proxy=$(address proxy)

# expect NAME REQUESTS -- nyxctl bench options: exactly REQUESTS (or, with 0, at
# least one) requests and no error.
expect() {
  local name=$1 want=$2
  shift 3
  local json
  json=$("$nyxctl" bench "$origin" --json -q "$@")
  python3 - "$name" "$want" "$json" <<'PY'
import json, sys
name, want, result = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
ok = result["errors"] == 0 and (result["requests"] == want if want else result["requests"] > 0)
for key in ("requests_per_s", "bytes_per_s"):
    ok = ok and key in result
ok = ok and set(result["latency_ms"]) >= {"p50", "p95", "p99", "max"}
ok = ok and set(result["ttfb_ms"]) >= {"p50", "p95"}
print(("ok  " if ok else "FAIL") + f" {name}: {result['requests']} requests, "
      f"{result['errors']} errors, p95 {result['latency_ms']['p95']:.3f} ms")
sys.exit(0 if ok else 1)
PY
}

expect direct-closed-loop 0 -- --duration 1s -c 8
expect proxy-closed-loop 0 -- --duration 1s -c 8 --socks "$proxy"
expect proxy-open-loop 200 -- --duration 1s -c 4 --rate 200 --socks "$proxy"
expect proxy-new-connection-each 50 -- --requests 50 -c 2 --connections-per-request --socks "$proxy"
expect proxy-bulk 1 -- --mode bulk --response-size 32MiB --requests 1 --duration 30s --socks "$proxy"

# A refused destination is counted as errors, not hidden or hung on.
json=$("$nyxctl" bench 127.0.0.1:1 --json -q --duration 1s --socks "$proxy" || true)
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if r["errors"]>0 and r["requests"]==0 else 1)' "$json"
echo "ok   refused destination counted as errors"
