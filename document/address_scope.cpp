#include "document/address_scope.hpp"

#include <algorithm>

namespace nyx::document {
namespace {

struct Prefix {
  std::array<std::uint8_t, 4> ip;
  int bits;
};

// IPv4 ranges that are not global unicast (RFC 6890, RFC 5737, RFC 6598).
constexpr std::array<Prefix, 14> kIpv4NotGlobal = {{
    {{0, 0, 0, 0}, 8},        // "this" network
    {{10, 0, 0, 0}, 8},       // private
    {{100, 64, 0, 0}, 10},    // shared address space (CGN)
    {{127, 0, 0, 0}, 8},      // loopback
    {{169, 254, 0, 0}, 16},   // link-local
    {{172, 16, 0, 0}, 12},    // private
    {{192, 0, 0, 0}, 24},     // IETF protocol assignments
    {{192, 0, 2, 0}, 24},     // documentation (TEST-NET-1)
    {{192, 168, 0, 0}, 16},   // private
    {{198, 18, 0, 0}, 15},    // benchmarking
    {{198, 51, 100, 0}, 24},  // documentation (TEST-NET-2)
    {{203, 0, 113, 0}, 24},   // documentation (TEST-NET-3)
    {{224, 0, 0, 0}, 4},      // multicast
    {{240, 0, 0, 0}, 4},      // reserved, and the limited broadcast address
}};

bool in_prefix(const std::array<std::uint8_t, 16>& ip, const Prefix& prefix) noexcept {
  const std::uint32_t a = (std::uint32_t{ip[0]} << 24) | (std::uint32_t{ip[1]} << 16) |
                          (std::uint32_t{ip[2]} << 8) | ip[3];
  const std::uint32_t b = (std::uint32_t{prefix.ip[0]} << 24) |
                          (std::uint32_t{prefix.ip[1]} << 16) | (std::uint32_t{prefix.ip[2]} << 8) |
                          prefix.ip[3];
  const std::uint32_t mask = ~std::uint32_t{0} << (32 - prefix.bits);
  return (a & mask) == (b & mask);
}

}  // namespace

bool is_global_unicast(const NodeAddress& address) noexcept {
  switch (address.kind) {
    case NodeAddress::Kind::kNone:
      return false;
    case NodeAddress::Kind::kIpv4:
      return std::none_of(kIpv4NotGlobal.begin(), kIpv4NotGlobal.end(),
                          [&](const Prefix& p) { return in_prefix(address.ip, p); });
    case NodeAddress::Kind::kIpv6: {
      const bool global_block = (address.ip[0] & 0xE0) == 0x20;  // 2000::/3
      const bool documentation = address.ip[0] == 0x20 && address.ip[1] == 0x01 &&
                                 address.ip[2] == 0x0D && address.ip[3] == 0xB8;
      return global_block && !documentation;
    }
  }
  return false;
}

AddressGroup address_group(const NodeAddress& address) noexcept {
  AddressGroup group;
  group.kind = address.kind;
  const std::size_t length = address.kind == NodeAddress::Kind::kIpv4   ? 4
                             : address.kind == NodeAddress::Kind::kIpv6 ? 8
                                                                        : 0;
  std::copy_n(address.ip.begin(), length, group.prefix.begin());
  return group;
}

}  // namespace nyx::document
