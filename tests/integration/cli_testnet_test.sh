#!/usr/bin/env bash
# The CLI against real nyxd processes on loopback: nyxctl testnet up --nodes 5
# (a network that forms itself: node2..node4 are also its authorities, and up
# returns once every node holds their first consensus), testnet status, nyxctl
# status/stats/peers against the client, config check on what up generated,
# testnet down; exit codes and output checked at every step.
# Usage: cli_testnet_test.sh PATH/TO/nyxctl
# (nyxd is found the way nyxctl finds it: beside nyxctl, in the build tree, on PATH).
set -uo pipefail

NYX=${1:?usage: cli_testnet_test.sh PATH/TO/nyxctl}
DIR=$(mktemp -d /tmp/nyx-cli-XXXXXX)
# A port range per run, so parallel test runs do not collide.
BASE=$((31000 + ($$ % 95) * 10))
SOCKS=$((BASE + 5))
failures=0

cleanup() {
  "$NYX" testnet down --dir "$DIR" >/dev/null 2>&1
  rm -rf "$DIR"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect CODE DESCRIPTION -- COMMAND...: runs COMMAND, keeps its output in $out.
expect() {
  local want=$1 what=$2
  shift 3
  out=$("$@" 2>&1)
  local got=$?
  if [[ $got -ne $want ]]; then
    fail "$what: exit $got, expected $want; output:"$'\n'"$out"
  else
    echo "ok: $what"
  fi
}

contains() {
  if [[ $out != *"$1"* ]]; then
    fail "expected '$1' in:"$'\n'"$out"
  fi
}

json_check() {
  if ! python3 -c "import json,sys; d=json.load(sys.stdin); assert $1, d" <<<"$out" >/dev/null; then
    fail "JSON check '$1' failed on:"$'\n'"$out"
  fi
}

expect 2 "up with too few nodes is a usage error" -- "$NYX" testnet up --nodes 3 --dir "$DIR/x"
expect 3 "status with no node says it is not running" -- "$NYX" status --data-dir "$DIR/none"
contains "nyxctl testnet up"

expect 0 "testnet up --nodes 5" -- "$NYX" testnet up --nodes 5 --dir "$DIR" --base-port "$BASE"
contains "SOCKS5 at 127.0.0.1:$SOCKS"
contains "curl --socks5-hostname 127.0.0.1:$SOCKS"
contains "waiting for the authorities' first consensus (up to 87 s)"
echo "$out"
for k in 1 2 3 4 5; do
  [[ -f $DIR/node$k/nyxd.pid ]] || fail "no pid file for node$k"
done
# The authorities' keys, as nyxctl keygen --authority writes them; no
# directory or descriptor file anywhere.
for k in 2 3 4; do
  mode=$(stat -c %a "$DIR/node$k/data/authority.key" 2>/dev/null)
  [[ $mode == 600 ]] || fail "node$k/data/authority.key: mode '${mode:-missing}', expected 600"
done
for k in 1 5; do
  [[ -e $DIR/node$k/data/authority.key ]] && fail "node$k has an authority key"
done
leftovers=$(find "$DIR" -name 'directory.bin' -o -name 'descriptor.*')
[[ -z $leftovers ]] || fail "directory or descriptor files generated:"$'\n'"$leftovers"
for k in 1 2 3 4 5; do
  grep -q '^file = ' "$DIR/node$k/nyxd.toml" && fail "node$k's config names a directory file"
  entries=$(grep -c '^  { key = "[0-9a-f]\{64\}", link = "[0-9a-f]\{64\}"' "$DIR/node$k/nyxd.toml")
  [[ $entries -eq 3 ]] || fail "node$k's config lists $entries authorities, expected 3"
done

expect 1 "a second up refuses while the first runs" -- "$NYX" testnet up --dir "$DIR" --base-port "$BASE"
contains "already running"

expect 0 "testnet status" -- "$NYX" testnet status --dir "$DIR"
contains "5 of 5 nodes alive"
expect 0 "testnet status --json" -- "$NYX" testnet status --dir "$DIR" --json
json_check "len(d['nodes']) == 5 and all(n['alive'] and n['control'] for n in d['nodes'])"
json_check "all(n['consensus']['nodes'] == 4 for n in d['nodes'])"
json_check "len({n['consensus']['period'] for n in d['nodes']}) <= 2"
json_check "[n['roles'] for n in d['nodes']][1:4] == [['relay', 'authority']] * 3"

CLIENT="$DIR/node1/data"
expect 0 "status --json against the client" -- "$NYX" status --json --data-dir "$CLIENT"
json_check "d['nickname'] == 'node1' and 'client' in d['roles']"
expect 0 "status table via --config" -- "$NYX" status --config "$DIR/node1/nyxd.toml"
contains "node1"
expect 0 "stats --json parses" -- "$NYX" stats --json --data-dir "$CLIENT"
json_check "isinstance(d, dict) and len(d) > 0"
expect 0 "stats table" -- "$NYX" stats --data-dir "$CLIENT"
contains "METRIC"
expect 0 "peers" -- "$NYX" peers --data-dir "$CLIENT"
expect 0 "circuits" -- "$NYX" circuits --data-dir "$CLIENT"

expect 0 "reload" -- "$NYX" reload --data-dir "$CLIENT"
contains "config reloaded: applied nothing; directory: 4 nodes"
expect 0 "reload --json" -- "$NYX" reload --json --data-dir "$CLIENT"
json_check "d['config']['restart_required'] == [] and d['directory']['nodes'] == 4"
expect 0 "circuit build" -- "$NYX" circuit build --data-dir "$CLIENT"
contains "building"
CIRCUIT=$(sed -n 's/^circuit \([0-9]*\) building.*/\1/p' <<<"$out")
expect 0 "circuit close $CIRCUIT" -- "$NYX" circuit close "$CIRCUIT" --data-dir "$CLIENT"
contains "circuit $CIRCUIT closed"
expect 1 "closing an unknown circuit is the node's error" -- \
  "$NYX" circuit close 999999 --data-dir "$CLIENT"
contains "no client circuit 999999"
expect 0 "newnym" -- "$NYX" newnym --data-dir "$CLIENT"
contains "new identity:"
expect 0 "call node.info" -- "$NYX" call node.info --data-dir "$CLIENT"
json_check "d['nickname'] == 'node1' and d['directory']['nodes'] == 4"
expect 2 "call with invalid JSON params is a usage error" -- \
  "$NYX" call circuit.close '{id: 1}' --data-dir "$CLIENT"
expect 1 "call of an unknown method" -- "$NYX" call no.such --data-dir "$CLIENT"
expect 0 "\$NYX_DATA_DIR finds the node" -- env NYX_DATA_DIR="$CLIENT" "$NYX" status --json
json_check "d['nickname'] == 'node1'"
expect 3 "nothing found lists every place looked" -- \
  env NYX_DATA_DIR="$DIR/none" "$NYX" status
contains "$DIR/none/control.sock"
expect 0 "shutdown --wait stops node5" -- \
  "$NYX" shutdown --wait --timeout 20s --data-dir "$DIR/node5/data"
contains "node stopped"
[[ -e $DIR/node5/data/control.sock ]] && fail "node5's control socket is still there"

for k in 1 2 5; do
  expect 0 "node$k's generated config passes nyxd --check-config" -- \
    "$NYX" config check "$DIR/node$k/nyxd.toml"
done

PIDS=$(python3 -c "import json; print(' '.join(str(n['pid']) for n in json.load(open('$DIR/testnet.json'))['nodes']))")
expect 0 "testnet down" -- "$NYX" testnet down --dir "$DIR"
contains "testnet down"
for pid in $PIDS; do
  if kill -0 "$pid" 2>/dev/null; then
    fail "pid $pid still runs after down"
  fi
done
for k in 1 2 3 4 5; do
  [[ -e $DIR/node$k/nyxd.pid ]] && fail "pid file of node$k left behind"
done
expect 3 "status after down says the node is not running" -- "$NYX" status --data-dir "$CLIENT"
contains "nyxctl testnet up"
expect 3 "testnet status after down" -- "$NYX" testnet status --dir "$DIR"

if [[ $failures -ne 0 ]]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all checks passed"
