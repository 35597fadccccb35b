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
#include "daemon/authority_driver_detail.hpp"
#include "daemon/authority_metrics.hpp"
#include "document/compute_consensus.hpp"
#include "document/limits.hpp"

namespace nyx::daemon {
namespace {

using asio::experimental::awaitable_operators::operator||;
using authority_detail::duration_text;
using authority_detail::side_by_side;
using authority_detail::utc;
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

// Section 5.2: each sweep handshake within min(u/2, 10 s).
Nanos probe_timeout(const document::Period& period) {
  return std::min<Nanos>(std::chrono::seconds(period.unit()) / 2, kMaxProbeTimeout);
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

}  // namespace

namespace authority_detail {

std::string utc(std::uint64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  if (tm.tm_sec == 0) {
    return fmt::format("{:02}:{:02} UTC", tm.tm_hour, tm.tm_min);
  }
  return fmt::format("{:02}:{:02}:{:02} UTC", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string duration_text(Nanos span) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(span).count();
  return ms % 1000 == 0 ? fmt::format("{} s", ms / 1000) : fmt::format("{} ms", ms);
}

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

}  // namespace authority_detail

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

// --- section 5.3: the vote ---------------------------------------------------------

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

}  // namespace nyx::daemon
