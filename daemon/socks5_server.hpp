#pragma once
// The node's SOCKS5 entry: accepts local applications (curl, a browser),
// runs the RFC 1928/1929 handshake under a deadline, and hands each CONNECT
// to a Socks5Connector, which opens a stream through the network.
//
// The server answers the client from the connector's outcome: success, or
// the reply code for its Error (socks5_reply_for: refused, host or network
// unreachable, not allowed by ruleset, TTL expired for a timeout, general
// failure). A connector that takes longer than connect_timeout is abandoned
// with TTL expired. Every accepted socket gets TCP_NODELAY. Clients are
// bounded: past max_clients a new connection is closed at once.
//
// A connector may hand back a stream before its destination answered (an
// optimistic open, Tor proposal 181): the stream then carries the client's
// bytes at once and tells the server the answer, which becomes the reply.
// With optimistic_reply the server instead replies success at once (Tor
// proposal 309) and a failure that comes later closes the client with an
// RST: its SOCKS error code is lost.
//
// Owned by the node; runs on the io_context it is given, which must be run by
// a single thread. stop() closes the listener and every client still in its
// handshake or waiting for its connect; streams already relaying go on until
// they end, and relays_ended() completes then (the node's drain awaits it,
// bounded by its deadline, and closes the circuits under what is left).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "core/error.hpp"
#include "daemon/socks5_codec.hpp"

namespace nyx::metrics {
class Registry;
}  // namespace nyx::metrics

namespace nyx::daemon {

// Hears the destination's answer to an unanswered stream, as the reply it
// maps to, before any byte of the destination reaches `client`; true to go
// on relaying. On a failure it owns the client's fate (a reply, a close).
using Socks5AnswerHandler =
    std::function<asio::awaitable<bool>(asio::ip::tcp::socket& client, Socks5Reply answer)>;

// An open stream to a client's destination.
class Socks5Stream {
 public:
  virtual ~Socks5Stream() = default;
  // False for a stream whose destination has not answered yet (its open
  // request is on its way): the server relays it with relay_unanswered().
  virtual bool answered() const { return true; }
  // Carries bytes both ways between the client and the destination until
  // either side is done. early_data: bytes the client sent right after its
  // request, before it saw the reply (optimistic data); they go first.
  virtual asio::awaitable<void> relay(asio::ip::tcp::socket client,
                                      std::vector<std::uint8_t> early_data) = 0;
  // relay() for an unanswered stream: the client's bytes (early_data first)
  // go towards the destination at once, and `on_answer` hears the answer.
  // After a failure answer, or a false from on_answer, the client's socket
  // is not touched again. The default, for answered streams, answers
  // success and relays.
  virtual asio::awaitable<void> relay_unanswered(asio::ip::tcp::socket client,
                                                 std::vector<std::uint8_t> early_data,
                                                 Socks5AnswerHandler on_answer);
};

// How the node opens streams (through a circuit; in tests, a local pipe).
class Socks5Connector {
 public:
  virtual ~Socks5Connector() = default;
  // Streams with different isolation keys must not share a circuit.
  virtual asio::awaitable<Result<std::unique_ptr<Socks5Stream>>> connect(
      const IsolationKey& isolation, const Socks5Destination& destination) = 0;
};

struct Socks5ServerOptions {
  asio::ip::tcp::endpoint listen{asio::ip::make_address_v4("127.0.0.1"), 9345};
  std::size_t max_clients = 1024;
  // From accept to a complete CONNECT request.
  std::chrono::milliseconds handshake_timeout{10'000};
  // From the request to the connector's answer.
  std::chrono::milliseconds connect_timeout{30'000};
  // Reply success as soon as an unanswered stream is on its way, so clients
  // that wait for the reply (curl) send their request one path round trip
  // earlier; a failure then closes the client (RST), without its SOCKS code.
  bool optimistic_reply = false;
};

class Socks5Server {
 public:
  // The connector must outlive the server and the work it left running: until
  // the io_context has run dry after stop().
  Socks5Server(asio::io_context& io, Socks5ServerOptions options, Socks5Connector& connector);
  ~Socks5Server();
  Socks5Server(const Socks5Server&) = delete;
  Socks5Server& operator=(const Socks5Server&) = delete;

  // Binds and starts accepting; kIo with the errno when the bind fails.
  Status start();
  void stop();
  // Completes once stop() was called and every stream that was relaying has
  // ended. Cancellable (with_deadline).
  asio::awaitable<void> relays_ended();

  // The bound address (the port chosen by the system for port 0).
  asio::ip::tcp::endpoint local_endpoint() const;
  // Clients from accept until their stream ends.
  std::size_t client_count() const noexcept;
  // Registers nyx_socks_requests_total{reply} in `registry`, which must
  // outlive the server; every reply to a request is counted from then on.
  void publish_metrics(metrics::Registry& registry);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace nyx::daemon
