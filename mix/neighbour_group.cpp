#include "mix/neighbour_group.hpp"

#include <algorithm>

#include "core/crypto/random.hpp"
#include "core/crypto/siphash.hpp"

namespace nyx::mix {
namespace {

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

std::size_t NeighbourGroupHash::operator()(const NeighbourGroup& group) const noexcept {
  static const auto key = [] {
    std::array<std::uint8_t, crypto::kSipHashKeySize> k;
    crypto::random_bytes(k);
    return k;
  }();
  return crypto::siphash24(key, group);
}

}  // namespace nyx::mix
