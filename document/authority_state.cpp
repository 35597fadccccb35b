#include "document/authority_state.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "document/address_scope.hpp"
#include "document/detail/authority_refusal.hpp"
#include "document/limits.hpp"

namespace nyx::document {
namespace {

using Reason = AuthorityRefusalReason;
using detail::refuse;

// A vote's bytes around its entries: magic, version, key, P, q, count, signature.
constexpr std::size_t kVoteOverhead = 6 + 1 + 32 + 4 + 8 + 2 + 64;
// An entry's bytes around its descriptor: weight and length.
constexpr std::size_t kEntryOverhead = 4 + 2;

// Section 5.1 check 7: X25519 with a fixed non-zero scalar gives an all-zero
// result exactly for the small-order points.
bool small_order(const crypto::X25519PublicKey& key) {
  constexpr std::array<std::uint8_t, crypto::kX25519KeySize> kScalar = {
      0x4e, 0x79, 0x78, 0x2d, 0x73, 0x6d, 0x61, 0x6c, 0x6c, 0x2d, 0x6f,
      0x72, 0x64, 0x65, 0x72, 0x2d, 0x63, 0x68, 0x65, 0x63, 0x6b, 0x01};
  std::array<std::uint8_t, crypto::kX25519KeySize> out{};
  return !crypto::x25519(out, kScalar, key);
}

// Section 5.1 check 10: a probe counts for the address advertised for its
// own transport only, since UDP and TCP may share an ip:port.
bool probed_over(const ProbeResult& probe, const AdvertisedAddress& advertised) {
  return probe.transport == advertised.transport && probe.address == advertised.address;
}

}  // namespace

std::string_view to_string(AuthorityRefusalReason reason) noexcept {
  switch (reason) {
    case Reason::kMalformed:
      return "malformed";
    case Reason::kNotAllowed:
      return "not_allowed";
    case Reason::kBadSignature:
      return "bad_signature";
    case Reason::kWrongEpoch:
      return "wrong_epoch";
    case Reason::kClock:
      return "clock";
    case Reason::kStale:
      return "stale";
    case Reason::kLimit:
      return "limit";
    case Reason::kUnreachable:
      return "unreachable";
    case Reason::kNotAuthority:
      return "not_authority";
    case Reason::kUnknownVoter:
      return "unknown_voter";
    case Reason::kEquivocation:
      return "equivocation";
    case Reason::kKnownEquivocator:
      return "known_equivocator";
    case Reason::kDifferentConsensus:
      return "different_consensus";
  }
  return "unknown";
}

std::vector<AdvertisedAddress> ScreenedDescriptor::addresses() const {
  std::vector<AdvertisedAddress> out;
  for (const AdvertisedAddress& advertised :
       {AdvertisedAddress{LinkTransport::kUdp, descriptor.udp_address},
        AdvertisedAddress{LinkTransport::kTcp, descriptor.tcp_address}}) {
    if (!advertised.address.is_none()) {
      out.push_back(advertised);
    }
  }
  return out;
}

AuthorityState::AuthorityState(AuthorityConfig config, crypto::Ed25519KeyPair key,
                               std::size_t threshold)
    : config_(std::move(config)),
      key_(std::move(key)),
      threshold_(threshold),
      schedule_(config_.period) {}

Result<AuthorityState> AuthorityState::make(AuthorityConfig config, crypto::Ed25519KeyPair key) {
  const std::size_t n = config.authorities.size();
  if (n == 0 || n > kMaxAuthorities) {
    return make_error(
        ErrorCategory::kConfig,
        fmt::format("authority: {} authorities, expected 1 to {}", n, kMaxAuthorities));
  }
  std::set<crypto::Ed25519PublicKey> keys;
  std::set<crypto::X25519PublicKey> links;
  for (const ConfiguredAuthority& a : config.authorities) {
    if (!keys.insert(a.authority_key).second || !links.insert(a.link_key).second) {
      return make_error(ErrorCategory::kConfig, "authority: a key or link configured twice");
    }
  }
  if (!keys.contains(key.public_key)) {
    return make_error(ErrorCategory::kConfig,
                      "authority: this authority's key is not a configured authority");
  }
  const std::size_t majority = majority_of(n);
  if (config.threshold != 0 && (config.threshold < majority || config.threshold > n)) {
    return make_error(ErrorCategory::kConfig,
                      fmt::format("authority: threshold {}, expected 0 or {} to {}",
                                  config.threshold, majority, n));
  }
  if (auto status = check_clock_skew(config.period, config.clock_skew); !status) {
    return std::unexpected(std::move(status.error()));
  }
  const std::size_t threshold = config.threshold == 0 ? majority : config.threshold;
  return AuthorityState(std::move(config), std::move(key), threshold);
}

bool AuthorityState::is_authority_link(const crypto::X25519PublicKey& link_key) const {
  return std::any_of(config_.authorities.begin(), config_.authorities.end(),
                     [&](const ConfiguredAuthority& a) { return a.link_key == link_key; });
}

bool AuthorityState::is_configured(const crypto::Ed25519PublicKey& key) const {
  return std::any_of(config_.authorities.begin(), config_.authorities.end(),
                     [&](const ConfiguredAuthority& a) { return a.authority_key == key; });
}

// --- descriptors (section 5.1) ---

std::optional<AuthorityRefusal> AuthorityState::epoch_fault(const SignedDescriptor& d,
                                                            std::uint64_t now) const {
  const std::uint64_t open = schedule_.relay_target(now);
  if (d.epoch != open) {
    return AuthorityRefusal{
        Reason::kWrongEpoch,
        fmt::format("descriptor for epoch {}, this authority accepts {}", d.epoch, open), open};
  }
  return std::nullopt;
}

std::optional<AuthorityRefusal> AuthorityState::held_fault(const ScreenedDescriptor& s) const {
  const auto epoch = descriptors_.find(s.descriptor.epoch);
  if (epoch == descriptors_.end()) {
    return std::nullopt;
  }
  const auto held = epoch->second.find(s.descriptor.node_id());
  if (held != epoch->second.end()) {
    if (s.descriptor.published <= held->second.descriptor.published) {
      return AuthorityRefusal{
          Reason::kStale,
          fmt::format("published {} is not newer than the held descriptor's {}",
                      s.descriptor.published, held->second.descriptor.published),
          std::nullopt};
    }
    return std::nullopt;  // a newer one replaces it: no more relays, and about the same bytes
  }
  // Check 9, and the bounds a vote must fit in (section 2.1): the vote
  // made from what is held can then always be encoded.
  const std::size_t relays = std::min(config_.max_relays, kMaxEntries);
  if (epoch->second.size() >= relays) {
    return AuthorityRefusal{Reason::kLimit,
                            fmt::format("{} relays held for epoch {}, at most {}",
                                        epoch->second.size(), s.descriptor.epoch, relays),
                            std::nullopt};
  }
  std::size_t vote_bytes = kVoteOverhead + kEntryOverhead + s.bytes.size();
  for (const auto& [id, d] : epoch->second) {
    vote_bytes += kEntryOverhead + d.bytes.size();
  }
  if (vote_bytes > kMaxDocument) {
    return AuthorityRefusal{Reason::kLimit,
                            fmt::format("the vote for epoch {} would be {} bytes, at most {}",
                                        s.descriptor.epoch, vote_bytes, kMaxDocument),
                            std::nullopt};
  }
  return std::nullopt;
}

AuthorityOutcome<ScreenedDescriptor> AuthorityState::screen_descriptor(
    Bytes bytes, const crypto::X25519PublicKey& peer_link_key, std::uint64_t now) const {
  auto parsed = SignedDescriptor::parse_unverified(bytes);  // 1
  if (!parsed) {
    return refuse(Reason::kMalformed, parsed.error().message);
  }
  ScreenedDescriptor s{false, std::move(*parsed),
                       std::vector<std::uint8_t>(bytes.begin(), bytes.end())};
  if (s.descriptor.link_key != peer_link_key) {  // 2
    return refuse(Reason::kNotAllowed, "uploaded over a link other than the descriptor's link key");
  }
  if (auto status = s.descriptor.verify_signature(bytes); !status) {  // 3
    return refuse(Reason::kBadSignature, status.error().message);
  }
  if (auto fault = epoch_fault(s.descriptor, now)) {  // 4
    return std::unexpected(std::move(*fault));
  }
  if (auto status = check_published(s.descriptor, now, config_.period.seconds(),
                                    config_.clock_skew);
      !status) {  // 5
    return refuse(Reason::kClock, status.error().message);
  }
  for (const AdvertisedAddress& advertised : s.addresses()) {  // 6
    if (!config_.allow_private_addresses && !is_global_unicast(advertised.address)) {
      return refuse(Reason::kNotAllowed, fmt::format("{} is not a global unicast address",
                                                     advertised.address.to_text()));
    }
  }
  for (const auto* key :
       {&s.descriptor.onion_key, &s.descriptor.next_onion_key, &s.descriptor.link_key}) {  // 7
    if (small_order(*key)) {
      return refuse(Reason::kMalformed, "a key of small order");
    }
  }
  if (const auto by_epoch = descriptors_.find(s.descriptor.epoch); by_epoch != descriptors_.end()) {
    const auto held = by_epoch->second.find(s.descriptor.node_id());
    if (held != by_epoch->second.end() && held->second.bytes == s.bytes) {  // 8: idempotent
      s.already_held = true;
      return s;
    }
  }
  if (auto fault = held_fault(s)) {  // 8 and 9
    return std::unexpected(std::move(*fault));
  }
  return s;
}

AuthorityOutcome<std::uint64_t> AuthorityState::admit_descriptor(
    const ScreenedDescriptor& screened, std::span<const ProbeResult> probes, std::uint64_t now) {
  const std::uint64_t epoch = screened.descriptor.epoch;
  if (screened.already_held) {
    return epoch;
  }
  if (auto fault = epoch_fault(screened.descriptor, now)) {
    return std::unexpected(std::move(*fault));
  }
  if (auto fault = held_fault(screened)) {
    return std::unexpected(std::move(*fault));
  }
  for (const AdvertisedAddress& advertised : screened.addresses()) {  // 10
    const auto probe = std::find_if(probes.begin(), probes.end(), [&](const ProbeResult& p) {
      return probed_over(p, advertised);
    });
    // Named as section 4.4 shows it: "udp 198.51.100.7:9340: no handshake in 10 s".
    const std::string named =
        fmt::format("{} {}", transport_name(advertised.transport), advertised.address.to_text());
    if (probe == probes.end()) {
      return refuse(Reason::kUnreachable, fmt::format("{}: not probed", named));
    }
    if (!probe->reached) {
      return refuse(Reason::kUnreachable, fmt::format("{}: {}", named, probe->failure));
    }
  }
  descriptors_[epoch][screened.descriptor.node_id()] =
      HeldDescriptor{screened.descriptor, screened.bytes, std::nullopt};  // 11
  return epoch;
}

const SignedDescriptor* AuthorityState::descriptor(std::uint64_t epoch,
                                                   const NodeId& node_id) const {
  const auto by_epoch = descriptors_.find(epoch);
  if (by_epoch == descriptors_.end()) {
    return nullptr;
  }
  const auto held = by_epoch->second.find(node_id);
  return held == by_epoch->second.end() ? nullptr : &held->second.descriptor;
}

bool AuthorityState::holds_link(const crypto::X25519PublicKey& link_key) const {
  return std::ranges::any_of(descriptors_, [&](const auto& by_epoch) {
    return std::ranges::any_of(by_epoch.second, [&](const auto& held) {
      return held.second.descriptor.link_key == link_key;
    });
  });
}

// --- the sweep (section 5.2) ---

std::vector<SweepTarget> AuthorityState::sweep_targets(std::uint64_t q) const {
  std::vector<SweepTarget> out;
  const auto by_epoch = descriptors_.find(q);
  if (by_epoch == descriptors_.end()) {
    return out;
  }
  for (const auto& [id, held] : by_epoch->second) {
    ScreenedDescriptor s{false, held.descriptor, {}};
    out.push_back({id, held.descriptor.link_key, s.addresses()});
  }
  return out;
}

void AuthorityState::record_sweep(std::uint64_t q, const NodeId& node_id,
                                  std::span<const ProbeResult> probes) {
  const auto by_epoch = descriptors_.find(q);
  if (by_epoch == descriptors_.end()) {
    return;
  }
  const auto held = by_epoch->second.find(node_id);
  if (held == by_epoch->second.end()) {
    return;
  }
  ScreenedDescriptor s{false, held->second.descriptor, {}};
  const auto addresses = s.addresses();
  // A relay that fails any advertised address is left out of the vote.
  held->second.swept =
      std::all_of(addresses.begin(), addresses.end(), [&](const AdvertisedAddress& a) {
        return std::any_of(probes.begin(), probes.end(),
                           [&](const ProbeResult& p) { return probed_over(p, a) && p.reached; });
      });
}

}  // namespace nyx::document
