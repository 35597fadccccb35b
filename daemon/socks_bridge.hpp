#pragma once
// SocksBridge: the client side of the data path, the SOCKS5 server's
// connector. For each CONNECT it takes a circuit session for the client's
// isolation key and destination from a CircuitSource (the CircuitManager),
// opens a stream, sends the stream open request (docs/protocol.md, "Stream
// open (daemon)"), awaits the exit's status byte and, on success, pumps
// bytes between the SOCKS client's socket and the stream (pump()). A failure
// status becomes the Error that socks5_reply_for maps to the same SOCKS
// reply; a circuit that ends first costs one more try on another circuit.
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

  asio::awaitable<Result<std::unique_ptr<Socks5Stream>>> connect(
      const IsolationKey& isolation, const Socks5Destination& destination) override;

 private:
  // One try: a circuit, a stream on it, the open request, the exit's answer.
  asio::awaitable<Result<std::unique_ptr<Socks5Stream>>> open_stream(
      const IsolationKey& isolation, const Socks5Destination& destination,
      std::vector<std::uint8_t> request);

  CircuitSource& source_;
  std::chrono::milliseconds open_timeout_;
};

}  // namespace nyx::daemon
