#include "daemon/stream_pump.hpp"

#include <utility>
#include <variant>

#include <asio/buffer.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/write.hpp>

#include "async/use_result.hpp"

namespace nyx::daemon {
namespace {

constexpr std::size_t kUpBuffer = 16 << 10;
constexpr std::size_t kDownBuffer = 64 << 10;

// Socket to stream, until the socket's EOF has become the stream's FIN.
// False on any failure; a socket error resets the stream, which the
// failure watcher in pump() sees.
asio::awaitable<bool> carry_up(CircuitStream& stream, asio::ip::tcp::socket& socket) {
  std::vector<std::uint8_t> buffer(kUpBuffer);
  for (;;) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), async::use_result);
    if (ec == asio::error::eof) {
      co_return stream.finish().has_value();
    }
    if (ec) {
      stream.reset();
      co_return false;
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

// Stream to socket, until the stream's FIN has shut the socket's sending
// side.
asio::awaitable<bool> carry_down(CircuitStream& stream, asio::ip::tcp::socket& socket,
                                 std::vector<std::uint8_t> early) {
  // (No co_await inside && or ||: GCC 12 miscompiles it.)
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

}  // namespace

asio::awaitable<bool> pump(CircuitStream& stream, asio::ip::tcp::socket& socket,
                           std::vector<std::uint8_t> early) {
  using asio::experimental::awaitable_operators::operator&&;
  using asio::experimental::awaitable_operators::operator||;
  std::error_code ignored;
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  // The watcher ends the pump when the stream fails while a direction waits
  // on the socket alone (the circuit closes under a reader whose peer is
  // quiet): || cancels both directions then.
  auto outcome =
      co_await ((carry_up(stream, socket) && carry_down(stream, socket, std::move(early))) ||
                stream.wait_failed());
  if (const auto* both = std::get_if<0>(&outcome);
      both != nullptr && std::get<0>(*both) && std::get<1>(*both)) {
    co_return true;
  }
  stream.reset();
  socket.set_option(asio::socket_base::linger(true, 0), ignored);
  socket.close(ignored);
  co_return false;
}

}  // namespace nyx::daemon
