#include "daemon/directory_service.hpp"

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "core/crypto/encoding.hpp"
#include "core/log.hpp"
#include "document/consensus.hpp"

namespace nyx::daemon {
namespace {

constexpr std::size_t kSignatureSize =
    crypto::kEd25519PublicKeySize + crypto::kEd25519SignatureSize;

// A copy whose signatures were counted (section 6.3, checks 2, 3 and 7).
struct CountedCopy {
  std::size_t body_size = 0;
  std::vector<crypto::Ed25519PublicKey> signers;  // configured, valid, ascending
};

// Parses `encoded` (which refuses more than kMaxDocument), checks that it is
// consensus `period` of this network, and counts its valid signatures by
// configured authorities; below the threshold it is refused. Unknown and bad
// signatures are ignored, as check 7 ignores them.
Result<CountedCopy> count_copy(Bytes encoded, std::uint64_t period,
                               const document::ConsensusTrust& trust) {
  auto consensus = document::Consensus::parse(encoded);
  if (!consensus) {
    return std::unexpected(std::move(consensus.error()));
  }
  if (consensus->period_seconds != trust.period().seconds()) {
    return make_error(ErrorCategory::kInvalidArgument,
                      fmt::format("wrong period: {}s (this node uses {}s)",
                                  consensus->period_seconds, trust.period().seconds()));
  }
  if (consensus->period != period) {
    return make_error(ErrorCategory::kInvalidArgument,
                      fmt::format("it is consensus {}, offered as {}", consensus->period, period));
  }
  // The parser took sig_count and the signatures off the end: the rest is the body.
  CountedCopy copy;
  copy.body_size = encoded.size() - (1 + consensus->signatures.size() * kSignatureSize);
  const Bytes body = encoded.first(copy.body_size);
  for (const document::ConsensusSignature& signature : consensus->signatures) {
    if (trust.is_configured(signature.authority_key) &&
        document::consensus_signature_valid(signature, body)) {
      copy.signers.push_back(signature.authority_key);
    }
  }
  if (copy.signers.size() < trust.threshold()) {
    return make_error(ErrorCategory::kPermission,
                      fmt::format("below threshold: {} of {} configured authorities signed validly",
                                  copy.signers.size(), trust.threshold()));
  }
  return copy;
}

}  // namespace

HoldOutcome HeldConsensusService::hold(std::uint64_t period, SharedDocument consensus) {
  if (consensus == nullptr) {
    return counted(HoldOutcome::kUnverified);
  }
  if (consensus_ != nullptr && period < period_) {
    return counted(HoldOutcome::kOlder);
  }
  if (consensus_ != nullptr && period == period_) {
    return counted(take_same_period(std::move(consensus)));
  }
  return counted(take(period, std::move(consensus)));
}

HoldOutcome HeldConsensusService::take(std::uint64_t period, SharedDocument consensus) {
  if (trust_) {
    auto copy = count_copy(*consensus, period, *trust_);
    if (!copy) {
      log::warn("directory: consensus {} not served: {}", period, copy.error().message);
      return HoldOutcome::kUnverified;
    }
    held_body_size_ = copy->body_size;
    held_signers_ = std::move(copy->signers);
  }
  period_ = period;
  consensus_ = std::move(consensus);
  return HoldOutcome::kHeld;
}

HoldOutcome HeldConsensusService::take_same_period(SharedDocument consensus) {
  if (!trust_) {
    return HoldOutcome::kUnverified;  // its signatures cannot be counted
  }
  auto copy = count_copy(*consensus, period_, *trust_);
  if (!copy) {
    log::warn("directory: another copy of consensus {} not served: {}", period_,
              copy.error().message);
    return HoldOutcome::kUnverified;
  }
  const Bytes held = *consensus_;
  const Bytes offered = *consensus;
  const Bytes held_body = held.first(held_body_size_);
  const Bytes offered_body = offered.first(copy->body_size);
  if (!std::ranges::equal(held_body, offered_body)) {
    // Both bodies carry t valid signatures, and 2t > N: some authority
    // signed both.
    std::vector<crypto::Ed25519PublicKey> both;
    std::ranges::set_intersection(held_signers_, copy->signers, std::back_inserter(both));
    log::warn(
        "directory: two different consensuses for period {} are signed by enough authorities "
        "(digest {}, held {}); signed by both: {}; the held one is kept",
        period_, crypto::to_short_hex(document::consensus_digest(offered_body)),
        crypto::to_short_hex(document::consensus_digest(held_body)),
        both.empty() ? std::string("none") : crypto::to_short_hex_list(both));
    return HoldOutcome::kEquivocation;
  }
  if (copy->signers.size() <= held_signers_.size()) {
    return HoldOutcome::kNoMoreSignatures;
  }
  consensus_ = std::move(consensus);
  held_signers_ = std::move(copy->signers);
  return HoldOutcome::kMoreSignatures;
}

DirectoryAnswer HeldConsensusService::get_consensus(
    const document::GetConsensusRequest& request) const {
  if (consensus_ == nullptr) {
    return document::DirectoryReply(document::NotFoundReply{});
  }
  if (request.have_period >= period_) {
    return document::DirectoryReply(document::NotModifiedReply{});
  }
  return consensus_;  // the shared buffer: nothing copied per client
}

namespace {

document::DirectoryReply not_authority() {
  return document::DirectoryReply(document::RefusedReply{
      .reason = document::RefusalReason::kNotAuthority, .message = "not an authority"});
}

}  // namespace

std::optional<document::DirectoryReply> HeldConsensusService::screen(
    document::DirectoryRequestType type, const DirectoryRequestContext& context) {
  if (type == document::DirectoryRequestType::kGetConsensus) {
    return std::nullopt;
  }
  if (authority_ == nullptr) {
    return not_authority();
  }
  return authority_->screen(type, context);
}

asio::awaitable<DirectoryAnswer> HeldConsensusService::answer(
    const document::DirectoryRequest& request, const DirectoryRequestContext& context) {
  if (const auto* get = std::get_if<document::GetConsensusRequest>(&request)) {
    co_return get_consensus(*get);
  }
  if (authority_ == nullptr) {
    co_return not_authority();
  }
  co_return co_await authority_->answer(request, context);
}

}  // namespace nyx::daemon
