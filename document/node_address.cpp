#include "document/node_address.hpp"

#include <algorithm>

#include <arpa/inet.h>

#include "core/host_port.hpp"

namespace nyx::document {
namespace {

constexpr std::array<std::uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool is_mapped(const std::array<std::uint8_t, 16>& ip) noexcept {
  return std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), ip.begin());
}

std::unexpected<Error> bad(std::string message) {
  return make_error(ErrorCategory::kParse, std::move(message));
}

}  // namespace

const char* transport_name(LinkTransport transport) noexcept {
  switch (transport) {
    case LinkTransport::kUdp:
      return "udp";
    case LinkTransport::kTcp:
      return "tcp";
  }
  return "unknown";
}

const char* NodeAddress::invalid_reason() const noexcept {
  switch (kind) {
    case Kind::kNone:
      return port == 0 ? nullptr : "an address of kind none has no port";
    case Kind::kIpv4:
      return port == 0 ? "port 0" : nullptr;
    case Kind::kIpv6:
      if (is_mapped(ip)) {
        return "an IPv4-mapped IPv6 address (write it as IPv4)";
      }
      return port == 0 ? "port 0" : nullptr;
  }
  return "unknown address kind";
}

std::string NodeAddress::to_text() const {
  char buf[INET6_ADDRSTRLEN] = {};
  switch (kind) {
    case Kind::kNone:
      return {};
    case Kind::kIpv4:
      ::inet_ntop(AF_INET, ip.data(), buf, sizeof buf);
      return std::string(buf) + ":" + std::to_string(port);
    case Kind::kIpv6:
      ::inet_ntop(AF_INET6, ip.data(), buf, sizeof buf);
      return "[" + std::string(buf) + "]:" + std::to_string(port);
  }
  return {};
}

Result<NodeAddress> NodeAddress::from_text(std::string_view text) {
  NodeAddress out;
  if (text.empty()) {
    return out;
  }
  auto host_port = parse_host_port(text);
  if (!host_port) {
    return std::unexpected(std::move(host_port.error()));
  }
  out.port = host_port->port;
  const std::string& host = host_port->host;
  if (::inet_pton(AF_INET, host.c_str(), out.ip.data()) == 1) {
    out.kind = Kind::kIpv4;
  } else if (::inet_pton(AF_INET6, host.c_str(), out.ip.data()) == 1) {
    out.kind = Kind::kIpv6;
  } else {
    return bad("expected an IP address literal (names are not allowed in a descriptor)");
  }
  if (const char* reason = out.invalid_reason()) {
    return bad(reason);
  }
  return out;
}

void NodeAddress::encode(std::vector<std::uint8_t>& out) const {
  out.push_back(static_cast<std::uint8_t>(kind));
  if (kind == Kind::kNone) {
    return;
  }
  const std::size_t ip_size = kind == Kind::kIpv4 ? 4 : 16;
  out.insert(out.end(), ip.begin(), ip.begin() + static_cast<std::ptrdiff_t>(ip_size));
  out.push_back(static_cast<std::uint8_t>(port >> 8));
  out.push_back(static_cast<std::uint8_t>(port));
}

Result<NodeAddress> NodeAddress::decode(ByteReader& reader) {
  NodeAddress out;
  std::uint8_t kind = 0;
  if (!reader.read_u8(kind)) {
    return bad("truncated");
  }
  if (kind == 0) {
    return out;
  }
  if (kind != 4 && kind != 6) {
    return bad("unknown address kind " + std::to_string(kind));
  }
  out.kind = static_cast<Kind>(kind);
  Bytes ip;
  const std::size_t ip_size = kind == 4 ? std::size_t{4} : std::size_t{16};
  if (!reader.read_bytes(ip_size, ip) || !reader.read_be16(out.port)) {
    return bad("truncated");
  }
  std::copy(ip.begin(), ip.end(), out.ip.begin());
  if (const char* reason = out.invalid_reason()) {
    return bad(reason);
  }
  return out;
}

}  // namespace nyx::document
