#pragma once
// HostPort: a "host:port" or "[v6]:port" command-line address, as `nyxctl
// bench` takes its target, SOCKS proxy and listen addresses. Plain value.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace nyx::cli {

struct HostPort {
  std::string host;
  std::uint16_t port = 0;

  bool operator==(const HostPort&) const = default;
};

// kInvalidArgument, naming the text, for a missing host or port or a port
// that is not a number in 0..65535.
Result<HostPort> parse_host_port(std::string_view text);

}  // namespace nyx::cli
