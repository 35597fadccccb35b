#pragma once
// Entry guards (proposal 0004 §5.1–5.3, a simplified guard-spec, Tor
// proposal 271): a client keeps a small persistent sample of relays, drawn
// by bandwidth, and starts every circuit at the first usable of its primary
// guards, so that over weeks only a few relays ever see it as their client.
//
// GuardSet is pure logic: time comes in as `now` (Unix time, as read from
// the caller's injected SystemClock) and randomness from a RandomSource; the
// daemon keeps GuardState in guards.state. Not thread-safe: one owner.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/error.hpp"
#include "document/descriptor.hpp"
#include "mix/path_conflict.hpp"
#include "mix/path_selector.hpp"

namespace nyx::mix {

inline constexpr std::size_t kMaxGuardSample = 20;  // MAX_SAMPLE
inline constexpr std::size_t kPrimaryGuards = 3;    // N_PRIMARY
inline constexpr std::chrono::seconds kGuardLifetime{8 * 7 * 24 * 3600};
inline constexpr std::chrono::seconds kRemoveUnlistedAfter{20 * 24 * 3600};

// What persists of one sampled guard; times in Unix seconds.
struct GuardEntry {
  crypto::Ed25519PublicKey identity{};
  std::int64_t added = 0;
  std::int64_t expires = 0;         // added + lifetime × uniform[0.9, 1.1]
  std::int64_t unlisted_since = 0;  // 0 while listed

  bool operator==(const GuardEntry&) const = default;
};

// The sample in sample order, and its text form (§5.6):
//   nyx-guards-v1\n
//   guard <identity: 64 lower-case hex> <added> <expires> <unlisted_since>\n
// Decimals without leading zeros, added < expires, no duplicate identity,
// at most kMaxGuardSample guard lines.
struct GuardState {
  std::vector<GuardEntry> guards;

  bool operator==(const GuardState&) const = default;

  std::string to_text() const;
  // kParse naming the line ("guards.state line 3: ...") for anything else:
  // the text comes back from disk and may be damaged or edited.
  static Result<GuardState> from_text(std::string_view text);
};

struct GuardConfig {
  std::size_t sample_size = kMaxGuardSample;  // guards.sample_size
  std::size_t primary = kPrimaryGuards;       // guards.primary
  std::chrono::seconds lifetime = kGuardLifetime;
  SubnetRule subnets = SubnetRule::kEnforce;  // for sampling, as for paths
};

// One sampled guard as the set sees it now (for guards.list and tests).
struct GuardStatus {
  GuardEntry entry;
  bool listed = false;
  bool primary = false;
  Nanos unreachable_until{0};  // 0: reachable as far as the set knows
};

class GuardSet {
 public:
  // `restored` is what the last run left (GuardState::from_text); nothing
  // is listed until the first update().
  explicit GuardSet(RandomSource& random, GuardConfig config = {}, GuardState restored = {});

  // At start and at each consensus switch (§5.2): drops expired guards and
  // those unlisted for kRemoveUnlistedAfter, then samples new ones while
  // fewer than `primary` listed guards are usable. True when the
  // persistent state changed (write guards.state).
  bool update(std::span<const document::NodeDescriptor> nodes, Nanos now);

  // The guard of a new circuit (§5.3): the first usable primary, else the
  // first usable listed non-primary. kNotFound when none is usable.
  Result<crypto::Ed25519PublicKey> choose(Nanos now) const;
  // Every usable guard in choose()'s order, for a path that must move on
  // to the next guard when no exit fits the first (§5.4).
  std::vector<crypto::Ed25519PublicKey> usable(Nanos now) const;
  // The guard's descriptor in the last update's consensus; null when it is
  // not sampled or not listed.
  const document::NodeDescriptor* listed(const crypto::Ed25519PublicKey& identity) const;

  // A link to the guard failed to come up, or a CREATE through it timed
  // out. The third failure in a row makes it unreachable for a decorrelated
  // jitter delay (primary: 30 s to 6 h; others: 10 min to 36 h), and each
  // failure after that for a longer one. May sample a replacement; true
  // when the persistent state changed.
  bool mark_failed(const crypto::Ed25519PublicKey& identity, Nanos now);
  // A link or circuit through the guard worked: its back-off is cleared.
  void mark_succeeded(const crypto::Ed25519PublicKey& identity);

  std::vector<GuardStatus> status() const;
  GuardState state() const;

 private:
  struct Sampled {
    GuardEntry entry;
    int failures_in_a_row = 0;
    std::chrono::seconds last_delay{0};
    Nanos unreachable_until{0};
  };

  Sampled* find(const crypto::Ed25519PublicKey& identity);
  bool is_primary(const Sampled& guard) const;
  bool usable_now(const Sampled& guard, Nanos now) const;
  bool remove_stale(Nanos now);
  bool top_up(Nanos now);
  const document::NodeDescriptor* draw_new_guard();
  std::chrono::seconds next_delay(const Sampled& guard);

  RandomSource& random_;
  GuardConfig config_;
  std::vector<Sampled> sample_;                   // sample order
  std::vector<document::NodeDescriptor> listed_;  // relays of the last consensus with an address
};

}  // namespace nyx::mix
