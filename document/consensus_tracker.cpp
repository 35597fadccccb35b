#include "document/consensus_tracker.hpp"

#include <algorithm>
#include <type_traits>
#include <utility>
#include <variant>

namespace nyx::document {
namespace {

FetchOutcome outcome_of(FetchOutcome::Kind kind) {
  FetchOutcome outcome;
  outcome.kind = kind;
  return outcome;
}

}  // namespace

std::string_view to_string(ConsensusFreshness freshness) noexcept {
  switch (freshness) {
    case ConsensusFreshness::kNone:
      return "none";
    case ConsensusFreshness::kFresh:
      return "fresh";
    case ConsensusFreshness::kStaleButValid:
      return "stale_but_valid";
    case ConsensusFreshness::kExpired:
      return "expired";
  }
  return "unknown";
}

ConsensusTracker::ConsensusTracker(Config config, FetchRandom& random)
    : config_(std::move(config)), random_(random) {}

LoadReport ConsensusTracker::load(std::optional<Bytes> current, std::optional<Bytes> next,
                                  std::uint64_t now) {
  LoadReport report;
  if (current) {
    auto verified = verify_consensus(*current, config_.trust, std::nullopt, now);
    if (verified) {
      hold(std::move(*verified), *current, now);
    } else {
      report.current_refused = verified.error();
      // Expired while the node was off: not used, but still the floor, so a
      // restart cannot roll the node back. Its signatures are checked at its
      // own valid_after, so a damaged file cannot raise the floor either.
      if (verified.error().reason == ConsensusRefusalReason::kExpired) {
        if (auto parsed = Consensus::parse(*current)) {
          const std::uint64_t then = config_.trust.period().valid_after(parsed->period);
          if (auto at_its_time = verify_consensus(*current, config_.trust, std::nullopt, then)) {
            hold(std::move(*at_its_time), *current, now);
          }
        }
      }
    }
  }
  if (next) {
    auto verified = verify_consensus(*next, config_.trust, floor_, now);
    if (verified) {
      // Its valid_after may have passed while the node was off: installed now.
      report.files_changed = verified->when == VerifiedConsensus::When::kInstallNow;
      hold(std::move(*verified), *next, now);
    } else {
      report.next_refused = verified.error();
      report.files_changed = true;  // consensus-next.bin goes
    }
  }
  if (newest_held() != nullptr) {
    schedule_after_success(now);
  } else {
    next_fetch_at_ = now;
  }
  return report;
}

StepReport ConsensusTracker::step(std::uint64_t now) {
  StepReport report;
  const Period& period = config_.trust.period();
  if (pending_ && period.valid_after(pending_->consensus.period) <= now) {
    installed_ = std::move(*pending_);
    pending_.reset();
    report.switched = true;
    report.files_changed = true;
  }
  if (in_flight_ && now >= in_flight_->deadline) {
    const DirectorySource source = in_flight_->source;
    in_flight_.reset();
    report.timed_out = without_news(outcome_of(FetchOutcome::Kind::kFailed), source, now);
  }
  if (!in_flight_ && now >= next_fetch_at_) {
    if (auto source = choose_source(now)) {
      in_flight_ = FetchAttempt{.source = *source,
                                .request = GetConsensusRequest{.have_period = floor_.value_or(0)},
                                .deadline = now + kDirectoryReplyTimeoutSeconds};
      report.fetch = in_flight_;
    } else {
      // Every source is backing off: wait for the first to come free.
      next_fetch_at_ = earliest_source_free(now).value_or(now + unit());
    }
  }

  std::uint64_t wake = in_flight_ ? in_flight_->deadline : next_fetch_at_;
  const auto consider = [&](std::uint64_t at) {
    if (at > now) {
      wake = std::min(wake, at);
    }
  };
  if (pending_) {
    consider(period.valid_after(pending_->consensus.period));
  }
  if (installed_) {
    // So the daemon sees the state change (stale, expired) when it happens.
    consider(period.fresh_until(installed_->consensus.period));
    consider(period.valid_until(installed_->consensus.period));
  }
  report.wake_at = wake > now ? wake : now + 1;
  return report;
}

Result<FetchOutcome> ConsensusTracker::on_reply(const DirectoryReply& reply, std::uint64_t now) {
  if (!in_flight_) {
    return make_error(ErrorCategory::kInvalidArgument, "consensus tracker: no fetch in flight");
  }
  const DirectorySource source = in_flight_->source;
  in_flight_.reset();
  using Kind = FetchOutcome::Kind;
  return std::visit(
      [&](const auto& body) -> FetchOutcome {
        using Body = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<Body, ConsensusReply>) {
          FetchOutcome outcome = offer(body.consensus, now);
          if (outcome.kind != Kind::kInstalled && outcome.kind != Kind::kPending) {
            return without_news(std::move(outcome), source, now);
          }
          backoff_.erase(source.link_key);
          last_failed_.reset();
          return outcome;
        } else if constexpr (std::is_same_v<Body, NotModifiedReply>) {
          return without_news(outcome_of(Kind::kNotModified), source, now);
        } else if constexpr (std::is_same_v<Body, NotFoundReply>) {
          return without_news(outcome_of(Kind::kNotFound), source, now);
        } else if constexpr (std::is_same_v<Body, BusyReply>) {
          return without_news(outcome_of(Kind::kBusy), source, now, body.retry_after_seconds);
        } else if constexpr (std::is_same_v<Body, RefusedReply>) {
          FetchOutcome refused = outcome_of(Kind::kServerRefused);
          refused.server_refusal = body;
          return without_news(std::move(refused), source, now);
        } else {
          // A body that answers another request: the source broke the protocol.
          return without_news(outcome_of(Kind::kFailed), source, now);
        }
      },
      reply);
}

FetchOutcome ConsensusTracker::offer(Bytes consensus, std::uint64_t now) {
  using Kind = FetchOutcome::Kind;
  auto verified = verify_consensus(consensus, config_.trust, floor_, now);
  if (!verified) {
    if (!verified.error().is_error()) {
      return outcome_of(Kind::kNotModified);
    }
    FetchOutcome refused = outcome_of(Kind::kConsensusRefused);
    refused.refusal = verified.error();
    return refused;
  }
  const bool now_valid = verified->when == VerifiedConsensus::When::kInstallNow;
  hold(std::move(*verified), consensus, now);
  FetchOutcome held = outcome_of(now_valid ? Kind::kInstalled : Kind::kPending);
  held.files_changed = true;
  return held;
}

Result<FetchOutcome> ConsensusTracker::on_failure(std::uint64_t now) {
  if (!in_flight_) {
    return make_error(ErrorCategory::kInvalidArgument, "consensus tracker: no fetch in flight");
  }
  const DirectorySource source = in_flight_->source;
  in_flight_.reset();
  return without_news(outcome_of(FetchOutcome::Kind::kFailed), source, now);
}

ConsensusFreshness ConsensusTracker::freshness(std::uint64_t now) const noexcept {
  if (!installed_) {
    return ConsensusFreshness::kNone;
  }
  const Period& period = config_.trust.period();
  const std::uint64_t q = installed_->consensus.period;
  if (now >= period.valid_until(q)) {
    return ConsensusFreshness::kExpired;
  }
  if (now >= period.fresh_until(q)) {
    return ConsensusFreshness::kStaleButValid;
  }
  return ConsensusFreshness::kFresh;
}

bool ConsensusTracker::expiring_soon(std::uint64_t now) const noexcept {
  const HeldConsensus* newest = newest_held();
  if (newest == nullptr) {
    return false;
  }
  const std::uint64_t valid_until = config_.trust.period().valid_until(newest->consensus.period);
  return now < valid_until && valid_until - now < 2 * unit();
}

const Consensus* ConsensusTracker::consensus_for_paths(std::uint64_t now) const noexcept {
  if (!installed_) {
    return nullptr;
  }
  const Period& period = config_.trust.period();
  const std::uint64_t q = installed_->consensus.period;
  if (now < period.valid_after(q) || now >= period.valid_until(q)) {
    return nullptr;
  }
  return &installed_->consensus;
}

ConsensusFiles ConsensusTracker::files() const {
  ConsensusFiles out;
  if (installed_) {
    out.current = installed_->encoded;
  }
  if (pending_) {
    out.next = pending_->encoded;
  }
  return out;
}

const HeldConsensus* ConsensusTracker::newest_held() const noexcept {
  if (pending_) {
    return &*pending_;
  }
  return installed_ ? &*installed_ : nullptr;
}

bool ConsensusTracker::holds_usable(std::uint64_t now) const noexcept {
  return installed_ && now < config_.trust.period().valid_until(installed_->consensus.period);
}

void ConsensusTracker::hold(VerifiedConsensus verified, Bytes encoded, std::uint64_t now) {
  const std::uint64_t q = verified.consensus.period;
  HeldConsensus held{.consensus = std::move(verified.consensus),
                     .encoded = std::vector<std::uint8_t>(encoded.begin(), encoded.end()),
                     .valid_signatures = verified.valid_signatures,
                     .verified_at = now};
  // verify_consensus refused anything not above the floor, so whatever was
  // pending is older than this one and goes (section 6.3 check 9).
  pending_.reset();
  if (verified.when == VerifiedConsensus::When::kInstallNow) {
    installed_ = std::move(held);
  } else {
    pending_ = std::move(held);
  }
  floor_ = q;
  schedule_after_success(now);
}

void ConsensusTracker::schedule_after_success(std::uint64_t now) {
  retry_delay_ = 0;
  round_failures_ = 0;
  const HeldConsensus* newest = newest_held();
  const std::uint64_t u = unit();
  const std::uint64_t fresh_until = config_.trust.period().fresh_until(newest->consensus.period);
  // Section 6.2: a cache in [F − 2u, F − u), a client in [F − u, F + 5u).
  const bool cache = config_.role == DirectoryRole::kCache;
  const std::uint64_t window_start = cache ? fresh_until - 2 * u : fresh_until - u;
  const std::uint64_t window_length = cache ? u : 6 * u;
  next_fetch_at_ = std::max(now, window_start + random_.uniform(window_length));
}

void ConsensusTracker::schedule_retry(std::uint64_t now) {
  const std::uint64_t u = unit();
  retry_delay_ = retry_delay_ == 0 ? 1 : std::min(2 * retry_delay_, u);
  // Section 6.2: while the newest held consensus expires within 2u, retry at
  // least every u/4.
  const std::uint64_t cap = expiring_soon(now) ? std::max<std::uint64_t>(u / 4, 1) : u;
  next_fetch_at_ = now + std::min(retry_delay_, cap);
  ++round_failures_;
}

void ConsensusTracker::back_off_source(const DirectorySource& source, std::uint64_t now,
                                       std::optional<std::uint64_t> retry_after) {
  Backoff& backoff = backoff_[source.link_key];
  if (retry_after) {
    backoff.not_before = now + *retry_after;
    return;
  }
  backoff.delay = backoff.delay == 0 ? 1 : std::min(2 * backoff.delay, unit());
  backoff.not_before = now + backoff.delay;
}

bool ConsensusTracker::source_free(const DirectorySource& source, std::uint64_t now) const {
  // A cache never asks itself for what it serves; an authority does ask
  // itself (its node answers locally): in a network of one authority that
  // is the only source of the consensus it published.
  if (config_.own_link_key && *config_.own_link_key == source.link_key &&
      source.kind != DirectorySource::Kind::kAuthority) {
    return false;
  }
  if (avoid_last_failed_ && last_failed_ == source.link_key) {
    return false;
  }
  const auto found = backoff_.find(source.link_key);
  return found == backoff_.end() || now >= found->second.not_before;
}

std::optional<DirectorySource> ConsensusTracker::choose_source(std::uint64_t now) {
  avoid_last_failed_ = last_failed_.has_value();
  auto chosen = choose_free_source(now);
  avoid_last_failed_ = false;
  if (!chosen && last_failed_) {
    chosen = choose_free_source(now);
  }
  return chosen;
}

std::optional<DirectorySource> ConsensusTracker::choose_free_source(std::uint64_t now) {
  if (!holds_usable(now)) {
    // Section 6.1: nothing usable, so the bootstrap list, authorities included.
    return next_bootstrap_source(true, now);
  }
  if (config_.role == DirectoryRole::kCache) {
    // Section 6.2: a random authority; on failure another; all failed: any cache.
    if (auto authority = random_authority(now)) {
      return authority;
    }
    if (auto relay = weighted_relay(now)) {
      return relay;
    }
    return next_bootstrap_source(false, now);
  }
  // A client: relays by weight, after kClientRelayAttempts failures the
  // fallbacks. Never an authority while it holds a consensus that has not
  // expired.
  if (round_failures_ < kClientRelayAttempts) {
    if (auto relay = weighted_relay(now)) {
      return relay;
    }
  }
  if (auto fallback = next_bootstrap_source(false, now)) {
    return fallback;
  }
  return weighted_relay(now);
}

std::optional<DirectorySource> ConsensusTracker::random_authority(std::uint64_t now) {
  std::vector<const DirectorySource*> free;
  for (const DirectorySource& authority : config_.authorities) {
    if (source_free(authority, now)) {
      free.push_back(&authority);
    }
  }
  if (free.empty()) {
    return std::nullopt;
  }
  return *free[random_.uniform(free.size())];
}

std::optional<DirectorySource> ConsensusTracker::weighted_relay(std::uint64_t now) {
  std::vector<DirectorySource> free;
  std::vector<std::uint64_t> weights;
  std::uint64_t total = 0;
  for (const RelayEntry& entry : installed_->consensus.entries) {
    const SignedDescriptor& descriptor = entry.descriptor();
    DirectorySource source{.kind = DirectorySource::Kind::kRelay,
                           .link_key = descriptor.link_key,
                           .udp_address = descriptor.udp_address,
                           .tcp_address = descriptor.tcp_address};
    if (source_free(source, now)) {
      free.push_back(std::move(source));
      weights.push_back(entry.weight());
      total += entry.weight();  // at most 16 384 × (2^32 − 1): no overflow
    }
  }
  if (free.empty()) {
    return std::nullopt;
  }
  std::uint64_t draw = random_.uniform(total);
  for (std::size_t i = 0; i < free.size(); ++i) {
    if (draw < weights[i]) {
      return free[i];
    }
    draw -= weights[i];
  }
  return free.back();
}

std::optional<DirectorySource> ConsensusTracker::next_bootstrap_source(bool allow_authorities,
                                                                       std::uint64_t now) {
  const std::size_t total = config_.fallbacks.size() + config_.authorities.size();
  for (std::size_t tried = 0; tried < total; ++tried) {
    if (bootstrap_cursor_ >= bootstrap_order_.size()) {
      shuffle_bootstrap_order();
    }
    const DirectorySource& candidate = bootstrap_order_[bootstrap_cursor_++];
    if (!allow_authorities && candidate.kind == DirectorySource::Kind::kAuthority) {
      continue;
    }
    if (source_free(candidate, now)) {
      return candidate;
    }
  }
  return std::nullopt;
}

void ConsensusTracker::shuffle_bootstrap_order() {
  // Section 6.1: the fallbacks in random order, then the authorities in random order.
  const auto shuffled = [&](std::vector<DirectorySource> sources) {
    for (std::size_t i = sources.size(); i > 1; --i) {
      std::swap(sources[i - 1], sources[random_.uniform(i)]);
    }
    return sources;
  };
  bootstrap_order_ = shuffled(config_.fallbacks);
  const auto authorities = shuffled(config_.authorities);
  bootstrap_order_.insert(bootstrap_order_.end(), authorities.begin(), authorities.end());
  bootstrap_cursor_ = 0;
}

std::optional<std::uint64_t> ConsensusTracker::earliest_source_free(std::uint64_t now) const {
  std::optional<std::uint64_t> earliest;
  for (const auto& [key, backoff] : backoff_) {
    if (backoff.not_before > now && (!earliest || backoff.not_before < *earliest)) {
      earliest = backoff.not_before;
    }
  }
  return earliest;
}

FetchOutcome ConsensusTracker::without_news(FetchOutcome outcome, const DirectorySource& source,
                                            std::uint64_t now,
                                            std::optional<std::uint64_t> retry_after) {
  back_off_source(source, now, retry_after);
  last_failed_ = source.link_key;
  schedule_retry(now);
  return outcome;
}

}  // namespace nyx::document
