#include "daemon/stream_open.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "daemon/exit_address_policy.hpp"

namespace nyx::daemon {
namespace {

std::string address_text(const std::uint8_t* bytes, bool v4) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  // inet_ntop cannot fail for AF_INET/AF_INET6 with a buffer this size.
  ::inet_ntop(v4 ? AF_INET : AF_INET6, bytes, text.data(), text.size());
  return std::string(text.data());
}

}  // namespace

Result<std::vector<std::uint8_t>> encode_stream_open(const Socks5Destination& destination) {
  if (destination.port == 0) {
    return make_error(ErrorCategory::kInvalidArgument, "stream open: port 0");
  }
  // Reserved whole: one allocation, and GCC 12 no longer reports a false
  // -Wstringop-overflow on the growth path of the inserts below.
  std::vector<std::uint8_t> out;
  out.reserve(kStreamOpenMaxRequest);
  out.push_back(kStreamOpenVersion);
  out.push_back(static_cast<std::uint8_t>(destination.type));
  switch (destination.type) {
    case Socks5AddressType::kIpv4:
    case Socks5AddressType::kIpv6: {
      auto address = IpAddress::parse(destination.host);
      const bool want_v4 = destination.type == Socks5AddressType::kIpv4;
      if (!address || address->is_v4() != want_v4) {
        return make_error(ErrorCategory::kInvalidArgument,
                          "stream open: host is not an address of its type");
      }
      const std::size_t n = want_v4 ? 4 : 16;
      out.insert(out.end(), address->bytes().begin(), address->bytes().begin() + n);
      break;
    }
    case Socks5AddressType::kDomain: {
      const auto& host = destination.host;
      if (host.empty() || host.size() > 255 || host.find('\0') != std::string::npos) {
        return make_error(ErrorCategory::kInvalidArgument, "stream open: bad host name");
      }
      out.push_back(static_cast<std::uint8_t>(host.size()));
      out.insert(out.end(), host.begin(), host.end());
      break;
    }
    default:
      return make_error(ErrorCategory::kInvalidArgument, "stream open: unknown address type");
  }
  out.push_back(static_cast<std::uint8_t>(destination.port >> 8));
  out.push_back(static_cast<std::uint8_t>(destination.port & 0xff));
  return out;
}

ParseResult<Socks5Destination> parse_stream_open(Bytes in) {
  if (in.size() < 2) {
    return std::nullopt;
  }
  if (in[0] != kStreamOpenVersion) {
    return make_error(ErrorCategory::kParse, "stream open: unknown version");
  }
  Socks5Destination destination;
  std::size_t at = 2;
  std::size_t host_len = 0;
  switch (in[1]) {
    case static_cast<std::uint8_t>(Socks5AddressType::kIpv4):
      host_len = 4;
      break;
    case static_cast<std::uint8_t>(Socks5AddressType::kIpv6):
      host_len = 16;
      break;
    case static_cast<std::uint8_t>(Socks5AddressType::kDomain):
      if (in.size() < 3) {
        return std::nullopt;
      }
      host_len = in[2];
      at = 3;
      if (host_len == 0) {
        return make_error(ErrorCategory::kParse, "stream open: empty host name");
      }
      break;
    default:
      return make_error(ErrorCategory::kParse, "stream open: unknown address type");
  }
  if (in.size() < at + host_len + 2) {
    return std::nullopt;
  }
  destination.type = static_cast<Socks5AddressType>(in[1]);
  const std::uint8_t* host = in.data() + at;
  if (destination.type == Socks5AddressType::kDomain) {
    if (std::find(host, host + host_len, 0) != host + host_len) {
      return make_error(ErrorCategory::kParse, "stream open: NUL in host name");
    }
    destination.host.assign(reinterpret_cast<const char*>(host), host_len);
  } else {
    destination.host = address_text(host, destination.type == Socks5AddressType::kIpv4);
  }
  at += host_len;
  destination.port = static_cast<std::uint16_t>((in[at] << 8) | in[at + 1]);
  if (destination.port == 0) {
    return make_error(ErrorCategory::kParse, "stream open: port 0");
  }
  return Parsed<Socks5Destination>{std::move(destination), at + 2};
}

Result<StreamOpenStatus> parse_stream_open_status(std::uint8_t byte) {
  if (byte > static_cast<std::uint8_t>(StreamOpenStatus::kTimeout)) {
    return make_error(ErrorCategory::kParse, "stream open: unknown status");
  }
  return static_cast<StreamOpenStatus>(byte);
}

StreamOpenStatus stream_open_status_for(const Error& error) noexcept {
  const auto reply = socks5_reply_for(error);
  if (reply == Socks5Reply::kSucceeded ||
      static_cast<std::uint8_t>(reply) > static_cast<std::uint8_t>(StreamOpenStatus::kTimeout)) {
    return StreamOpenStatus::kGeneralFailure;
  }
  return static_cast<StreamOpenStatus>(reply);
}

Error stream_open_error(StreamOpenStatus status) {
  switch (status) {
    case StreamOpenStatus::kNotAllowed:
      return Error{ErrorCategory::kPermission, 0, "exit policy refused the destination"};
    case StreamOpenStatus::kNetworkUnreachable:
      return Error{ErrorCategory::kIo, ENETUNREACH, "network unreachable at the exit"};
    case StreamOpenStatus::kHostUnreachable:
      return Error{ErrorCategory::kIo, EHOSTUNREACH, "host unreachable at the exit"};
    case StreamOpenStatus::kRefused:
      return Error{ErrorCategory::kIo, ECONNREFUSED, "connection refused at the exit"};
    case StreamOpenStatus::kTimeout:
      return Error{ErrorCategory::kTimeout, 0, "the exit's connect timed out"};
    case StreamOpenStatus::kSuccess:
    case StreamOpenStatus::kGeneralFailure:
      break;
  }
  return Error{ErrorCategory::kInternal, 0, "the exit could not open the stream"};
}

}  // namespace nyx::daemon
