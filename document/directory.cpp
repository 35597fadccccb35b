#include "document/directory.hpp"

#include <algorithm>
#include <cstring>
#include <set>
#include <string_view>

namespace nyx::document {
namespace {

constexpr std::string_view kMagic = "NYXDIR";
constexpr std::uint8_t kVersion = 1;
// Domain separation: a directory signature can never be mistaken for a
// signature over anything else an authority key signs.
constexpr std::string_view kSignatureContext = "nyx-directory-v1";
constexpr std::size_t kMaxNodes = 65535;

std::unexpected<Error> fail(ErrorCategory category, DirectoryErrc code, std::string message) {
  return make_error(category, "directory: " + message, static_cast<int>(code));
}

std::vector<std::uint8_t> signed_message(Bytes body) {
  std::vector<std::uint8_t> message(kSignatureContext.size() + body.size());
  std::memcpy(message.data(), kSignatureContext.data(), kSignatureContext.size());
  if (!body.empty()) {
    std::memcpy(message.data() + kSignatureContext.size(), body.data(), body.size());
  }
  return message;
}

}  // namespace

Result<std::vector<std::uint8_t>> Directory::encode_body() const {
  if (nodes.size() > kMaxNodes) {
    return make_error(ErrorCategory::kInvalidArgument, "directory: too many nodes");
  }
  std::vector<std::uint8_t> out(kMagic.begin(), kMagic.end());
  out.push_back(kVersion);
  std::uint8_t buf[8];
  store_be64(buf, valid_after);
  out.insert(out.end(), buf, buf + 8);
  store_be64(buf, valid_until);
  out.insert(out.end(), buf, buf + 8);
  store_be16(buf, static_cast<std::uint16_t>(nodes.size()));
  out.insert(out.end(), buf, buf + 2);
  for (const NodeDescriptor& node : nodes) {
    if (auto status = node.encode(out); !status) {
      return std::unexpected(std::move(status.error()));
    }
  }
  return out;
}

Result<std::vector<std::uint8_t>> Directory::encode() const {
  auto out = encode_body();
  if (!out) {
    return out;
  }
  if (signatures.size() > 255) {
    return make_error(ErrorCategory::kInvalidArgument, "directory: too many signatures");
  }
  out->push_back(static_cast<std::uint8_t>(signatures.size()));
  for (const DirectorySignature& sig : signatures) {
    out->insert(out->end(), sig.authority.begin(), sig.authority.end());
    out->insert(out->end(), sig.signature.begin(), sig.signature.end());
  }
  return out;
}

Status Directory::sign(const crypto::Ed25519KeyPair& authority) {
  auto body = encode_body();
  if (!body) {
    return std::unexpected(std::move(body.error()));
  }
  signatures.push_back({authority.public_key, authority.sign(signed_message(*body))});
  return {};
}

Result<Directory> Directory::parse(Bytes encoded) {
  auto malformed = [](std::string what) {
    return fail(ErrorCategory::kParse, DirectoryErrc::kMalformed, std::move(what));
  };
  ByteReader reader(encoded);
  Bytes magic;
  std::uint8_t version = 0;
  std::uint16_t count = 0;
  Directory dir;
  if (!reader.read_bytes(kMagic.size(), magic) || !reader.read_u8(version) ||
      !reader.read_be64(dir.valid_after) || !reader.read_be64(dir.valid_until) ||
      !reader.read_be16(count)) {
    return malformed("truncated header");
  }
  if (!std::equal(magic.begin(), magic.end(), kMagic.begin()) || version != kVersion) {
    return malformed("not a version 1 directory");
  }
  if (dir.valid_after >= dir.valid_until) {
    return malformed("empty validity period");
  }
  std::set<NodeId> seen;
  dir.nodes.reserve(std::min<std::size_t>(count, reader.remaining() / 128 + 1));
  for (std::uint16_t i = 0; i < count; ++i) {
    auto node = NodeDescriptor::decode(reader);
    if (!node) {
      return malformed(node.error().message);
    }
    if (!seen.insert(node->node_id()).second) {
      return malformed("node listed twice");
    }
    dir.nodes.push_back(std::move(*node));
  }
  std::uint8_t sig_count = 0;
  if (!reader.read_u8(sig_count)) {
    return malformed("truncated signatures");
  }
  if (sig_count == 0) {
    return malformed("unsigned");
  }
  for (std::uint8_t i = 0; i < sig_count; ++i) {
    Bytes key;
    Bytes sig;
    if (!reader.read_bytes(32, key) || !reader.read_bytes(64, sig)) {
      return malformed("truncated signatures");
    }
    DirectorySignature entry;
    std::copy(key.begin(), key.end(), entry.authority.begin());
    std::copy(sig.begin(), sig.end(), entry.signature.begin());
    dir.signatures.push_back(entry);
  }
  if (!reader.empty()) {
    return malformed("trailing bytes");
  }
  return dir;
}

const NodeDescriptor* Directory::find(const NodeId& id) const noexcept {
  for (const NodeDescriptor& node : nodes) {
    if (node.node_id() == id) {
      return &node;
    }
  }
  return nullptr;
}

Result<Directory> verify_directory(Bytes encoded, const DirectoryTrust& trust, std::uint64_t now) {
  auto dir = Directory::parse(encoded);
  if (!dir) {
    return dir;
  }
  // The signed body is everything before the signature count; re-slice the
  // received bytes rather than re-encoding, so verification checks exactly
  // what the authority signed.
  std::size_t body_len = encoded.size() - 1 - dir->signatures.size() * 96;
  std::vector<std::uint8_t> message = signed_message(encoded.first(body_len));
  std::set<crypto::Ed25519PublicKey> good;
  for (const DirectorySignature& sig : dir->signatures) {
    bool trusted = std::find(trust.authorities.begin(), trust.authorities.end(), sig.authority) !=
                   trust.authorities.end();
    if (!trusted) {
      continue;  // an authority this node does not know neither helps nor hurts
    }
    if (!crypto::ed25519_verify(sig.authority, message, sig.signature)) {
      return fail(ErrorCategory::kCrypto, DirectoryErrc::kBadSignature, "bad signature");
    }
    good.insert(sig.authority);
  }
  if (good.empty()) {
    return fail(ErrorCategory::kPermission, DirectoryErrc::kUnknownKey,
                "not signed by any configured authority");
  }
  if (good.size() < std::max<std::size_t>(trust.threshold, 1)) {
    return fail(ErrorCategory::kPermission, DirectoryErrc::kBelowThreshold,
                "signed by too few configured authorities");
  }
  if (now < dir->valid_after) {
    return fail(ErrorCategory::kTimeout, DirectoryErrc::kNotYetValid, "not yet valid");
  }
  if (now >= dir->valid_until) {
    return fail(ErrorCategory::kTimeout, DirectoryErrc::kExpired, "expired");
  }
  return dir;
}

}  // namespace nyx::document
