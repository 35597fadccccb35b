#pragma once
// verify_consensus: the freshness table (proposal 0002 section 6.3), run on
// every consensus a node receives, fetched, loaded from disk or offered by
// an operator. Nine checks in a fixed order, the cheap ones first so that
// garbage costs no Ed25519 work; the first that fails decides. A pure
// function of the bytes, the node's trust, the newest period it holds and
// its clock.
//
// Bad and unknown signatures are ignored rather than fatal: only valid
// signatures by distinct configured authorities count, so a cache that
// appends garbage under an authority's key cannot veto a good consensus.
//
// Thread-safe.

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "core/bytes.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/error.hpp"
#include "document/consensus.hpp"
#include "document/period.hpp"

namespace nyx::document {

// What a node trusts: the configured authorities, how many must sign, the
// network's period and the clock skew it tolerates (section 10.2). Made only
// from values section 2.1 allows.
class ConsensusTrust {
 public:
  // kConfig unless there are 1 to 32 distinct authorities, threshold is 0
  // (a majority) or between a majority and all of them, and the skew fits
  // the period (check_clock_skew).
  static Result<ConsensusTrust> make(std::vector<crypto::Ed25519PublicKey> authorities,
                                     std::size_t threshold, Period period,
                                     std::uint64_t clock_skew);

  const std::vector<crypto::Ed25519PublicKey>& authorities() const noexcept { return authorities_; }
  // t, with 0 resolved to the majority.
  std::size_t threshold() const noexcept { return threshold_; }
  const Period& period() const noexcept { return period_; }
  std::uint64_t clock_skew() const noexcept { return clock_skew_; }

  bool is_configured(const crypto::Ed25519PublicKey& key) const noexcept;

 private:
  ConsensusTrust(std::vector<crypto::Ed25519PublicKey> authorities, std::size_t threshold,
                 Period period, std::uint64_t clock_skew)
      : authorities_(std::move(authorities)),
        threshold_(threshold),
        period_(period),
        clock_skew_(clock_skew) {}

  std::vector<crypto::Ed25519PublicKey> authorities_;  // sorted
  std::size_t threshold_;
  Period period_;
  std::uint64_t clock_skew_;
};

// Why a consensus was not accepted, in the table's order. Every reason but
// kSameAsHeld is a refusal; kSameAsHeld (check 4 with q equal to the held
// period) is dropped quietly, and a fetch counts it as not modified.
enum class ConsensusRefusalReason : std::uint8_t {
  kTooLarge = 1,
  kMalformed,
  kWrongPeriod,
  kOlder,
  kSameAsHeld,
  kExpired,
  kNotYetValid,
  kBelowThreshold,
  kBadDescriptor,
};

// The `reason` label of nyx_directory_refused_total: "too_large", "malformed",
// "wrong_period", "older", "expired", "not_yet_valid", "below_threshold",
// "bad_descriptor"; "not_modified" for kSameAsHeld.
std::string_view to_string(ConsensusRefusalReason reason) noexcept;

struct ConsensusRefusal {
  ConsensusRefusalReason reason;
  Error error;  // the table's error text; code = the reason

  // False only for the quiet drop of a consensus for the period already held.
  bool is_error() const noexcept { return reason != ConsensusRefusalReason::kSameAsHeld; }
};

struct VerifiedConsensus {
  enum class When : std::uint8_t {
    kInstallNow,  // valid_after <= now
    kPending,     // hold it, and install it at valid_after on the node's clock
  };

  Consensus consensus;
  When when;
  std::size_t valid_signatures;  // by distinct configured authorities, at least t
};

// The table of section 6.3 on `encoded`, for a node that trusts `trust`,
// holds consensus `held_period` (installed, pending or the floor after a
// restart; none at first) and reads `now` (Unix seconds) on its clock.
std::expected<VerifiedConsensus, ConsensusRefusal> verify_consensus(
    Bytes encoded, const ConsensusTrust& trust, std::optional<std::uint64_t> held_period,
    std::uint64_t now);

}  // namespace nyx::document
