// AuthorityState, the consensus (proposal 0002 sections 5.5 to 5.7):
// computing and signing it, the others' signatures, publication, and what
// is kept across a restart.
#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "core/crypto/encoding.hpp"
#include "document/authority_state.hpp"
#include "document/compute_consensus.hpp"
#include "document/detail/authority_refusal.hpp"

namespace nyx::document {
namespace {

using Reason = AuthorityRefusalReason;
using detail::refuse;

}  // namespace

Status AuthorityState::adopt_consensus(std::uint64_t q, Consensus consensus) {
  auto body = consensus.encode_body();
  if (!body) {
    return std::unexpected(std::move(body.error()));
  }
  PeriodVotes& period = periods_[q];
  period.body = std::move(*body);
  period.consensus = std::move(consensus);
  return {};
}

Result<SignatureMessage> AuthorityState::compute(std::uint64_t q, std::uint64_t now) {
  const auto held = periods_.find(q);
  if (held != periods_.end() && held->second.consensus) {
    return SignatureMessage::make(*held->second.consensus, key_);
  }
  const TimeWindow window = schedule_.signature_window(q);
  if (!window.contains(now)) {
    return make_error(ErrorCategory::kTimeout,
                      fmt::format("consensus {}: computed only in [{}, {}), now {}", q,
                                  window.begin, window.end, now));
  }
  const std::vector<Vote> held_votes = votes(q);
  auto consensus = compute_consensus(config_.period, q, config_.authorities.size(), held_votes);
  if (!consensus) {
    return std::unexpected(std::move(consensus.error()));
  }
  if (auto status = consensus->sign(key_); !status) {
    return std::unexpected(std::move(status.error()));
  }
  auto message = SignatureMessage::make(*consensus, key_);
  if (auto status = adopt_consensus(q, std::move(*consensus)); !status) {
    return std::unexpected(std::move(status.error()));
  }
  return message;
}

AuthorityOutcome<std::size_t> AuthorityState::accept_signature(
    Bytes bytes, const crypto::X25519PublicKey& peer_link_key, std::uint64_t now) {
  if (!is_authority_link(peer_link_key)) {
    return refuse(Reason::kNotAuthority, "a signature over a link that is not an authority's");
  }
  auto message = SignatureMessage::parse(bytes);
  if (!message) {
    return refuse(Reason::kMalformed, message.error().message);
  }
  const std::string signer = crypto::to_short_hex(message->authority_key);
  if (!is_configured(message->authority_key)) {
    return refuse(Reason::kUnknownVoter,
                  fmt::format("signature by {}, not a configured authority", signer));
  }
  const TimeWindow window = schedule_.signature_window(message->period);
  if (message->period_seconds != config_.period.seconds() || !window.contains(now)) {
    return refuse(Reason::kWrongEpoch,
                  fmt::format("signature for {} of {} s at {}: accepted for periods of {} s in "
                              "[{}, {})",
                              message->period, message->period_seconds, now,
                              config_.period.seconds(), window.begin, window.end));
  }
  const auto period = periods_.find(message->period);
  if (period == periods_.end() || !period->second.consensus) {
    return refuse(
        Reason::kWrongEpoch,
        fmt::format("signature for {}: no consensus computed for it here", message->period));
  }
  if (auto status = message->check_against(period->second.body); !status) {
    if (status.error().category == ErrorCategory::kProtocol) {
      return refuse(Reason::kDifferentConsensus,
                    fmt::format("authority {} signed a different consensus", signer));
    }
    return refuse(Reason::kBadSignature, status.error().message);
  }
  // Ed25519 signatures verify for one key and body; a second valid one by
  // the same key adds nothing, so the first is kept.
  Consensus& consensus = *period->second.consensus;
  const bool signed_before = std::any_of(
      consensus.signatures.begin(), consensus.signatures.end(),
      [&](const ConsensusSignature& s) { return s.authority_key == message->authority_key; });
  if (!signed_before) {
    if (auto status = consensus.add_signature(message->consensus_signature()); !status) {
      return refuse(Reason::kLimit, status.error().message);
    }
  }
  return consensus.signatures.size();
}

const Consensus* AuthorityState::consensus(std::uint64_t q) const {
  const auto period = periods_.find(q);
  if (period == periods_.end() || !period->second.consensus) {
    return nullptr;
  }
  return &*period->second.consensus;
}

std::vector<SignatureMessage> AuthorityState::signature_messages(std::uint64_t q) const {
  std::vector<SignatureMessage> out;
  const Consensus* own = consensus(q);
  if (own == nullptr) {
    return out;
  }
  const ConsensusDigest digest = consensus_digest(periods_.at(q).body);
  for (const ConsensusSignature& s : own->signatures) {
    out.push_back({own->period_seconds, q, digest, s.authority_key, s.signature});
  }
  return out;
}

std::vector<crypto::Ed25519PublicKey> AuthorityState::missing_signatures(std::uint64_t q) const {
  std::vector<crypto::Ed25519PublicKey> out;
  const Consensus* own = consensus(q);
  for (const ConfiguredAuthority& a : config_.authorities) {
    const bool present =
        own != nullptr && std::any_of(own->signatures.begin(), own->signatures.end(),
                                      [&](const ConsensusSignature& s) {
                                        return s.authority_key == a.authority_key;
                                      });
    if (!present) {
      out.push_back(a.authority_key);
    }
  }
  return out;
}

Result<std::vector<std::uint8_t>> AuthorityState::publishable(std::uint64_t q,
                                                              std::uint64_t now) const {
  if (now < schedule_.at(AuthorityStep::kPublish, q)) {
    return make_error(ErrorCategory::kTimeout,
                      fmt::format("consensus {}: published from {}, now {}", q,
                                  schedule_.at(AuthorityStep::kPublish, q), now));
  }
  const Consensus* own = consensus(q);
  if (own == nullptr) {
    return make_error(ErrorCategory::kNotFound, fmt::format("consensus {}: none computed", q));
  }
  // Every signature held was verified against the body, by a configured key.
  if (own->signatures.size() < threshold_) {
    return make_error(ErrorCategory::kNotFound,
                      fmt::format("consensus {}: {} of {} signatures needed; missing {}", q,
                                  own->signatures.size(), threshold_,
                                  crypto::to_short_hex_list(missing_signatures(q))));
  }
  return own->encode();
}

// --- persistence (section 5.7) ---

AuthoritySnapshot AuthorityState::snapshot(std::uint64_t q) const {
  AuthoritySnapshot out;
  out.q = q;
  if (const auto by_epoch = descriptors_.find(q); by_epoch != descriptors_.end()) {
    for (const auto& [id, held] : by_epoch->second) {
      out.descriptors.push_back(held.bytes);
    }
  }
  for (const Vote& vote : votes(q)) {
    out.votes.push_back(*vote.encode());
  }
  if (const Consensus* own = consensus(q)) {
    out.consensus = *own->encode();
  }
  return out;
}

Status AuthorityState::restore(const AuthoritySnapshot& snapshot) {
  for (const auto& bytes : snapshot.descriptors) {
    auto d = SignedDescriptor::parse_and_verify(bytes);
    if (!d || d->epoch != snapshot.q) {
      return make_error(
          ErrorCategory::kParse,
          fmt::format("restore {}: a stored descriptor does not verify for it", snapshot.q));
    }
    descriptors_[snapshot.q][d->node_id()] = HeldDescriptor{*d, bytes, std::nullopt};
  }
  for (const auto& bytes : snapshot.votes) {
    auto vote = Vote::parse(bytes);
    if (!vote || vote->period != snapshot.q || vote->period_seconds != config_.period.seconds() ||
        !is_configured(vote->authority_key) || !vote->verify()) {
      return make_error(
          ErrorCategory::kParse,
          fmt::format("restore {}: a stored vote does not verify for it", snapshot.q));
    }
    periods_[snapshot.q].votes.insert_or_assign(vote->authority_key, std::move(*vote));
  }
  if (!snapshot.consensus) {
    return {};
  }
  auto stored = Consensus::parse(*snapshot.consensus);
  if (!stored || stored->period != snapshot.q ||
      stored->period_seconds != config_.period.seconds()) {
    return make_error(ErrorCategory::kParse,
                      fmt::format("restore {}: the stored consensus is not for it", snapshot.q));
  }
  const auto body = *stored->encode_body();
  Consensus own = *stored;
  own.signatures.clear();
  for (const ConsensusSignature& s : stored->signatures) {
    if (is_configured(s.authority_key) && consensus_signature_valid(s, body)) {
      own.signatures.push_back(s);  // already sorted
    }
  }
  if (auto status = own.sign(key_); !status) {
    return status;
  }
  return adopt_consensus(snapshot.q, std::move(own));
}

void AuthorityState::prune(std::uint64_t now) {
  const std::uint64_t open = schedule_.voting_period(now);
  const std::uint64_t keep_from = open >= 2 ? open - 2 : 0;
  std::erase_if(descriptors_, [&](const auto& item) { return item.first < keep_from; });
  std::erase_if(periods_, [&](const auto& item) { return item.first < keep_from; });
}

}  // namespace nyx::document
