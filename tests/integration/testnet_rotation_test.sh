#!/usr/bin/env bash
# Onion keys rotate under traffic (issue #13, proposal 0002 section 7): on a
# 5-node testnet (24 s epochs, 1 s clock skew, so an overlap O of 11 s), a
# 4 MiB download sent at 64 KiB/s runs across at least two epoch boundaries
# without a stall (curl gives up below 8 KiB/s for 10 s), byte-exact, while a
# new identity every few seconds makes the client build circuits with the
# keys of each epoch in turn, every small download succeeding. Meanwhile
# every relay is asked, through onion_keys.list (its key ring itself, not a
# memory scan), and its data directory, which keys it holds: within the
# overlap after a boundary the previous epoch's key is still held and on
# disk; past it, that key is in neither, and the ring holds no key outside
# the epochs a CREATE tries.
#   testnet_rotation_test.sh PATH/TO/nyxctl
source "$(dirname "$0")/support/testnet_env.sh"
testnet_env_init testnet_rotation 7 "${1:-}"

OVERLAP=11  # clock skew 1 s + circuit setup 10 s (document/period.hpp)
RELAYS=(node2 node3 node4 node5)
make_file big.bin $((4 * 1024 * 1024))
make_file small.bin $((64 * 1024))
testnet_env_origin
testnet_env_up 5

# key_state NODE: "EPOCH HELD_CSV HELD_TOTAL" from the node's onion_keys.list.
key_state() {
  "$NYX" call onion_keys.list --data-dir "$NET/$1/data" | python3 -c '
import json, sys
keys = json.load(sys.stdin)
print(keys["epoch"], ",".join(str(e) for e in keys["held"]) or "-", keys["held_total"])'
}

# Samples every relay once. Early in an epoch (within the overlap, with a
# margin for the call) the previous key must still be there; well past the
# overlap it must be gone from the ring and the disk, and the ring must hold
# nothing beyond the epochs listed.
OVERLAP_SEEN=0
ERASED_SEEN=0
VIOLATIONS=0
declare -A CURRENT_SEEN  # "node epoch" -> 1 once the node's ring held that epoch's key as current
sample_keys() {
  local node epoch held total previous before after phase
  for node in "${RELAYS[@]}"; do
    before=$(date +%s)
    read -r epoch held total < <(key_state "$node") || continue
    after=$(date +%s)
    # A sample that straddles a boundary, or a relay in another epoch than
    # this clock says, tells nothing.
    if ((before / TESTNET_PERIOD != after / TESTNET_PERIOD || epoch != after / TESTNET_PERIOD)); then
      continue
    fi
    phase=$((before % TESTNET_PERIOD))
    previous=$((epoch - 1))
    [[ ,$held, == *",$epoch,"* ]] && CURRENT_SEEN["$node $epoch"]=1
    # A relay started in or after the previous epoch never had its key (keys
    # are made for the epochs ahead): nothing to keep or erase.
    if [[ -z ${CURRENT_SEEN["$node $previous"]:-} ]]; then
      continue
    fi
    if ((phase >= 2 && phase <= OVERLAP - 3)); then
      if [[ ,$held, == *",$previous,"* && -e $NET/$node/data/onion-$previous.key ]]; then
        OVERLAP_SEEN=$((OVERLAP_SEEN + 1))
      else
        echo "  $node at +${phase}s of epoch $epoch: key $previous not kept (held $held)" >&2
        VIOLATIONS=$((VIOLATIONS + 1))
      fi
    elif ((phase >= OVERLAP + 3 && after % TESTNET_PERIOD <= TESTNET_PERIOD - 2)); then
      if [[ ,$held, != *",$previous,"* && ! -e $NET/$node/data/onion-$previous.key &&
        $total -eq $(tr ',' '\n' <<<"${held/-/}" | grep -c .) ]]; then
        ERASED_SEEN=$((ERASED_SEEN + 1))
      else
        echo "  $node at +${phase}s of epoch $epoch: key $previous not erased" \
          "(held $held of $total; file $(ls "$NET/$node/data/onion-$previous.key" 2>&1))" >&2
        VIOLATIONS=$((VIOLATIONS + 1))
      fi
    fi
  done
}

read -r first_epoch _ < <(key_state node2)
# Paced by the origin (support/origin.py) at 64 KiB/s: about 64 s.
fetch "big.bin?rate=65536" "$DIR/big.out" --speed-limit 8192 --speed-time 10 --max-time 150 \
  2>"$DIR/big.err" &
big_pid=$!
small_failed=0
small_total=0
while kill -0 "$big_pid" 2>/dev/null; do
  "$NYX" newnym --data-dir "$CLIENT_DATA" >/dev/null
  small_total=$((small_total + 1))
  if ! fetch small.bin "$DIR/small.out" --max-time 10 2>"$DIR/small.err" ||
    ! same_file "$WWW/small.bin" "$DIR/small.out"; then
    small_failed=$((small_failed + 1))
    echo "  small download $small_total: $(cat "$DIR/small.err")" >&2
  fi
  sample_keys
  sleep 2
done
wait "$big_pid"
big_code=$?
read -r last_epoch _ < <(key_state node2)

check "the 4 MiB download completes without a stall (curl exit $big_code: $(cat "$DIR/big.err"))" \
  -- test "$big_code" -eq 0
check "the 4 MiB download is byte-exact" -- same_file "$WWW/big.bin" "$DIR/big.out"
check "it ran across two epoch boundaries (epoch $first_epoch -> $last_epoch)" -- \
  test "$((last_epoch - first_epoch))" -ge 2
check "every download on a fresh circuit succeeds ($small_failed of $small_total failed)" -- \
  test "$small_failed" -eq 0
check "within the overlap the previous key is held and on disk ($OVERLAP_SEEN samples)" -- \
  test "$OVERLAP_SEEN" -gt 0
check "past the overlap it is gone from ring and disk ($ERASED_SEEN samples)" -- \
  test "$ERASED_SEEN" -gt 0
check "no sample saw a key kept too short or too long ($VIOLATIONS)" -- test "$VIOLATIONS" -eq 0

"$NYX" call onion_keys.list --data-dir "$CLIENT_DATA" >"$DIR/refusal.out" 2>&1
refusal_code=$?
check "onion_keys.list is refused on the client (exit $refusal_code: $(cat "$DIR/refusal.out"))" \
  -- test "$refusal_code" -ne 0

testnet_env_finish
