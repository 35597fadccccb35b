#pragma once
// The handshake MACs and cookie that make a handshake flood pay before the
// responder does any Diffie-Hellman (docs/proposals/0004, §6.1-6.5):
// WireGuard's mac1/mac2/cookie reply [WG §5.4.4, §5.4.7], with BLAKE2b-16
// for its keyed BLAKE2s-128 and Nyx's KDF for HASH(label || S).
//
//   mac1_key   = KDF(S, "link-mac1", 32)      S: the responder's static public key
//   cookie_key = KDF(S, "link-cookie", 32)
//   mac1       = BLAKE2b-16(key = mac1_key, m = message before mac1)
//   cookie     = BLAKE2b-16(key = R, m = addr16 || BE2(port))
//   mac2       = BLAKE2b-16(key = cookie, m = message before mac2), or 0^16
//
// A cookie reply message is the first kCookieReplySize bytes of a type-6
// datagram (the transport pads it to the datagram size):
//
//   [0]      type 6
//   [1:4]    zero
//   [4:8]    receiver_index (BE32): the sender_index of the init answered
//   [8:32]   nonce, 24 random bytes
//   [32:64]  encrypted_cookie = XChaCha20-Poly1305(cookie_key, nonce,
//                                 ad = mac1 of the init, cookie) = 16 || tag 16
//
// Everything here is a pure function of bytes and the time handed in; no
// sockets, no clock reads. Neither class is thread-safe: a CookieChecker
// belongs to the responder's shard, a CookieMaker to one Peer.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/bytes.hpp"
#include "core/clock.hpp"
#include "core/crypto/aead.hpp"
#include "core/crypto/secret.hpp"
#include "core/error.hpp"
#include "transport/peer_key.hpp"

namespace nyx::transport {

inline constexpr std::string_view kMac1Label = "link-mac1";
inline constexpr std::string_view kCookieLabel = "link-cookie";

inline constexpr std::size_t kLinkMacSize = 16;                           // mac1, mac2
inline constexpr std::size_t kLinkMacsSize = 2 * kLinkMacSize;            // mac1 || mac2
inline constexpr std::size_t kLinkMacKeySize = 32;                        // mac1_key, cookie_key
inline constexpr std::size_t kCookieSize = 16;                            // cookie(addr, port)
inline constexpr std::size_t kCookieSecretSize = 32;                      // R
inline constexpr std::size_t kCookieSourceSize = 16 + 2;                  // addr16 || BE2(port)
inline constexpr std::size_t kCookieNonceSize = crypto::kXaeadNonceSize;  // 24
inline constexpr std::size_t kEncryptedCookieSize = kCookieSize + crypto::kAeadTagSize;  // 32
inline constexpr std::uint8_t kCookieReplyType = 6;
inline constexpr std::size_t kCookieReplyIndexOffset = 4;
inline constexpr std::size_t kCookieReplyNonceOffset = 8;
inline constexpr std::size_t kCookieReplyCookieOffset = kCookieReplyNonceOffset + kCookieNonceSize;
inline constexpr std::size_t kCookieReplySize = kCookieReplyCookieOffset + kEncryptedCookieSize;
static_assert(kCookieReplySize == 64);

// R is replaced when older than this (WireGuard's CookieRefreshTime); a
// cookie made under the R before the current one still passes while that R
// is younger than twice this, so a cookie is good for at least this long
// after it was made, as long as the initiator keeps it.
inline constexpr Nanos kCookieSecretLifetime = std::chrono::seconds(120);
// How long an initiator uses a cookie after receiving it.
inline constexpr Nanos kCookieLifetime = std::chrono::seconds(120);

using LinkMac = std::array<std::uint8_t, kLinkMacSize>;
using LinkMacView = std::span<const std::uint8_t, kLinkMacSize>;
using CookieSource = std::array<std::uint8_t, kCookieSourceSize>;
using CookieReplyMessage = std::array<std::uint8_t, kCookieReplySize>;

// addr16 || BE2(port). address16 is the source address as 16 bytes, an IPv4
// address written as ::ffff:a.b.c.d, so one host has one cookie whichever
// socket family delivered its datagram.
CookieSource cookie_source(std::span<const std::uint8_t, 16> address16, std::uint16_t port);

struct CookieReply {
  std::uint32_t receiver_index = 0;
  std::array<std::uint8_t, kCookieNonceSize> nonce{};
  std::array<std::uint8_t, kEncryptedCookieSize> encrypted_cookie{};
};

// Untrusted bytes in; fails with kParse unless message is exactly
// kCookieReplySize bytes with type 6 and zero reserved bytes.
Result<CookieReply> parse_cookie_reply(Bytes message);

// The responder's side: checks mac1 and mac2 of handshake inits and answers
// an init whose mac2 fails, under load, with a cookie reply. Holds R
// (zeroed when replaced or destroyed) and the time it was drawn.
class CookieChecker {
 public:
  explicit CookieChecker(const PeerKey& responder_static_public);

  // covered: the message before mac1 (datagram[0:56] of a UDP init).
  // Constant time in the contents.
  bool check_mac1(Bytes covered, LinkMacView mac1) const;

  // covered: the message before mac2, mac1 included (datagram[0:72]).
  // True when mac2 was made with the cookie of `source` under the current R
  // or, while it is younger than 2 × kCookieSecretLifetime, the previous one.
  bool check_mac2(Bytes covered, const CookieSource& source, LinkMacView mac2, Nanos now);

  // The cookie reply to an init from `source` that carried sender_index
  // `receiver_index` and `mac1` (which must have passed check_mac1).
  CookieReplyMessage make_reply(std::uint32_t receiver_index, LinkMacView mac1,
                                const CookieSource& source, Nanos now);

 private:
  // Draws a new R when the current one is older than kCookieSecretLifetime
  // (read lazily at use, as wireguard-go does).
  void refresh_secret(Nanos now);

  std::array<std::uint8_t, kLinkMacKeySize> mac1_key_{};
  std::array<std::uint8_t, kLinkMacKeySize> cookie_key_{};
  crypto::EphemeralSecret<kCookieSecretSize> secret_;
  crypto::EphemeralSecret<kCookieSecretSize> previous_secret_;
  std::optional<Nanos> secret_drawn_;
  std::optional<Nanos> previous_drawn_;
};

// The initiator's side, one per Peer: writes mac1 (and mac2 while it holds
// a fresh cookie) into each handshake init, and takes the cookie out of a
// reply to the last init it sent. Zeroes its cookie when destroyed or stale.
class CookieMaker {
 public:
  explicit CookieMaker(const PeerKey& responder_static_public);

  // message = covered || mac1 || mac2: overwrites its last kLinkMacsSize
  // bytes with mac1 over what precedes it and mac2 (0^16 without a cookie
  // younger than kCookieLifetime) over what precedes mac2, and remembers mac1
  // for consume_reply. Precondition: message.size() >= kLinkMacsSize.
  void add_macs(MutableBytes message, Nanos now);

  // Opens a reply's cookie with ad = the mac1 last written by add_macs and
  // keeps it from `now`. False (nothing kept) when no init was sent since the
  // last accepted reply, the reply answers another mac1, or it was altered.
  // The caller has matched receiver_index to its handshake in progress.
  bool consume_reply(const CookieReply& reply, Nanos now);
  // The same for an unparsed reply message; false when it does not parse.
  bool consume_reply(Bytes reply_message, Nanos now);

  // True while add_macs would write a mac2.
  bool has_cookie(Nanos now) const;

 private:
  std::array<std::uint8_t, kLinkMacKeySize> mac1_key_{};
  std::array<std::uint8_t, kLinkMacKeySize> cookie_key_{};
  std::optional<LinkMac> last_mac1_;
  crypto::EphemeralSecret<kCookieSize> cookie_;
  std::optional<Nanos> cookie_received_;
};

}  // namespace nyx::transport
