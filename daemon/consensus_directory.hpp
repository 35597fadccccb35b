#pragma once
// The installed consensus as path selection and the cell shard read it: a
// document::Directory, the form the v1 directory file gave them, so that
// both reach the links, CREATE admission and the path selector one way
// while the v1 file is still supported (proposal 0002, sections 6.4 and 6.5).
//
// Each entry becomes a NodeDescriptor (SignedDescriptor::listing) with
//  - the consensus weight instead of the relay's self-reported one;
//  - the onion key of epoch(now): the descriptor's onion_key when
//    epoch(now) = q, its next_onion_key when epoch(now) = q + 1.
// A consensus outside those two epochs lists no key for epoch(now), so no
// relay of it is eligible: the directory has no nodes.
//
// A pure function; thread-safe.

#include <cstdint>

#include "document/consensus.hpp"
#include "document/directory.hpp"
#include "document/period.hpp"

namespace nyx::daemon {

// `consensus` passed verification (section 6.3) for `period`, so its
// period_seconds is period.seconds(); `now` is Unix seconds.
document::Directory consensus_directory(const document::Consensus& consensus,
                                        const document::Period& period, std::uint64_t now);

}  // namespace nyx::daemon
