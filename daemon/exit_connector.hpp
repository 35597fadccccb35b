#pragma once
// ExitConnector: the exit side of the data path. Every circuit that ends at
// this node (the Relay's terminal handler) gets a responder CircuitSession;
// every stream the client opens on it starts with a stream open request
// (docs/protocol.md, "Stream open (daemon)"), which the connector checks
// against the exit policy, resolves with asio (checking the policy again for
// every address the name resolved to, so a name cannot smuggle a private
// address in), connects under a timeout, answers with one status byte, and
// then pumps bytes both ways under the stream's flow control (pump()). Each
// stream is one coroutine (serve) over a CircuitStream that reads top to
// bottom: request, policy, resolve, connect, status, pump. The client's
// bytes that follow its request (optimistic data) are not read during the
// connect: they wait in the stream's receive window (what one read took
// past the request is kept) and go to the destination first, in order; a
// failed connect drops them with the stream.
//
// Owned by the node beside its Relay; every call and every handler runs on
// the io_context's one thread (the cell shard). The policy must outlive the
// connector; stop() closes every session. Stream coroutines hold the
// connector's gate and look at it after each wait, so one that outlives the
// connector touches nothing of it. The drain closes the gate
// (stop_accepting()): a stream not yet connected ends there, one already
// piping goes on, and streams_ended() completes when the last has ended.

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <unordered_map>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "async/gate.hpp"
#include "async/timer_service.hpp"
#include "core/clock.hpp"
#include "core/datagram_channel.hpp"
#include "daemon/circuit_session.hpp"
#include "daemon/circuit_stream.hpp"
#include "daemon/exit_address_policy.hpp"
#include "daemon/stream_open.hpp"
#include "mix/circuit.hpp"

namespace nyx::metrics {
class Counter;
class Registry;
}  // namespace nyx::metrics

namespace nyx::daemon {

struct ExitConnectorOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  stream::SessionConfig session{};
};

class ExitConnector {
 public:
  // `timers` (for the sessions' timers) must be the service whose clock() is `clock`.
  ExitConnector(asio::io_context& io, const Clock& clock, async::TimerService& timers,
                const ExitAddressPolicy& policy, ExitConnectorOptions options = {});
  ~ExitConnector();
  ExitConnector(const ExitConnector&) = delete;
  ExitConnector& operator=(const ExitConnector&) = delete;

  // For Relay::set_terminal_handler: a circuit that ends here; its DESTROY
  // ends its session and every stream on it.
  void accept(std::unique_ptr<mix::Circuit> circuit);
  // Any other channel to a client (tests use an in-memory one).
  CircuitSession& accept(std::unique_ptr<DatagramChannel> channel);
  // The drain: streams still opening and new ones are refused (reset); those
  // piping bytes go on. Then streams_ended() completes once each has ended
  // (cancellable, with_deadline), and stop() closes what is left.
  void stop_accepting();
  asio::awaitable<void> streams_ended();
  // Closes every session (the node's shutdown).
  void stop();

  // Streams piping bytes now, over every session (shutdown drains them).
  std::size_t stream_count() const;
  // Registers nyx_exit_connects_total{result} in `registry`, which must
  // outlive the connector; every answered request is counted from then on.
  void publish_metrics(metrics::Registry& registry);

 private:
  struct Accepted {
    std::unique_ptr<CircuitSession> session;
    mix::Circuit* circuit = nullptr;  // its channel, when that is a circuit
  };

  // One stream, from its open request to the end of its bytes.
  asio::awaitable<void> serve(std::unique_ptr<CircuitStream> stream);
  // The destination's socket, or why not (a policy refusal, a name that did
  // not resolve, a failed or timed-out connect).
  asio::awaitable<Result<asio::ip::tcp::socket>> connect(const Socks5Destination& destination);
  void erase(CircuitSession& session);
  void count(StreamOpenStatus status);

  asio::io_context& io_;
  const Clock& clock_;
  async::TimerService& timers_;
  const ExitAddressPolicy& policy_;
  ExitConnectorOptions options_;
  async::Gate gate_;  // held by every stream coroutine
  std::unordered_map<CircuitSession*, Accepted> sessions_;
  std::array<metrics::Counter*, 7> connects_{};  // by StreamOpenStatus; set by publish_metrics()
};

}  // namespace nyx::daemon
