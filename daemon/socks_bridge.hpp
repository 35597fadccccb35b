#pragma once
// SocksBridge: the client side of the data path, the SOCKS5 server's
// connector. For each CONNECT it takes a circuit session for the client's
// isolation key and destination from a CircuitSource (the CircuitManager),
// opens a stream and writes the stream open request (docs/protocol.md,
// "Stream open (daemon)"), and hands the stream back at once, unanswered:
// the client's first bytes follow the request without waiting for the
// exit's status (optimistic data, Tor proposal 181), so a request costs one
// path round trip. The status reaches the SOCKS server as the answer: a
// failure status becomes the same SOCKS reply code. A circuit that ends
// before the status costs one more try on another circuit, which gets every
// byte the client sent so far again (kept, up to 64 KiB, until the status).
//
// Owned by the node; runs on the io_context of the circuits (one thread).
// The source must outlive the bridge and the streams it opened.

#include <chrono>
#include <memory>
#include <vector>

#include <asio/awaitable.hpp>

#include "core/error.hpp"
#include "daemon/circuit_session.hpp"
#include "daemon/socks5_server.hpp"

namespace nyx::daemon {

// Where the bridge gets circuits from.
class CircuitSource {
 public:
  virtual ~CircuitSource() = default;
  // A session on an open circuit whose exit allows `destination`, never one
  // that carries streams of another isolation key; one more stream is
  // counted on it.
  virtual asio::awaitable<Result<CircuitSession*>> acquire(
      const IsolationKey& isolation, const Socks5Destination& destination) = 0;
  // The stream acquire() counted on `session` has ended; called only while
  // the session is open (a closed session's circuit is closed, and its
  // counts go with it).
  virtual void release(const CircuitSession* session) = 0;
};

class SocksBridge final : public Socks5Connector {
 public:
  explicit SocksBridge(CircuitSource& source,
                       std::chrono::milliseconds open_timeout = std::chrono::seconds(20));

  // An unanswered stream once its open request is written (open_timeout
  // bounds the wait for the exit's status, in relay_unanswered()).
  asio::awaitable<Result<std::unique_ptr<Socks5Stream>>> connect(
      const IsolationKey& isolation, const Socks5Destination& destination) override;

 private:
  CircuitSource& source_;
  std::chrono::milliseconds open_timeout_;
};

}  // namespace nyx::daemon
