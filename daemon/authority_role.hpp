#pragma once
// AuthorityRole: what a node with the `authority` role runs (proposal 0002
// sections 5 and 5.7). It assembles the authority's pieces around one
// document::AuthorityState: the AuthorityStore that carries the state across
// a restart (restored at create(); a damaged file refuses the start), the
// AuthorityService that answers the authority requests (attached to the
// shard's HeldConsensusService for as long as the role lives), and the
// AuthorityDriver that runs the period's timeline against every other
// configured authority over a DirectoryRequester of the shard's CREATE_DIR
// circuits. What the driver changes is saved to the store, the periods it
// prunes are removed from it, and what it publishes the node serves
// (HeldConsensusService::hold). The node installs it as every node does, by
// fetching it (from another authority) in [T − 2u, T − u).
//
// Made by the node on the cell shard whose circuits, prober and directory
// server it uses, before that shard's thread runs. Every other call,
// start() and stop() included, on the shard's executor's thread. The parts
// it is given (clock, timers, registry, circuits, held service, prober)
// must outlive it. It must be destroyed after the executor's loop has ended
// and before its io_context: the gates and timers of the driver and the
// service use that io_context's services, and the coroutine frames the
// io_context may still destroy find those gates closed and touch nothing
// else of the role.

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <nlohmann/json_fwd.hpp>

#include "async/timer_service.hpp"
#include "core/clock.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/error.hpp"
#include "daemon/authority_driver.hpp"
#include "daemon/authority_service.hpp"
#include "daemon/authority_store.hpp"
#include "daemon/data_dir.hpp"
#include "daemon/directory_requester.hpp"
#include "daemon/directory_service.hpp"
#include "daemon/node_config.hpp"
#include "daemon/reachability_prober.hpp"
#include "document/authority_state.hpp"
#include "stream/session.hpp"

namespace nyx::metrics {
class Registry;
}  // namespace nyx::metrics

namespace nyx::daemon {

// What the cell shard lends the role.
struct AuthorityRoleParts {
  asio::any_io_executor executor;  // the cell shard's
  const Clock& wall;               // Unix time
  async::TimerService& timers;     // steady, runs on executor's io_context
  metrics::Registry& registry;
  DirectoryCircuitSource& circuits;  // the shard's CREATE_DIR circuits
  HeldConsensusService& held;        // the shard's directory server's service
  ReachabilityProber& prober;        // the shard's (a real link prober)
  stream::SessionConfig session;     // for DirectoryRequesterOptions
};

class AuthorityRole {
 public:
  // Reads authority.key_file, makes the state from the [directory] and
  // [authority] sections (kConfig when this key is not one of
  // directory.authorities, or they break section 10.2's rules), opens
  // data_dir/authority and restores every period stored there. Errors name
  // the file at fault.
  static Result<std::unique_ptr<AuthorityRole>> create(const NodeConfig& config,
                                                       const DataDir& data_dir,
                                                       AuthorityRoleParts parts);
  // Detaches the service from the held consensus service.
  ~AuthorityRole();
  AuthorityRole(const AuthorityRole&) = delete;
  AuthorityRole& operator=(const AuthorityRole&) = delete;

  void start();
  // Cancels the driver's steps and the service's probes.
  void stop();
  asio::awaitable<void> wait_stopped();

  // authority.status (proposal 0002 section 11.1) at `now_unix`, read from
  // the state alone, so that it says the same after a restart: the
  // consensus being worked on (after its T, the next one, whose uploads
  // come in) and the phase of its timeline, the descriptors held for it,
  // "reachable" (the relays of its own vote: those that passed the sweep,
  // after the per-address cap; absent before the vote), the authorities whose
  // votes and signatures are held, and "last_published" (the newest period
  // past T − 2u whose consensus carries t signatures; absent when none is
  // held). Beyond the proposal's shape, "consensus" says what came of the
  // newest period whose compute step has passed: "published", "signing"
  // (computed, before T − 2u), "too_few_votes" (none computed, also when
  // this authority was down then) or "too_few_signatures".
  nlohmann::json status(std::uint64_t now_unix) const;

  const crypto::Ed25519PublicKey& authority_key() const noexcept { return authority_key_; }

 private:
  AuthorityRole(const crypto::Ed25519PublicKey& authority_key, document::AuthorityState state,
                AuthorityStore store, AuthorityRoleParts& parts, std::vector<AuthorityPeer> peers);

  void save(std::uint64_t q);
  // Consensus q as the state holds it when it carries t signatures.
  const document::Consensus* signed_consensus(std::uint64_t q) const;

  HeldConsensusService& held_;
  crypto::Ed25519PublicKey authority_key_;
  // Declared before the service and driver that hold references into them,
  // so that those go first.
  document::AuthorityState state_;
  AuthorityStore store_;
  DirectoryRequester requester_;
  AuthorityService service_;
  AuthorityDriver driver_;
};

}  // namespace nyx::daemon
