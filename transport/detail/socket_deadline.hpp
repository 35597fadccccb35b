#pragma once
// SocketDeadline: closes a socket when a deadline passes, which fails every
// operation pending on it with operation_aborted; destroying the deadline
// disarms it. The armed flag (not the socket) is what a late timer handler
// looks at, so a timer that fired just before the deadline was destroyed
// never touches a socket that may be gone by then.

#include <memory>

#include <asio/steady_timer.hpp>

#include "core/clock.hpp"

namespace nyx::transport::detail {

template <class Socket>
class SocketDeadline {
 public:
  SocketDeadline(Socket& socket, Nanos timeout) : timer_(socket.get_executor()) {
    timer_.expires_after(timeout);
    timer_.async_wait([&socket, armed = armed_](const asio::error_code& ec) {
      if (!ec && *armed) {
        asio::error_code ignored;
        socket.close(ignored);
      }
    });
  }
  ~SocketDeadline() {
    *armed_ = false;
    timer_.cancel();
  }
  SocketDeadline(const SocketDeadline&) = delete;
  SocketDeadline& operator=(const SocketDeadline&) = delete;

 private:
  std::shared_ptr<bool> armed_ = std::make_shared<bool>(true);
  asio::steady_timer timer_;
};

}  // namespace nyx::transport::detail
