#pragma once
// The node's control server: JSON-RPC 2.0 over a Unix socket, one JSON
// message per line (docs/control.md).
//
// The socket file is created mode 0600 (0660 with group_access, so the
// node's group may connect; it still needs the cookie), replacing a stale one left by a
// crashed node (but never a live server's socket or a file that is not a
// socket). The first call on a connection must be `auth` with the cookie;
// anything else is answered with an error and the connection closed. After
// that, calls go to the MethodRegistry, and `events.subscribe` pushes the
// EventSource's snapshot every N ms until the client disconnects. Messages,
// queued replies and connections are bounded.
//
// Owned by the node; runs on the io_context it is given, which must be run by
// a single thread (handlers and the event source are called there). stop()
// closes the listener and every connection; the io_context then runs dry.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "daemon/control/control_cookie.hpp"
#include "daemon/control/method_registry.hpp"

namespace asio {
class io_context;
}

namespace nyx::control {

struct ControlServerOptions {
  std::filesystem::path socket_path;
  bool group_access = false;
  std::size_t max_connections = 16;
  // Longest message a client may send, newline excluded.
  std::size_t max_message_bytes = 64 * 1024;
  // Replies and events waiting for a client that does not read; past this
  // the connection is closed rather than buffering without bound.
  std::size_t max_queued_messages = 256;
  std::chrono::milliseconds min_event_interval{10};
  std::chrono::milliseconds max_event_interval{3'600'000};
};

// The payload of each events.subscribe notification (e.g. every metric).
using EventSource = std::function<nlohmann::json()>;

class ControlServer {
 public:
  // Without an event source, events.subscribe is an unknown method.
  ControlServer(asio::io_context& io, ControlServerOptions options, ControlCookie cookie,
                MethodRegistry methods, EventSource events = {});
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds and starts accepting. kConfig when the path is too long for a Unix
  // socket, is not a socket, or a live server already listens there.
  Status start();
  void stop();

  std::size_t connection_count() const noexcept;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace nyx::control
