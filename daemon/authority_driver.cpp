#include "daemon/authority_driver.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <exception>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <variant>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/this_coro.hpp>
#include <fmt/format.h>

#include "async/spawn.hpp"
#include "async/timer.hpp"
#include "async/with_deadline.hpp"
#include "core/crypto/encoding.hpp"
#include "core/log.hpp"
#include "core/metrics/registry.hpp"
#include "daemon/authority_metrics.hpp"
#include "document/compute_consensus.hpp"
#include "document/limits.hpp"

namespace nyx::daemon {
namespace {

using asio::experimental::awaitable_operators::operator||;
using document::AuthorityStep;
using document::ScheduledStep;

// Section 5.2: at most 64 handshakes in flight, each within min(u/2, 10 s).
constexpr std::size_t kMaxProbesInFlight = 64;
constexpr Nanos kMaxProbeTimeout = std::chrono::seconds(10);

constexpr std::string_view kDescriptorsName = "nyx_authority_descriptors";
constexpr std::string_view kDescriptorsHelp = "Descriptors for the epoch being voted";
constexpr std::string_view kConsensusName = "nyx_authority_consensus_total";
constexpr std::string_view kConsensusHelp = "Consensus outcomes, per period";
constexpr std::string_view kReachableName = "nyx_directory_authorities_reachable";
constexpr std::string_view kReachableHelp =
    "Authorities whose vote arrived for the last period (own included)";

bool contains(const std::vector<crypto::Ed25519PublicKey>& keys,
              const crypto::Ed25519PublicKey& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// "10:00 UTC", with seconds when the time is not on a minute (test periods).
std::string utc(std::uint64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  if (tm.tm_sec == 0) {
    return fmt::format("{:02}:{:02} UTC", tm.tm_hour, tm.tm_min);
  }
  return fmt::format("{:02}:{:02}:{:02} UTC", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

// Section 5.2: each sweep handshake within min(u/2, 10 s).
Nanos probe_timeout(const document::Period& period) {
  return std::min<Nanos>(std::chrono::seconds(period.unit()) / 2, kMaxProbeTimeout);
}

std::string duration_text(Nanos span) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(span).count();
  return ms % 1000 == 0 ? fmt::format("{} s", ms / 1000) : fmt::format("{} ms", ms);
}

// The join of side_by_side: how many tasks are still running, and the event
// the waiting coroutine sleeps on.
struct Join {
  Join(const asio::any_io_executor& executor, std::size_t tasks)
      : done(executor), remaining(tasks) {}
  async::AsyncEvent done;
  std::size_t remaining;
};

asio::awaitable<void> joined(asio::awaitable<void> task, std::shared_ptr<Join> join) {
  try {
    co_await std::move(task);
  } catch (const std::exception& what) {
    // Logged here so that the join still completes; nothing is left waiting.
    log::error("authority: a request task failed: {}", what.what());
  }
  if (--join->remaining == 0) {
    join->done.set();
  }
}

// Runs `tasks` side by side on this coroutine's executor and completes once
// every one has ended (asio 1.22 has no ranged parallel group).
asio::awaitable<void> side_by_side(std::vector<asio::awaitable<void>>& tasks) {
  if (tasks.empty()) {
    co_return;
  }
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  auto join = std::make_shared<Join>(executor, tasks.size());
  for (auto& task : tasks) {
    async::spawn(executor, joined(std::move(task), join), "authority task");
  }
  // Only the join's own destruction could abort this wait, and it is held here.
  const asio::error_code ended = co_await join->done.wait();
  (void)ended;
}

}  // namespace

struct AuthorityDriver::Metrics {
  metrics::Counter& checks_ok;
  metrics::Counter& checks_failed;
  metrics::Gauge& descriptors_accepted;
  metrics::Gauge& descriptors_reachable;
  metrics::Counter& published;
  metrics::Counter& too_few_votes;
  metrics::Counter& too_few_signatures;
  metrics::Counter& equivocations;
  metrics::Gauge& authorities_reachable;
};

AuthorityDriver::AuthorityDriver(asio::any_io_executor executor, const Clock& wall,
                                 async::TimerService& timers, document::AuthorityState& state,
                                 DirectoryRequester& requester, ReachabilityProber& prober,
                                 std::vector<AuthorityPeer> peers)
    : executor_(std::move(executor)),
      wall_(wall),
      timers_(timers),
      state_(state),
      requester_(requester),
      prober_(prober),
      peers_(std::move(peers)),
      gate_(executor_),
      stopping_(executor_) {}

AuthorityDriver::~AuthorityDriver() { stop(); }

void AuthorityDriver::publish_metrics(metrics::Registry& registry) {
  metrics_ = std::make_unique<Metrics>(Metrics{
      authority_metrics::reachability_checks(registry, "ok"),
      authority_metrics::reachability_checks(registry, "failed"),
      registry.gauge(kDescriptorsName, kDescriptorsHelp, {{"state", "accepted"}}),
      registry.gauge(kDescriptorsName, kDescriptorsHelp, {{"state", "reachable"}}),
      registry.counter(kConsensusName, kConsensusHelp, {{"result", "published"}}),
      registry.counter(kConsensusName, kConsensusHelp, {{"result", "too_few_votes"}}),
      registry.counter(kConsensusName, kConsensusHelp, {{"result", "too_few_signatures"}}),
      authority_metrics::equivocations(registry),
      registry.gauge(kReachableName, kReachableHelp),
  });
}

void AuthorityDriver::start() {
  auto holder = gate_.enter();
  if (!holder) {
    return;
  }
  start_task(run(std::move(*holder)), "authority: period driver");
}

void AuthorityDriver::stop() {
  if (gate_.closed()) {
    return;
  }
  gate_.close();
  stopping_.set();
}

asio::awaitable<void> AuthorityDriver::wait_stopped() { co_await gate_.wait_closed(); }

void AuthorityDriver::start_task(asio::awaitable<void> task, std::string_view name) {
  async::spawn(executor_, std::move(task), std::string(name));
}

void AuthorityDriver::save(std::uint64_t q) const {
  if (on_save_) {
    on_save_(q);
  }
}

void AuthorityDriver::prune(std::uint64_t now) {
  state_.prune(now);
  if (on_prune_) {
    const std::uint64_t open = schedule().voting_period(now);
    on_prune_(open >= 2 ? open - 2 : 0);
  }
}

std::uint64_t AuthorityDriver::unix_now() const noexcept {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(wall_.now()).count();
  return seconds > 0 ? static_cast<std::uint64_t>(seconds) : 0;
}

std::optional<std::size_t> AuthorityDriver::peer_of(const crypto::Ed25519PublicKey& key) const {
  for (std::size_t i = 0; i < peers_.size(); ++i) {
    if (peers_[i].authority_key == key) {
      return i;
    }
  }
  return std::nullopt;
}

asio::awaitable<bool> AuthorityDriver::sleep_until(std::uint64_t at,
                                                   const async::Gate::Holder& holder) {
  // At most u at a time, so a jump of the wall clock is seen. The clock, the
  // timer service and the holder outlive the driver; after a wait nothing
  // else of it is touched until the holder says it is still there.
  const Clock& wall = wall_;
  const Nanos longest = std::chrono::seconds(schedule().period().unit());
  const Nanos wake = std::chrono::seconds(at);
  async::Timer timer(executor_, timers_);
  while (wall.now() < wake) {
    timer.expires_after(std::min(wake - wall.now(), longest));
    auto woke = co_await (timer.wait() || stopping_.wait());
    if (woke.index() != 0 || std::get<0>(woke) || holder.gate_closed()) {
      co_return false;
    }
  }
  co_return !holder.gate_closed();
}

// --- the timeline ----------------------------------------------------------------

ScheduledStep AuthorityDriver::first_step(std::uint64_t now) const {
  const std::uint64_t q = schedule().voting_period(now);
  if (now >= schedule().at(AuthorityStep::kInstall, q)) {
    return {AuthorityStep::kSweep, q + 1, schedule().at(AuthorityStep::kSweep, q + 1)};
  }
  ScheduledStep phase{AuthorityStep::kSweep, q, now};
  for (AuthorityStep step :
       {AuthorityStep::kVote, AuthorityStep::kPullVotes, AuthorityStep::kCompute,
        AuthorityStep::kPullSignatures, AuthorityStep::kPublish}) {
    if (schedule().at(step, q) <= now) {
      phase.step = step;
    }
  }
  // In the vote phase the sweep runs first: its results are not stored.
  if (phase.step == AuthorityStep::kVote || phase.step == AuthorityStep::kPullVotes) {
    phase.step = AuthorityStep::kSweep;
  }
  // Past T − 3u, with a majority of votes held, the consensus is computed
  // first: it can be until T (section 5.6), it is the stored one when there
  // is one, and its signature is pushed again. An authority that was down
  // at T − 3u then still signs, which the others may need to reach t.
  const bool computable =
      state_.votes(q).size() >= document::majority_of(state_.config().authorities.size());
  if (computable &&
      (phase.step == AuthorityStep::kPullSignatures || phase.step == AuthorityStep::kPublish)) {
    phase.step = AuthorityStep::kCompute;
  }
  return phase;
}

ScheduledStep AuthorityDriver::following(const ScheduledStep& done) const {
  auto step_of = [&](AuthorityStep step, std::uint64_t q) {
    return ScheduledStep{step, q, schedule().at(step, q)};
  };
  switch (done.step) {
    case AuthorityStep::kSweep:
      return step_of(AuthorityStep::kVote, done.q);
    case AuthorityStep::kVote:
      return step_of(AuthorityStep::kPullVotes, done.q);
    case AuthorityStep::kPullVotes:
      return step_of(AuthorityStep::kCompute, done.q);
    case AuthorityStep::kCompute:
      return step_of(AuthorityStep::kPullSignatures, done.q);
    case AuthorityStep::kPullSignatures:
      return step_of(AuthorityStep::kPublish, done.q);
    case AuthorityStep::kPublish:
    case AuthorityStep::kFetchPublished:
    case AuthorityStep::kInstall:
      break;
  }
  return step_of(AuthorityStep::kSweep, done.q + 1);
}

asio::awaitable<void> AuthorityDriver::run(async::Gate::Holder holder) {
  ScheduledStep step = first_step(unix_now());
  for (;;) {
    if (!co_await sleep_until(step.at, holder)) {
      co_return;
    }
    const std::uint64_t now = unix_now();
    if (now >= schedule().at(AuthorityStep::kInstall, step.q)) {
      // The clock jumped past q's valid_after: q is the others' business now.
      log::warn("authority: the clock jumped past the consensus of {}; continuing from now",
                utc(schedule().at(AuthorityStep::kInstall, step.q)));
      step = first_step(now);
      continue;
    }
    co_await act(step, holder);
    if (holder.gate_closed()) {
      co_return;
    }
    step = following(step);
  }
}

asio::awaitable<void> AuthorityDriver::act(ScheduledStep step, const async::Gate::Holder& holder) {
  log::debug("authority: {} for consensus {}", document::to_string(step.step), step.q);
  switch (step.step) {
    case AuthorityStep::kSweep:
      prune(unix_now());
      co_await sweep(step.q, holder);
      break;
    case AuthorityStep::kVote:
      vote(step.q);
      break;
    case AuthorityStep::kPullVotes:
      if (auto task_holder = gate_.enter()) {
        start_task(pull_votes(step.q, std::move(*task_holder)), "authority: GET_VOTE");
      }
      break;
    case AuthorityStep::kCompute:
      compute(step.q);
      break;
    case AuthorityStep::kPullSignatures:
      if (auto task_holder = gate_.enter()) {
        start_task(pull_signatures(step.q, std::move(*task_holder)), "authority: GET_SIGNATURES");
      }
      break;
    case AuthorityStep::kPublish:
      publish(step.q);
      break;
    case AuthorityStep::kFetchPublished:
    case AuthorityStep::kInstall:
      // The node's DirectoryFetcher fetches q as a cache; nothing to do here.
      break;
  }
}

// --- section 5.2: the sweep --------------------------------------------------------

asio::awaitable<document::ProbeResult> AuthorityDriver::probe(
    const crypto::X25519PublicKey& link_key, const document::AdvertisedAddress& target) {
  const Nanos timeout = probe_timeout(schedule().period());
  auto raced = co_await (async::with_deadline(prober_.probe(link_key, target), timeout, timers_) ||
                         stopping_.wait());
  if (raced.index() == 1) {
    co_return document::ProbeResult{target.address, target.transport, false, "stopped"};
  }
  auto& outcome = std::get<0>(raced);
  if (!outcome) {
    co_return document::ProbeResult{target.address, target.transport, false,
                                    "no handshake in " + duration_text(timeout)};
  }
  co_return std::move(*outcome);
}

asio::awaitable<void> AuthorityDriver::probe_worker(std::vector<SweepJob>& jobs, std::size_t& next,
                                                    std::uint64_t stop_at,
                                                    const async::Gate::Holder& holder) {
  // `jobs` and `next` live in sweep()'s frame, which waits for every worker.
  while (next < jobs.size() && !holder.gate_closed() && unix_now() < stop_at) {
    SweepJob& job = jobs[next++];
    job.result = co_await probe(job.link_key, job.address);
  }
}

asio::awaitable<void> AuthorityDriver::sweep(std::uint64_t q, const async::Gate::Holder& holder) {
  const std::vector<document::SweepTarget> targets = state_.sweep_targets(q);
  std::vector<SweepJob> jobs;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    for (const document::AdvertisedAddress& advertised : targets[i].addresses) {
      jobs.push_back({i, targets[i].link_key, advertised, std::nullopt});
    }
  }
  // No probe starts unless it ends before the vote is due, so the sweep is
  // over by then; a sweep that starts late (a restart) still starts a first
  // round of probes.
  const auto timeout_seconds = static_cast<std::uint64_t>(
      std::chrono::ceil<std::chrono::seconds>(probe_timeout(schedule().period())).count());
  const std::uint64_t vote_at = schedule().at(AuthorityStep::kVote, q);
  const std::uint64_t stop_at =
      std::max(vote_at > timeout_seconds ? vote_at - timeout_seconds : 0, unix_now() + 1);
  std::size_t next = 0;
  std::vector<asio::awaitable<void>> workers;
  for (std::size_t k = 0; k < std::min(kMaxProbesInFlight, jobs.size()); ++k) {
    workers.push_back(probe_worker(jobs, next, stop_at, holder));
  }
  co_await side_by_side(workers);
  if (holder.gate_closed()) {
    co_return;
  }
  std::vector<std::vector<document::ProbeResult>> by_target(targets.size());
  std::uint64_t ok = 0;
  std::uint64_t failed = 0;
  for (SweepJob& job : jobs) {
    if (job.result) {
      (job.result->reached ? ok : failed) += 1;
      by_target[job.target].push_back(std::move(*job.result));
    }
  }
  std::size_t reachable = 0;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    state_.record_sweep(q, targets[i].node_id, by_target[i]);
    const auto& probes = by_target[i];
    const bool passed =
        probes.size() == targets[i].addresses.size() &&
        std::all_of(probes.begin(), probes.end(), [](const auto& p) { return p.reached; });
    if (passed) {
      ++reachable;
      continue;
    }
    const auto failure =
        std::find_if(probes.begin(), probes.end(), [](const auto& p) { return !p.reached; });
    log::debug("authority: relay {} left out of the vote for {}: {}",
               crypto::to_short_hex(targets[i].node_id),
               utc(schedule().at(AuthorityStep::kInstall, q)),
               failure == probes.end()
                   ? std::string("not probed before the vote")
                   : fmt::format("{} {}: {}", document::transport_name(failure->transport),
                                 failure->address.to_text(), failure->failure));
  }
  ++counters_.sweeps;
  last_sweep_ = {q, targets.size(), reachable};
  if (metrics_) {
    metrics_->checks_ok.inc(ok);
    metrics_->checks_failed.inc(failed);
    metrics_->descriptors_accepted.set(static_cast<std::int64_t>(targets.size()));
    metrics_->descriptors_reachable.set(static_cast<std::int64_t>(reachable));
  }
}

// --- section 5.3 and 5.4: votes ------------------------------------------------------

void AuthorityDriver::vote(std::uint64_t q) {
  const std::string when = utc(schedule().at(AuthorityStep::kInstall, q));
  // Consensus q − 1 (as this authority computed it): its relays are kept
  // first under the per-address cap, and the others are "new".
  std::set<document::NodeId> listed_before;
  if (const document::Consensus* previous = q > 0 ? state_.consensus(q - 1) : nullptr) {
    for (const document::RelayEntry& entry : previous->entries) {
      listed_before.insert(entry.node_id());
    }
  }
  const std::vector<document::NodeId> listed(listed_before.begin(), listed_before.end());
  auto made = state_.make_vote(q, unix_now(), listed);
  auto encoded =
      made ? made->encode() : Result<std::vector<std::uint8_t>>(std::unexpected(made.error()));
  if (!encoded) {
    log::warn("authority: no vote for {}: {}", when, encoded.error().message);
    return;
  }
  ++counters_.votes_made;
  save(q);  // stored before it is pushed: after a restart it is pushed again, never re-made
  VoteSummary summary;
  summary.relays = made->entries.size();
  summary.fresh = static_cast<std::size_t>(
      std::count_if(made->entries.begin(), made->entries.end(),
                    [&](const auto& entry) { return !listed_before.contains(entry.node_id()); }));
  if (last_sweep_.q == q) {
    summary.unreachable = last_sweep_.descriptors - last_sweep_.reachable;
  }
  if (auto holder = gate_.enter()) {
    start_task(push_vote(q, std::move(*encoded), summary, std::move(*holder)),
               "authority: POST_VOTE");
  }
}

asio::awaitable<void> AuthorityDriver::push_vote(std::uint64_t q, std::vector<std::uint8_t> vote,
                                                 VoteSummary summary, async::Gate::Holder holder) {
  const document::DirectoryRequest request = document::PostVoteRequest{.vote = std::move(vote)};
  const std::uint64_t deadline = schedule().at(AuthorityStep::kCompute, q);
  std::vector<std::uint8_t> delivered(peers_.size(), 0);
  std::vector<asio::awaitable<void>> pushes;
  for (std::size_t peer = 0; peer < peers_.size(); ++peer) {
    pushes.push_back(deliver_to(peer, request, deadline, "vote", holder, delivered[peer]));
  }
  co_await side_by_side(pushes);
  if (holder.gate_closed()) {
    co_return;
  }
  const auto sent = static_cast<std::size_t>(std::count(delivered.begin(), delivered.end(), 1));
  counters_.votes_delivered += sent;
  log::info("authority: vote for {} sent to {}/{} authorities: {} relays ({} new, {} unreachable)",
            utc(schedule().at(AuthorityStep::kInstall, q)), sent, peers_.size(), summary.relays,
            summary.fresh, summary.unreachable);
}

asio::awaitable<void> AuthorityDriver::pull_votes(std::uint64_t q, async::Gate::Holder holder) {
  // Copied: the keys must outlive the pulls, which run in this frame's time.
  const std::vector<crypto::Ed25519PublicKey> missing = state_.missing_votes(q);
  std::vector<asio::awaitable<void>> pulls;
  for (const crypto::Ed25519PublicKey& voter : missing) {
    pulls.push_back(pull_vote(q, voter, holder));
  }
  co_await side_by_side(pulls);
}

asio::awaitable<void> AuthorityDriver::pull_vote(std::uint64_t q,
                                                 const crypto::Ed25519PublicKey& voter,
                                                 const async::Gate::Holder& holder) {
  // Votes are self-authenticating: its author first, then anyone.
  std::vector<std::size_t> order;
  const std::optional<std::size_t> author = peer_of(voter);
  if (author) {
    order.push_back(*author);
  }
  for (std::size_t peer = 0; peer < peers_.size(); ++peer) {
    if (peer != author) {
      order.push_back(peer);
    }
  }
  const document::DirectoryRequest request =
      document::GetVoteRequest{.period = q, .authority_key = voter};
  const std::uint64_t deadline = schedule().at(AuthorityStep::kCompute, q);
  for (std::uint32_t attempt = 0;; ++attempt) {
    for (const std::size_t peer : order) {
      if (!contains(state_.missing_votes(q), voter)) {
        co_return;  // it came meanwhile (POST_VOTE, or another pull)
      }
      auto reply = co_await ask(peer, request, deadline);
      if (holder.gate_closed()) {
        co_return;
      }
      const auto* got = reply ? std::get_if<document::VoteReply>(&*reply) : nullptr;
      if (got == nullptr) {
        if (!reply) {
          ++counters_.requests_failed;
        }
        continue;  // NOT_FOUND, BUSY, REFUSED or no answer: another may have it
      }
      auto accepted = state_.accept_vote(got->vote, peers_[peer].source.link_key, unix_now());
      if (accepted) {
        if (*accepted == document::VoteAccepted::kNew) {
          ++counters_.votes_pulled;
          save(q);
        }
        co_return;
      }
      const auto reason = accepted.error().reason;
      if (reason == document::AuthorityRefusalReason::kEquivocation) {
        if (metrics_) {
          metrics_->equivocations.inc();
        }
        log::error("authority: authority {} sent two different votes for {}; both discarded",
                   crypto::to_short_hex(voter), utc(schedule().at(AuthorityStep::kInstall, q)));
        co_return;
      }
      if (reason == document::AuthorityRefusalReason::kKnownEquivocator) {
        co_return;
      }
      log::warn("authority: the vote of {} served by authority {} was refused: {}",
                crypto::to_short_hex(voter), crypto::to_short_hex(peers_[peer].authority_key),
                accepted.error().message);
    }
    const std::uint64_t retry_at = unix_now() + schedule().push_retry_delay(attempt);
    if (retry_at >= deadline) {
      co_return;
    }
    if (!co_await sleep_until(retry_at, holder)) {
      co_return;
    }
  }
}

// --- sections 5.5 and 5.6: the consensus, signatures, publication ---------------------

void AuthorityDriver::compute(std::uint64_t q) {
  const std::string when = utc(schedule().at(AuthorityStep::kInstall, q));
  const std::size_t configured = state_.config().authorities.size();
  const std::size_t votes = state_.votes(q).size();
  if (metrics_) {
    metrics_->authorities_reachable.set(static_cast<std::int64_t>(votes));
  }
  auto message = state_.compute(q, unix_now());
  if (!message) {
    const Error& error = message.error();
    const bool too_few = error.category == ErrorCategory::kNotFound &&
                         error.code == static_cast<int>(document::ComputeErrc::kTooFewVotes);
    // Section 3.4: a consensus too large to make counts as too few votes.
    const bool too_large = error.category == ErrorCategory::kResourceExhausted &&
                           error.code == static_cast<int>(document::ComputeErrc::kTooLarge);
    if ((too_few || too_large) && metrics_) {
      metrics_->too_few_votes.inc();
    }
    if (too_few) {
      log::error(
          "authority: no consensus for {}: votes from {} of {} authorities, {} needed "
          "(missing: {})",
          when, votes, configured, document::majority_of(configured),
          crypto::to_short_hex_list(state_.missing_votes(q)));
    } else {
      log::error("authority: no consensus for {}: {}", when, error.message);
    }
    return;
  }
  ++counters_.consensuses_computed;
  save(q);
  // compute() succeeded, so the own consensus is held.
  const document::Consensus* own = state_.consensus(q);
  log::info("authority: consensus for {} computed from {} votes: {} relays, digest {}", when, votes,
            own != nullptr ? own->entries.size() : 0,
            crypto::to_short_hex(message->consensus_digest));
  if (auto holder = gate_.enter()) {
    start_task(push_signature(q, *message, std::move(*holder)), "authority: POST_SIGNATURE");
  }
}

asio::awaitable<void> AuthorityDriver::push_signature(std::uint64_t q,
                                                      document::SignatureMessage message,
                                                      async::Gate::Holder holder) {
  const auto encoded = message.encode();
  if (!encoded) {
    log::error("authority: cannot encode the signature for consensus {}: {}", q,
               encoded.error().message);
    co_return;
  }
  const document::DirectoryRequest request =
      document::PostSignatureRequest{.signature_message = *encoded};
  const std::uint64_t deadline = schedule().at(AuthorityStep::kPublish, q);
  std::vector<std::uint8_t> delivered(peers_.size(), 0);
  std::vector<asio::awaitable<void>> pushes;
  for (std::size_t peer = 0; peer < peers_.size(); ++peer) {
    pushes.push_back(deliver_to(peer, request, deadline, "signature", holder, delivered[peer]));
  }
  co_await side_by_side(pushes);
  if (holder.gate_closed()) {
    co_return;
  }
  counters_.signatures_delivered +=
      static_cast<std::uint64_t>(std::count(delivered.begin(), delivered.end(), 1));
}

asio::awaitable<void> AuthorityDriver::pull_signatures(std::uint64_t q,
                                                       async::Gate::Holder holder) {
  const document::Consensus* own = state_.consensus(q);
  if (own == nullptr) {
    co_return;  // nothing computed: nothing to collect signatures on
  }
  const auto digest = own->digest();
  if (!digest) {
    co_return;
  }
  const std::vector<crypto::Ed25519PublicKey> missing = state_.missing_signatures(q);
  std::vector<asio::awaitable<void>> pulls;
  for (std::size_t peer = 0; peer < peers_.size(); ++peer) {
    if (contains(missing, peers_[peer].authority_key)) {
      pulls.push_back(pull_signatures_from(q, peer, *digest, holder));
    }
  }
  co_await side_by_side(pulls);
}

asio::awaitable<void> AuthorityDriver::pull_signatures_from(std::uint64_t q, std::size_t peer,
                                                            const document::ConsensusDigest& digest,
                                                            const async::Gate::Holder& holder) {
  const document::DirectoryRequest request =
      document::GetSignaturesRequest{.period = q, .consensus_digest = digest};
  const std::uint64_t deadline = schedule().at(AuthorityStep::kPublish, q);
  for (std::uint32_t attempt = 0;; ++attempt) {
    if (!contains(state_.missing_signatures(q), peers_[peer].authority_key)) {
      co_return;  // it came meanwhile
    }
    auto reply = co_await ask(peer, request, deadline);
    if (holder.gate_closed()) {
      co_return;
    }
    if (const auto* got = reply ? std::get_if<document::SignaturesReply>(&*reply) : nullptr) {
      // Whatever it holds on our digest, the signatures of third parties included.
      const std::vector<crypto::Ed25519PublicKey> missing = state_.missing_signatures(q);
      for (const document::ConsensusSignature& signature : got->signatures) {
        if (!contains(missing, signature.authority_key)) {
          continue;
        }
        const document::SignatureMessage message{state_.config().period.seconds(), q, digest,
                                                 signature.authority_key, signature.signature};
        const auto encoded = message.encode();
        if (!encoded) {
          continue;
        }
        auto accepted = state_.accept_signature(*encoded, peers_[peer].source.link_key, unix_now());
        if (accepted) {
          ++counters_.signatures_pulled;
          save(q);
        } else {
          log::warn("authority: a signature by {} served by authority {} was refused: {}",
                    crypto::to_short_hex(signature.authority_key),
                    crypto::to_short_hex(peers_[peer].authority_key), accepted.error().message);
        }
      }
    } else if (!reply) {
      ++counters_.requests_failed;
    }
    if (!contains(state_.missing_signatures(q), peers_[peer].authority_key)) {
      co_return;
    }
    const std::uint64_t retry_at = unix_now() + schedule().push_retry_delay(attempt);
    if (retry_at >= deadline) {
      co_return;
    }
    if (!co_await sleep_until(retry_at, holder)) {
      co_return;
    }
  }
}

void AuthorityDriver::publish(std::uint64_t q) {
  const document::Consensus* own = state_.consensus(q);
  if (own == nullptr) {
    return;  // nothing computed: compute() logged and counted why
  }
  const std::string when = utc(schedule().at(AuthorityStep::kInstall, q));
  const std::size_t configured = state_.config().authorities.size();
  auto encoded = state_.publishable(q, unix_now());
  if (!encoded) {
    if (metrics_) {
      metrics_->too_few_signatures.inc();
    }
    log::error(
        "authority: consensus for {} not published: signed by {} of {} authorities, {} "
        "needed (missing: {})",
        when, own->signatures.size(), configured, state_.threshold(),
        crypto::to_short_hex_list(state_.missing_signatures(q)));
    return;
  }
  ++counters_.published;
  counters_.last_published = q;
  if (metrics_) {
    metrics_->published.inc();
  }
  log::info("authority: consensus for {} published with {}/{} signatures", when,
            own->signatures.size(), configured);
  if (on_publish_) {
    on_publish_(q, std::make_shared<const std::vector<std::uint8_t>>(std::move(*encoded)));
  }
}

// --- requests ----------------------------------------------------------------------

asio::awaitable<void> AuthorityDriver::deliver_to(std::size_t peer,
                                                  const document::DirectoryRequest& request,
                                                  std::uint64_t deadline, std::string_view what,
                                                  const async::Gate::Holder& holder,
                                                  std::uint8_t& delivered) {
  // `request`, `holder` and `delivered` live in the caller's frame, which
  // waits for this one.
  const bool ok = co_await deliver(peer, request, deadline, what, holder);
  delivered = ok ? 1 : 0;
}

asio::awaitable<bool> AuthorityDriver::deliver(std::size_t peer,
                                               const document::DirectoryRequest& request,
                                               std::uint64_t deadline, std::string_view what,
                                               const async::Gate::Holder& holder) {
  for (std::uint32_t attempt = 0;; ++attempt) {
    auto reply = co_await ask(peer, request, deadline);
    if (holder.gate_closed()) {
      co_return false;
    }
    const std::string name = crypto::to_short_hex(peers_[peer].authority_key);
    std::uint64_t retry_after = 0;
    if (!reply) {
      ++counters_.requests_failed;
      log::debug("authority: {} to authority {}: {}", what, name, reply.error().to_string());
    } else if (std::holds_alternative<document::AcceptedReply>(*reply)) {
      co_return true;
    } else if (const auto* busy = std::get_if<document::BusyReply>(&*reply)) {
      retry_after = busy->retry_after_seconds;
    } else if (const auto* refused = std::get_if<document::RefusedReply>(&*reply)) {
      // The peer's message is escaped: its bytes come from the network.
      if (refused->reason != document::RefusalReason::kWrongEpoch) {
        log::warn("authority: authority {} refused the {} ({}): {:?}", name, what,
                  document::to_string(refused->reason), refused->message);
        co_return false;
      }
      // Its clock, or its computation, is a moment behind: its window opens soon.
      log::debug("authority: authority {} is not ready for the {}: {:?}", name, what,
                 refused->message);
    } else {
      log::warn("authority: authority {} answered the {} with another kind of reply", name, what);
      co_return false;
    }
    const std::uint64_t retry_at =
        unix_now() + std::max(schedule().push_retry_delay(attempt), retry_after);
    if (retry_at >= deadline) {
      log::debug("authority: {} to authority {}: its window closes before the next try", what,
                 name);
      co_return false;
    }
    if (!co_await sleep_until(retry_at, holder)) {
      co_return false;
    }
  }
}

asio::awaitable<Result<document::DirectoryReply>> AuthorityDriver::ask(
    std::size_t peer, const document::DirectoryRequest& request, std::uint64_t deadline) {
  const Nanos left = std::chrono::seconds(deadline) - wall_.now();
  const Nanos limit = std::min(left, requester_.options().timeout);
  if (limit <= Nanos::zero()) {
    co_return make_error(ErrorCategory::kTimeout, "its window has closed");
  }
  // A copy in this frame: the request may outlive the driver by a moment after stop().
  const document::DirectorySource source = peers_[peer].source;
  auto raced =
      co_await (async::with_deadline(requester_.request(source, request), limit, timers_) ||
                stopping_.wait());
  if (raced.index() == 1) {
    co_return make_error(ErrorCategory::kClosed, "stopped");
  }
  auto& outcome = std::get<0>(raced);
  if (!outcome) {
    co_return make_error(ErrorCategory::kTimeout, "no reply in " + duration_text(limit));
  }
  co_return std::move(*outcome);
}

}  // namespace nyx::daemon
