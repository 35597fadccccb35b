#pragma once
// The size bounds of the voting directory's documents (proposal 0002
// section 2.1, "Size bounds") and the majority rule, in one place for the
// vote, the consensus, their shared entry list, the verifier and the
// authority's configuration.
// The signed descriptor's own bounds stay with it (signed_descriptor.hpp).

#include <cstddef>

namespace nyx::document {

// A vote or a consensus, all of it, signatures included.
inline constexpr std::size_t kMaxDocument = 16 * 1024 * 1024;
// Entries (relays) in one vote or consensus.
inline constexpr std::size_t kMaxEntries = 16384;
// Signatures on one consensus; also the most authorities a network configures.
inline constexpr std::size_t kMinConsensusSignatures = 1;
inline constexpr std::size_t kMaxConsensusSignatures = 32;
inline constexpr std::size_t kMaxAuthorities = kMaxConsensusSignatures;

// M_maj = floor(N/2) + 1: the strict majority of N configured authorities.
// Two majorities always share an authority, which is why a consensus needs one.
constexpr std::size_t majority_of(std::size_t n) noexcept { return n / 2 + 1; }

}  // namespace nyx::document
