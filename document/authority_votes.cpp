// AuthorityState, the vote (proposal 0002 sections 5.3 and 5.4): making
// its own, once, and accepting the others'.
#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "core/crypto/encoding.hpp"
#include "document/address_scope.hpp"
#include "document/authority_state.hpp"
#include "document/detail/authority_refusal.hpp"

namespace nyx::document {
namespace {

using Reason = AuthorityRefusalReason;
using detail::refuse;

std::vector<AddressGroup> groups_of(const SignedDescriptor& d) {
  std::vector<AddressGroup> groups;
  for (const NodeAddress* address : {&d.udp_address, &d.tcp_address}) {
    if (!address->is_none()) {
      groups.push_back(address_group(*address));
    }
  }
  std::sort(groups.begin(), groups.end());
  groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
  return groups;
}

}  // namespace

Result<Vote> AuthorityState::make_vote(std::uint64_t q, std::uint64_t now,
                                       std::span<const NodeId> listed_before) {
  PeriodVotes& period = periods_[q];
  if (const auto own = period.votes.find(key_.public_key); own != period.votes.end()) {
    return own->second;  // never re-made: a second vote would be equivocation
  }
  if (now < schedule_.at(AuthorityStep::kVote, q) ||
      now >= schedule_.at(AuthorityStep::kCompute, q)) {
    return make_error(ErrorCategory::kTimeout,
                      fmt::format("vote for {}: made only in [{}, {}), now {}", q,
                                  schedule_.at(AuthorityStep::kVote, q),
                                  schedule_.at(AuthorityStep::kCompute, q), now));
  }
  std::vector<const HeldDescriptor*> candidates;
  if (const auto by_epoch = descriptors_.find(q); by_epoch != descriptors_.end()) {
    for (const auto& [id, held] : by_epoch->second) {
      if (held.swept.value_or(false)) {
        candidates.push_back(&held);
      }
    }
  }
  // The per-address cap: relays listed in q − 1 first, then by node_id; a
  // relay is kept only while every group it is in has room.
  const std::set<NodeId> listed(listed_before.begin(), listed_before.end());
  std::stable_sort(candidates.begin(), candidates.end(), [&](const auto* a, const auto* b) {
    return listed.contains(a->descriptor.node_id()) && !listed.contains(b->descriptor.node_id());
  });
  std::map<AddressGroup, std::size_t> in_group;
  Vote vote;
  vote.authority_key = key_.public_key;
  vote.period_seconds = config_.period.seconds();
  vote.period = q;
  for (const HeldDescriptor* held : candidates) {
    const auto groups = groups_of(held->descriptor);
    if (std::any_of(groups.begin(), groups.end(), [&](const AddressGroup& g) {
          return in_group[g] >= config_.max_relays_per_address;
        })) {
      continue;
    }
    for (const AddressGroup& g : groups) {
      ++in_group[g];
    }
    const std::uint32_t weight =
        std::min(held->descriptor.bandwidth_weight, config_.max_bandwidth_weight);
    auto entry = RelayEntry::from_bytes(std::max<std::uint32_t>(weight, 1), held->bytes);
    if (!entry) {
      return std::unexpected(std::move(entry.error()));
    }
    vote.entries.push_back(std::move(*entry));
  }
  std::sort(vote.entries.begin(), vote.entries.end(),
            [](const RelayEntry& a, const RelayEntry& b) { return a.node_id() < b.node_id(); });
  if (auto status = vote.sign(key_); !status) {
    return std::unexpected(std::move(status.error()));
  }
  period.votes.emplace(key_.public_key, vote);
  return vote;
}

AuthorityOutcome<VoteAccepted> AuthorityState::hold_vote(Vote vote) {
  PeriodVotes& period = periods_[vote.period];
  const std::string voter = crypto::to_short_hex(vote.authority_key);
  if (period.equivocators.contains(vote.authority_key)) {
    return refuse(
        Reason::kKnownEquivocator,
        fmt::format("authority {} already sent two different votes for {}", voter, vote.period));
  }
  const auto held = period.votes.find(vote.authority_key);
  if (held == period.votes.end()) {
    period.votes.emplace(vote.authority_key, std::move(vote));
    return VoteAccepted::kNew;
  }
  if (*held->second.encode() == *vote.encode()) {
    return VoteAccepted::kAlreadyHeld;
  }
  // Equivocation: both are discarded, and nothing from this authority counts for q.
  period.votes.erase(held);
  period.equivocators.insert(vote.authority_key);
  return refuse(Reason::kEquivocation,
                fmt::format("authority {} sent a second, different vote for {}; both discarded",
                            voter, vote.period));
}

AuthorityOutcome<VoteAccepted> AuthorityState::accept_vote(
    Bytes bytes, const crypto::X25519PublicKey& peer_link_key, std::uint64_t now) {
  if (!is_authority_link(peer_link_key)) {
    return refuse(Reason::kNotAuthority, "a vote over a link that is not an authority's");
  }
  auto vote = Vote::parse(bytes);
  if (!vote) {
    return refuse(Reason::kMalformed, vote.error().message);
  }
  if (!is_configured(vote->authority_key)) {
    return refuse(Reason::kUnknownVoter, fmt::format("vote by {}, not a configured authority",
                                                     crypto::to_short_hex(vote->authority_key)));
  }
  if (vote->period_seconds != config_.period.seconds()) {
    return refuse(Reason::kWrongEpoch,
                  fmt::format("vote for a period of {} s, this network's is {} s",
                              vote->period_seconds, config_.period.seconds()));
  }
  const std::uint64_t open = schedule_.voting_period(now);
  const TimeWindow window = schedule_.vote_window(open);
  if (vote->period != open || !window.contains(now)) {
    return refuse(Reason::kWrongEpoch,
                  fmt::format("vote for {} at {}: votes for {} are accepted in [{}, {})",
                              vote->period, now, open, window.begin, window.end));
  }
  if (auto status = vote->verify(); !status) {
    return refuse(Reason::kBadSignature, status.error().message);
  }
  return hold_vote(std::move(*vote));
}

std::vector<Vote> AuthorityState::votes(std::uint64_t q) const {
  std::vector<Vote> out;
  if (const auto period = periods_.find(q); period != periods_.end()) {
    for (const auto& [key, vote] : period->second.votes) {
      out.push_back(vote);
    }
  }
  return out;
}

std::vector<crypto::Ed25519PublicKey> AuthorityState::missing_votes(std::uint64_t q) const {
  const auto period = periods_.find(q);
  std::vector<crypto::Ed25519PublicKey> out;
  for (const ConfiguredAuthority& a : config_.authorities) {
    if (period == periods_.end() || !period->second.votes.contains(a.authority_key)) {
      out.push_back(a.authority_key);
    }
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> AuthorityState::vote_bytes(
    std::uint64_t q, const crypto::Ed25519PublicKey& authority) const {
  const auto period = periods_.find(q);
  if (period == periods_.end()) {
    return std::nullopt;
  }
  const auto vote = period->second.votes.find(authority);
  if (vote == period->second.votes.end()) {
    return std::nullopt;
  }
  return *vote->second.encode();
}

}  // namespace nyx::document
