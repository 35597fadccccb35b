#include "daemon/directory_service.hpp"

#include <string>
#include <utility>

namespace nyx::daemon {

void HeldConsensusService::hold(std::uint64_t period, SharedDocument consensus) {
  if (consensus == nullptr || (consensus_ != nullptr && period <= period_)) {
    return;
  }
  period_ = period;
  consensus_ = std::move(consensus);
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
