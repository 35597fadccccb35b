#!/usr/bin/env bash
# The network changes while it runs (issue #13): on a 5-node testnet,
# `nyxctl testnet add-relay` starts node6, and the client's consensus lists
# it (5 relays, its identity among the client's peers) within two periods of
# the add and a client circuit takes it; `nyxctl testnet remove node6` stops
# it, and within two periods the client's consensus counts 4 relays and no
# longer lists it, no circuit built afterwards takes it, and a download still
# succeeds byte-exact. The refusals (the client, an authority, the last
# exit, an unknown or removed node) are usage errors, and `testnet status`
# shows the removed node.
#   testnet_membership_test.sh PATH/TO/nyxctl
source "$(dirname "$0")/support/testnet_env.sh"
testnet_env_init testnet_membership 6 "${1:-}"

make_file small.bin $((256 * 1024))
testnet_env_origin
testnet_env_up 5

identity_of() {
  "$NYX" status --json --data-dir "$NET/$1/data" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["identity_key"])'
}

# Whether the client's directory (peers.list) lists IDENTITY.
client_lists() {
  "$NYX" peers --json --data-dir "$CLIENT_DATA" | python3 -c '
import json, sys
sys.exit(0 if any(p.get("identity_key") == sys.argv[1] for p in json.load(sys.stdin)) else 1)' "$1"
}

client_lacks() { ! client_lists "$1"; }

# expect_usage WHAT NODE: `testnet remove NODE` refuses with exit code 2.
expect_usage() {
  local what=$1 node=$2 code
  "$NYX" testnet remove "$node" --dir "$NET" >/dev/null 2>"$DIR/refusal.err"
  code=$?
  check "remove $node refuses: $what (exit $code: $(cat "$DIR/refusal.err"))" -- test "$code" -eq 2
}

expect_usage "the client" node1
expect_usage "an authority" node2
expect_usage "the last exit" node5
expect_usage "no such node" node9

read -r _ relays_before < <(client_consensus)
check "the client holds a consensus of 4 relays before the add (${relays_before:-none})" -- \
  test "${relays_before:-}" = 4

added_period=$(($(date +%s) / TESTNET_PERIOD))
"$NYX" testnet add-relay --dir "$NET"
add_code=$?
check "testnet add-relay exits 0 ($add_code)" -- test "$add_code" -eq 0
[[ $add_code -eq 0 ]] || testnet_env_finish
check "node6 runs" -- kill -0 "$(cat "$NET/node6/nyxd.pid")"

read -r period_added relays_added < <(client_consensus)
check "the client's consensus lists 5 relays (${relays_added:-none})" -- test "${relays_added:-}" = 5
check "within two periods of the add (period $added_period -> ${period_added:-none})" -- \
  test "${period_added:-0}" -le $((added_period + 2))
node6_identity=$(identity_of node6)
check "the client's directory lists node6 ($node6_identity)" -- client_lists "$node6_identity"

# The client uses node6: paths are drawn by weight, so node6 is a hop of
# about one fresh circuit in two (one of four non-exit relays, two drawn);
# a new identity at a time until one takes it, at most 20 (1 in 10^6 to miss).
used_after=""
for try in $(seq 20); do
  "$NYX" newnym --data-dir "$CLIENT_DATA" >/dev/null
  sleep 2
  if [[ $(circuits_through "$node6_identity") -gt 0 ]]; then
    used_after=$try
    break
  fi
done
check "a client circuit runs through node6 (after ${used_after:-20+} new identities)" -- \
  test -n "$used_after"

check "testnet status exits 0 with node6 running" -- "$NYX" testnet status --dir "$NET"

removed_period=$(($(date +%s) / TESTNET_PERIOD))
"$NYX" testnet remove node6 --dir "$NET"
remove_code=$?
check "testnet remove node6 exits 0 ($remove_code)" -- test "$remove_code" -eq 0

read -r period_removed relays_removed < <(client_consensus)
check "the client's consensus lists 4 relays again (${relays_removed:-none})" -- \
  test "${relays_removed:-}" = 4
check "within two periods of the remove (period $removed_period -> ${period_removed:-none})" -- \
  test "${period_removed:-0}" -le $((removed_period + 2))
check "the client's directory no longer lists node6" -- client_lacks "$node6_identity"
never_through "$node6_identity" 5
check "no circuit built after the remove runs through node6 ($NEVER_PICKED)" -- \
  test "$NEVER_PICKED" -eq 0
check "node6's pid file is gone" -- test ! -e "$NET/node6/nyxd.pid"
expect_usage "removed already" node6

status_json=$("$NYX" testnet status --json --dir "$NET")
status_code=$?
check "testnet status exits 0 with node6 removed ($status_code)" -- test "$status_code" -eq 0
check "testnet status --json marks node6 removed" -- python3 -c '
import json, sys
nodes = {n["name"]: n for n in json.loads(sys.argv[1])["nodes"]}
sys.exit(0 if nodes["node6"].get("removed") is True and nodes["node5"]["alive"] else 1)' "$status_json"

downloaded=false
fetch_within 30 small.bin && downloaded=true
check "a download succeeds byte-exact after the remove ($FETCH_TOOK s)" -- $downloaded

for k in 1 2 3 4 5; do
  check "node$k still runs" -- kill -0 "$(cat "$NET/node$k/nyxd.pid")"
done

testnet_env_finish
