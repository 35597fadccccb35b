#include "daemon/authority_snapshot_file.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "core/crypto/blake2b.hpp"

namespace nyx::daemon {
namespace {

using Checksum = std::array<std::uint8_t, kAuthoritySnapshotChecksumSize>;

Checksum checksum_of(Bytes bytes) {
  Checksum out{};
  crypto::blake2b(out, bytes);
  return out;
}

std::unexpected<Error> malformed(std::string_view what) {
  return make_error(ErrorCategory::kParse, fmt::format("authority snapshot: {}", what));
}

std::unexpected<Error> unencodable(std::string_view what) {
  return make_error(ErrorCategory::kInvalidArgument,
                    fmt::format("authority snapshot: cannot encode: {}", what));
}

void put_be(std::vector<std::uint8_t>& out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
  }
}

void put_document(std::vector<std::uint8_t>& out, const std::vector<std::uint8_t>& document,
                  int length_bytes) {
  put_be(out, document.size(), length_bytes);
  out.insert(out.end(), document.begin(), document.end());
}

bool within(std::size_t size, std::size_t min, std::size_t max) noexcept {
  return size >= min && size <= max;
}

// A document behind a length field of `length_bytes`, its length in
// [min, max]; nothing when the bytes break that.
std::optional<std::vector<std::uint8_t>> read_document(ByteReader& reader, int length_bytes,
                                                       std::size_t min, std::size_t max) {
  std::size_t length = 0;
  if (length_bytes == 2) {
    std::uint16_t value = 0;
    if (!reader.read_be16(value)) {
      return std::nullopt;
    }
    length = value;
  } else {
    std::uint32_t value = 0;
    if (!reader.read_be32(value)) {
      return std::nullopt;
    }
    length = value;
  }
  Bytes body;
  if (!within(length, min, max) || !reader.read_bytes(length, body)) {
    return std::nullopt;
  }
  return std::vector<std::uint8_t>(body.begin(), body.end());
}

}  // namespace

Result<std::vector<std::uint8_t>> encode_authority_snapshot(const AuthoritySnapshotFile& file) {
  const document::AuthoritySnapshot& s = file.snapshot;
  if (s.descriptors.size() > document::kMaxEntries) {
    return unencodable(
        fmt::format("{} descriptors, at most {}", s.descriptors.size(), document::kMaxEntries));
  }
  if (s.votes.size() > document::kMaxAuthorities) {
    return unencodable(
        fmt::format("{} votes, at most {}", s.votes.size(), document::kMaxAuthorities));
  }
  std::size_t size = kAuthoritySnapshotFixedSize;
  for (const auto& d : s.descriptors) {
    if (!within(d.size(), document::kMinDescriptor, document::kMaxDescriptor)) {
      return unencodable(fmt::format("a descriptor of {} bytes", d.size()));
    }
    size += 2 + d.size();
  }
  for (const auto& v : s.votes) {
    if (!within(v.size(), document::kMinVote, document::kMaxVote)) {
      return unencodable(fmt::format("a vote of {} bytes", v.size()));
    }
    size += 4 + v.size();
  }
  if (s.consensus) {
    if (!within(s.consensus->size(), document::kMinConsensus, document::kMaxConsensus)) {
      return unencodable(fmt::format("a consensus of {} bytes", s.consensus->size()));
    }
    size += 4 + s.consensus->size();
  }
  std::vector<std::uint8_t> out;
  out.reserve(size);
  out.insert(out.end(), kAuthoritySnapshotMagic.begin(), kAuthoritySnapshotMagic.end());
  out.push_back(kAuthoritySnapshotVersion);
  put_be(out, file.period_seconds, 4);
  out.insert(out.end(), file.authority_key.begin(), file.authority_key.end());
  put_be(out, s.q, 8);
  put_be(out, s.descriptors.size(), 2);
  for (const auto& d : s.descriptors) {
    put_document(out, d, 2);
  }
  put_be(out, s.votes.size(), 1);
  for (const auto& v : s.votes) {
    put_document(out, v, 4);
  }
  out.push_back(s.consensus ? 1 : 0);
  if (s.consensus) {
    put_document(out, *s.consensus, 4);
  }
  const Checksum checksum = checksum_of(out);
  out.insert(out.end(), checksum.begin(), checksum.end());
  return out;
}

Result<AuthoritySnapshotFile> decode_authority_snapshot(Bytes bytes) {
  if (bytes.size() < kAuthoritySnapshotFixedSize) {
    return malformed(
        fmt::format("{} bytes, at least {}", bytes.size(), kAuthoritySnapshotFixedSize));
  }
  if (bytes.size() > kMaxAuthoritySnapshot) {
    return malformed(fmt::format("{} bytes, at most {}", bytes.size(), kMaxAuthoritySnapshot));
  }
  // What the file is, then whether it is intact, then the rest: a damaged
  // file is named as such, not by whichever field the damage happened to hit.
  ByteReader reader(bytes.first(bytes.size() - kAuthoritySnapshotChecksumSize));
  Bytes magic;
  std::uint8_t version = 0;
  if (!reader.read_bytes(kAuthoritySnapshotMagic.size(), magic) ||
      !std::equal(magic.begin(), magic.end(), kAuthoritySnapshotMagic.begin())) {
    return malformed("magic: not an authority snapshot");
  }
  if (!reader.read_u8(version) || version != kAuthoritySnapshotVersion) {
    return malformed(fmt::format("version: {}, expected {}", version, kAuthoritySnapshotVersion));
  }
  // Not secret, so no constant-time comparison.
  const Checksum expected = checksum_of(bytes.first(bytes.size() - kAuthoritySnapshotChecksumSize));
  if (!std::ranges::equal(expected, bytes.last(kAuthoritySnapshotChecksumSize))) {
    return malformed("checksum: does not match the contents (the file is damaged)");
  }
  AuthoritySnapshotFile file;
  std::uint16_t descriptor_count = 0;
  if (!reader.read_be32(file.period_seconds) || !reader.read_array(file.authority_key) ||
      !reader.read_be64(file.snapshot.q) || !reader.read_be16(descriptor_count)) {
    return malformed("header: truncated");
  }
  if (descriptor_count > document::kMaxEntries) {
    return malformed(
        fmt::format("descriptor_count: {}, at most {}", descriptor_count, document::kMaxEntries));
  }
  for (std::uint16_t i = 0; i < descriptor_count; ++i) {
    auto d = read_document(reader, 2, document::kMinDescriptor, document::kMaxDescriptor);
    if (!d) {
      return malformed(fmt::format("descriptor {}: length out of bounds or truncated", i));
    }
    file.snapshot.descriptors.push_back(std::move(*d));
  }
  std::uint8_t vote_count = 0;
  if (!reader.read_u8(vote_count) || vote_count > document::kMaxAuthorities) {
    return malformed(fmt::format("vote_count: truncated or above {}", document::kMaxAuthorities));
  }
  for (std::uint8_t i = 0; i < vote_count; ++i) {
    auto v = read_document(reader, 4, document::kMinVote, document::kMaxVote);
    if (!v) {
      return malformed(fmt::format("vote {}: length out of bounds or truncated", i));
    }
    file.snapshot.votes.push_back(std::move(*v));
  }
  std::uint8_t has_consensus = 0;
  if (!reader.read_u8(has_consensus) || has_consensus > 1) {
    return malformed("has_consensus: truncated, or neither 0 nor 1");
  }
  if (has_consensus == 1) {
    auto c = read_document(reader, 4, document::kMinConsensus, document::kMaxConsensus);
    if (!c) {
      return malformed("consensus: length out of bounds or truncated");
    }
    file.snapshot.consensus = std::move(*c);
  }
  if (!reader.empty()) {
    return malformed(fmt::format("{} bytes after the contents", reader.remaining()));
  }
  return file;
}

}  // namespace nyx::daemon
