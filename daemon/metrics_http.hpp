#pragma once
// MetricsHttpServer: the node's Prometheus endpoint — a minimal HTTP/1.1
// server that answers `GET /metrics` with the text exposition of a metrics
// registry (format 0.0.4) and nothing else.
//
// Deliberately small, since it faces whatever runs on the host: requests are
// bounded (kMaxRequestBytes for the request line and headers, no body), one
// request per connection (the reply carries `Connection: close`), a client
// that sends nothing complete within the idle timeout is dropped, and
// connections are bounded. Other paths get 404, other methods 405, anything
// unparsable 400. A client whose address the allow list does not hold
// (metrics.allow; loopback by default) gets 403 for any request, and is
// counted.
//
// Owned by the node; runs on the io_context it is given, which must be run by
// a single thread (the body source is called there). stop() closes the
// listener and every connection.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "core/error.hpp"
#include "daemon/metrics_allow_list.hpp"

namespace nyx::metrics {
class Counter;
}  // namespace nyx::metrics

namespace nyx::daemon {

struct MetricsHttpOptions {
  asio::ip::tcp::endpoint listen{asio::ip::make_address_v4("127.0.0.1"), 0};
  std::chrono::milliseconds idle_timeout{5'000};
  std::size_t max_connections = 32;
  MetricsAllowList allow = MetricsAllowList::loopback();
  // Counts the connections refused by `allow`, when set; must outlive the server.
  metrics::Counter* refused = nullptr;
};

// Produces the body of a /metrics reply.
using MetricsSource = std::function<std::string()>;

class MetricsHttpServer {
 public:
  static constexpr std::size_t kMaxRequestBytes = 8 * 1024;

  MetricsHttpServer(asio::io_context& io, MetricsHttpOptions options, MetricsSource source);
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // Binds and starts accepting; kIo with the errno when the bind fails.
  Status start();
  void stop();

  asio::ip::tcp::endpoint local_endpoint() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace nyx::daemon
