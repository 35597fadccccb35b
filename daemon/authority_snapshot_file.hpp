#pragma once
// The byte encoding of one period of an authority's state on disk (proposal
// 0002 section 5.7): AuthorityState::snapshot(q) with the network's period
// and the key of the authority it belongs to, so that a file copied from
// another authority or another network is refused rather than taken in.
//
// Version 1, integers big-endian:
//
//   magic (8)              "NYXAUTHS"
//   version (1)            = 1
//   period_seconds (4)     P of the network
//   authority_key (32)     the Ed25519 key of the authority whose state it is
//   period (8)             q
//   descriptor_count (2)   0 to 16384
//   descriptor_count × (length (2) || signed descriptor)   224 to 4096 bytes each
//   vote_count (1)         0 to 32
//   vote_count × (length (4) || vote)                      kMinVote to kMaxVote bytes each
//   has_consensus (1)      0 or 1
//   if 1: length (4) || consensus                          kMinConsensus to kMaxConsensus
//   checksum (32)          BLAKE2b-256 of every byte above
//
// The documents are stored as they were accepted and are checked again,
// signatures included, by AuthorityState::restore; this codec checks only
// the structure, the bounds and the checksum, which tells a damaged file
// apart from a document that no longer verifies. There is one encoding:
// decode then encode gives back the same bytes.
//
// Free functions with no state; thread-safe.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/error.hpp"
#include "document/authority_state.hpp"
#include "document/directory_stream.hpp"
#include "document/limits.hpp"

namespace nyx::daemon {

inline constexpr std::string_view kAuthoritySnapshotMagic = "NYXAUTHS";
inline constexpr std::uint8_t kAuthoritySnapshotVersion = 1;
inline constexpr std::size_t kAuthoritySnapshotChecksumSize = 32;
// Magic, version, P, key, q and descriptor_count; vote_count and
// has_consensus; the checksum.
inline constexpr std::size_t kAuthoritySnapshotFixedSize =
    8 + 1 + 4 + 32 + 8 + 2 + 1 + 1 + kAuthoritySnapshotChecksumSize;
// The largest file the format allows: a reader refuses a bigger one before
// reading it.
inline constexpr std::size_t kMaxAuthoritySnapshot =
    kAuthoritySnapshotFixedSize + document::kMaxEntries * (2 + document::kMaxDescriptor) +
    document::kMaxAuthorities * (4 + document::kMaxVote) + 4 + document::kMaxConsensus;

struct AuthoritySnapshotFile {
  std::uint32_t period_seconds = 0;
  crypto::Ed25519PublicKey authority_key{};
  document::AuthoritySnapshot snapshot;
};

// kInvalidArgument when a count or a document's size is outside the bounds
// above, so nothing decode refuses is ever written.
Result<std::vector<std::uint8_t>> encode_authority_snapshot(const AuthoritySnapshotFile& file);

// kParse "<field>: <what is wrong>" for anything but exactly one encoding
// of version 1 with a matching checksum.
Result<AuthoritySnapshotFile> decode_authority_snapshot(Bytes bytes);

}  // namespace nyx::daemon
