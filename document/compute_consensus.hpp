#pragma once
// compute_consensus: how the directory authorities turn their votes into
// consensus q (proposal 0002 section 5.5). A pure function, deterministic
// and independent of the order of its inputs: every authority holding the
// same votes computes the same body, byte for byte, and signs it.
//
// A descriptor is listed when a strict majority of the CONFIGURED
// authorities, not of the votes held, list it with identical bytes; its
// weight is the low median of the weights they gave it, so no minority can
// raise a relay's weight above what the others voted. Katzenpost's
// tallyVotes counts identical descriptor bytes the same way.
//
// Thread-safe.

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.hpp"
#include "document/consensus.hpp"
#include "document/period.hpp"
#include "document/vote.hpp"

namespace nyx::document {

// Error codes carried in Error::code by compute_consensus.
enum class ComputeErrc : int {
  kTooFewVotes = 1,  // kNotFound: fewer votes than a majority of the configured authorities
  kBadInput = 2,     // kInvalidArgument: votes for another P or q, two by one authority, ...
  // kResourceExhausted: the result would list more than 16384 relays, or not
  // fit in 16 MiB with a signature by each configured authority (section 3).
  kTooLarge = 3,
};

// The consensus for period q of a network with `configured_authorities`
// authorities (N, 1 to 32), from `votes`: the valid votes for q held at the
// vote deadline, at most one per authority. Signature checks are the
// caller's (section 5.4); entries may be in any order, but a vote that
// lists one identity twice is kBadInput, so no voter counts twice.
// The result carries no signature yet. Fewer than
// floor(N/2) + 1 votes: kTooFewVotes, "too few votes: |V| of N, M needed".
Result<Consensus> compute_consensus(const Period& period, std::uint64_t q,
                                    std::size_t configured_authorities,
                                    std::span<const Vote> votes);

}  // namespace nyx::document
