#include "document/verify_consensus.hpp"

#include <algorithm>
#include <ctime>
#include <string>

#include <fmt/format.h>

#include "document/limits.hpp"

namespace nyx::document {
namespace {

using Reason = ConsensusRefusalReason;
using Refused = std::unexpected<ConsensusRefusal>;

ErrorCategory category_of(Reason reason) noexcept {
  switch (reason) {
    case Reason::kTooLarge:
      return ErrorCategory::kResourceExhausted;
    case Reason::kMalformed:
      return ErrorCategory::kParse;
    case Reason::kWrongPeriod:
    case Reason::kOlder:
    case Reason::kSameAsHeld:
      return ErrorCategory::kProtocol;
    case Reason::kExpired:
    case Reason::kNotYetValid:
      return ErrorCategory::kTimeout;
    case Reason::kBelowThreshold:
      return ErrorCategory::kPermission;
    case Reason::kBadDescriptor:
      return ErrorCategory::kCrypto;
  }
  return ErrorCategory::kInternal;
}

Refused refuse(Reason reason, std::string message) {
  return Refused(ConsensusRefusal{
      reason, Error{category_of(reason), static_cast<int>(reason), std::move(message)}});
}

// "2026-12-06T21:00:00Z"; times a calendar cannot show (a period number
// from the network can be anything) as plain Unix seconds.
std::string utc(std::uint64_t unix_time) {
  constexpr std::uint64_t kLastSecondOfYear9999 = 253'402'300'799;
  std::tm tm{};
  const auto t = static_cast<std::time_t>(unix_time);
  if (unix_time > kLastSecondOfYear9999 || ::gmtime_r(&t, &tm) == nullptr) {
    return fmt::format("Unix time {}", unix_time);
  }
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

// Checks 3 to 6: the period, then the time, all without Ed25519 work.
std::optional<Refused> check_times(const Consensus& consensus, const ConsensusTrust& trust,
                                   std::optional<std::uint64_t> held, std::uint64_t now) {
  const Period& period = trust.period();
  const std::uint64_t q = consensus.period;
  if (consensus.period_seconds != period.seconds()) {
    // Equal periods are also the lifetime bound: valid_until − valid_after is
    // then 2P. The text is the table's "lifetime would be Zs, at most 2·Ys":
    // Z = 2·X for the document's X, and the bound is 2·Y for this node's Y.
    return refuse(Reason::kWrongPeriod,
                  fmt::format("wrong period: {}s (this node uses {}s); lifetime would be {}s, "
                              "at most {}s",
                              consensus.period_seconds, period.seconds(),
                              2 * std::uint64_t{consensus.period_seconds},
                              2 * std::uint64_t{period.seconds()}));
  }
  if (held && q <= *held) {
    if (q == *held) {
      return refuse(Reason::kSameAsHeld, fmt::format("not modified: period {} is held", q));
    }
    return refuse(Reason::kOlder,
                  fmt::format("older than held: period {} (valid from {}) < {} (valid from {})", q,
                              utc(period.valid_after(q)), *held, utc(period.valid_after(*held))));
  }
  if (now >= period.valid_until(q)) {
    return refuse(Reason::kExpired,
                  fmt::format("expired at {} (now {})", utc(period.valid_until(q)), utc(now)));
  }
  // The skew widens only this check: a cache may hold consensus q from T − 2u,
  // and this node's clock may be S behind.
  const std::uint64_t valid_after = period.valid_after(q);
  if (valid_after > now && valid_after - now > 2 * period.unit() + trust.clock_skew()) {
    return refuse(Reason::kNotYetValid,
                  fmt::format("not yet valid: valid from {}, now {}; is the clock right?",
                              utc(period.valid_after(q)), utc(now)));
  }
  return std::nullopt;
}

// Check 7: the valid signatures by distinct configured authorities (the parser
// has refused a key that signs twice). Unknown keys cost no verification.
Result<std::size_t> count_signatures(const Consensus& consensus, Bytes body,
                                     const ConsensusTrust& trust) {
  std::size_t valid = 0;
  std::size_t bad = 0;
  std::size_t unknown = 0;
  for (const ConsensusSignature& signature : consensus.signatures) {
    if (!trust.is_configured(signature.authority_key)) {
      ++unknown;
    } else if (consensus_signature_valid(signature, body)) {
      ++valid;
    } else {
      ++bad;
    }
  }
  if (valid < trust.threshold()) {
    return make_error(ErrorCategory::kPermission,
                      fmt::format("below threshold: {} of {} configured authorities signed validly "
                                  "({} bad, {} unknown keys)",
                                  valid, trust.threshold(), bad, unknown));
  }
  return valid;
}

}  // namespace

Result<ConsensusTrust> ConsensusTrust::make(std::vector<crypto::Ed25519PublicKey> authorities,
                                            std::size_t threshold, Period period,
                                            std::uint64_t clock_skew) {
  std::sort(authorities.begin(), authorities.end());
  const std::size_t n = authorities.size();
  if (n == 0 || n > kMaxAuthorities) {
    return make_error(ErrorCategory::kConfig,
                      fmt::format("{} authorities, expected 1 to {}", n, kMaxAuthorities));
  }
  if (std::adjacent_find(authorities.begin(), authorities.end()) != authorities.end()) {
    return make_error(ErrorCategory::kConfig, "an authority key is listed twice");
  }
  const std::size_t majority = majority_of(n);
  if (threshold != 0 && (threshold < majority || threshold > n)) {
    // Two disjoint minorities could each sign a consensus.
    return make_error(ErrorCategory::kConfig,
                      fmt::format("threshold {}: 0 (a majority) or {} to {} of {} authorities",
                                  threshold, majority, n, n));
  }
  if (auto status = check_clock_skew(period, clock_skew); !status) {
    return std::unexpected(std::move(status.error()));
  }
  return ConsensusTrust(std::move(authorities), threshold == 0 ? majority : threshold, period,
                        clock_skew);
}

bool ConsensusTrust::is_configured(const crypto::Ed25519PublicKey& key) const noexcept {
  return std::binary_search(authorities_.begin(), authorities_.end(), key);
}

std::string_view to_string(ConsensusRefusalReason reason) noexcept {
  switch (reason) {
    case Reason::kTooLarge:
      return "too_large";
    case Reason::kMalformed:
      return "malformed";
    case Reason::kWrongPeriod:
      return "wrong_period";
    case Reason::kOlder:
      return "older";
    case Reason::kSameAsHeld:
      return "not_modified";
    case Reason::kExpired:
      return "expired";
    case Reason::kNotYetValid:
      return "not_yet_valid";
    case Reason::kBelowThreshold:
      return "below_threshold";
    case Reason::kBadDescriptor:
      return "bad_descriptor";
  }
  return "unknown";
}

std::expected<VerifiedConsensus, ConsensusRefusal> verify_consensus(
    Bytes encoded, const ConsensusTrust& trust, std::optional<std::uint64_t> held_period,
    std::uint64_t now) {
  if (encoded.size() > kMaxDocument) {
    return refuse(Reason::kTooLarge,
                  fmt::format("too large: {} bytes (at most 16 MiB)", encoded.size()));
  }
  auto consensus = Consensus::parse(encoded);
  if (!consensus) {
    return refuse(Reason::kMalformed, "malformed: " + consensus.error().message);
  }
  if (auto refused = check_times(*consensus, trust, held_period, now)) {
    return std::move(*refused);
  }
  // The parser took sig_count and the signatures off the end: the rest is the body.
  const std::size_t signed_part =
      1 + consensus->signatures.size() *
              (crypto::kEd25519PublicKeySize + crypto::kEd25519SignatureSize);
  const Bytes body = encoded.first(encoded.size() - signed_part);
  auto valid = count_signatures(*consensus, body, trust);
  if (!valid) {
    return refuse(Reason::kBelowThreshold, std::move(valid.error().message));
  }
  if (auto status = verify_descriptors(consensus->entries); !status) {
    return refuse(Reason::kBadDescriptor, std::move(status.error().message));
  }
  const auto when = trust.period().valid_after(consensus->period) <= now
                        ? VerifiedConsensus::When::kInstallNow
                        : VerifiedConsensus::When::kPending;
  return VerifiedConsensus{std::move(*consensus), when, *valid};
}

}  // namespace nyx::document
