#include "document/compute_consensus.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/crypto/blake2b.hpp"
#include "core/crypto/encoding.hpp"
#include "document/limits.hpp"

namespace nyx::document {
namespace {

// One descriptor, by the digest of its bytes, and the weights its voters gave it.
struct Tally {
  const RelayEntry* entry = nullptr;
  std::vector<std::uint32_t> weights;
};

using DescriptorDigest = std::array<std::uint8_t, 32>;

std::unexpected<Error> bad_input(std::string message) {
  return make_error(ErrorCategory::kInvalidArgument, "compute consensus: " + message,
                    static_cast<int>(ComputeErrc::kBadInput));
}

std::unexpected<Error> too_large(std::string message) {
  return make_error(ErrorCategory::kResourceExhausted, "compute consensus: too large: " + message,
                    static_cast<int>(ComputeErrc::kTooLarge));
}

Status check_votes(const Period& period, std::uint64_t q, std::size_t n,
                   std::span<const Vote> votes) {
  if (n == 0 || n > kMaxAuthorities) {
    return bad_input(
        fmt::format("{} configured authorities, expected 1 to {}", n, kMaxAuthorities));
  }
  if (votes.size() > n) {
    return bad_input(fmt::format("{} votes from {} configured authorities", votes.size(), n));
  }
  std::set<crypto::Ed25519PublicKey> voters;
  for (const Vote& vote : votes) {
    if (vote.period_seconds != period.seconds() || vote.period != q) {
      return bad_input(fmt::format("a vote for period {} of {} s, computing {} of {} s",
                                   vote.period, vote.period_seconds, q, period.seconds()));
    }
    if (!voters.insert(vote.authority_key).second) {
      return bad_input("two votes by one authority");
    }
    // Entries may be held in any order, but a hand-built vote that lists
    // one identity twice would count as two voters for its descriptor.
    std::set<NodeId> listed;
    for (const RelayEntry& entry : vote.entries) {
      if (!listed.insert(entry.node_id()).second) {
        return bad_input(fmt::format("a vote's entries list node {} twice",
                                     crypto::to_short_hex(entry.node_id())));
      }
    }
  }
  return {};
}

// Section 5.5's loop: every descriptor that a majority of the configured
// authorities listed, with the low median of their weights, sorted by node_id.
std::vector<RelayEntry> tally_votes(std::size_t majority, std::span<const Vote> votes) {
  std::map<DescriptorDigest, Tally> tally;
  for (const Vote& vote : votes) {
    for (const RelayEntry& entry : vote.entries) {
      DescriptorDigest digest;
      crypto::blake2b(digest, entry.descriptor_bytes());
      Tally& counted = tally[digest];
      counted.entry = &entry;  // identical bytes, whichever vote they came from
      counted.weights.push_back(entry.weight());
    }
  }
  std::vector<RelayEntry> out;
  for (auto& [digest, counted] : tally) {
    if (counted.weights.size() >= majority) {
      std::sort(counted.weights.begin(), counted.weights.end());
      out.push_back(counted.entry->with_weight(counted.weights[(counted.weights.size() - 1) / 2]));
    }
  }
  // Node ids are distinct here: a vote lists one descriptor per identity, and
  // two majorities of the configured authorities always share a voter.
  std::sort(out.begin(), out.end(),
            [](const RelayEntry& a, const RelayEntry& b) { return a.node_id() < b.node_id(); });
  return out;
}

}  // namespace

Result<Consensus> compute_consensus(const Period& period, std::uint64_t q,
                                    std::size_t configured_authorities,
                                    std::span<const Vote> votes) {
  if (auto status = check_votes(period, q, configured_authorities, votes); !status) {
    return std::unexpected(std::move(status.error()));
  }
  const std::size_t majority = majority_of(configured_authorities);
  if (votes.size() < majority) {
    return make_error(ErrorCategory::kNotFound,
                      fmt::format("too few votes: {} of {}, {} needed", votes.size(),
                                  configured_authorities, majority),
                      static_cast<int>(ComputeErrc::kTooFewVotes));
  }
  Consensus consensus;
  consensus.period_seconds = period.seconds();
  consensus.period = q;
  consensus.entries = tally_votes(majority, votes);
  // Many relays each listed by a different majority can add up to more than
  // one vote holds. Section 2.1 bounds a consensus, signatures included, so
  // the result must fit with room for a signature by every configured
  // authority; if it does not, no consensus is made for q.
  if (consensus.entries.size() > kMaxEntries) {
    return too_large(fmt::format("{} relays reach a majority, at most {} in one consensus",
                                 consensus.entries.size(), kMaxEntries));
  }
  auto body = consensus.encode_body();
  if (!body) {
    return std::unexpected(std::move(body.error()));
  }
  const std::size_t signatures =
      1 + configured_authorities * (crypto::kEd25519PublicKeySize + crypto::kEd25519SignatureSize);
  if (body->size() + signatures > kMaxDocument) {
    return too_large(fmt::format("a body of {} bytes and room for {} signature{} exceed {} bytes",
                                 body->size(), configured_authorities,
                                 configured_authorities == 1 ? "" : "s", kMaxDocument));
  }
  return consensus;
}

}  // namespace nyx::document
