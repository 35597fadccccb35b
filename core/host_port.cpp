#include "core/host_port.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace nyx {
namespace {

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

bool is_ipv6_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
         c == '.';
}

// Digits only (no sign, no spaces), as from_chars alone would stop early on
// "1x"; at most five of them, so no overflow.
bool parse_port(std::string_view text, std::uint16_t& out) {
  if (text.empty() || text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  std::uint32_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc{} || end != text.data() + text.size() || number > 65535) {
    return false;
  }
  out = static_cast<std::uint16_t>(number);
  return true;
}

}  // namespace

std::string HostPort::to_string() const {
  if (host.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", host, port);
  }
  return fmt::format("{}:{}", host, port);
}

Result<HostPort> parse_host_port(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return make_error(ErrorCategory::kParse, "expected \"[ipv6]:port\"");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    if (host.find(':') == std::string_view::npos ||
        !std::all_of(host.begin(), host.end(), is_ipv6_char)) {
      return make_error(ErrorCategory::kParse, "not an IPv6 address inside [ ]");
    }
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return make_error(ErrorCategory::kParse, "expected \"host:port\"");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return make_error(ErrorCategory::kParse, "an IPv6 address needs brackets: \"[addr]:port\"");
    }
    if (host.empty() || !std::all_of(host.begin(), host.end(), is_host_char)) {
      return make_error(ErrorCategory::kParse, "expected \"host:port\" with a valid host");
    }
  }
  HostPort out{std::string(host), 0};
  if (!parse_port(port, out.port)) {
    return make_error(ErrorCategory::kParse, "port must be a number from 0 to 65535");
  }
  return out;
}

}  // namespace nyx
