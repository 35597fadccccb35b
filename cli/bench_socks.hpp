#pragma once
// The SOCKS5 (RFC 1928) messages `nyxctl bench` speaks: as a client (no-auth
// greeting, CONNECT by domain name so the proxy resolves it: socks5h) and,
// for the plain-proxy baseline, as a server. Requests and replies share one
// layout, VER CODE RSV ATYP ADDR PORT, so one parser reads both. A client
// may also send everything at once, before the replies (optimistic data).
// Pure functions, thread-safe.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "core/error.hpp"

namespace nyx::cli {

inline constexpr std::uint8_t kSocksVersion = 5;
inline constexpr std::uint8_t kSocksNoAuth = 0;
inline constexpr std::uint8_t kSocksNoAcceptableMethod = 0xFF;
inline constexpr std::uint8_t kSocksConnect = 1;
inline constexpr std::uint8_t kSocksAtypIpv4 = 1;
inline constexpr std::uint8_t kSocksAtypDomain = 3;
inline constexpr std::uint8_t kSocksAtypIpv6 = 4;
// Reply codes (RFC 1928 section 6).
inline constexpr std::uint8_t kSocksSucceeded = 0;
inline constexpr std::uint8_t kSocksGeneralFailure = 1;
inline constexpr std::uint8_t kSocksHostUnreachable = 4;
inline constexpr std::uint8_t kSocksConnectionRefused = 5;
inline constexpr std::uint8_t kSocksCommandNotSupported = 7;
inline constexpr std::uint8_t kSocksAddressNotSupported = 8;
// A request or reply is read in two steps: this many bytes tell its size.
inline constexpr std::size_t kSocksMessagePrefix = 5;

// One request (code = command) or reply (code = reply code). `host` is a
// domain name or the address in text form.
struct SocksMessage {
  std::uint8_t code = 0;
  std::uint8_t atyp = kSocksAtypDomain;
  std::string host;
  std::uint16_t port = 0;
};

// Client side: the greeting offering only "no authentication".
std::vector<std::uint8_t> encode_socks_greeting();
// kProtocol unless the server chose "no authentication".
Status check_socks_method_choice(Bytes choice);
// CONNECT to host:port by name; kInvalidArgument for an empty name or one
// longer than 255 bytes.
Result<std::vector<std::uint8_t>> encode_socks_connect(std::string_view host, std::uint16_t port);

// Client side, optimistic (Tor proposal 181, as Tor Browser does): the
// greeting, the CONNECT and the first application bytes as one message, sent
// before any reply; the proxy reads them in order and its two replies come
// back before the destination's first byte. Errors as encode_socks_connect.
Result<std::vector<std::uint8_t>> encode_socks_optimistic_open(std::string_view host,
                                                               std::uint16_t port, Bytes first);

// Server side: the size of the greeting whose first two bytes are `prefix`,
// and whether it offers "no authentication".
Result<std::size_t> socks_greeting_size(Bytes prefix);
bool socks_greeting_offers_no_auth(Bytes greeting);
// A reply with `code` and a zero IPv4 bound address.
std::vector<std::uint8_t> encode_socks_reply(std::uint8_t code);

// Both sides: the whole size of the message whose first kSocksMessagePrefix
// bytes are `prefix`, then the message itself. kParse on a wrong version or
// an unknown address type.
Result<std::size_t> socks_message_size(Bytes prefix);
Result<SocksMessage> parse_socks_message(Bytes message);

// A readable name for a reply code ("connection refused").
std::string_view socks_reply_name(std::uint8_t code);

}  // namespace nyx::cli
