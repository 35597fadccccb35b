#include "transport/link_cookie.hpp"

#include <algorithm>
#include <utility>

#include "core/assert.hpp"
#include "core/crypto/blake2b.hpp"
#include "core/crypto/compare.hpp"
#include "core/crypto/random.hpp"

namespace nyx::transport {
namespace {

using CookieValue = crypto::EphemeralSecret<kCookieSize>;
using CookieSecret = crypto::EphemeralSecret<kCookieSecretSize>;

// BLAKE2b-16(key, m): mac1, mac2 and the cookie are all this one keyed hash.
LinkMac link_cookie_mac(Bytes key, Bytes covered) {
  LinkMac out{};
  crypto::blake2b(out, covered, key);
  return out;
}

std::array<std::uint8_t, kLinkMacKeySize> link_cookie_key(const PeerKey& responder_static_public,
                                                          std::string_view label) {
  std::array<std::uint8_t, kLinkMacKeySize> out{};
  crypto::kdf(out, responder_static_public, label);
  return out;
}

CookieValue link_cookie_of(const CookieSecret& secret, const CookieSource& source) {
  CookieValue cookie;
  crypto::blake2b(cookie.mutable_span(), source, secret.span());
  return cookie;
}

// True when `since` is set and less than `limit` before `now`.
bool link_cookie_younger_than(const std::optional<Nanos>& since, Nanos now, Nanos limit) {
  return since.has_value() && now - *since < limit;
}

}  // namespace

CookieSource cookie_source(std::span<const std::uint8_t, 16> address16, std::uint16_t port) {
  CookieSource source{};
  std::ranges::copy(address16, source.begin());
  store_be16(source.data() + address16.size(), port);
  return source;
}

Result<CookieReply> parse_cookie_reply(Bytes message) {
  if (message.size() != kCookieReplySize) {
    return make_error(ErrorCategory::kParse, "cookie reply has the wrong size");
  }
  if (message[0] != kCookieReplyType) {
    return make_error(ErrorCategory::kParse, "cookie reply has the wrong type");
  }
  if (message[1] != 0 || message[2] != 0 || message[3] != 0) {
    return make_error(ErrorCategory::kParse, "cookie reply reserved bytes not zero");
  }
  CookieReply reply;
  reply.receiver_index = load_be32(message.data() + kCookieReplyIndexOffset);
  std::ranges::copy(message.subspan(kCookieReplyNonceOffset, kCookieNonceSize),
                    reply.nonce.begin());
  std::ranges::copy(message.subspan(kCookieReplyCookieOffset, kEncryptedCookieSize),
                    reply.encrypted_cookie.begin());
  return reply;
}

CookieChecker::CookieChecker(const PeerKey& responder_static_public)
    : mac1_key_(link_cookie_key(responder_static_public, kMac1Label)),
      cookie_key_(link_cookie_key(responder_static_public, kCookieLabel)) {}

bool CookieChecker::check_mac1(Bytes covered, LinkMacView mac1) const {
  return crypto::ct_equal(link_cookie_mac(mac1_key_, covered), mac1);
}

bool CookieChecker::check_mac2(Bytes covered, const CookieSource& source, LinkMacView mac2,
                               Nanos now) {
  refresh_secret(now);
  const CookieValue current = link_cookie_of(secret_, source);
  if (crypto::ct_equal(link_cookie_mac(current.span(), covered), mac2)) {
    return true;
  }
  if (!link_cookie_younger_than(previous_drawn_, now, 2 * kCookieSecretLifetime)) {
    return false;
  }
  const CookieValue previous = link_cookie_of(previous_secret_, source);
  return crypto::ct_equal(link_cookie_mac(previous.span(), covered), mac2);
}

CookieReplyMessage CookieChecker::make_reply(std::uint32_t receiver_index, LinkMacView mac1,
                                             const CookieSource& source, Nanos now) {
  refresh_secret(now);
  const CookieValue cookie = link_cookie_of(secret_, source);
  CookieReplyMessage reply{};
  reply[0] = kCookieReplyType;
  store_be32(reply.data() + kCookieReplyIndexOffset, receiver_index);
  const std::span<std::uint8_t, kCookieNonceSize> nonce(reply.data() + kCookieReplyNonceOffset,
                                                        kCookieNonceSize);
  crypto::random_bytes(nonce);
  crypto::xaead_seal(cookie_key_, nonce, mac1, cookie.span(),
                     MutableBytes(reply).subspan(kCookieReplyCookieOffset, kEncryptedCookieSize));
  return reply;
}

void CookieChecker::refresh_secret(Nanos now) {
  if (link_cookie_younger_than(secret_drawn_, now, kCookieSecretLifetime)) {
    return;
  }
  if (link_cookie_younger_than(secret_drawn_, now, 2 * kCookieSecretLifetime)) {
    previous_secret_ = std::move(secret_);  // zeroes secret_
    previous_drawn_ = secret_drawn_;
  } else {
    previous_secret_ = CookieSecret{};  // an R this old vouches for nothing: zero it
    previous_drawn_.reset();
  }
  secret_ = CookieSecret::random();
  secret_drawn_ = now;
}

CookieMaker::CookieMaker(const PeerKey& responder_static_public)
    : mac1_key_(link_cookie_key(responder_static_public, kMac1Label)),
      cookie_key_(link_cookie_key(responder_static_public, kCookieLabel)) {}

void CookieMaker::add_macs(MutableBytes message, Nanos now) {
  NYX_RELEASE_ASSERT(message.size() >= kLinkMacsSize, "add_macs: message shorter than its macs");
  const std::size_t mac1_at = message.size() - kLinkMacsSize;
  const std::size_t mac2_at = mac1_at + kLinkMacSize;
  const LinkMac mac1 = link_cookie_mac(mac1_key_, message.first(mac1_at));
  std::ranges::copy(mac1, message.subspan(mac1_at).begin());
  last_mac1_ = mac1;
  LinkMac mac2{};
  if (has_cookie(now)) {
    mac2 = link_cookie_mac(cookie_.span(), message.first(mac2_at));
  } else {
    cookie_ = CookieValue{};  // stale or never held: nothing to keep
    cookie_received_.reset();
  }
  std::ranges::copy(mac2, message.subspan(mac2_at).begin());
}

bool CookieMaker::consume_reply(const CookieReply& reply, Nanos now) {
  if (!last_mac1_.has_value()) {
    return false;
  }
  CookieValue cookie;
  if (!crypto::xaead_open(cookie_key_, reply.nonce, *last_mac1_, reply.encrypted_cookie,
                          cookie.mutable_span())) {
    return false;
  }
  cookie_ = std::move(cookie);
  cookie_received_ = now;
  // A reply answers one init: the same reply again, before the next init,
  // is a replay.
  last_mac1_.reset();
  return true;
}

bool CookieMaker::consume_reply(Bytes reply_message, Nanos now) {
  const auto reply = parse_cookie_reply(reply_message);
  return reply.has_value() && consume_reply(*reply, now);
}

bool CookieMaker::has_cookie(Nanos now) const {
  return link_cookie_younger_than(cookie_received_, now, kCookieLifetime);
}

}  // namespace nyx::transport
