#include "document/authority_schedule.hpp"

#include <algorithm>
#include <array>
#include <limits>

namespace nyx::document {
namespace {

constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();

// Each step's distance before T, in half units of u.
constexpr std::uint64_t half_units_before(AuthorityStep step) noexcept {
  switch (step) {
    case AuthorityStep::kSweep:
      return 10;
    case AuthorityStep::kVote:
      return 8;
    case AuthorityStep::kPullVotes:
      return 7;
    case AuthorityStep::kCompute:
      return 6;
    case AuthorityStep::kPullSignatures:
      return 5;
    case AuthorityStep::kPublish:
      return 4;
    case AuthorityStep::kFetchPublished:
      return 2;
    case AuthorityStep::kInstall:
      return 0;
  }
  return 0;
}

constexpr std::array kSteps = {
    AuthorityStep::kSweep,          AuthorityStep::kVote,           AuthorityStep::kPullVotes,
    AuthorityStep::kCompute,        AuthorityStep::kPullSignatures, AuthorityStep::kPublish,
    AuthorityStep::kFetchPublished, AuthorityStep::kInstall,
};

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
  return a > kNever - b ? kNever : a + b;
}

// 1 s, 2 s, 4 s, ... capped at `cap` (at least 1 s).
std::uint64_t doubling_delay(std::uint32_t attempt, std::uint64_t cap) noexcept {
  const std::uint64_t delay = attempt >= 63 ? kNever : std::uint64_t{1} << attempt;
  return std::max<std::uint64_t>(1, std::min(delay, cap));
}

}  // namespace

std::string_view to_string(AuthorityStep step) noexcept {
  switch (step) {
    case AuthorityStep::kSweep:
      return "sweep";
    case AuthorityStep::kVote:
      return "vote";
    case AuthorityStep::kPullVotes:
      return "pull_votes";
    case AuthorityStep::kCompute:
      return "compute";
    case AuthorityStep::kPullSignatures:
      return "pull_signatures";
    case AuthorityStep::kPublish:
      return "publish";
    case AuthorityStep::kFetchPublished:
      return "fetch_published";
    case AuthorityStep::kInstall:
      return "install";
  }
  return "unknown";
}

std::uint64_t AuthoritySchedule::before(std::uint64_t q, std::uint64_t half_units) const noexcept {
  const std::uint64_t t = period_.start(q);
  if (t == kNever) {
    return kNever;
  }
  // Rounded down, so the step is at or after the exact instant.
  const std::uint64_t offset = half_units * period_.unit() / 2;
  return t >= offset ? t - offset : 0;
}

std::uint64_t AuthoritySchedule::at(AuthorityStep step, std::uint64_t q) const noexcept {
  return before(q, half_units_before(step));
}

std::uint64_t AuthoritySchedule::voting_period(std::uint64_t now) const noexcept {
  return period_.epoch(saturating_add(now, 5 * period_.unit()));
}

ScheduledStep AuthoritySchedule::next_step(std::uint64_t now) const noexcept {
  // Every step of voting_period(now) is at or after its sweep, which is at or
  // before now; once its install has passed, the next is q + 1's sweep.
  const std::uint64_t q = voting_period(now);
  for (AuthorityStep step : kSteps) {
    if (at(step, q) >= now) {
      return {step, q, at(step, q)};
    }
  }
  const std::uint64_t next = saturating_add(q, 1);
  return {AuthorityStep::kSweep, next, at(AuthorityStep::kSweep, next)};
}

TimeWindow AuthoritySchedule::upload_window(std::uint64_t q) const noexcept {
  return {before(q, 34), before(q, 10)};
}

TimeWindow AuthoritySchedule::vote_window(std::uint64_t q) const noexcept {
  return {before(q, 10), before(q, 6)};
}

TimeWindow AuthoritySchedule::signature_window(std::uint64_t q) const noexcept {
  return {before(q, 6), before(q, 0)};
}

std::uint64_t AuthoritySchedule::push_retry_delay(std::uint32_t attempt) const noexcept {
  return doubling_delay(attempt, period_.unit() / 4);
}

TimeWindow AuthoritySchedule::cache_fetch_window(std::uint64_t q) const noexcept {
  return {before(q, 4), before(q, 2)};
}

TimeWindow AuthoritySchedule::client_fetch_window(std::uint64_t q) const noexcept {
  return {before(q, 2), saturating_add(period_.start(q), 5 * period_.unit())};
}

std::uint64_t AuthoritySchedule::relay_upload_time(std::uint64_t e,
                                                   std::uint64_t draw) const noexcept {
  return saturating_add(upload_window(e).begin, draw % (3 * period_.unit()));
}

std::uint64_t AuthoritySchedule::relay_retry_delay(std::uint32_t attempt) const noexcept {
  return doubling_delay(attempt, period_.unit() / 2);
}

std::uint64_t AuthoritySchedule::relay_upload_deadline(std::uint64_t e) const noexcept {
  return upload_window(e).end;
}

bool AuthoritySchedule::relay_follows_open_epoch(std::uint64_t open,
                                                 std::uint64_t now) const noexcept {
  const std::uint64_t target = relay_target(now);
  return open == target || open == saturating_add(target, 1) || saturating_add(open, 1) == target;
}

std::uint64_t authority_clock_tolerance(const Period& period) noexcept { return period.unit() / 8; }

std::uint64_t node_clock_tolerance(std::uint64_t clock_skew) noexcept { return clock_skew / 2; }

}  // namespace nyx::document
