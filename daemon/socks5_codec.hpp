#pragma once
// SOCKS5 wire codec (RFC 1928, RFC 1929), sans I/O.
//
// Parsers are total and incremental: given the bytes received so far they
// return "need more bytes" (an empty optional), a parsed message with the
// number of bytes it used, or an Error whose `code` is the RFC 1928 reply the
// server should send before closing. Encoders write fixed-size replies.
// Free functions, no state, safe from any thread.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/bytes.hpp"
#include "core/error.hpp"

namespace nyx::daemon {

inline constexpr std::uint8_t kSocks5Version = 0x05;
inline constexpr std::uint8_t kSocks5UserPassVersion = 0x01;

// RFC 1928 section 6: the REP field of a reply.
enum class Socks5Reply : std::uint8_t {
  kSucceeded = 0x00,
  kGeneralFailure = 0x01,
  kNotAllowedByRuleset = 0x02,
  kNetworkUnreachable = 0x03,
  kHostUnreachable = 0x04,
  kConnectionRefused = 0x05,
  kTtlExpired = 0x06,
  kCommandNotSupported = 0x07,
  kAddressTypeNotSupported = 0x08,
};

// RFC 1928 section 3: the METHOD of a method selection message.
enum class Socks5Method : std::uint8_t {
  kNoAuth = 0x00,
  kUserPass = 0x02,
  kNoAcceptable = 0xFF,
};

enum class Socks5Command : std::uint8_t {
  kConnect = 0x01,
  kBind = 0x02,
  kUdpAssociate = 0x03,
};

enum class Socks5AddressType : std::uint8_t {
  kIpv4 = 0x01,
  kDomain = 0x03,
  kIpv6 = 0x04,
};

// A parsed message and how many input bytes it took.
template <class T>
struct Parsed {
  T value;
  std::size_t consumed = 0;
};

// Empty optional: the message is not complete yet, read more and call again.
template <class T>
using ParseResult = Result<std::optional<Parsed<T>>>;

// The methods a client offered in its greeting.
struct Socks5Greeting {
  bool offers_no_auth = false;
  bool offers_user_pass = false;
};

// RFC 1929 credentials. Nyx never checks them: they only keep streams with
// different credentials on different circuits (as Tor's IsolateSOCKSAuth).
struct IsolationKey {
  std::string username;
  std::string password;
  auto operator<=>(const IsolationKey&) const = default;
};

// Where the client wants to go. `host` is the text form of the address, or
// the domain name exactly as received: names are resolved at the exit.
struct Socks5Destination {
  Socks5AddressType type = Socks5AddressType::kIpv4;
  std::string host;
  std::uint16_t port = 0;
};

// Longest SOCKS5 message the server parses: a request with a 255-byte name.
inline constexpr std::size_t kSocks5MaxMessage = 4 + 1 + 255 + 2;

// Version 5 and at least one method. A wrong version or an empty method list
// is an error with code kGeneralFailure; the server closes without a reply.
ParseResult<Socks5Greeting> parse_socks5_greeting(Bytes in);

// Username/password when offered (for isolation), else no-auth, else none.
Socks5Method select_socks5_method(const Socks5Greeting& greeting) noexcept;

// RFC 1929 sub-negotiation request. Empty names and passwords are accepted:
// they are isolation labels, not secrets anyone verifies.
ParseResult<IsolationKey> parse_socks5_user_pass(Bytes in);

// A CONNECT request. BIND and UDP ASSOCIATE give kCommandNotSupported, an
// unknown address type kAddressTypeNotSupported, anything else malformed
// kGeneralFailure (the Error's code is the reply to send).
ParseResult<Socks5Destination> parse_socks5_request(Bytes in);

std::array<std::uint8_t, 2> encode_socks5_method_selection(Socks5Method method) noexcept;
std::array<std::uint8_t, 2> encode_socks5_user_pass_reply(bool accepted) noexcept;

// A reply with BND.ADDR 0.0.0.0:0: the entry never learns, and so never
// reveals, the address the exit connected from.
std::array<std::uint8_t, 10> encode_socks5_reply(Socks5Reply reply) noexcept;

// The reply that reports a failed connect: timeouts are TTL expired, policy
// refusals not allowed by ruleset, errno values of kIo errors (refused, host
// or network unreachable) their own codes, a name that did not resolve host
// unreachable, anything else a general failure.
Socks5Reply socks5_reply_for(const Error& error) noexcept;

// The reply carried by an Error from parse_socks5_request (its code).
Socks5Reply socks5_reply_of_parse_error(const Error& error) noexcept;

}  // namespace nyx::daemon
