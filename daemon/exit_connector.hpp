#pragma once
// ExitConnector: the exit side of the data path. Every circuit that ends at
// this node (the Relay's terminal handler) gets a responder CircuitSession;
// every stream the client opens on it starts with a stream open request
// (docs/protocol.md, "Stream open (daemon)"), which the connector checks
// against the exit policy, resolves with asio (checking the policy again for
// every address the name resolved to, so a name cannot smuggle a private
// address in), connects under a timeout, answers with one status byte, and
// then pipes both ways under the stream's flow control (StreamPipe).
//
// Owned by the node beside its Relay; every call and every handler runs on
// the io_context's one thread (the cell shard). The policy must outlive the
// connector; stop() closes every session.

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <unordered_map>

#include <asio/io_context.hpp>

#include "core/clock.hpp"
#include "core/datagram_channel.hpp"
#include "daemon/circuit_session.hpp"
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
  ExitConnector(asio::io_context& io, const Clock& clock, const ExitAddressPolicy& policy,
                ExitConnectorOptions options = {});
  ~ExitConnector();
  ExitConnector(const ExitConnector&) = delete;
  ExitConnector& operator=(const ExitConnector&) = delete;

  // For Relay::set_terminal_handler: a circuit that ends here; its DESTROY
  // ends its session and every stream on it.
  void accept(std::unique_ptr<mix::Circuit> circuit);
  // Any other channel to a client (tests use an in-memory one).
  CircuitSession& accept(std::unique_ptr<DatagramChannel> channel);
  // Closes every session (the node's shutdown).
  void stop();

  std::size_t session_count() const noexcept { return sessions_.size(); }
  // Streams piping bytes now, over every session (shutdown drains them).
  std::size_t stream_count() const;
  // Registers nyx_exit_connects_total{result} in `registry`, which must
  // outlive the connector; every answered request is counted from then on.
  void publish_metrics(metrics::Registry& registry);

 private:
  struct Open;
  void on_incoming(CircuitSession& session, stream::StreamId id);
  void count(StreamOpenStatus status);

  asio::io_context& io_;
  const Clock& clock_;
  const ExitAddressPolicy& policy_;
  ExitConnectorOptions options_;
  std::unordered_map<CircuitSession*, std::unique_ptr<CircuitSession>> sessions_;
  std::array<metrics::Counter*, 7> connects_{};  // by StreamOpenStatus; set by publish_metrics()
};

}  // namespace nyx::daemon
