#pragma once
// NodeAddress: where a relay is reached, as a signed descriptor carries it
// (docs/protocol.md, "addr"): none, or an IPv4 or IPv6 literal and a port.
// Names are not allowed: a name would make every client resolve it, leaking
// the lookup and perhaps getting different answers. AdvertisedAddress is one
// of them with the transport it is advertised for: a descriptor's UDP and
// TCP addresses may be the same ip:port, and each must be reached over its
// own transport.
//
// A plain value type; functions are pure and thread-safe.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "core/error.hpp"

namespace nyx::document {

struct NodeAddress {
  enum class Kind : std::uint8_t { kNone = 0, kIpv4 = 4, kIpv6 = 6 };

  Kind kind = Kind::kNone;
  std::array<std::uint8_t, 16> ip{};  // kIpv4 uses the first 4 bytes; the rest stay 0
  std::uint16_t port = 0;

  bool is_none() const noexcept { return kind == Kind::kNone; }
  bool operator==(const NodeAddress&) const = default;

  // "" for none, "192.0.2.7:9340", "[2001:db8::7]:9340" (RFC 5952 form).
  std::string to_text() const;
  // The inverse of to_text(); kParse, without the text, for a host name, a
  // port of 0 or an IPv4-mapped IPv6 address (write those as IPv4).
  static Result<NodeAddress> from_text(std::string_view text);

  // The wire form: kind (1), then ip (4 or 16) || port (2) unless none.
  void encode(std::vector<std::uint8_t>& out) const;
  // kParse with what is wrong (the caller names the field).
  static Result<NodeAddress> decode(ByteReader& reader);
  // Port 0, an unknown kind or a mapped IPv6 address: what decode refuses
  // and encode must never write. Null when the address is fine.
  const char* invalid_reason() const noexcept;
};

// The transports a relay advertises an address for (a descriptor's
// udp_address and tcp_address).
enum class LinkTransport : std::uint8_t { kUdp, kTcp };

// "udp" or "tcp", as refusals and logs name it ("udp 198.51.100.7:9340: ...").
const char* transport_name(LinkTransport transport) noexcept;

struct AdvertisedAddress {
  LinkTransport transport = LinkTransport::kUdp;
  NodeAddress address;

  bool operator==(const AdvertisedAddress&) const = default;
};

}  // namespace nyx::document
