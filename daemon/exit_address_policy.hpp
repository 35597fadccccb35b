#pragma once
// ExitAddressPolicy: the exit policy an exit node enforces, which destination
// addresses it connects streams to.
//
// An ordered list of accept/reject rules on address ranges (CIDR, IPv4 and
// IPv6) and port ranges; the first rule that matches decides, and nothing
// matching means reject. Before the rules, special ranges that lead around
// the policy (NAT64, 6to4, multicast, 240/4, ...) are rejected always; the
// exit's own addresses are rejected when given; private, loopback,
// link-local and unspecified addresses are rejected unless the options allow
// them (a local testnet must). IPv4-mapped IPv6 addresses are checked as the
// IPv4 address they carry, so a rule on 10.0.0.0/8 cannot be sidestepped
// with ::ffff:10.0.0.1. The text format is given with parse() below.
//
// Not document::AdvertisedExitRules: those are the host-pattern rules a node
// advertises in its descriptor so clients pick a fitting exit (names matched
// as text, no address ranges). This one is what the exit enforces on the
// addresses a name resolved to, where address ranges and private networks
// matter.
// Immutable after parse(); safe to share between threads.

#include <array>
#include <compare>
#include <cstdint>
#include <set>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace nyx::daemon {

// An IPv4 or IPv6 address in network byte order.
class IpAddress {
 public:
  // Dotted quad or RFC 4291 text (no brackets, no zone). kParse otherwise.
  static Result<IpAddress> parse(std::string_view text);
  static IpAddress v4(std::array<std::uint8_t, 4> bytes) noexcept;
  static IpAddress v6(const std::array<std::uint8_t, 16>& bytes) noexcept;

  bool is_v4() const noexcept { return v4_; }
  // The first 4 bytes for IPv4, all 16 for IPv6.
  const std::array<std::uint8_t, 16>& bytes() const noexcept { return bytes_; }
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as IPv4; others unchanged.
  IpAddress unmapped() const noexcept;
  // Whether the first prefix_bits bits equal those of network (same family).
  bool in_prefix(const IpAddress& network, unsigned prefix_bits) const noexcept;

  // Bytes, then family: any strict order, so that a std::set can hold them.
  auto operator<=>(const IpAddress&) const = default;

 private:
  std::array<std::uint8_t, 16> bytes_{};
  bool v4_ = true;
};

struct ExitAddressPolicyOptions {
  // Let rules accept private, loopback and link-local destinations.
  bool allow_private = false;
};

// What the exit does with a destination given as a name or an address.
enum class ExitVerdict : std::uint8_t {
  kAccept,
  kReject,
  // A name whose fate depends on the address it resolves to: resolve, then
  // call allows() for the address.
  kResolveFirst,
};

class ExitAddressPolicy {
 public:
  // One parsed rule (public so that the parser's steps can be free functions).
  enum class Family : std::uint8_t { kAny, kV4, kV6 };
  struct Rule {
    bool accept = false;
    Family family = Family::kAny;
    IpAddress network;
    unsigned prefix_bits = 0;
    std::uint16_t port_low = 1;
    std::uint16_t port_high = 65535;
  };

  // Rules separated by commas or newlines; '#' starts a comment to the end of
  // the line. Each rule is `accept|reject ADDRESS:PORTS` where ADDRESS is `*`
  // (any), `*4`, `*6`, an IPv4 address with an optional `/bits`, or a
  // bracketed IPv6 address with an optional `/bits`; PORTS is `*`, a port, or
  // `low-high`. Errors are kConfig and name the rule, its text and the column.
  // `own_addresses` are the exit's own (daemon/own_addresses.hpp), refused
  // whatever the rules say; one that is private is left to allow_private, so
  // a loopback testnet still reaches its origin.
  static Result<ExitAddressPolicy> parse(std::string_view text,
                                         ExitAddressPolicyOptions options = {},
                                         const std::set<IpAddress>& own_addresses = {});

  // Whether a stream to address:port may be opened.
  bool allows(const IpAddress& address, std::uint16_t port) const noexcept;

  // For what a client asked for: an address literal is accepted or rejected at
  // once; a name is rejected when no address could be accepted on that port,
  // and otherwise must be resolved and each address checked with allows().
  ExitVerdict check(std::string_view host, std::uint16_t port) const;

  // Private (RFC 1918, RFC 6598, ULA), loopback, link-local or unspecified.
  static bool is_private(const IpAddress& address) noexcept;
  // NAT64 (64:ff9b::/96, 64:ff9b:1::/48), 6to4 (2002::/16), 192.0.0.0/24,
  // 198.18.0.0/15, multicast (224.0.0.0/4, ff00::/8) or 240.0.0.0/4: refused
  // always, since no option makes them a fair destination (proposal 0004,
  // section 8.1).
  static bool is_special(const IpAddress& address) noexcept;

  std::size_t rule_count() const noexcept { return rules_.size(); }

 private:
  static bool matches(const Rule& rule, const IpAddress& address, std::uint16_t port) noexcept;

  std::vector<Rule> rules_;
  ExitAddressPolicyOptions options_;
  std::set<IpAddress> own_addresses_;  // unmapped
};

}  // namespace nyx::daemon
