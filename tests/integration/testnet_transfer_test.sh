#!/usr/bin/env bash
# Bulk and concurrency through three hops: a 5-node testnet, one large
# download byte-exact (SHA-256), then many concurrent 1 MiB downloads, every
# one byte-exact, zero failures; the client's stats count the bytes.
#   testnet_transfer_test.sh PATH/TO/nyxctl [BIG_MIB] [CONCURRENT]
# Defaults 100 MiB and 100 downloads (about 35 s under ASan on 2 cores, well
# inside the 5 min budget); the arguments let a slower machine move less.
source "$(dirname "$0")/support/testnet_env.sh"
testnet_env_init testnet_transfer 0 "${1:-}"
BIG_MIB=${2:-100}
CONCURRENT=${3:-100}

make_file big.bin $((BIG_MIB * 1024 * 1024))
make_file small.bin $((1024 * 1024))
testnet_env_origin
testnet_env_up 5
bytes_before=$(counted_bytes)

start=$(date +%s%N)
check "one ${BIG_MIB} MiB download through 3 hops" -- fetch big.bin "$DIR/big.out" --max-time 240
check "the ${BIG_MIB} MiB download is byte-exact" -- same_file "$WWW/big.bin" "$DIR/big.out"
echo "  ${BIG_MIB} MiB in $((($(date +%s%N) - start) / 1000000)) ms"
rm -f "$DIR/big.out"

start=$(date +%s%N)
fetch_many small.bin "$CONCURRENT" --max-time 180
echo "  $CONCURRENT concurrent 1 MiB downloads in $((($(date +%s%N) - start) / 1000000)) ms"
check "$CONCURRENT concurrent downloads all complete ($FETCH_FAILED failed)" -- \
  test "$FETCH_FAILED" -eq 0
check "every completed download is byte-exact ($FETCH_MISMATCHED differ)" -- \
  test "$FETCH_MISMATCHED" -eq 0

bytes_after=$(counted_bytes)
check "the client's byte counters moved ($bytes_before -> $bytes_after)" -- \
  test "$bytes_after" -gt "$bytes_before"

testnet_env_finish
