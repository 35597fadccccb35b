#include "cli/bench_address.hpp"

#include <charconv>

#include <fmt/format.h>

namespace nyx::cli {

Result<HostPort> parse_host_port(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return make_error(ErrorCategory::kInvalidArgument,
                      fmt::format("'{}': expected HOST:PORT ({})", text, why));
  };
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return bad("no port");
  }
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad("write IPv6 addresses in brackets");
  }
  if (host.empty()) {
    return bad("no host");
  }
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535 ||
      port_text.empty()) {
    return bad("the port is not a number from 0 to 65535");
  }
  return HostPort{std::string(host), static_cast<std::uint16_t>(port)};
}

}  // namespace nyx::cli
