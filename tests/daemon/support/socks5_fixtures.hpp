#pragma once
// Test doubles around the SOCKS5 server: an HTTP origin on loopback, and a
// connector that pipes every stream to that origin (whatever name was asked
// for), records what it was asked, and fails or hangs on request. All run
// on one io_context, on the test's thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "core/error.hpp"
#include "daemon/socks5_server.hpp"

namespace nyx::test {

// Answers every request on its port with 200 and `body`, then closes.
class HttpOrigin {
 public:
  HttpOrigin(asio::io_context& io, std::string body);
  void stop();
  std::uint16_t port() const;
  // The request head of each connection, in arrival order.
  const std::vector<std::string>& requests() const { return requests_; }

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(asio::ip::tcp::socket socket);

  asio::io_context& io_;
  asio::ip::tcp::acceptor acceptor_;
  std::string body_;
  std::vector<std::string> requests_;
};

struct ConnectRecord {
  daemon::IsolationKey isolation;
  daemon::Socks5Destination destination;
};

class PipeConnector final : public daemon::Socks5Connector {
 public:
  PipeConnector(asio::io_context& io, std::uint16_t origin_port);

  asio::awaitable<Result<std::unique_ptr<daemon::Socks5Stream>>> connect(
      const daemon::IsolationKey& isolation, const daemon::Socks5Destination& destination) override;

  // Requests for `host` fail with `error`.
  void fail(const std::string& host, Error error) { failures_[host] = std::move(error); }
  // Requests for `host` never complete (until cancelled).
  void hang(const std::string& host) { hanging_.insert(host); }

  const std::vector<ConnectRecord>& records() const { return records_; }
  // Whether each relayed client socket had TCP_NODELAY set.
  const std::vector<bool>& nodelay() const { return nodelay_; }

 private:
  asio::io_context& io_;
  std::uint16_t origin_port_;
  std::map<std::string, Error> failures_;
  std::set<std::string> hanging_;
  std::vector<ConnectRecord> records_;
  std::vector<bool> nodelay_;
};

}  // namespace nyx::test
