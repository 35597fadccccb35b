#!/usr/bin/env bash
# SOCKS5 failures through a 5-node testnet, each with its exact reply code
# (RFC 1928 §6), read by a raw-socket client (support/socks5_probe.py):
#   a closed port at the exit           -> 5 connection refused
#   a port the exit policy rejects (25) -> 2 not allowed by ruleset
#   a name that does not resolve        -> 4 host unreachable
#   BIND, UDP ASSOCIATE                 -> 7 command not supported
#   a SOCKS4 greeting                   -> the connection closed, no reply
#   no acceptable method                -> 05 ff
# and after all of them the node still carries a download; curl reports the
# refusal too.
#   testnet_socks_errors_test.sh PATH/TO/nyxctl
source "$(dirname "$0")/support/testnet_env.sh"
testnet_env_init testnet_socks_errors 1 "${1:-}"

make_file page.bin 65536
testnet_env_origin
testnet_env_up 5
CLOSED_PORT=$((BASE + 8))  # in this run's range, never listened on

# expect_reply WANT WHAT -- PROBE ARGS...
expect_reply() {
  local want=$1 what=$2 got
  shift 3
  got=$(socks_probe "$@" 2>&1)
  if [[ $got == "$want" ]]; then
    echo "ok: $what: $got"
  else
    fail "$what: got '$got', expected '$want'"
  fi
}

expect_reply 0 "CONNECT to the origin succeeds" -- connect 127.0.0.1 "$ORIGIN_PORT"
expect_reply 5 "CONNECT to a closed port is refused" -- connect 127.0.0.1 "$CLOSED_PORT"
expect_reply 5 "CONNECT by name to a closed port is refused" -- connect localhost "$CLOSED_PORT"
expect_reply 2 "CONNECT to port 25 is not allowed by the exit policy" -- connect 127.0.0.1 25
expect_reply 4 "CONNECT to an unresolvable name: host unreachable" -- connect nonexistent.invalid 80
expect_reply 7 "BIND is not supported" -- command 2
expect_reply 7 "UDP ASSOCIATE is not supported" -- command 3
expect_reply closed "a SOCKS4 greeting gets no reply" -- greeting 04010050
expect_reply 05ff "a greeting offering only GSSAPI: no acceptable method" -- greeting 050101

curl --silent --socks5-hostname "$SOCKS" --max-time 30 -o /dev/null \
  "http://127.0.0.1:$CLOSED_PORT/" 2>/dev/null
code=$?
check "curl to the closed port fails as a proxy error (exit $code, expected 97)" -- \
  test "$code" -eq 97

check "the node still carries a download afterwards" -- fetch page.bin "$DIR/page.out" --max-time 30
check "... byte-exact" -- same_file "$WWW/page.bin" "$DIR/page.out"
check "the client node still answers" -- "$NYX" status --data-dir "$CLIENT_DATA" --json >/dev/null

testnet_env_finish
