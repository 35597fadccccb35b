#pragma once
// An HTTP GET through a SOCKS5 proxy for integration tests: a client node's
// SOCKS port, asked by name as curl --socks5-hostname asks (RFC 1928, no
// authentication, CONNECT with a domain name).

#include <chrono>
#include <cstdint>
#include <expected>
#include <string>

namespace nyx::test {

// GETs `path` from host:port through the proxy at `socks` (HOST:PORT, an IP
// literal) and returns the whole reply, the server closing after it; or what
// failed: the proxy's greeting, its reply code to CONNECT, the stream, or no
// complete reply within `timeout`.
std::expected<std::string, std::string> socks_http_get(const std::string& socks,
                                                       const std::string& host, std::uint16_t port,
                                                       const std::string& path,
                                                       std::chrono::milliseconds timeout);

}  // namespace nyx::test
