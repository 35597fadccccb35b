#pragma once
// AuthoritySchedule: the timeline of one period (proposal 0002 sections 2.3
// and 5.0 to 5.6) as pure functions of the period P and a clock reading:
// when an authority sweeps, votes, pulls votes, computes, pulls signatures
// and publishes consensus q, which windows are open at a given instant, and
// when a relay uploads its descriptor and retries. No clock inside: every
// function takes `now` (Unix seconds on the caller's own clock), so the
// daemon and the tests drive it with whatever time they like.
//
// All times are relative to T = T_q = q·P, the valid_after of consensus q,
// in units of u = P/12. The one half unit (3.5u, 2.5u) is rounded so that
// the step happens at or after the exact instant, never before: for an odd
// u, T − 3.5u is read as T − floor(7u/2).
//
// A plain value type; thread-safe.

#include <cstdint>
#include <string_view>

#include "document/period.hpp"

namespace nyx::document {

// What an authority does for consensus q, in the order the timeline runs.
enum class AuthorityStep : std::uint8_t {
  kSweep,           // T − 5u: upload deadline; reachability sweep of epoch q's descriptors
  kVote,            // T − 4u: make, sign, store and push the vote
  kPullVotes,       // T − 3.5u: GET_VOTE for every vote still missing
  kCompute,         // T − 3u: vote deadline; compute, sign, push the signature
  kPullSignatures,  // T − 2.5u: GET_SIGNATURES for the own digest
  kPublish,         // T − 2u: publish with t signatures
  kFetchPublished,  // T − u: an authority that did not publish fetches q like a cache
  kInstall,         // T: valid_after; late signatures are no longer added
};

std::string_view to_string(AuthorityStep step) noexcept;

struct ScheduledStep {
  AuthorityStep step;
  std::uint64_t q;   // the consensus the step is for
  std::uint64_t at;  // Unix seconds

  bool operator==(const ScheduledStep&) const = default;
};

// A half-open window [begin, end) of Unix seconds.
struct TimeWindow {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;

  bool contains(std::uint64_t t) const noexcept { return begin <= t && t < end; }
  std::uint64_t length() const noexcept { return end - begin; }
  bool operator==(const TimeWindow&) const = default;
};

class AuthoritySchedule {
 public:
  explicit AuthoritySchedule(Period period) noexcept : period_(period) {}

  const Period& period() const noexcept { return period_; }

  // When `step` for consensus q happens. For q so large that T_q saturates
  // (a period number from the network), every step is at the saturated T.
  std::uint64_t at(AuthorityStep step, std::uint64_t q) const noexcept;
  // The first step at or after `now`, over every q.
  ScheduledStep next_step(std::uint64_t now) const noexcept;

  // The consensus being voted on at `now`: the q with T_q − 5u ≤ now <
  // T_{q+1} − 5u. Its vote and signature windows are the ones below.
  std::uint64_t voting_period(std::uint64_t now) const noexcept;
  // Descriptors for epoch q are accepted in [T_q − 17u, T_q − 5u) on the
  // authority's clock: target(now) == q exactly there (section 2.3).
  TimeWindow upload_window(std::uint64_t q) const noexcept;
  // Votes for q are accepted in [T − 5u, T − 3u) (section 5.4).
  TimeWindow vote_window(std::uint64_t q) const noexcept;
  // Signatures for q are accepted in [T − 3u, T) (section 5.6).
  TimeWindow signature_window(std::uint64_t q) const noexcept;
  // Pushes of the vote are retried until T − 3u, of the signature until
  // T − 2u; a retry with back-off 1 s doubling, capped at u/4.
  std::uint64_t push_retry_delay(std::uint32_t attempt) const noexcept;

  // Caches fetch consensus q in [T − 2u, T − u), clients in [T − u, T + 5u).
  TimeWindow cache_fetch_window(std::uint64_t q) const noexcept;
  TimeWindow client_fetch_window(std::uint64_t q) const noexcept;

  // Relays (section 5.0). The epoch a relay uploads for at `now` on its own
  // clock: target(now).
  std::uint64_t relay_target(std::uint64_t now) const noexcept {
    return period_.upload_target(now);
  }
  // When target(now) changes to e, the relay uploads at a uniform random
  // time in the first 3u of the new window, [T_e − 17u, T_e − 14u): the
  // caller draws `draw` uniformly (any value; taken modulo 3u).
  std::uint64_t relay_upload_time(std::uint64_t e, std::uint64_t draw) const noexcept;
  // Retries to one authority: 1 s, doubling, capped at u/2 ...
  std::uint64_t relay_retry_delay(std::uint32_t attempt) const noexcept;
  // ... until that epoch's upload deadline T_e − 5u.
  std::uint64_t relay_upload_deadline(std::uint64_t e) const noexcept;
  // After REFUSED wrong_epoch naming the authority's open epoch: true when
  // the two clocks merely straddle a deadline (open is within one of the
  // relay's target(now)), so the relay re-uploads for `open`; false means a
  // clock far off, which the relay logs as a warning instead.
  bool relay_follows_open_epoch(std::uint64_t open, std::uint64_t now) const noexcept;

 private:
  // T_q − offset, in half units so that 3.5u and 2.5u exist.
  std::uint64_t before(std::uint64_t q, std::uint64_t half_units) const noexcept;

  Period period_;
};

// Proposal 0002 section 2.3: authorities keep their clocks within u/8 of
// UTC, every other node within S/2, so any two nodes are within S.
std::uint64_t authority_clock_tolerance(const Period& period) noexcept;
std::uint64_t node_clock_tolerance(std::uint64_t clock_skew) noexcept;

}  // namespace nyx::document
