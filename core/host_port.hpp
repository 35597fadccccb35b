#pragma once
// HostPort: a network address as text names it, "host:port" or "[v6]:port",
// and the one parser for that text. Configuration files (listen addresses),
// the command line (nyxctl bench), descriptors (a node's addresses) and the
// advertised exit rules (a destination) all read addresses through it.
//
// A plain value type; the parser is a pure function, safe from any thread.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace nyx {

// A listen, connect or destination address: a host name, an IPv4 address or
// an IPv6 address (written "[v6]:port" in text, kept without brackets here).
struct HostPort {
  std::string host;
  std::uint16_t port = 0;

  bool operator==(const HostPort&) const = default;
  // "host:port", or "[v6]:port" when host contains ':'.
  std::string to_string() const;
};

// "example.org:443", "127.0.0.1:0", "[::1]:9050". kParse on anything else,
// including an IPv6 address without brackets and a port above 65535; the
// message says what is wrong but not the text, so each caller can name the
// place it came from (a config key, a command-line option, a descriptor).
// A host is letters, digits, '-', '.' and '_'; inside brackets, an IPv6
// address. Port 0 is accepted (a listen address may ask for any port);
// callers that need a real port check for it.
Result<HostPort> parse_host_port(std::string_view text);

}  // namespace nyx
