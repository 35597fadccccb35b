#!/usr/bin/env bash
# SIGTERM during traffic. The client node is restarted as this script's own
# child (same config, keys and data), so its exit code can be read: while a
# rate-limited download runs it gets SIGTERM; nyxd exits 0 within its drain
# deadline (2 s in the testnet's configs) plus a 3 s margin, the download
# ends with a curl error rather than hanging, and `nyxctl status` against the
# stopped node fails with exit 3 and says how to start one.
#   testnet_shutdown_test.sh PATH/TO/nyxctl PATH/TO/nyxd
source "$(dirname "$0")/support/testnet_env.sh"
testnet_env_init testnet_shutdown 3 "${1:-}"
NYXD=${2:?usage: testnet_shutdown_test.sh PATH/TO/nyxctl PATH/TO/nyxd}
DRAIN_LIMIT=5  # drain_deadline 2 s + margin for a loaded machine

make_file long.bin $((32 * 1024 * 1024))
testnet_env_origin
testnet_env_up 5

# Replace the client that testnet up started (not our child) with our own.
old_pid=$(cat "$NET/node1/nyxd.pid")
kill -TERM "$old_pid"
while kill -0 "$old_pid" 2>/dev/null; do sleep 0.1; done
"$NYXD" --config "$NET/node1/nyxd.toml" >>"$NET/node1/nyxd.log" 2>&1 &
client_pid=$!
CHILD_PIDS+=("$client_pid")
check "the restarted client carries traffic within 30 s" -- wait_client_ready 30

fetch long.bin "$DIR/long.out" --limit-rate 2M --max-time 60 2>"$DIR/long.err" &
long_pid=$!
sleep 2
check "the download is under way" -- test -s "$DIR/long.out"

kill -TERM "$client_pid"
term_at=$SECONDS
wait "$client_pid"
code=$?
took=$((SECONDS - term_at))
check "nyxd exits 0 after SIGTERM (exit $code)" -- test "$code" -eq 0
check "nyxd exits within its drain deadline ($took s <= $DRAIN_LIMIT s)" -- test "$took" -le "$DRAIN_LIMIT"

wait "$long_pid"
curl_code=$?
check "the download ends with a curl error, not a timeout (curl exit $curl_code)" -- \
  test "$curl_code" -ne 0 -a "$curl_code" -ne 28

out=$("$NYX" status --data-dir "$CLIENT_DATA" 2>&1)
status_code=$?
check "nyxctl status against the stopped node exits 3 (exit $status_code)" -- test "$status_code" -eq 3
check "... and says how to start a node" -- grep -q "nyxctl testnet up" <<<"$out"

testnet_env_finish
