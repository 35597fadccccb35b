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
// pump_unanswered(): the entry's pump for a stream whose open request is
// written but not answered (optimistic data, docs/protocol.md "Stream
// open"): the socket's bytes go up at once, behind the request, and the
// first byte down is the exit's status. A success status is handed to
// `on_success` before any destination byte reaches the socket; any other
// outcome ends the pump with the socket untouched, for the caller to answer.
//
// Free coroutines on the stream's executor; every argument must outlive them.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "daemon/circuit_stream.hpp"
#include "daemon/stream_open.hpp"

namespace nyx::daemon {

// True when both directions ended cleanly.
asio::awaitable<bool> pump(CircuitStream& stream, asio::ip::tcp::socket& socket,
                           std::vector<std::uint8_t> early = {});

// An open whose status has not come yet: owned by the caller across
// pump_unanswered() calls, so that the bytes can go again on another circuit
// when the first one ends before its status.
struct Unanswered {
  // Every byte taken from the socket before the status, in order (the
  // caller's early bytes first); freed once the status came.
  std::vector<std::uint8_t> bytes;
  bool eof = false;  // the socket's EOF came too
  // At most this many bytes go before the status; then the socket waits.
  std::size_t limit = 64 << 10;
  std::chrono::milliseconds status_timeout{20'000};
  // The status: kTimeout when it did not come in time, kGeneralFailure for
  // a FIN, a reset or an unknown value instead. Empty while none came (the
  // circuit ended first, or a socket error ended the pump).
  std::optional<StreamOpenStatus> status;
};

// Told that the exit connected, before any of its bytes reach the socket;
// true to go on relaying (false ends the pump, leaving the socket alone).
using SuccessHandler = std::function<asio::awaitable<bool>()>;

// True when both directions ended cleanly (after a success). A failure
// after the success closes the socket abortively, as pump() does.
asio::awaitable<bool> pump_unanswered(CircuitStream& stream, asio::ip::tcp::socket& socket,
                                      Unanswered& state, SuccessHandler on_success);

}  // namespace nyx::daemon
