#pragma once
// DataPath: the node's stream services on its cell shard, by role.
// - exit: every circuit that ends here goes to the ExitConnector, which
//   connects its streams to their destinations under the exit policy;
// - client: the SOCKS5 server hands each CONNECT to the SocksBridge, which
//   opens a stream on a circuit from the CircuitManager.
// It also answers the control API's circuit and stream methods.
//
// Owned by the node; made, used and destroyed on the cell shard's thread
// (create() may run before that thread starts). The Relay must outlive it,
// and so must the injected Clock and TimerService its components run on.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include "async/timer_service.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "daemon/node_config.hpp"
#include "document/directory.hpp"
#include "mix/path_selector.hpp"
#include "mix/relay.hpp"
#include "stream/session.hpp"

namespace nyx::metrics {
class Gauge;
class Registry;
}  // namespace nyx::metrics

namespace nyx::daemon {

class CircuitManager;
class ExitConnector;
class ExitAddressPolicy;
class Socks5Server;
class SocksBridge;

// The stream layer's settings on both ends of a circuit: the exit must take
// as many concurrent streams as the client may put on one circuit. The
// directory's stream sessions start from them too.
stream::SessionConfig session_config(const NodeConfig& config);

class DataPath {
 public:
  // Binds the SOCKS5 port for the client role (kIo naming the address when
  // it is taken) and parses the exit policy for the exit role (kConfig).
  // `timers` must be the service whose clock() is `clock`.
  static Result<std::unique_ptr<DataPath>> create(asio::io_context& io, const Clock& clock,
                                                  async::TimerService& timers,
                                                  const NodeConfig& config, mix::Relay& relay,
                                                  mix::RandomSource& random);
  ~DataPath();
  DataPath(const DataPath&) = delete;
  DataPath& operator=(const DataPath&) = delete;

  // Paths are drawn from `directory` without the node `self` (its identity).
  void use_directory(const document::Directory& directory, const crypto::Ed25519PublicKey& self);
  // From the shard's tick: circuits retired, forgotten and built ahead; the
  // streams-open gauges brought up to date.
  void maintain();
  // Registers, by role, the circuit builds, SOCKS replies, exit connects and
  // nyx_streams_open{side} in `registry`, which must outlive the data path.
  void publish_metrics(metrics::Registry& registry);

  // Shutdown, in this order: no new SOCKS clients and no new exit streams
  // (stop_accepting); streams still running until they end (streams_ended,
  // awaited under the drain deadline); every session closed and every client
  // circuit destroyed (close_all), after which streams_ended() completes as
  // the last stream coroutines return.
  void stop_accepting();
  asio::awaitable<void> streams_ended();
  std::size_t active_streams() const;
  void close_all();

  std::optional<asio::ip::tcp::endpoint> socks_endpoint() const;

  // The control methods; kNotFound/kInvalidArgument name what is wrong.
  nlohmann::json circuits_json(std::size_t relayed) const;
  nlohmann::json streams_json() const;
  Result<nlohmann::json> build_circuit();
  Result<nlohmann::json> close_circuit(const nlohmann::json& params);
  Result<nlohmann::json> newnym();

 private:
  explicit DataPath(const Clock& clock);

  const Clock& clock_;
  std::unique_ptr<ExitAddressPolicy> exit_policy_;
  std::unique_ptr<ExitConnector> exit_;
  std::unique_ptr<CircuitManager> circuits_;
  std::unique_ptr<SocksBridge> bridge_;
  std::unique_ptr<Socks5Server> socks_;
  metrics::Gauge* client_streams_ = nullptr;  // set by publish_metrics() for the client role
  metrics::Gauge* exit_streams_ = nullptr;    // and for the exit role
};

}  // namespace nyx::daemon
