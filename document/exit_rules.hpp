#pragma once
// AdvertisedExitRules: the exit rules a node advertises in its descriptor, so
// a client picks an exit that will take its destination. Ordered text rules
// ("accept *.example.org:443", "reject *:25", "accept *:1-65535"); the first
// rule that matches a destination decides, and a destination no rule matches
// is refused.
//
// Hosts are matched as text (names are resolved at the exit, never before):
// "*" matches any host, "*.suffix" any name ending in ".suffix", anything
// else exactly (ASCII case-insensitive). Ports are "*", "N" or "N-M".
//
// A promise for path selection, not the gate: what the exit enforces on the
// addresses a name resolves to is daemon::ExitAddressPolicy (address ranges,
// private networks). A value type; immutable after parse, so safe to share
// between threads.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace nyx::document {

class AdvertisedExitRules {
 public:
  struct Rule {
    bool accept = false;
    std::string host;  // "*", "*.suffix" or an exact host, lower case
    std::uint16_t port_low = 1;
    std::uint16_t port_high = 65535;
  };

  AdvertisedExitRules() = default;

  // Parses one rule per string; errors are kParse naming the bad rule.
  static Result<AdvertisedExitRules> parse(const std::vector<std::string>& rules);
  static Result<Rule> parse_rule(std::string_view text);

  // True when the first matching rule accepts host:port.
  bool allows(std::string_view host, std::uint16_t port) const noexcept;
  // The same for "host:port" text ("[v6]:port" for IPv6, as parse_host_port
  // reads it); malformed is false.
  bool allows(std::string_view destination) const noexcept;

  // The rules in their canonical text form ("accept *.example.org:443").
  std::vector<std::string> to_text() const;
  const std::vector<Rule>& rules() const noexcept { return rules_; }

 private:
  std::vector<Rule> rules_;
};

}  // namespace nyx::document
