#include "daemon/metrics_allow_list.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <string_view>

#include <fmt/format.h>

namespace nyx::daemon {
namespace {

auto bad_entry(std::string_view entry, std::string_view why) {
  return make_error(ErrorCategory::kConfig,
                    fmt::format("'{}' is not an address or CIDR range: {}", entry, why));
}

}  // namespace

Result<MetricsAllowList> MetricsAllowList::parse(const std::vector<std::string>& entries) {
  if (entries.empty()) {
    return make_error(ErrorCategory::kConfig, "is empty: nobody could scrape");
  }
  MetricsAllowList list;
  for (const std::string& entry : entries) {
    const std::string_view text = entry;
    const auto slash = text.find('/');
    auto address = IpAddress::parse(text.substr(0, slash));
    if (!address) {
      return bad_entry(entry, "expected an IPv4 or IPv6 address");
    }
    const unsigned total = address->is_v4() ? 32 : 128;
    unsigned bits = total;
    if (slash != std::string_view::npos) {
      const std::string_view digits = text.substr(slash + 1);
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
      if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
          bits > total) {
        return bad_entry(
            entry, total == 32 ? "prefix length must be 0-32" : "prefix length must be 0-128");
      }
    }
    // Bits past the prefix make the intent unclear (10.1.2.3/8): refuse, as
    // the exit policy does.
    for (unsigned bit = bits; bit < total; ++bit) {
      if ((static_cast<unsigned>(address->bytes()[bit / 8]) >> (7 - bit % 8)) & 1U) {
        return bad_entry(entry, "bits set past the prefix length");
      }
    }
    // Clients are compared unmapped (a dual-stack socket reports IPv4 as
    // ::ffff:a.b.c.d), so an entry written in that form is stored as the
    // IPv4 range it names; one wider than ::ffff:0:0/96 cannot be.
    const IpAddress plain = address->unmapped();
    if (plain.is_v4() && !address->is_v4()) {
      if (bits < 96) {
        return bad_entry(entry, "an IPv4-mapped range needs a prefix length of 96 or more");
      }
      bits -= 96;
    }
    list.ranges_.push_back({plain, bits});
  }
  return list;
}

MetricsAllowList MetricsAllowList::loopback() {
  MetricsAllowList list;
  list.ranges_.push_back({IpAddress::v4({127, 0, 0, 0}), 8});
  std::array<std::uint8_t, 16> v6_loopback{};
  v6_loopback[15] = 1;
  list.ranges_.push_back({IpAddress::v6(v6_loopback), 128});
  return list;
}

bool MetricsAllowList::allows(const IpAddress& client) const noexcept {
  const IpAddress plain = client.unmapped();
  for (const Range& range : ranges_) {
    if (plain.in_prefix(range.network, range.prefix_bits)) {
      return true;
    }
  }
  return false;
}

}  // namespace nyx::daemon
