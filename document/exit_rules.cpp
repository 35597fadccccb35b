#include "document/exit_rules.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "core/host_port.hpp"

namespace nyx::document {
namespace {

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

bool parse_port(std::string_view text, std::uint16_t& out) noexcept {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
    return false;
  }
  out = static_cast<std::uint16_t>(value);
  return true;
}

bool valid_host_pattern(std::string_view host) noexcept {
  if (host.empty() || host.size() > 255) {
    return false;
  }
  std::string_view rest = host;
  if (host == "*") {
    return true;
  }
  if (host.starts_with("*.")) {
    rest = host.substr(2);
  }
  return !rest.empty() && std::all_of(rest.begin(), rest.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':' ||
           c == '_';
  });
}

bool host_matches(std::string_view pattern, std::string_view host) noexcept {
  if (pattern == "*") {
    return true;
  }
  if (pattern.starts_with("*.")) {
    std::string_view suffix = pattern.substr(1);  // ".suffix"
    return host.size() > suffix.size() && iequals(host.substr(host.size() - suffix.size()), suffix);
  }
  return iequals(pattern, host);
}

}  // namespace

Result<AdvertisedExitRules::Rule> AdvertisedExitRules::parse_rule(std::string_view text) {
  auto bad = [&] {
    return make_error(ErrorCategory::kParse, fmt::format("bad exit rule '{}'", text));
  };
  Rule rule;
  std::string_view rest;
  if (text.starts_with("accept ")) {
    rule.accept = true;
    rest = text.substr(7);
  } else if (text.starts_with("reject ")) {
    rest = text.substr(7);
  } else {
    return bad();
  }
  std::size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) {
    return bad();
  }
  std::string_view host = rest.substr(0, colon);
  std::string_view ports = rest.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  rule.host.assign(host.begin(), host.end());
  std::transform(rule.host.begin(), rule.host.end(), rule.host.begin(), lower);
  if (!valid_host_pattern(rule.host)) {
    return bad();
  }
  if (ports != "*") {
    std::size_t dash = ports.find('-');
    if (dash == std::string_view::npos) {
      if (!parse_port(ports, rule.port_low)) {
        return bad();
      }
      rule.port_high = rule.port_low;
    } else if (!parse_port(ports.substr(0, dash), rule.port_low) ||
               !parse_port(ports.substr(dash + 1), rule.port_high) ||
               rule.port_low > rule.port_high) {
      return bad();
    }
  }
  return rule;
}

Result<AdvertisedExitRules> AdvertisedExitRules::parse(const std::vector<std::string>& rules) {
  AdvertisedExitRules out;
  out.rules_.reserve(rules.size());
  for (const std::string& text : rules) {
    auto rule = parse_rule(text);
    if (!rule) {
      return std::unexpected(std::move(rule.error()));
    }
    out.rules_.push_back(std::move(*rule));
  }
  return out;
}

bool AdvertisedExitRules::allows(std::string_view host, std::uint16_t port) const noexcept {
  for (const Rule& rule : rules_) {
    if (port >= rule.port_low && port <= rule.port_high && host_matches(rule.host, host)) {
      return rule.accept;
    }
  }
  return false;
}

bool AdvertisedExitRules::allows(std::string_view destination) const noexcept {
  auto parsed = parse_host_port(destination);
  return parsed && allows(parsed->host, parsed->port);
}

std::vector<std::string> AdvertisedExitRules::to_text() const {
  std::vector<std::string> out;
  out.reserve(rules_.size());
  for (const Rule& rule : rules_) {
    bool v6 = rule.host.find(':') != std::string::npos;
    std::string host = v6 ? "[" + rule.host + "]" : rule.host;
    std::string ports = (rule.port_low == 1 && rule.port_high == 65535) ? "*"
                        : rule.port_low == rule.port_high
                            ? fmt::format("{}", rule.port_low)
                            : fmt::format("{}-{}", rule.port_low, rule.port_high);
    out.push_back(fmt::format("{} {}:{}", rule.accept ? "accept" : "reject", host, ports));
  }
  return out;
}

}  // namespace nyx::document
