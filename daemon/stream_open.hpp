#pragma once
// The stream open protocol (docs/protocol.md, "Stream open (daemon)"), sans
// I/O: the request a client writes first on a new stream to name its
// destination, and the one status byte the exit answers with before any data.
//
// The parser is total and incremental, as the SOCKS5 codec's are: given the
// bytes received so far it returns "need more" (an empty optional), the
// destination and the bytes it used, or a kParse error. Status bytes are the
// SOCKS5 reply codes an entry forwards to its client unchanged. Free
// functions, no state, safe from any thread.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "daemon/socks5_codec.hpp"

namespace nyx::daemon {

inline constexpr std::uint8_t kStreamOpenVersion = 0x01;
// Version, type, a 255-byte name with its length, port.
inline constexpr std::size_t kStreamOpenMaxRequest = 1 + 1 + 1 + 255 + 2;

// The exit's answer. Values equal the SOCKS5 reply codes they map to.
enum class StreamOpenStatus : std::uint8_t {
  kSuccess = 0x00,
  kGeneralFailure = 0x01,
  kNotAllowed = 0x02,
  kNetworkUnreachable = 0x03,
  kHostUnreachable = 0x04,
  kRefused = 0x05,
  kTimeout = 0x06,
};

// The request for `destination`: kInvalidArgument when an IPv4/IPv6 host is
// not an address literal of its type, a name is empty, longer than 255 bytes
// or holds a NUL, or the port is 0.
Result<std::vector<std::uint8_t>> encode_stream_open(const Socks5Destination& destination);

// A request from the front of `in`. Addresses come back as text (dotted quad,
// RFC 5952 IPv6), names exactly as sent (resolved by the exit only).
ParseResult<Socks5Destination> parse_stream_open(Bytes in);

// A status byte; kParse for a value outside the enum.
Result<StreamOpenStatus> parse_stream_open_status(std::uint8_t byte);

// The status an exit answers for a failed open (the same mapping as
// socks5_reply_for, which the SOCKS server applies to it again).
StreamOpenStatus stream_open_status_for(const Error& error) noexcept;

// The Error an entry reports to its SOCKS server for a failure status, one
// that socks5_reply_for maps back to the same code.
Error stream_open_error(StreamOpenStatus status);

}  // namespace nyx::daemon
