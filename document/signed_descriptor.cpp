#include "document/signed_descriptor.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "core/crypto/blake2b.hpp"
#include "core/crypto/compare.hpp"
#include "core/crypto/encoding.hpp"
#include "document/detail/append.hpp"

namespace nyx::document {
namespace {

// A field that breaks a rule: its name as docs/protocol.md spells it, and why.
struct Fault {
  const char* field;
  std::string reason;
};

std::unexpected<Error> malformed(std::string_view field, std::string_view reason) {
  return make_error(ErrorCategory::kParse, fmt::format("descriptor: {}: {}", field, reason),
                    static_cast<int>(DescriptorErrc::kMalformed));
}

std::unexpected<Error> truncated(std::string_view field) { return malformed(field, "truncated"); }

bool family_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

std::optional<Fault> check_rules(const SignedDescriptor& d, const std::vector<std::string>& rules) {
  if (rules.size() > kMaxDescriptorRules) {
    return Fault{"rule_count",
                 fmt::format("{} rules, at most {}", rules.size(), kMaxDescriptorRules)};
  }
  for (const std::string& rule : rules) {
    if (rule.empty() || rule.size() > kMaxDescriptorRuleText) {
      return Fault{"exit_rules", fmt::format("a rule of {} bytes (1 to {})", rule.size(),
                                             kMaxDescriptorRuleText)};
    }
  }
  if (d.roles == kRolesRelay && !rules.empty()) {
    return Fault{"exit_rules", "rules on a relay that is not an exit"};
  }
  const auto& parsed = d.exit_rules.rules();
  const bool accepts = std::any_of(parsed.begin(), parsed.end(),
                                   [](const AdvertisedExitRules::Rule& r) { return r.accept; });
  if (d.roles == kRolesRelayExit && !accepts) {
    return Fault{"exit_rules", "an exit with no accept rule"};
  }
  return std::nullopt;
}

// Every rule of section 3.2 that is about values rather than bytes, shared by
// the encoder (nothing unparseable is signed) and the parser.
std::optional<Fault> check_fields(const SignedDescriptor& d,
                                  const std::vector<std::string>& rules) {
  if (const char* reason = d.udp_address.invalid_reason()) {
    return Fault{"udp_address", reason};
  }
  if (const char* reason = d.tcp_address.invalid_reason()) {
    return Fault{"tcp_address", reason};
  }
  if (d.udp_address.is_none() && d.tcp_address.is_none()) {
    return Fault{"udp_address", "both addresses are none"};
  }
  // Reusing a key across epochs would quietly extend its lifetime.
  if (d.onion_key == d.next_onion_key) {
    return Fault{"next_onion_key", "equal to onion_key"};
  }
  if (d.roles != kRolesRelay && d.roles != kRolesRelayExit) {
    return Fault{"roles",
                 fmt::format("0x{:02x}, expected 0x01 (relay) or 0x03 (relay, exit)", d.roles)};
  }
  if (d.bandwidth_weight == 0) {
    return Fault{"bandwidth_weight", "0"};
  }
  if (d.family.size() > kMaxFamily) {
    return Fault{"family", fmt::format("{} bytes, at most {}", d.family.size(), kMaxFamily)};
  }
  if (!std::all_of(d.family.begin(), d.family.end(), family_char)) {
    return Fault{"family", "a byte outside [a-z0-9.-]"};
  }
  return check_rules(d, rules);
}

void put_str8(std::vector<std::uint8_t>& out, std::string_view s) {
  out.push_back(static_cast<std::uint8_t>(s.size()));  // bounded by check_fields
  out.insert(out.end(), s.begin(), s.end());
}

bool read_str8(ByteReader& reader, std::string& out) {
  std::uint8_t len = 0;
  Bytes bytes;
  if (!reader.read_u8(len) || !reader.read_bytes(len, bytes)) {
    return false;
  }
  out.assign(bytes.begin(), bytes.end());
  return true;
}

std::vector<std::uint8_t> signed_message(Bytes body) {
  return detail::signing_message(kDescriptorSignatureContext, body);
}

Status decode_keys(ByteReader& reader, SignedDescriptor& d) {
  std::uint8_t version = 0;
  if (!reader.read_u8(version)) {
    return truncated("version");
  }
  if (version != kDescriptorVersion2) {
    return malformed("version", fmt::format("{}, expected {}", version, kDescriptorVersion2));
  }
  if (!reader.read_array(d.identity_key)) {
    return truncated("identity_key");
  }
  if (!reader.read_be64(d.published)) {
    return truncated("published");
  }
  if (!reader.read_be64(d.epoch)) {
    return truncated("epoch");
  }
  if (!reader.read_array(d.onion_key)) {
    return truncated("onion_key");
  }
  if (!reader.read_array(d.next_onion_key)) {
    return truncated("next_onion_key");
  }
  if (!reader.read_array(d.link_key)) {
    return truncated("link_key");
  }
  return {};
}

// The fields after the keys, up to the signature; the rules stay text here
// so the caller can check they are in canonical form.
Status decode_rest(ByteReader& reader, SignedDescriptor& d, std::vector<std::string>& rules) {
  auto udp = NodeAddress::decode(reader);
  if (!udp) {
    return malformed("udp_address", udp.error().message);
  }
  auto tcp = NodeAddress::decode(reader);
  if (!tcp) {
    return malformed("tcp_address", tcp.error().message);
  }
  d.udp_address = *udp;
  d.tcp_address = *tcp;
  if (!reader.read_u8(d.roles)) {
    return truncated("roles");
  }
  if (!reader.read_be32(d.bandwidth_weight)) {
    return truncated("bandwidth_weight");
  }
  if (!read_str8(reader, d.family)) {
    return truncated("family");
  }
  std::uint8_t count = 0;
  if (!reader.read_u8(count)) {
    return truncated("rule_count");
  }
  if (std::size_t{count} > kMaxDescriptorRules) {
    return malformed("rule_count", fmt::format("{}, at most {}", count, kMaxDescriptorRules));
  }
  rules.resize(count);
  for (std::string& rule : rules) {
    if (!read_str8(reader, rule)) {
      return truncated("exit_rules");
    }
  }
  return {};
}

Status parse_rules(SignedDescriptor& d, const std::vector<std::string>& rules) {
  auto parsed = AdvertisedExitRules::parse(rules);
  if (!parsed) {
    return malformed("exit_rules", parsed.error().message);
  }
  if (parsed->to_text() != rules) {
    return malformed("exit_rules", "a rule not in canonical form");
  }
  d.exit_rules = std::move(*parsed);
  return {};
}

}  // namespace

NodeId SignedDescriptor::node_id() const {
  NodeId id;
  crypto::blake2b(id, identity_key);
  return id;
}

Result<std::vector<std::uint8_t>> SignedDescriptor::encode_unsigned() const {
  const std::vector<std::string> rules = exit_rules.to_text();
  if (auto fault = check_fields(*this, rules)) {
    return make_error(ErrorCategory::kInvalidArgument,
                      fmt::format("descriptor: {}: {}", fault->field, fault->reason));
  }
  std::vector<std::uint8_t> out;
  out.reserve(kMinSignedDescriptor);
  out.push_back(kDescriptorVersion2);
  out.insert(out.end(), identity_key.begin(), identity_key.end());
  detail::append_be(out, published, 8);
  detail::append_be(out, epoch, 8);
  out.insert(out.end(), onion_key.begin(), onion_key.end());
  out.insert(out.end(), next_onion_key.begin(), next_onion_key.end());
  out.insert(out.end(), link_key.begin(), link_key.end());
  udp_address.encode(out);
  tcp_address.encode(out);
  out.push_back(roles);
  detail::append_be(out, bandwidth_weight, 4);
  put_str8(out, family);
  out.push_back(static_cast<std::uint8_t>(rules.size()));
  for (const std::string& rule : rules) {
    put_str8(out, rule);
  }
  if (out.size() + crypto::kEd25519SignatureSize > kMaxSignedDescriptor) {
    return make_error(
        ErrorCategory::kInvalidArgument,
        fmt::format("descriptor: length: {} bytes signed, at most {}",
                    out.size() + crypto::kEd25519SignatureSize, kMaxSignedDescriptor));
  }
  return out;
}

Result<std::vector<std::uint8_t>> SignedDescriptor::encode() const {
  auto out = encode_unsigned();
  if (out) {
    out->insert(out->end(), signature.begin(), signature.end());
  }
  return out;
}

Status SignedDescriptor::sign(const crypto::Ed25519KeyPair& identity) {
  // Public keys, so not secret; compared in constant time all the same.
  if (!crypto::ct_equal(identity.public_key, identity_key)) {
    return make_error(ErrorCategory::kInvalidArgument,
                      "descriptor: the signing key is not the identity key the descriptor names");
  }
  auto body = encode_unsigned();
  if (!body) {
    return std::unexpected(std::move(body.error()));
  }
  const std::vector<std::uint8_t> message = signed_message(*body);
  const crypto::Ed25519Signature made = identity.sign(message);
  // A key pair whose secret half does not match its public half would sign
  // something nobody accepts; say so here rather than at every authority.
  if (!crypto::ed25519_verify(identity_key, message, made)) {
    return make_error(ErrorCategory::kCrypto,
                      "descriptor: the identity key pair's halves do not match");
  }
  signature = made;
  return {};
}

Result<SignedDescriptor> SignedDescriptor::parse_and_verify(Bytes encoded) {
  auto parsed = parse_unverified(encoded);
  if (parsed) {
    if (auto status = parsed->verify_signature(encoded); !status) {
      return std::unexpected(std::move(status.error()));
    }
  }
  return parsed;
}

Result<SignedDescriptor> SignedDescriptor::parse_unverified(Bytes encoded) {
  if (encoded.size() < kMinSignedDescriptor || encoded.size() > kMaxSignedDescriptor) {
    return malformed("length", fmt::format("{} bytes, expected {} to {}", encoded.size(),
                                           kMinSignedDescriptor, kMaxSignedDescriptor));
  }
  ByteReader reader(encoded);
  SignedDescriptor d;
  std::vector<std::string> rules;
  if (auto status = decode_keys(reader, d); !status) {
    return std::unexpected(std::move(status.error()));
  }
  if (auto status = decode_rest(reader, d, rules); !status) {
    return std::unexpected(std::move(status.error()));
  }
  if (!reader.read_array(d.signature)) {
    return truncated("signature");
  }
  if (!reader.empty()) {
    return malformed("signature", "trailing bytes after the signature");
  }
  if (auto status = parse_rules(d, rules); !status) {
    return std::unexpected(std::move(status.error()));
  }
  if (auto fault = check_fields(d, rules)) {
    return malformed(fault->field, fault->reason);
  }
  return d;
}

Status SignedDescriptor::verify_signature(Bytes encoded) const {
  // The received bytes, not a re-encoding: verify exactly what was signed.
  const bool signed_by_identity =
      encoded.size() >= crypto::kEd25519SignatureSize &&
      crypto::ed25519_verify(
          identity_key,
          signed_message(encoded.first(encoded.size() - crypto::kEd25519SignatureSize)), signature);
  if (!signed_by_identity) {
    return make_error(ErrorCategory::kCrypto,
                      fmt::format("bad descriptor signature: not signed by the identity key it "
                                  "names ({})",
                                  crypto::to_hex(identity_key)),
                      static_cast<int>(DescriptorErrc::kBadSignature));
  }
  return {};
}

NodeDescriptor SignedDescriptor::listing() const {
  NodeDescriptor node;
  node.identity_key = identity_key;
  node.onion_key = onion_key;
  node.onion_key_epoch = epoch;
  node.link_key = link_key;
  node.udp_address = udp_address.to_text();
  node.tcp_address = tcp_address.to_text();
  node.roles = roles;
  node.bandwidth_weight = bandwidth_weight;
  node.family = family;
  node.exit_rules = exit_rules;
  return node;
}

Status check_published(const SignedDescriptor& descriptor, std::uint64_t now, std::uint64_t max_age,
                       std::uint64_t skew) {
  const std::uint64_t published = descriptor.published;
  const bool too_old = now > max_age && published < now - max_age;
  const bool ahead = published > now && published - now > skew;
  if (too_old || ahead) {
    return make_error(ErrorCategory::kTimeout,
                      fmt::format("descriptor: published at {} but the clock reads {} ({} s {}, "
                                  "at most {} s allowed)",
                                  published, now, ahead ? published - now : now - published,
                                  ahead ? "ahead" : "old", ahead ? skew : max_age),
                      static_cast<int>(DescriptorErrc::kClock));
  }
  return {};
}

}  // namespace nyx::document
