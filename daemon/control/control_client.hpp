#pragma once
// The control protocol's client, for the CLI: connect to a node's control
// socket, authenticate with its cookie, make calls, follow events.
//
// Blocking, with a timeout on every wait, because a command-line tool has
// nothing else to do meanwhile (and must not hang on a stuck node). Errors
// from the node come back as Error{kProtocol, JSON-RPC code, message}, or
// kPermission for a refused cookie; a vanished node is kClosed. Move-only;
// one thread at a time.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "daemon/control/control_cookie.hpp"
#include "daemon/control/json_rpc.hpp"

namespace nyx::control {

class ControlClient {
 public:
  // kIo (errno in code) when nothing listens at the path: the node is not
  // running, or runs with another data directory.
  static Result<ControlClient> connect(const std::filesystem::path& socket_path,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(5));

  ControlClient(ControlClient&& other) noexcept;
  ControlClient& operator=(ControlClient&& other) noexcept;
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;
  ~ControlClient();

  // The auth call; must come first.
  Status authenticate(const ControlCookie& cookie);

  // Calls a method and waits for its result. Notifications that arrive in
  // between (a subscription on this connection) are skipped.
  Result<nlohmann::json> call(std::string_view method, const nlohmann::json& params = nullptr);

  // Subscribes to events every `interval`, then hands each event's data to
  // on_event until it returns false (returns success) or the connection
  // fails (returns the error).
  Status subscribe(std::chrono::milliseconds interval,
                   const std::function<bool(const nlohmann::json& data)>& on_event);

 private:
  ControlClient(int fd, std::chrono::milliseconds timeout) noexcept : fd_(fd), timeout_(timeout) {}

  Status send_line(const std::string& line);
  // The next message; waits at most `wait`.
  Result<RpcServerMessage> read_message(std::chrono::milliseconds wait);
  Result<nlohmann::json> await_response(std::int64_t id);

  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
  std::int64_t next_id_ = 1;
};

// Longest reply the client accepts (node.stats of a busy node stays far below).
inline constexpr std::size_t kControlMaxMessageBytes = 16 * 1024 * 1024;

}  // namespace nyx::control
