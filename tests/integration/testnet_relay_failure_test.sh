#!/usr/bin/env bash
# A relay dies mid-transfer: while a rate-limited download runs, the middle
# hop of the circuit carrying it (read from circuits.list and streams.list,
# matched to a node by node.info's identity_key) is killed with SIGKILL.
# That download ends, failed or (had it used another circuit) complete, and
# never by hanging until curl's own timeout; within 30 s a new download
# succeeds byte-exact on a circuit that avoids the dead relay; the next
# consensus, made by the two authorities left, lists the three relays left,
# within two periods of the kill, and no circuit built after takes the dead
# relay; no other node crashed.
#   testnet_relay_failure_test.sh PATH/TO/nyxctl
source "$(dirname "$0")/support/testnet_env.sh"
testnet_env_init testnet_relay_failure 2 "${1:-}"

make_file long.bin $((64 * 1024 * 1024))
make_file small.bin $((256 * 1024))
testnet_env_origin
testnet_env_up 5

LONG_TIMEOUT=90
fetch long.bin "$DIR/long.out" --limit-rate 2M --max-time "$LONG_TIMEOUT" 2>"$DIR/long.err" &
long_pid=$!
long_start=$SECONDS

# The middle hop of the circuit that carries the download (the first open
# circuit while the stream is not listed yet).
middle=
for _ in $(seq 50); do
  middle=$(python3 - "$("$NYX" circuits --json --data-dir "$CLIENT_DATA")" \
    "$("$NYX" streams --json --data-dir "$CLIENT_DATA")" <<'PY'
import json, sys
circuits = json.loads(sys.argv[1]).get("circuits", [])
streams = json.loads(sys.argv[2])
used = {s.get("circuit") for s in streams}
for c in sorted(circuits, key=lambda c: c.get("id") not in used):
    if c.get("state") == "open" and len(c.get("hops", [])) == 3:
        print(c["hops"][1])
        break
PY
)
  [[ -n $middle ]] && break
  sleep 0.2
done
check "circuits.list names the download's 3-hop path ($((SECONDS - long_start)) s in)" -- test -n "$middle"

victim=
for k in 2 3 4; do
  identity=$("$NYX" status --json --data-dir "$NET/node$k/data" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["identity_key"])')
  [[ $identity == "$middle" ]] && victim=node$k
done
check "the middle hop is one of the relays (${victim:-none})" -- test -n "$victim"
[[ -n $victim ]] || testnet_env_finish

# Mid-transfer: at least 2 s in (the download takes about 32 s).
while ((SECONDS - long_start < 2)); do sleep 0.2; done
victim_pid=$(cat "$NET/$victim/nyxd.pid")
kill -9 "$victim_pid"
killed_unix=$(date +%s)
echo "  killed $victim (pid $victim_pid) $((SECONDS - long_start)) s into the download"

wait "$long_pid"
long_code=$?
if [[ $long_code -eq 0 ]]; then
  check "the download completed (it did not use the dead relay), byte-exact" -- \
    same_file "$WWW/long.bin" "$DIR/long.out"
else
  echo "  the download failed after $((SECONDS - long_start)) s: curl exit $long_code: $(cat "$DIR/long.err")"
  check "the download failed cleanly, not by curl's timeout (exit $long_code)" -- \
    test "$long_code" -ne 28
fi

killed_at=$SECONDS
recovered=false
fetch_within 30 small.bin && recovered=true
check "a new download succeeds within 30 s ($FETCH_TOOK s)" -- $recovered

# The victim was a relay and an authority. The two authorities left still
# make the consensus, and it lists the three relays left: each of them is
# held by two authorities (a relay that is an authority holds its own
# descriptor). A period whose votes were cast after the kill begins at least
# a period (24 s) after it. An authority left (it installs its own consensus at once), so that the
# bound below is the authorities' and not when the client fetched.
witness=
for k in 2 3 4; do
  [[ node$k != "$victim" ]] && witness=node$k && break
done
listed=
while ((SECONDS - killed_at < 90)); do
  read -r listed listed_start < <("$NYX" status --json --data-dir "$NET/$witness/data" | python3 -c '
import json, sys
directory = json.load(sys.stdin).get("directory", {})
killed = int(sys.argv[1])
if directory.get("valid_after", 0) >= killed + 30:
    print(directory.get("nodes"), directory["valid_after"] - killed)' "$killed_unix")
  [[ -n $listed ]] && break
  sleep 1
done
check "the first consensus voted after the kill lists the 3 relays left (${listed:-none})" -- \
  test "$listed" = 3
# What the authorities did, apart from when the client fetched it: the
# consensus that drops the relay is valid from within two periods of the
# kill. (The 30 s above skips a period whose sweep came before the kill;
# with it the latest start is kill + 30 s + one period.)
check "that consensus begins within two periods and 12 s of the kill (+${listed_start:-?} s)" -- \
  test "${listed_start:-999}" -le $((2 * TESTNET_PERIOD + 12))
check "the client's consensus drops the dead relay too" -- client_lists_relays 3 $((2 * TESTNET_PERIOD + 30))
never_through "$middle" 5
check "no circuit built after that runs through the dead relay ($NEVER_PICKED)" -- \
  test "$NEVER_PICKED" -eq 0

for k in 1 2 3 4 5; do
  [[ node$k == "$victim" ]] && continue
  check "node$k still runs" -- kill -0 "$(cat "$NET/node$k/nyxd.pid")"
done

testnet_env_finish
