#pragma once
// pump(): carries bytes both ways between a TCP socket and a CircuitStream
// until both directions are done, under backpressure both ways: a stream
// write that waits for credit stops reading the socket, and a socket write
// in progress stops reading the stream (whose flow-control window then
// closes). Used by both ends of the data path (the SOCKS entry, the exit).
//
// Socket EOF finishes the stream and the stream's FIN shuts the socket's
// sending side. A stream reset, the circuit's end or a socket error ends
// both: the stream is reset and the socket closed abortively (RST), so the
// application sees a failure, not a clean end. Writes to the socket are
// batched (everything the stream has ready, up to 64 KiB, per write), and
// the 64 KiB exists only while bytes are on their way: an idle stream holds
// no buffer. `early` goes to the socket before anything read from the
// stream (the exit's copy of bytes that followed the open request).
//
// A free coroutine on the stream's executor; both arguments must outlive it.

#include <cstdint>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "daemon/circuit_stream.hpp"

namespace nyx::daemon {

// True when both directions ended cleanly.
asio::awaitable<bool> pump(CircuitStream& stream, asio::ip::tcp::socket& socket,
                           std::vector<std::uint8_t> early = {});

}  // namespace nyx::daemon
