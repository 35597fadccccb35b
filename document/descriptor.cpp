#include "document/descriptor.hpp"

#include <string_view>

#include "core/crypto/blake2b.hpp"

namespace nyx::document {
namespace {

constexpr std::uint8_t kDescriptorVersion = 1;
constexpr std::uint8_t kKnownRoles = kRoleRelay | kRoleExit;

bool put_string(std::vector<std::uint8_t>& out, std::string_view s) {
  if (s.size() > 255) {
    return false;
  }
  out.push_back(static_cast<std::uint8_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
  return true;
}

void put_be(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
}

bool read_string(ByteReader& reader, std::string& out) {
  std::uint8_t len = 0;
  Bytes bytes;
  if (!reader.read_u8(len) || !reader.read_bytes(len, bytes)) {
    return false;
  }
  out.assign(bytes.begin(), bytes.end());
  return true;
}

}  // namespace

NodeId NodeDescriptor::node_id() const {
  NodeId id;
  crypto::blake2b(id, identity_key);
  return id;
}

Status NodeDescriptor::encode(std::vector<std::uint8_t>& out) const {
  std::vector<std::string> rules = exit_rules.to_text();
  if (rules.size() > 255) {
    return make_error(ErrorCategory::kInvalidArgument, "descriptor: more than 255 exit rules");
  }
  out.push_back(kDescriptorVersion);
  out.insert(out.end(), identity_key.begin(), identity_key.end());
  out.insert(out.end(), onion_key.begin(), onion_key.end());
  put_be(out, onion_key_epoch, 8);
  out.insert(out.end(), link_key.begin(), link_key.end());
  bool fits = put_string(out, udp_address) && put_string(out, tcp_address);
  out.push_back(roles);
  put_be(out, bandwidth_weight, 4);
  fits = fits && put_string(out, family);
  out.push_back(static_cast<std::uint8_t>(rules.size()));
  for (const std::string& rule : rules) {
    fits = fits && put_string(out, rule);
  }
  if (!fits) {
    return make_error(ErrorCategory::kInvalidArgument, "descriptor: a field exceeds 255 bytes");
  }
  return {};
}

Result<NodeDescriptor> NodeDescriptor::decode(ByteReader& reader) {
  auto malformed = [](const char* what) {
    return make_error(ErrorCategory::kParse, std::string("descriptor: ") + what);
  };
  NodeDescriptor d;
  std::uint8_t version = 0;
  if (!reader.read_u8(version)) {
    return malformed("truncated");
  }
  if (version != kDescriptorVersion) {
    return malformed("unknown version");
  }
  std::uint8_t rule_count = 0;
  if (!reader.read_array(d.identity_key) || !reader.read_array(d.onion_key) ||
      !reader.read_be64(d.onion_key_epoch) || !reader.read_array(d.link_key) ||
      !read_string(reader, d.udp_address) || !read_string(reader, d.tcp_address) ||
      !reader.read_u8(d.roles) || !reader.read_be32(d.bandwidth_weight) ||
      !read_string(reader, d.family) || !reader.read_u8(rule_count)) {
    return malformed("truncated");
  }
  if ((d.roles & ~kKnownRoles) != 0 || d.roles == 0) {
    return malformed("unknown role bits");
  }
  if (d.bandwidth_weight == 0) {
    return malformed("zero bandwidth weight");
  }
  std::vector<std::string> rules(rule_count);
  for (std::string& rule : rules) {
    if (!read_string(reader, rule)) {
      return malformed("truncated");
    }
  }
  auto parsed = AdvertisedExitRules::parse(rules);
  if (!parsed) {
    return std::unexpected(std::move(parsed.error()));
  }
  if (parsed->to_text() != rules) {
    return malformed("exit rule not in canonical form");
  }
  d.exit_rules = std::move(*parsed);
  return d;
}

}  // namespace nyx::document
