#include "mix/create_admission.hpp"

#include <algorithm>

#include "core/crypto/random.hpp"
#include "core/crypto/siphash.hpp"

namespace nyx::mix {
namespace {

// Groups tracked per table (65 536, proposal section 9): a full table
// refuses new groups rather than evicting active ones (keyed_rate_limiter.hpp).
constexpr std::size_t kMaxGroups = 65536;
// A group idle this long with a full bucket is forgotten (it would come back
// with a full bucket anyway).
constexpr auto kIdleExpiry = std::chrono::minutes(1);

enum class GroupKind : std::uint8_t { kIpv4 = 1, kIpv6 = 2, kUnknownAddress = 3 };

}  // namespace

NeighbourGroup address_group(const std::optional<asio::ip::address>& address) {
  NeighbourGroup group{};
  auto out = group.begin() + 1;
  if (!address) {
    // Not the link key: a flooder makes a fresh one for every link, and each
    // would come with a full bucket.
    group[0] = static_cast<std::uint8_t>(GroupKind::kUnknownAddress);
    return group;
  }
  // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; as a /64 they
  // would all share one bucket.
  if (address->is_v6() && address->to_v6().is_v4_mapped()) {
    const auto v4 = asio::ip::make_address_v4(asio::ip::v4_mapped, address->to_v6()).to_bytes();
    group[0] = static_cast<std::uint8_t>(GroupKind::kIpv4);
    std::copy(v4.begin(), v4.end(), out);
  } else if (address->is_v4()) {
    const auto v4 = address->to_v4().to_bytes();
    group[0] = static_cast<std::uint8_t>(GroupKind::kIpv4);
    std::copy(v4.begin(), v4.end(), out);
  } else {
    const auto v6 = address->to_v6().to_bytes();
    group[0] = static_cast<std::uint8_t>(GroupKind::kIpv6);
    std::copy_n(v6.begin(), 8, out);  // the /64
  }
  return group;
}

std::size_t CreateAdmission::GroupHash::operator()(const NeighbourGroup& group) const noexcept {
  static const auto key = [] {
    std::array<std::uint8_t, crypto::kSipHashKeySize> k;
    crypto::random_bytes(k);
    return k;
  }();
  return crypto::siphash24(key, group);
}

CreateAdmission::CreateAdmission(const Clock& clock, const CreateLimits& limits)
    : per_address_(clock, limits.rate_per_address, limits.burst_per_address, kMaxGroups,
                   kIdleExpiry),
      per_relay_(clock, limits.rate_per_relay, limits.burst_per_relay, kMaxGroups, kIdleExpiry),
      node_wide_(clock, limits.rate_max, limits.burst_max) {}

bool CreateAdmission::take_group_token(const transport::PeerKey& from,
                                       const std::optional<asio::ip::address>& address) {
  return relay_links_.contains(from) ? per_relay_.try_acquire(from)
                                     : per_address_.try_acquire(address_group(address));
}

CreateAdmission::Verdict CreateAdmission::admit(const transport::PeerKey& from,
                                                const std::optional<asio::ip::address>& address) {
  if (!take_group_token(from, address)) {
    return Verdict::kRateLimited;
  }
  if (!node_wide_.try_acquire()) {
    return Verdict::kOverloaded;
  }
  return Verdict::kAdmitted;
}

CreateAdmission::Verdict CreateAdmission::admit_directory(
    const transport::PeerKey& from, const std::optional<asio::ip::address>& address) {
  return take_group_token(from, address) ? Verdict::kAdmitted : Verdict::kRateLimited;
}

}  // namespace nyx::mix
