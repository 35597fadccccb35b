#!/usr/bin/env bash
# The control API and the CLI against a 5-node testnet's client while a
# download runs: nyxctl status, stats, circuits and streams (tables and --json);
# the download's stream is listed on an open 3-hop circuit, without its
# destination; the byte counters move; raw control lines without the cookie,
# with a wrong one, malformed and unknown get their JSON-RPC errors
# (support/control_probe.py) and the node keeps answering.
#   testnet_control_test.sh PATH/TO/nyxctl
source "$(dirname "$0")/support/testnet_env.sh"
testnet_env_init testnet_control 4 "${1:-}"

# Large enough that the stream is still open on the node while curl reads at
# its limited rate: the sockets on the way buffer several MiB.
make_file long.bin $((40 * 1024 * 1024))
testnet_env_origin
testnet_env_up 5
bytes_before=$(counted_bytes)

fetch long.bin "$DIR/long.out" --limit-rate 4M --max-time 60 2>"$DIR/long.err" &
long_pid=$!
sleep 1.5

# expect_ok WHAT -- nyxctl ARGS...: exit 0, output kept in $out.
expect_ok() {
  local what=$1
  shift 2
  out=$("$NYX" "$@" --data-dir "$CLIENT_DATA" 2>&1)
  local code=$?
  if [[ $code -eq 0 ]]; then
    echo "ok: $what"
  else
    fail "$what: exit $code:"$'\n'"$out"
  fi
}

# json_check PYTHON_EXPR: the expression over d = json.loads($out) holds.
json_check() {
  if ! python3 -c "import json,sys; d=json.loads(sys.argv[1]); assert $1, d" "$out" >/dev/null; then
    fail "JSON check '$1' failed on:"$'\n'"$out"
  fi
}

# Streams first, while the download surely runs (about 10 s at 4 MiB/s).
expect_ok "nyxctl streams" -- streams
check "the streams table has a header and a row" -- test "$(wc -l <<<"$out")" -ge 2
expect_ok "nyxctl streams --json" -- streams --json
json_check "len(d) >= 1 and all({'id', 'circuit', 'age_ms', 'bytes_up', 'bytes_down'} <= set(s) for s in d)"
json_check "any(s['bytes_down'] > 0 for s in d)"
json_check "not any(k for s in d for k in s if any(w in k for w in ('dest', 'host', 'addr', 'port')))"
json_check "not any(isinstance(v, str) and ('127.0.0.1' in v or 'localhost' in v) for s in d for v in s.values())"
streams_json=$out
expect_ok "nyxctl circuits --json: the streams' circuits" -- circuits --json
out=$(python3 -c '
import json, sys
circuits = {c["id"]: c for c in json.loads(sys.argv[1])["circuits"]}
print(json.dumps([circuits.get(s["circuit"], {}).get("state") for s in json.loads(sys.argv[2])]))' \
  "$out" "$streams_json")
json_check "'open' in d"
expect_ok "nyxctl status" -- status
expect_ok "nyxctl stats" -- stats
expect_ok "nyxctl circuits" -- circuits
check "the circuits table shows an open circuit" -- grep -q " open" <<<"$out"
expect_ok "nyxctl circuits --json" -- circuits --json
json_check "any(c['state'] == 'open' and len(c['hops']) == 3 for c in d['circuits'])"
json_check "isinstance(d['relayed'], int)"

probe=$(python3 "$SUPPORT/control_probe.py" "$CLIENT_DATA" 2>&1)
check "control: no cookie, wrong cookie, malformed, unknown -> '$probe'" -- \
  test "$probe" == "-32001 -32002 -32700 ok -32601"

wait "$long_pid"
check "the download completes" -- same_file "$WWW/long.bin" "$DIR/long.out"
bytes_after=$(counted_bytes)
check "the byte counters moved ($bytes_before -> $bytes_after)" -- \
  test "$bytes_after" -gt "$bytes_before"
expect_ok "nyxctl status after it all" -- status --json

testnet_env_finish
