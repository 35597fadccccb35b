#include "daemon/exit_address_policy.hpp"

#include <charconv>
#include <cstring>
#include <set>
#include <string>
#include <utility>

#include <arpa/inet.h>
#include <fmt/format.h>

namespace nyx::daemon {
namespace {

constexpr std::string_view kSpace = " \t\r";

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = s.find_last_not_of(kSpace);
  return s.substr(first, last - first + 1);
}

template <class Int>
bool parse_decimal(std::string_view text, Int& out) {
  if (text.empty()) {
    return false;
  }
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc{} && ptr == end;
}

struct AddressRange {
  const char* network;
  unsigned bits;
};

// RFC 6890's special-purpose ranges that lead into someone's local network.
constexpr AddressRange kPrivateRanges[] = {
    {"0.0.0.0", 8},      {"10.0.0.0", 8},    {"100.64.0.0", 10},  {"127.0.0.0", 8},
    {"169.254.0.0", 16}, {"172.16.0.0", 12}, {"192.168.0.0", 16}, {"::", 128},
    {"::1", 128},        {"fe80::", 10},     {"fc00::", 7},
};

// Ranges no stream should reach whatever the options (proposal 0004, section
// 8.1): NAT64 and 6to4 carry an IPv4 address (a private one too) past the
// checks; 192.0.0.0/24 holds DS-Lite, NAT64 discovery and PCP anycast;
// 198.18.0.0/15 is for lab networks; multicast is never a stream's peer;
// 240.0.0.0/4 is reserved and ends with the limited broadcast address.
constexpr AddressRange kSpecialRanges[] = {
    {"64:ff9b::", 96},  {"64:ff9b:1::", 48}, {"2002::", 16}, {"192.0.0.0", 24},
    {"198.18.0.0", 15}, {"224.0.0.0", 4},    {"ff00::", 8},  {"240.0.0.0", 4},
};

using ParsedRanges = std::vector<std::pair<IpAddress, unsigned>>;

// A constant table, valid by construction, as addresses to match against.
template <std::size_t N>
ParsedRanges parse_ranges(const AddressRange (&table)[N]) {
  ParsedRanges ranges;
  for (const auto& range : table) {
    ranges.emplace_back(*IpAddress::parse(range.network), range.bits);
  }
  return ranges;
}

bool in_any_range(const IpAddress& address, const ParsedRanges& ranges) noexcept {
  const IpAddress plain = address.unmapped();
  for (const auto& [network, bits] : ranges) {
    if (plain.in_prefix(network, bits)) {
      return true;
    }
  }
  return false;
}

// One rule of the text being parsed: where errors point to.
struct RuleText {
  std::size_t number;
  std::string_view text;

  std::unexpected<Error> fail(std::size_t offset, std::string_view what) const {
    return make_error(
        ErrorCategory::kConfig,
        fmt::format("exit policy rule {} \"{}\": {} at column {}", number, text, what, offset + 1));
  }
};

using Rule = ExitAddressPolicy::Rule;
using Family = ExitAddressPolicy::Family;

// The pieces of a rule's `ADDRESS[/bits]:PORTS`, with where each starts.
struct RuleTarget {
  std::size_t at = 0;  // column of the target in the rule
  std::string_view text;
  std::string_view address;
  std::string_view bits;  // empty when there is no '/'
  bool has_slash = false;
  std::size_t after_address = 0;  // offset in text of '/' or ':'
  std::string_view ports;
  std::size_t ports_at = 0;  // column of the ports in the rule
  bool bracketed() const noexcept { return text.starts_with('['); }
};

// Splits ADDRESS[/bits] from PORTS; an IPv6 address is bracketed.
Result<RuleTarget> split_target(const RuleText& where, std::size_t target_at) {
  RuleTarget target;
  target.at = target_at;
  target.text = where.text.substr(target_at);
  if (target.bracketed()) {
    const auto close = target.text.find(']');
    if (close == std::string_view::npos) {
      return where.fail(target_at, "'[' without ']'");
    }
    target.address = target.text.substr(1, close - 1);
    target.after_address = close + 1;
  } else {
    target.after_address = target.text.find_first_of("/:");
    if (target.after_address == std::string_view::npos) {
      return where.fail(target_at + target.text.size(), "expected ':' and ports");
    }
    target.address = target.text.substr(0, target.after_address);
  }
  const auto colon = target.text.find(':', target.after_address);
  if (colon == std::string_view::npos) {
    return where.fail(target_at + target.text.size(), "expected ':' and ports");
  }
  target.has_slash = target.text[target.after_address] == '/';
  if (target.has_slash) {
    target.bits = target.text.substr(target.after_address + 1, colon - target.after_address - 1);
  } else if (colon != target.after_address) {
    return where.fail(target_at + target.after_address, "expected '/bits' or ':'");
  }
  target.ports = target.text.substr(colon + 1);
  target.ports_at = target_at + colon + 1;
  return target;
}

// An address with its prefix: sets the rule's family, network and prefix.
Status parse_network(const RuleText& where, const RuleTarget& target, Rule& rule) {
  auto address = IpAddress::parse(target.address);
  if (!address || address->is_v4() == target.bracketed()) {
    return where.fail(target.at, target.bracketed() ? "expected an IPv6 address"
                                                    : "expected an IPv4 address, "
                                                      "'*', or '[' IPv6 ']'");
  }
  const unsigned total = address->is_v4() ? 32u : 128u;
  rule.family = address->is_v4() ? Family::kV4 : Family::kV6;
  rule.network = *address;
  rule.prefix_bits = total;
  if (target.has_slash) {
    unsigned bits = 0;
    if (!parse_decimal(target.bits, bits) || bits > total) {
      return where.fail(target.at + target.after_address + 1, address->is_v4()
                                                                  ? "prefix length must be 0-32"
                                                                  : "prefix length must be 0-128");
    }
    rule.prefix_bits = bits;
  }
  // Bits past the prefix make the intent unclear (10.1.2.3/8): refuse.
  for (unsigned bit = rule.prefix_bits; bit < total; ++bit) {
    if ((static_cast<unsigned>(address->bytes()[bit / 8]) >> (7 - bit % 8)) & 1u) {
      return where.fail(target.at, "address has bits set past its prefix length");
    }
  }
  return {};
}

// `*`, `*4`, `*6` or a network.
Status parse_address(const RuleText& where, const RuleTarget& target, Rule& rule) {
  const std::string_view address = target.address;
  if (address != "*" && address != "*4" && address != "*6") {
    return parse_network(where, target, rule);
  }
  if (target.has_slash || target.bracketed()) {
    return where.fail(target.at, "a wildcard takes no brackets or '/bits'");
  }
  rule.family = address == "*" ? Family::kAny : address == "*4" ? Family::kV4 : Family::kV6;
  return {};
}

// `*`, a port, or `low-high`.
Status parse_ports(const RuleText& where, const RuleTarget& target, Rule& rule) {
  if (target.ports == "*") {
    return {};
  }
  const auto dash = target.ports.find('-');
  const std::string_view low = target.ports.substr(0, dash);
  const std::string_view high =
      dash == std::string_view::npos ? low : target.ports.substr(dash + 1);
  if (!parse_decimal(low, rule.port_low) || !parse_decimal(high, rule.port_high) ||
      rule.port_low == 0 || rule.port_low > rule.port_high) {
    return where.fail(target.ports_at, "expected '*', a port 1-65535 or 'low-high'");
  }
  return {};
}

// `accept|reject ADDRESS:PORTS`.
Result<Rule> parse_rule(const RuleText& where) {
  const std::string_view piece = where.text;
  Rule rule;
  const auto space = piece.find_first_of(kSpace);
  const std::string_view keyword = piece.substr(0, space);
  if (keyword == "accept") {
    rule.accept = true;
  } else if (keyword != "reject") {
    return where.fail(0, "expected 'accept' or 'reject'");
  }
  if (space == std::string_view::npos) {
    return where.fail(piece.size(), "expected ADDRESS:PORTS");
  }
  auto target = split_target(where, piece.find_first_not_of(kSpace, space));
  if (!target) {
    return std::unexpected(std::move(target.error()));
  }
  if (auto address = parse_address(where, *target, rule); !address) {
    return std::unexpected(std::move(address.error()));
  }
  if (auto ports = parse_ports(where, *target, rule); !ports) {
    return std::unexpected(std::move(ports.error()));
  }
  return rule;
}

}  // namespace

Result<IpAddress> IpAddress::parse(std::string_view text) {
  // inet_pton wants a NUL-terminated string; the longest valid text fits.
  std::array<char, INET6_ADDRSTRLEN + 1> buffer{};
  if (text.empty() || text.size() >= buffer.size()) {
    return make_error(ErrorCategory::kParse, "not an IP address");
  }
  std::memcpy(buffer.data(), text.data(), text.size());
  IpAddress address;
  if (inet_pton(AF_INET, buffer.data(), address.bytes_.data()) == 1) {
    address.v4_ = true;
    return address;
  }
  if (inet_pton(AF_INET6, buffer.data(), address.bytes_.data()) == 1) {
    address.v4_ = false;
    return address;
  }
  return make_error(ErrorCategory::kParse, "not an IP address");
}

IpAddress IpAddress::v4(std::array<std::uint8_t, 4> bytes) noexcept {
  IpAddress address;
  std::memcpy(address.bytes_.data(), bytes.data(), bytes.size());
  address.v4_ = true;
  return address;
}

IpAddress IpAddress::v6(const std::array<std::uint8_t, 16>& bytes) noexcept {
  IpAddress address;
  address.bytes_ = bytes;
  address.v4_ = false;
  return address;
}

IpAddress IpAddress::unmapped() const noexcept {
  static constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (v4_ || std::memcmp(bytes_.data(), kMappedPrefix, sizeof kMappedPrefix) != 0) {
    return *this;
  }
  return v4({bytes_[12], bytes_[13], bytes_[14], bytes_[15]});
}

bool IpAddress::in_prefix(const IpAddress& network, unsigned prefix_bits) const noexcept {
  if (v4_ != network.v4_ || prefix_bits > (v4_ ? 32u : 128u)) {
    return false;
  }
  const unsigned whole = prefix_bits / 8;
  if (std::memcmp(bytes_.data(), network.bytes_.data(), whole) != 0) {
    return false;
  }
  const unsigned rest = prefix_bits % 8;
  if (rest == 0) {
    return true;
  }
  const auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (bytes_[whole] & mask) == (network.bytes_[whole] & mask);
}

bool ExitAddressPolicy::is_private(const IpAddress& address) noexcept {
  static const ParsedRanges kRanges = parse_ranges(kPrivateRanges);  // thread-safe static
  return in_any_range(address, kRanges);
}

bool ExitAddressPolicy::is_special(const IpAddress& address) noexcept {
  static const ParsedRanges kRanges = parse_ranges(kSpecialRanges);
  return in_any_range(address, kRanges);
}

Result<ExitAddressPolicy> ExitAddressPolicy::parse(std::string_view text,
                                                   ExitAddressPolicyOptions options,
                                                   const std::set<IpAddress>& own_addresses) {
  ExitAddressPolicy policy;
  policy.options_ = options;
  // Kept in the unmapped form allows() compares with.
  for (const IpAddress& address : own_addresses) {
    policy.own_addresses_.insert(address.unmapped());
  }
  std::size_t number = 0;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    line = line.substr(0, line.find('#'));
    while (!line.empty()) {
      const auto comma = line.find(',');
      const std::string_view piece = trim(line.substr(0, comma));
      line = comma == std::string_view::npos ? std::string_view{} : line.substr(comma + 1);
      if (piece.empty()) {
        continue;
      }
      auto rule = parse_rule(RuleText{++number, piece});
      if (!rule) {
        return std::unexpected(std::move(rule.error()));
      }
      policy.rules_.push_back(*rule);
    }
  }
  return policy;
}

bool ExitAddressPolicy::matches(const Rule& rule, const IpAddress& address,
                                std::uint16_t port) noexcept {
  if (port < rule.port_low || port > rule.port_high) {
    return false;
  }
  switch (rule.family) {
    case Family::kAny:
      return true;
    case Family::kV4:
    case Family::kV6:
      return (rule.family == Family::kV4) == address.is_v4() &&
             address.in_prefix(rule.network, rule.prefix_bits);
  }
  return false;
}

bool ExitAddressPolicy::allows(const IpAddress& address, std::uint16_t port) const noexcept {
  const IpAddress plain = address.unmapped();
  if (is_special(plain)) {
    return false;
  }
  if (is_private(plain)) {
    if (!options_.allow_private) {
      return false;
    }
  } else if (own_addresses_.contains(plain)) {
    return false;
  }
  for (const Rule& rule : rules_) {
    if (matches(rule, plain, port)) {
      return rule.accept;
    }
  }
  return false;
}

ExitVerdict ExitAddressPolicy::check(std::string_view host, std::uint16_t port) const {
  if (auto address = IpAddress::parse(host)) {
    return allows(*address, port) ? ExitVerdict::kAccept : ExitVerdict::kReject;
  }
  // A name: the first rule covering this port decides only when it rejects
  // every address; anything else depends on what the name resolves to.
  for (const Rule& rule : rules_) {
    if (port < rule.port_low || port > rule.port_high) {
      continue;
    }
    if (rule.family == Family::kAny && !rule.accept) {
      return ExitVerdict::kReject;
    }
    return ExitVerdict::kResolveFirst;
  }
  return ExitVerdict::kReject;
}

}  // namespace nyx::daemon
