#include "daemon/control/control_client.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace nyx::control {
namespace {

std::unexpected<Error> io_error(std::string_view what, int err) {
  return make_error(ErrorCategory::kIo, fmt::format("control: {}: {}", what, std::strerror(err)),
                    err);
}

Error rpc_failure(const RpcError& error) {
  const bool refused = error.code == kRpcAuthRequired || error.code == kRpcAuthFailed;
  return Error{refused ? ErrorCategory::kPermission : ErrorCategory::kProtocol, error.code,
               fmt::format("control: {}", error.message)};
}

}  // namespace

Result<ControlClient> ControlClient::connect(const std::filesystem::path& socket_path,
                                             std::chrono::milliseconds timeout) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string path = socket_path.string();
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    return make_error(ErrorCategory::kInvalidArgument,
                      fmt::format("control socket path '{}' is empty or too long", path));
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return io_error("socket", errno);
  }
  // A Unix socket connect does not wait on a network: it succeeds, or fails
  // at once (ENOENT: no node; ECONNREFUSED: a stale socket file).
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int err = errno;
    ::close(fd);
    return io_error(fmt::format("connect to {}", path), err);
  }
  return ControlClient(fd, timeout);
}

ControlClient::ControlClient(ControlClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      timeout_(other.timeout_),
      buffer_(std::move(other.buffer_)),
      next_id_(other.next_id_) {}

ControlClient& ControlClient::operator=(ControlClient&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = std::exchange(other.fd_, -1);
    timeout_ = other.timeout_;
    buffer_ = std::move(other.buffer_);
    next_id_ = other.next_id_;
  }
  return *this;
}

ControlClient::~ControlClient() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

Status ControlClient::send_line(const std::string& line) {
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t n = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EPIPE || errno == ECONNRESET) {
        return make_error(ErrorCategory::kClosed, "control: the node closed the connection");
      }
      return io_error("send", errno);
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Result<RpcServerMessage> ControlClient::read_message(std::chrono::milliseconds wait) {
  while (true) {
    if (const auto newline = buffer_.find('\n'); newline != std::string::npos) {
      auto message = parse_rpc_server_message(std::string_view(buffer_).substr(0, newline));
      buffer_.erase(0, newline + 1);
      return message;
    }
    if (buffer_.size() > kControlMaxMessageBytes) {
      return make_error(ErrorCategory::kResourceExhausted, "control: reply too long");
    }
    pollfd ready{fd_, POLLIN, 0};
    const int polled = ::poll(&ready, 1, static_cast<int>(wait.count()));
    if (polled < 0) {
      if (errno == EINTR) {
        continue;
      }
      return io_error("poll", errno);
    }
    if (polled == 0) {
      return make_error(ErrorCategory::kTimeout,
                        fmt::format("control: no reply within {} ms", wait.count()));
    }
    char chunk[16 * 1024];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
      return make_error(ErrorCategory::kClosed, "control: the node closed the connection");
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return io_error("recv", errno);
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

Result<nlohmann::json> ControlClient::await_response(std::int64_t id) {
  while (true) {
    auto message = read_message(timeout_);
    if (!message) {
      return std::unexpected(std::move(message.error()));
    }
    if (message->is_notification) {
      continue;
    }
    // A null id answers a request the node could not read at all.
    if (!message->id.is_null() && message->id != id) {
      continue;
    }
    if (!message->outcome) {
      return std::unexpected(rpc_failure(message->outcome.error()));
    }
    return std::move(*message->outcome);
  }
}

Result<nlohmann::json> ControlClient::call(std::string_view method, const nlohmann::json& params) {
  const std::int64_t id = next_id_++;
  if (auto sent = send_line(encode_rpc_request(id, method, params)); !sent) {
    return std::unexpected(std::move(sent.error()));
  }
  return await_response(id);
}

Status ControlClient::authenticate(const ControlCookie& cookie) {
  auto result = call("auth", {{"cookie", cookie.hex()}});
  if (!result) {
    return std::unexpected(std::move(result.error()));
  }
  return {};
}

Status ControlClient::subscribe(std::chrono::milliseconds interval,
                                const std::function<bool(const nlohmann::json& data)>& on_event) {
  auto subscribed = call("events.subscribe", {{"interval_ms", interval.count()}});
  if (!subscribed) {
    return std::unexpected(std::move(subscribed.error()));
  }
  while (true) {
    auto message = read_message(timeout_ + interval);
    if (!message) {
      return std::unexpected(std::move(message.error()));
    }
    if (!message->is_notification || message->method != "events.update") {
      continue;
    }
    const auto data = message->params.find("data");  // end() unless an object with data
    if (data == message->params.end()) {
      return make_error(ErrorCategory::kParse, "control: event without data");
    }
    if (!on_event(*data)) {
      return {};
    }
  }
}

}  // namespace nyx::control
