#pragma once
// AuthorityDriver: the period driver of one directory authority (proposal
// 0002 sections 2.3 and 5.2 to 5.8), the I/O around the sans-I/O
// document::AuthorityState. One coroutine reads the timeline top to bottom:
// it sleeps until the next step document::AuthoritySchedule names, and does
// it:
//
//   T − 5u    prune; sweep: a fresh handshake (ReachabilityProber) to every
//             advertised address of every descriptor held for q, at most 64
//             in flight, each within min(u/2, 10 s), none started that could
//             end after T − 4u; record_sweep (an address not probed fails)
//   T − 4u    make_vote; POST_VOTE to every other authority until T − 3u
//   T − 3.5u  GET_VOTE for each missing vote: its author first, then the others
//   T − 3u    compute; POST_SIGNATURE to every other authority until T − 2u
//   T − 2.5u  GET_SIGNATURES for the own digest from each authority whose
//             signature is missing
//   T − 2u    publish with t signatures: the publish handler gets the bytes
//
// The pushes and pulls of one step run side by side, one coroutine per
// other authority, and the main loop goes on to the next step without
// waiting for them, so a peer that is down holds up nobody. Every request is
// bounded by async::with_deadline: at most the requester's own timeout, and
// never past the end of its window. A failed request, BUSY, or REFUSED
// wrong_epoch (the peer's clock or computation is a moment behind) is
// retried after AuthoritySchedule::push_retry_delay (1 s doubling, capped at
// u/4; never sooner than a BUSY's retry_after) while the window is open;
// any other refusal is final and logged. T − u (an authority that did not
// publish fetches q like a cache) is the node's DirectoryFetcher's, which
// fetches q as a cache in [T − 2u, T − u) anyway.
//
// At start the driver continues from the phase the clock is in (section 5.7):
// in the vote phase it sweeps first (bounded by one probe timeout), and
// AuthorityState gives back a stored vote instead of making a second one;
// from T − 2.5u to T, with a majority of votes held, it computes first
// (AuthorityState gives back a stored consensus) and pushes its signature,
// then pulls and publishes.
// A clock that jumps past a consensus's valid_after is followed to the next
// step; sleeps last at most u, so a jump is seen.
//
// Logs the lines of section 11.4 (keys cut to 8 hex digits, never a secret)
// and keeps the metrics of section 11.3 that are the driver's:
// nyx_authority_reachability_checks_total{result} (the sweep's handshakes),
// nyx_authority_descriptors{state}, nyx_authority_consensus_total{result},
// nyx_authority_equivocations_total (found in pulled votes) and
// nyx_directory_authorities_reachable (authorities whose vote is held when
// computing, its own included).
//
// AuthorityState is shared with the request side (the authority service
// answering POST_VOTE, GET_VOTE, POST_SIGNATURE, GET_SIGNATURES): both run
// on this executor's thread, and the driver reads the state afresh after
// every wait, never holding a pointer into it across one.
//
// Time: `wall` reads Unix time (nanoseconds since 1970); only durations go
// to `timers`. Owned by the node beside the state, the requester and the
// prober, which must outlive it; every call on one executor's thread. stop()
// cancels every sleep, request and probe; wait_stopped() waits for them.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include "async/async_event.hpp"
#include "async/gate.hpp"
#include "async/timer_service.hpp"
#include "core/clock.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/error.hpp"
#include "daemon/directory_requester.hpp"
#include "daemon/directory_service.hpp"
#include "daemon/reachability_prober.hpp"
#include "document/authority_schedule.hpp"
#include "document/authority_state.hpp"
#include "document/consensus_tracker.hpp"
#include "document/directory_reply.hpp"
#include "document/directory_request.hpp"
#include "document/node_address.hpp"
#include "document/signature_message.hpp"

namespace nyx::metrics {
class Registry;
class Counter;
class Gauge;
}  // namespace nyx::metrics

namespace nyx::daemon {

// Another configured authority: the key that signs its votes, and where its
// directory requests go (its link key and addresses).
struct AuthorityPeer {
  crypto::Ed25519PublicKey authority_key{};
  document::DirectorySource source;
};

// What the driver did, for authority.status and tests.
struct AuthorityDriverCounters {
  std::uint64_t sweeps = 0;
  std::uint64_t votes_made = 0;
  std::uint64_t votes_delivered = 0;  // POST_VOTE answered OK
  std::uint64_t votes_pulled = 0;     // GET_VOTE replies accepted as new
  std::uint64_t consensuses_computed = 0;
  std::uint64_t signatures_delivered = 0;  // POST_SIGNATURE answered OK
  std::uint64_t signatures_pulled = 0;     // signatures added from GET_SIGNATURES
  std::uint64_t published = 0;
  std::uint64_t requests_failed = 0;            // no reply within the limit, or a broken stream
  std::optional<std::uint64_t> last_published;  // its period
};

class AuthorityDriver {
 public:
  // Consensus `period` is published: the node serves it
  // (HeldConsensusService::hold) and installs it at its valid_after.
  using PublishHandler = std::function<void(std::uint64_t period, SharedDocument consensus)>;
  // What section 5.7 keeps for consensus `period` changed here: the own vote
  // (called before it is pushed), a pulled vote or signature, the computed
  // consensus. The node writes AuthorityState::snapshot(period) to its store.
  using SaveHandler = std::function<void(std::uint64_t period)>;
  // At each sweep the state drops the periods below `keep_from`
  // (voting_period(now) − 2, as AuthorityState::prune): the node removes
  // their files too (AuthorityStore::prune_before).
  using PruneHandler = std::function<void(std::uint64_t keep_from)>;

  // `peers`: every configured authority but this one.
  AuthorityDriver(asio::any_io_executor executor, const Clock& wall, async::TimerService& timers,
                  document::AuthorityState& state, DirectoryRequester& requester,
                  ReachabilityProber& prober, std::vector<AuthorityPeer> peers);
  ~AuthorityDriver();
  AuthorityDriver(const AuthorityDriver&) = delete;
  AuthorityDriver& operator=(const AuthorityDriver&) = delete;

  void set_publish_handler(PublishHandler handler) { on_publish_ = std::move(handler); }
  void set_save_handler(SaveHandler handler) { on_save_ = std::move(handler); }
  void set_prune_handler(PruneHandler handler) { on_prune_ = std::move(handler); }
  // Registers the metrics named above.
  void publish_metrics(metrics::Registry& registry);

  void start();
  void stop();
  asio::awaitable<void> wait_stopped();

  const AuthorityDriverCounters& counters() const noexcept { return counters_; }

 private:
  struct Metrics;
  // The last sweep, for the vote's log line.
  struct SweepSummary {
    std::uint64_t q = 0;
    std::size_t descriptors = 0;
    std::size_t reachable = 0;
  };
  // One handshake of a sweep: an advertised address of sweep target `target`.
  struct SweepJob {
    std::size_t target = 0;
    crypto::X25519PublicKey link_key{};
    document::AdvertisedAddress address;
    std::optional<document::ProbeResult> result;  // none when not probed in time
  };
  // What the vote's log line says besides the count of peers reached.
  struct VoteSummary {
    std::size_t relays = 0;
    std::size_t fresh = 0;  // not in consensus q − 1
    std::size_t unreachable = 0;
  };

  asio::awaitable<void> run(async::Gate::Holder holder);
  asio::awaitable<void> act(document::ScheduledStep step, const async::Gate::Holder& holder);
  // The step to start with: the phase the clock is in (section 5.7).
  document::ScheduledStep first_step(std::uint64_t now) const;
  // The step after `done`: the next of q, or q + 1's sweep after publication.
  document::ScheduledStep following(const document::ScheduledStep& done) const;

  // Section 5.2.
  asio::awaitable<void> sweep(std::uint64_t q, const async::Gate::Holder& holder);
  // Takes the next job of `jobs` until none is left or `stop_at` passed.
  asio::awaitable<void> probe_worker(std::vector<SweepJob>& jobs, std::size_t& next,
                                     std::uint64_t stop_at, const async::Gate::Holder& holder);
  asio::awaitable<document::ProbeResult> probe(const crypto::X25519PublicKey& link_key,
                                               const document::AdvertisedAddress& target);
  // Section 5.3.
  void vote(std::uint64_t q);
  asio::awaitable<void> push_vote(std::uint64_t q, std::vector<std::uint8_t> vote,
                                  VoteSummary summary, async::Gate::Holder holder);
  // Section 5.4: every missing vote, each from its author first.
  asio::awaitable<void> pull_votes(std::uint64_t q, async::Gate::Holder holder);
  asio::awaitable<void> pull_vote(std::uint64_t q, const crypto::Ed25519PublicKey& voter,
                                  const async::Gate::Holder& holder);
  // Sections 5.5 and 5.6.
  void compute(std::uint64_t q);
  asio::awaitable<void> push_signature(std::uint64_t q, document::SignatureMessage message,
                                       async::Gate::Holder holder);
  asio::awaitable<void> pull_signatures(std::uint64_t q, async::Gate::Holder holder);
  asio::awaitable<void> pull_signatures_from(std::uint64_t q, std::size_t peer,
                                             const document::ConsensusDigest& digest,
                                             const async::Gate::Holder& holder);
  void publish(std::uint64_t q);

  // Delivers `request` to peer `peer` until it is answered OK or `deadline`
  // (Unix seconds) passes, with the retries described above. True when
  // answered OK.
  asio::awaitable<bool> deliver(std::size_t peer, const document::DirectoryRequest& request,
                                std::uint64_t deadline, std::string_view what,
                                const async::Gate::Holder& holder);
  // deliver(), its outcome written to `delivered` (1 or 0), to run side by side.
  asio::awaitable<void> deliver_to(std::size_t peer, const document::DirectoryRequest& request,
                                   std::uint64_t deadline, std::string_view what,
                                   const async::Gate::Holder& holder, std::uint8_t& delivered);
  // One request, given up at `deadline` or at stop().
  asio::awaitable<Result<document::DirectoryReply>> ask(std::size_t peer,
                                                        const document::DirectoryRequest& request,
                                                        std::uint64_t deadline);
  // Sleeps until Unix second `at`; false when stopped.
  asio::awaitable<bool> sleep_until(std::uint64_t at, const async::Gate::Holder& holder);
  // Starts `task` beside the main loop; the task holds its own gate holder.
  void start_task(asio::awaitable<void> task, std::string_view name);

  void save(std::uint64_t q) const;
  // AuthorityState::prune, then the prune handler.
  void prune(std::uint64_t now);
  std::uint64_t unix_now() const noexcept;
  std::optional<std::size_t> peer_of(const crypto::Ed25519PublicKey& key) const;
  const document::AuthoritySchedule& schedule() const noexcept { return state_.schedule(); }

  asio::any_io_executor executor_;
  const Clock& wall_;
  async::TimerService& timers_;
  document::AuthorityState& state_;
  DirectoryRequester& requester_;
  ReachabilityProber& prober_;
  std::vector<AuthorityPeer> peers_;
  PublishHandler on_publish_;
  SaveHandler on_save_;
  PruneHandler on_prune_;
  async::Gate gate_;
  async::AsyncEvent stopping_;  // set by stop(): every wait races it
  AuthorityDriverCounters counters_;
  SweepSummary last_sweep_;
  std::unique_ptr<Metrics> metrics_;
};

}  // namespace nyx::daemon
