#include "cli/bench_socks.hpp"

#include <array>

#include <arpa/inet.h>
#include <fmt/format.h>

namespace nyx::cli {

std::vector<std::uint8_t> encode_socks_greeting() { return {kSocksVersion, 1, kSocksNoAuth}; }

Status check_socks_method_choice(Bytes choice) {
  if (choice.size() != 2 || choice[0] != kSocksVersion) {
    return make_error(ErrorCategory::kProtocol, "SOCKS5 proxy sent a malformed method choice");
  }
  if (choice[1] != kSocksNoAuth) {
    return make_error(ErrorCategory::kProtocol,
                      "SOCKS5 proxy refused the no-authentication method");
  }
  return {};
}

Result<std::vector<std::uint8_t>> encode_socks_connect(std::string_view host, std::uint16_t port) {
  if (host.empty() || host.size() > 255) {
    return make_error(ErrorCategory::kInvalidArgument,
                      fmt::format("SOCKS5 host name must be 1 to 255 bytes, not {}", host.size()));
  }
  std::vector<std::uint8_t> out{kSocksVersion, kSocksConnect, 0, kSocksAtypDomain,
                                static_cast<std::uint8_t>(host.size())};
  out.insert(out.end(), host.begin(), host.end());
  out.push_back(static_cast<std::uint8_t>(port >> 8));
  out.push_back(static_cast<std::uint8_t>(port & 0xFF));
  return out;
}

Result<std::vector<std::uint8_t>> encode_socks_optimistic_open(std::string_view host,
                                                               std::uint16_t port, Bytes first) {
  auto connect = encode_socks_connect(host, port);
  if (!connect) {
    return connect;
  }
  std::vector<std::uint8_t> out = encode_socks_greeting();
  out.insert(out.end(), connect->begin(), connect->end());
  out.insert(out.end(), first.begin(), first.end());
  return out;
}

Result<std::size_t> socks_greeting_size(Bytes prefix) {
  if (prefix.size() != 2 || prefix[0] != kSocksVersion) {
    return make_error(ErrorCategory::kParse, "not a SOCKS5 greeting");
  }
  if (prefix[1] == 0) {
    return make_error(ErrorCategory::kParse, "SOCKS5 greeting offers no methods");
  }
  return std::size_t{2} + prefix[1];
}

bool socks_greeting_offers_no_auth(Bytes greeting) {
  for (std::size_t i = 2; i < greeting.size(); ++i) {
    if (greeting[i] == kSocksNoAuth) {
      return true;
    }
  }
  return false;
}

std::vector<std::uint8_t> encode_socks_reply(std::uint8_t code) {
  return {kSocksVersion, code, 0, kSocksAtypIpv4, 0, 0, 0, 0, 0, 0};
}

Result<std::size_t> socks_message_size(Bytes prefix) {
  if (prefix.size() != kSocksMessagePrefix || prefix[0] != kSocksVersion) {
    return make_error(ErrorCategory::kParse, "not a SOCKS5 request or reply");
  }
  switch (prefix[3]) {
    case kSocksAtypIpv4:
      return std::size_t{4 + 4 + 2};
    case kSocksAtypIpv6:
      return std::size_t{4 + 16 + 2};
    case kSocksAtypDomain:
      if (prefix[4] == 0) {
        return make_error(ErrorCategory::kParse, "SOCKS5 domain name is empty");
      }
      return std::size_t{4 + 1} + prefix[4] + 2;
    default:
      return make_error(ErrorCategory::kParse,
                        fmt::format("SOCKS5 address type {} is unknown", prefix[3]));
  }
}

Result<SocksMessage> parse_socks_message(Bytes message) {
  if (message.size() < kSocksMessagePrefix) {
    return make_error(ErrorCategory::kParse, "SOCKS5 message is truncated");
  }
  auto size = socks_message_size(message.first(kSocksMessagePrefix));
  if (!size) {
    return std::unexpected(size.error());
  }
  if (*size != message.size()) {
    return make_error(ErrorCategory::kParse, "SOCKS5 message has the wrong length");
  }
  SocksMessage out;
  out.code = message[1];
  out.atyp = message[3];
  const Bytes address = message.subspan(4, message.size() - 6);
  if (out.atyp == kSocksAtypDomain) {
    out.host.assign(address.begin() + 1, address.end());
  } else {
    std::array<char, INET6_ADDRSTRLEN> text{};
    const int family = out.atyp == kSocksAtypIpv4 ? AF_INET : AF_INET6;
    if (inet_ntop(family, address.data(), text.data(), text.size()) == nullptr) {
      return make_error(ErrorCategory::kParse, "SOCKS5 address does not print");
    }
    out.host = text.data();
  }
  out.port = load_be16(message.data() + message.size() - 2);
  return out;
}

std::string_view socks_reply_name(std::uint8_t code) {
  static constexpr std::array<std::string_view, 9> kNames{
      "succeeded",           "general failure",       "not allowed by ruleset",
      "network unreachable", "host unreachable",      "connection refused",
      "TTL expired",         "command not supported", "address type not supported"};
  return code < kNames.size() ? kNames[code] : "unknown reply code";
}

}  // namespace nyx::cli
