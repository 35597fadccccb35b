#include "daemon/stream_pump.hpp"

#include <algorithm>
#include <utility>
#include <variant>

#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/write.hpp>

#include "async/async_event.hpp"
#include "async/use_result.hpp"
#include "async/with_deadline.hpp"

namespace nyx::daemon {
namespace {

constexpr std::size_t kUpBuffer = 16 << 10;
constexpr std::size_t kDownBuffer = 64 << 10;

// Where an unanswered stream's pump stands, shared by its two directions
// (one thread: no lock). Only the socket reader touches state.bytes, so a
// write of them never loses its buffer under it.
struct Opening {
  Opening(Unanswered& unanswered, SuccessHandler handler, const asio::any_io_executor& executor)
      : state(unanswered), on_success(std::move(handler)), status_came(executor) {}
  Unanswered& state;
  SuccessHandler on_success;
  async::AsyncEvent status_came;  // the socket reader waits on it at the limit
  bool accepted = false;          // a success, and on_success went on
};

// How many bytes the socket may give now: any number once the status came;
// before, what still fits under the limit, after waiting at the limit. Zero
// when the wait was cancelled.
asio::awaitable<std::size_t> room(Opening& opening, std::size_t want) {
  Unanswered& state = opening.state;
  while (!state.status && state.bytes.size() >= state.limit) {
    const auto ec = co_await opening.status_came.wait();
    if (ec) {
      co_return 0;
    }
  }
  if (state.status) {
    std::vector<std::uint8_t>().swap(state.bytes);  // answered: no second circuit needs them
    co_return want;
  }
  co_return std::min(want, state.limit - state.bytes.size());
}

// Sends again what the socket gave before the status (the caller's early
// bytes, or all that went on a circuit that ended unanswered), and its EOF.
// False on failure; true with `finished` when the EOF went too.
asio::awaitable<bool> resend(CircuitStream& stream, Unanswered& state, bool& finished) {
  if (!state.bytes.empty()) {
    if (auto sent = co_await stream.write_all(state.bytes); !sent) {
      co_return false;
    }
  }
  finished = state.eof;
  co_return !state.eof || stream.finish().has_value();
}

// Socket to stream, until the socket's EOF has become the stream's FIN.
// False on any failure; a socket error resets the stream, which the
// failure watcher in the pump sees. With `opening`, the bytes taken before
// the status are kept in it.
asio::awaitable<bool> carry_up(CircuitStream& stream, asio::ip::tcp::socket& socket,
                               Opening* opening) {
  if (opening != nullptr) {
    bool finished = false;
    const bool resent = co_await resend(stream, opening->state, finished);
    if (!resent || finished) {
      co_return resent;
    }
  }
  std::vector<std::uint8_t> buffer(kUpBuffer);
  for (;;) {
    std::size_t want = buffer.size();
    if (opening != nullptr) {
      want = co_await room(*opening, want);
      if (want == 0) {
        co_return false;
      }
    }
    auto [ec, n] =
        co_await socket.async_read_some(asio::buffer(buffer.data(), want), async::use_result);
    const bool unanswered = opening != nullptr && !opening->state.status;
    if (ec == asio::error::eof) {
      if (unanswered) {
        opening->state.eof = true;
      }
      co_return stream.finish().has_value();
    }
    if (ec) {
      stream.reset();
      co_return false;
    }
    if (unanswered) {
      auto& kept = opening->state.bytes;
      kept.insert(kept.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
    }
    if (!co_await stream.write_all(Bytes(buffer.data(), n))) {
      co_return false;
    }
  }
}

asio::awaitable<bool> write_to_socket(CircuitStream& stream, asio::ip::tcp::socket& socket,
                                      Bytes bytes) {
  auto [ec, n] = co_await asio::async_write(socket, asio::buffer(bytes.data(), bytes.size()),
                                            async::use_result);
  if (ec) {
    stream.reset();
    co_return false;
  }
  co_return true;
}

// The exit's status byte, first on the way down. False when the pump must
// end: a failure status (the stream is reset, which stops the socket reader
// too), no status (the circuit ended, or the pump is being cancelled), or a
// success that on_success declined.
asio::awaitable<bool> receive_status(CircuitStream& stream, Opening& opening) {
  std::uint8_t byte = 0;
  auto read = co_await async::with_deadline(stream.read_some(MutableBytes(&byte, 1)),
                                            opening.state.status_timeout);
  if (!read && read.error() != asio::error::timed_out) {
    co_return false;  // cancelled: the pump is ending for another reason
  }
  if (stream.circuit_closed()) {
    co_return false;  // no status: another circuit may still carry the bytes
  }
  StreamOpenStatus status = StreamOpenStatus::kTimeout;
  if (read) {
    status = StreamOpenStatus::kGeneralFailure;  // a reset or a FIN instead
    if (*read && (*read)->bytes == 1) {
      status = parse_stream_open_status(byte).value_or(StreamOpenStatus::kGeneralFailure);
    }
  }
  opening.state.status = status;
  opening.status_came.set();
  if (status != StreamOpenStatus::kSuccess) {
    stream.reset();
    co_return false;
  }
  const bool go_on = co_await opening.on_success();
  if (!go_on) {
    stream.reset();
    co_return false;
  }
  opening.accepted = true;
  co_return true;
}

// Stream to socket, until the stream's FIN has shut the socket's sending
// side. With `opening`, the exit's status comes first.
asio::awaitable<bool> carry_down(CircuitStream& stream, asio::ip::tcp::socket& socket,
                                 std::vector<std::uint8_t> early, Opening* opening) {
  // (No co_await inside && or ||: GCC 12 miscompiles it.)
  if (opening != nullptr) {
    if (const bool accepted = co_await receive_status(stream, *opening); !accepted) {
      co_return false;
    }
  }
  if (!early.empty()) {
    if (const bool written = co_await write_to_socket(stream, socket, early); !written) {
      co_return false;
    }
  }
  std::vector<std::uint8_t> buffer;
  for (;;) {
    if (!co_await stream.wait_readable()) {
      co_return false;
    }
    buffer.resize(kDownBuffer);
    auto read = stream.read_available(buffer);
    if (!read) {
      co_return false;
    }
    if (read->bytes > 0) {
      const bool written =
          co_await write_to_socket(stream, socket, Bytes(buffer.data(), read->bytes));
      if (!written) {
        co_return false;
      }
    }
    if (read->fin) {
      std::error_code ignored;
      socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
      co_return true;
    }
    if (read->bytes == 0) {
      std::vector<std::uint8_t>().swap(buffer);  // drained: idle streams hold no buffer
    }
  }
}

// Both directions; true when both ended cleanly.
asio::awaitable<bool> carry_both(CircuitStream& stream, asio::ip::tcp::socket& socket,
                                 std::vector<std::uint8_t> early, Opening* opening) {
  using asio::experimental::awaitable_operators::operator&&;
  using asio::experimental::awaitable_operators::operator||;
  std::error_code ignored;
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  // The watcher ends the pump when the stream fails while a direction waits
  // on the socket alone (the circuit closes under a reader whose peer is
  // quiet): || cancels both directions then.
  auto outcome = co_await ((carry_up(stream, socket, opening) &&
                            carry_down(stream, socket, std::move(early), opening)) ||
                           stream.wait_failed());
  const auto* both = std::get_if<0>(&outcome);
  co_return both != nullptr&& std::get<0>(*both) && std::get<1>(*both);
}

void abort_socket(asio::ip::tcp::socket& socket) {
  std::error_code ignored;
  socket.set_option(asio::socket_base::linger(true, 0), ignored);
  socket.close(ignored);
}

}  // namespace

asio::awaitable<bool> pump(CircuitStream& stream, asio::ip::tcp::socket& socket,
                           std::vector<std::uint8_t> early) {
  // (Each co_await its own statement: GCC 12 miscompiles one in a condition.)
  const bool clean = co_await carry_both(stream, socket, std::move(early), nullptr);
  if (clean) {
    co_return true;
  }
  stream.reset();
  abort_socket(socket);
  co_return false;
}

asio::awaitable<bool> pump_unanswered(CircuitStream& stream, asio::ip::tcp::socket& socket,
                                      Unanswered& state, SuccessHandler on_success) {
  Opening opening(state, std::move(on_success), socket.get_executor());
  std::vector<std::uint8_t> none;  // the client's early bytes go up, in `state`
  const bool clean = co_await carry_both(stream, socket, std::move(none), &opening);
  if (clean) {
    co_return true;
  }
  stream.reset();
  // Before an accepted success the socket is the caller's: it answers the
  // client (a SOCKS error code, or another circuit).
  if (opening.accepted) {
    abort_socket(socket);
  }
  co_return false;
}

}  // namespace nyx::daemon
