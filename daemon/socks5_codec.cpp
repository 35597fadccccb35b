#include "daemon/socks5_codec.hpp"

#include <cerrno>

#include <arpa/inet.h>

namespace nyx::daemon {
namespace {

std::unexpected<Error> parse_failure(Socks5Reply reply, std::string message) {
  return make_error(ErrorCategory::kParse, std::move(message), static_cast<int>(reply));
}

std::string address_text(int family, Bytes raw) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  // inet_ntop cannot fail for AF_INET/AF_INET6 with a buffer this size.
  inet_ntop(family, raw.data(), text.data(), static_cast<socklen_t>(text.size()));
  return std::string(text.data());
}

// Printable ASCII without spaces: what a DNS name or an IP literal looks like.
// Anything else cannot name a host and must not reach logs or the exit.
bool is_plausible_host(Bytes name) noexcept {
  for (std::uint8_t c : name) {
    if (c <= 0x20 || c >= 0x7f) {
      return false;
    }
  }
  return true;
}

}  // namespace

ParseResult<Socks5Greeting> parse_socks5_greeting(Bytes in) {
  ByteReader reader(in);
  std::uint8_t version = 0;
  std::uint8_t count = 0;
  if (!reader.read_u8(version)) {
    return std::nullopt;
  }
  if (version != kSocks5Version) {
    return parse_failure(Socks5Reply::kGeneralFailure, "greeting: not SOCKS version 5");
  }
  if (!reader.read_u8(count)) {
    return std::nullopt;
  }
  if (count == 0) {
    return parse_failure(Socks5Reply::kGeneralFailure, "greeting: no methods offered");
  }
  Bytes methods;
  if (!reader.read_bytes(count, methods)) {
    return std::nullopt;
  }
  Socks5Greeting greeting;
  for (std::uint8_t m : methods) {
    greeting.offers_no_auth |= m == static_cast<std::uint8_t>(Socks5Method::kNoAuth);
    greeting.offers_user_pass |= m == static_cast<std::uint8_t>(Socks5Method::kUserPass);
  }
  return Parsed<Socks5Greeting>{greeting, reader.position()};
}

Socks5Method select_socks5_method(const Socks5Greeting& greeting) noexcept {
  if (greeting.offers_user_pass) {
    return Socks5Method::kUserPass;
  }
  if (greeting.offers_no_auth) {
    return Socks5Method::kNoAuth;
  }
  return Socks5Method::kNoAcceptable;
}

ParseResult<IsolationKey> parse_socks5_user_pass(Bytes in) {
  ByteReader reader(in);
  std::uint8_t version = 0;
  if (!reader.read_u8(version)) {
    return std::nullopt;
  }
  if (version != kSocks5UserPassVersion) {
    return parse_failure(Socks5Reply::kGeneralFailure, "user/pass: not sub-negotiation version 1");
  }
  std::uint8_t length = 0;
  Bytes username;
  Bytes password;
  if (!reader.read_u8(length) || !reader.read_bytes(length, username) || !reader.read_u8(length) ||
      !reader.read_bytes(length, password)) {
    return std::nullopt;
  }
  IsolationKey key{std::string(username.begin(), username.end()),
                   std::string(password.begin(), password.end())};
  return Parsed<IsolationKey>{std::move(key), reader.position()};
}

ParseResult<Socks5Destination> parse_socks5_request(Bytes in) {
  ByteReader reader(in);
  std::uint8_t version = 0;
  std::uint8_t command = 0;
  std::uint8_t reserved = 0;
  std::uint8_t type = 0;
  if (!reader.read_u8(version)) {
    return std::nullopt;
  }
  if (version != kSocks5Version) {
    return parse_failure(Socks5Reply::kGeneralFailure, "request: not SOCKS version 5");
  }
  if (!reader.read_u8(command) || !reader.read_u8(reserved) || !reader.read_u8(type)) {
    return std::nullopt;
  }
  if (reserved != 0) {
    return parse_failure(Socks5Reply::kGeneralFailure, "request: reserved byte is not zero");
  }
  Socks5Destination destination;
  Bytes raw;
  switch (static_cast<Socks5AddressType>(type)) {
    case Socks5AddressType::kIpv4:
      if (!reader.read_bytes(4, raw)) {
        return std::nullopt;
      }
      destination.host = address_text(AF_INET, raw);
      break;
    case Socks5AddressType::kIpv6:
      if (!reader.read_bytes(16, raw)) {
        return std::nullopt;
      }
      destination.host = address_text(AF_INET6, raw);
      break;
    case Socks5AddressType::kDomain: {
      std::uint8_t length = 0;
      if (!reader.read_u8(length) || !reader.read_bytes(length, raw)) {
        return std::nullopt;
      }
      if (length == 0) {
        return parse_failure(Socks5Reply::kGeneralFailure, "request: empty domain name");
      }
      if (!is_plausible_host(raw)) {
        return parse_failure(Socks5Reply::kGeneralFailure,
                             "request: domain name has bytes outside printable ASCII");
      }
      destination.host.assign(raw.begin(), raw.end());
      break;
    }
    default:
      return parse_failure(Socks5Reply::kAddressTypeNotSupported, "request: unknown address type");
  }
  destination.type = static_cast<Socks5AddressType>(type);
  if (!reader.read_be16(destination.port)) {
    return std::nullopt;
  }
  if (command != static_cast<std::uint8_t>(Socks5Command::kConnect)) {
    // Whole request read first, so the reply is the command's, not a framing one.
    return parse_failure(Socks5Reply::kCommandNotSupported,
                         "request: only CONNECT is supported (not BIND or UDP ASSOCIATE)");
  }
  return Parsed<Socks5Destination>{std::move(destination), reader.position()};
}

std::array<std::uint8_t, 2> encode_socks5_method_selection(Socks5Method method) noexcept {
  return {kSocks5Version, static_cast<std::uint8_t>(method)};
}

std::array<std::uint8_t, 2> encode_socks5_user_pass_reply(bool accepted) noexcept {
  return {kSocks5UserPassVersion, static_cast<std::uint8_t>(accepted ? 0x00 : 0x01)};
}

std::array<std::uint8_t, 10> encode_socks5_reply(Socks5Reply reply) noexcept {
  return {kSocks5Version,
          static_cast<std::uint8_t>(reply),
          0x00,
          static_cast<std::uint8_t>(Socks5AddressType::kIpv4),
          0,
          0,
          0,
          0,
          0,
          0};
}

Socks5Reply socks5_reply_for(const Error& error) noexcept {
  switch (error.category) {
    case ErrorCategory::kTimeout:
      return Socks5Reply::kTtlExpired;
    case ErrorCategory::kPermission:
      return Socks5Reply::kNotAllowedByRuleset;
    case ErrorCategory::kNotFound:
      return Socks5Reply::kHostUnreachable;
    case ErrorCategory::kIo:
      switch (error.code) {
        case ECONNREFUSED:
          return Socks5Reply::kConnectionRefused;
        case EHOSTUNREACH:
          return Socks5Reply::kHostUnreachable;
        case ENETUNREACH:
          return Socks5Reply::kNetworkUnreachable;
        case ETIMEDOUT:
          return Socks5Reply::kTtlExpired;
        default:
          return Socks5Reply::kGeneralFailure;
      }
    default:
      return Socks5Reply::kGeneralFailure;
  }
}

Socks5Reply socks5_reply_of_parse_error(const Error& error) noexcept {
  if (error.code >= static_cast<int>(Socks5Reply::kGeneralFailure) &&
      error.code <= static_cast<int>(Socks5Reply::kAddressTypeNotSupported)) {
    return static_cast<Socks5Reply>(error.code);
  }
  return Socks5Reply::kGeneralFailure;
}

}  // namespace nyx::daemon
