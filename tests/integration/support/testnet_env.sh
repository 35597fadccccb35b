# shellcheck shell=bash
# Shared by the testnet_*_test.sh scripts: a private testnet, an origin and
# curl through the client's SOCKS5 port, all on 127.0.0.1, torn down on exit.
#
#   source support/testnet_env.sh
#   testnet_env_init NAME SLOT PATH/TO/nyxctl   # SLOT 0..9: a port range per script
#                                            # (5 is docs_methods_test.py's)
#   testnet_env_up [NODES]                   # nyxctl testnet up; waits for traffic
#   testnet_env_origin                       # support/origin.py on $ORIGIN_PORT serving $WWW
#   fetch FILE OUT [curl options...]         # curl $ORIGIN/FILE via SOCKS into OUT
#   fetch_many FILE COUNT [curl options...]  # COUNT fetches at once; sets FETCH_FAILED,
#                                            # FETCH_MISMATCHED (not byte-exact)
#   check CONDITION_TEXT -- COMMAND...       # ok/FAIL line, counted
#   testnet_env_finish                       # exit 1 if any check failed
#
# Ports: BASE..BASE+N-1 UDP for the nodes, BASE+N the SOCKS port (nyxctl testnet
# up's layout), BASE+9 the origin. BASE stays below the ephemeral range
# (32768) and differs per script (SLOT) and per run ($$), so scripts run in
# parallel under ctest -j.

set -uo pipefail

testnet_env_init() {
  TEST_NAME=$1
  NYX=$(readlink -f "${3:?usage: $TEST_NAME PATH/TO/nyxctl}")
  BASE=$((21000 + $2 * 1000 + ($$ % 95) * 10))
  DIR=$(mktemp -d "/tmp/nyx-$TEST_NAME-XXXXXX")
  NET=$DIR/net
  WWW=$DIR/www
  mkdir -p "$WWW"
  ORIGIN_PORT=$((BASE + 9))
  ORIGIN=http://127.0.0.1:$ORIGIN_PORT
  ORIGIN_PID=
  FAILURES=0
  CHILD_PIDS=()  # processes a script started itself, killed on exit
  SUPPORT=$(dirname "${BASH_SOURCE[0]}")
  trap testnet_env_cleanup EXIT
}

testnet_env_cleanup() {
  local code=$?
  if [[ -f $NET/testnet.json ]]; then
    if [[ $code -ne 0 || $FAILURES -ne 0 ]]; then
      # What the nodes said, for whoever reads the failed test's output.
      for log in "$NET"/node*/nyxd.log; do
        echo "---- tail of $log" >&2
        tail -n 25 "$log" >&2
      done
    fi
    "$NYX" testnet down --dir "$NET" >/dev/null 2>&1
  fi
  for pid in "${CHILD_PIDS[@]}"; do
    kill -9 "$pid" 2>/dev/null
  done
  # Background jobs a script has not waited for yet (a download still running
  # when a check ended the script early) would outlive it: jobs -p lists only
  # those, so no pid that was already reaped (and maybe reused) is signalled.
  local running
  running=$(jobs -p)
  if [[ -n $running ]]; then
    kill $running 2>/dev/null
  fi
  if [[ -n $ORIGIN_PID ]]; then
    kill "$ORIGIN_PID" 2>/dev/null
    wait "$ORIGIN_PID" 2>/dev/null
  fi
  rm -rf "$DIR"
  exit "$code"
}

fail() {
  echo "FAIL: $*" >&2
  FAILURES=$((FAILURES + 1))
}

# check WHAT -- COMMAND...: COMMAND must exit 0.
check() {
  local what=$1
  shift 2
  if "$@"; then
    echo "ok: $what"
  else
    fail "$what"
  fi
}

testnet_env_up() {
  local nodes=${1:-5}
  SOCKS_PORT=$((BASE + nodes))
  SOCKS=127.0.0.1:$SOCKS_PORT
  CLIENT_DATA=$NET/node1/data
  if ! "$NYX" testnet up --nodes "$nodes" --dir "$NET" --base-port "$BASE"; then
    echo "FAIL: nyxctl testnet up" >&2
    exit 1
  fi
}

# Writes WWW/NAME with BYTES random bytes.
make_file() {
  head -c "$2" /dev/urandom >"$WWW/$1"
}

testnet_env_origin() {
  python3 "$SUPPORT/origin.py" "$ORIGIN_PORT" "$WWW" >"$DIR/origin.log" 2>&1 &
  ORIGIN_PID=$!
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$ORIGIN_PORT") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "FAIL: the origin did not listen on $ORIGIN_PORT" >&2
  cat "$DIR/origin.log" >&2
  exit 1
}

# fetch NAME OUT [curl options]: the origin's NAME through the testnet.
fetch() {
  local name=$1 out=$2
  shift 2
  curl --silent --show-error --fail --socks5-hostname "$SOCKS" -o "$out" "$@" "$ORIGIN/$name"
}

# fetch_many NAME COUNT [curl options]: COUNT parallel fetches of NAME into
# $DIR/many/; FETCH_FAILED and FETCH_MISMATCHED count those that did not
# complete and those not byte-exact. A script may redefine fetch (the WAN
# test runs curl inside the client host).
fetch_many() {
  local name=$1 count=$2
  shift 2
  mkdir -p "$DIR/many"
  local pids=() i n
  for i in $(seq "$count"); do
    fetch "$name" "$DIR/many/$i" "$@" 2>"$DIR/many/$i.err" &
    pids+=($!)
  done
  FETCH_FAILED=0
  FETCH_MISMATCHED=0
  for i in "${!pids[@]}"; do
    n=$((i + 1))
    if ! wait "${pids[$i]}"; then
      FETCH_FAILED=$((FETCH_FAILED + 1))
      [[ $FETCH_FAILED -le 3 ]] && echo "  download $n: $(cat "$DIR/many/$n.err")" >&2
    elif ! cmp -s "$WWW/$name" "$DIR/many/$n"; then
      FETCH_MISMATCHED=$((FETCH_MISMATCHED + 1))
    fi
  done
  rm -rf "$DIR/many"
}

same_file() {
  [[ $(sha256sum <"$1") == $(sha256sum <"$2") ]]
}

# fetch_within SECONDS NAME: fetches NAME into $DIR/NAME.out, byte-exact,
# again every second (each try at most 10 s) until SECONDS have passed;
# FETCH_TOOK says after how many seconds it succeeded or gave up.
fetch_within() {
  local bound=$1 name=$2 start=$SECONDS
  while ((SECONDS - start < bound)); do
    if fetch "$name" "$DIR/$name.out" --max-time 10 2>/dev/null &&
      same_file "$WWW/$name" "$DIR/$name.out"; then
      FETCH_TOOK=$((SECONDS - start))
      return 0
    fi
    sleep 1
  done
  FETCH_TOOK=$((SECONDS - start))
  return 1
}

# socks_probe ARGS: support/socks5_probe.py against the client; prints the reply code.
socks_probe() {
  python3 "$SUPPORT/socks5_probe.py" 127.0.0.1 "$SOCKS_PORT" "$@"
}

testnet_env_finish() {
  if [[ $FAILURES -ne 0 ]]; then
    echo "$TEST_NAME: $FAILURES check(s) failed" >&2
    exit 1
  fi
  echo "$TEST_NAME: all checks passed"
}

# The sum of the client's *bytes* counters (nyxctl stats --json), so a test can
# see them move; "x" when stats fail to parse.
counted_bytes() {
  "$NYX" stats --json --data-dir "$CLIENT_DATA" | python3 -c '
import json, sys
try:
    stats = json.load(sys.stdin)
except ValueError:
    print("x"); sys.exit()
stats = stats.get("metrics", stats)
print(int(sum(s.get("value", 0) for name, f in stats.items()
              if "bytes" in name and isinstance(f, dict) and f.get("type") == "counter"
              for s in f.get("series", []))))'
}

# wait_client_ready SECONDS: the client accepts on its SOCKS port and lists
# an open circuit (what nyxctl testnet up waits for), within SECONDS.
wait_client_ready() {
  local deadline=$((SECONDS + $1))
  while ((SECONDS < deadline)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$SOCKS_PORT") 2>/dev/null &&
      "$NYX" circuits --json --data-dir "$CLIENT_DATA" 2>/dev/null | python3 -c '
import json, sys
sys.exit(0 if any(c.get("state") == "open" for c in json.load(sys.stdin).get("circuits", [])) else 1)' 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# The testnet's consensus period in seconds (nyxctl testnet's kTestnetPeriod).
TESTNET_PERIOD=24

# consensus_of NODE: NODE's installed consensus, "PERIOD RELAYS" (the
# period of its valid_after), or nothing while it holds none.
consensus_of() {
  "$NYX" status --json --data-dir "$NET/$1/data" | python3 -c '
import json, sys
directory = json.load(sys.stdin).get("directory")
if directory:
    print(directory["valid_after"] // int(sys.argv[1]), directory["nodes"])' "$TESTNET_PERIOD"
}

client_consensus() { consensus_of node1; }

# client_lists_relays N SECONDS: the client's consensus lists N relays
# within SECONDS (it may trail the authorities by a fetch that times out).
client_lists_relays() {
  local deadline=$((SECONDS + $2)) relays
  while ((SECONDS < deadline)); do
    read -r _ relays < <(client_consensus)
    [[ ${relays:-} == "$1" ]] && return 0
    sleep 1
  done
  return 1
}

# How many of the client's live circuits (building or open, not retired)
# have IDENTITY as a hop.
circuits_through() {
  "$NYX" circuits --json --data-dir "$NET/node1/data" | python3 -c '
import json, sys
print(sum(1 for c in json.load(sys.stdin).get("circuits", [])
          if c.get("state") != "closed" and not c.get("retired") and sys.argv[1] in c.get("hops", [])))' \
    "$1"
}

# never_through IDENTITY ROUNDS: a new identity ROUNDS times, a second
# apart; NEVER_PICKED counts the live circuits through IDENTITY seen after
# them (0 when the client never picks it).
never_through() {
  local identity=$1 rounds=$2
  NEVER_PICKED=0
  for _ in $(seq "$rounds"); do
    "$NYX" newnym --data-dir "$NET/node1/data" >/dev/null
    sleep 1
    NEVER_PICKED=$((NEVER_PICKED + $(circuits_through "$identity")))
  done
}
