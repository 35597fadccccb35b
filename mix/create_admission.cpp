#include "mix/create_admission.hpp"

namespace nyx::mix {
namespace {

// Groups tracked per table (65 536, proposal section 9): a full table
// refuses new groups rather than evicting active ones (keyed_rate_limiter.hpp).
constexpr std::size_t kMaxGroups = 65536;
// A group idle this long with a full bucket is forgotten (it would come back
// with a full bucket anyway).
constexpr auto kIdleExpiry = std::chrono::minutes(1);

}  // namespace

CreateAdmission::CreateAdmission(const Clock& clock, const CreateLimits& limits)
    : per_address_(clock, limits.rate_per_address, limits.burst_per_address, kMaxGroups,
                   kIdleExpiry),
      per_relay_(clock, limits.rate_per_relay, limits.burst_per_relay, kMaxGroups, kIdleExpiry),
      node_wide_(clock, limits.rate_max, limits.burst_max) {}

bool CreateAdmission::take_group_token(const transport::PeerKey& from,
                                       const std::optional<asio::ip::address>& address) {
  return relay_links_.contains(from) ? per_relay_.try_acquire(from)
                                     : per_address_.try_acquire(address_group(address));
}

CreateAdmission::Verdict CreateAdmission::admit(const transport::PeerKey& from,
                                                const std::optional<asio::ip::address>& address) {
  if (!take_group_token(from, address)) {
    return Verdict::kRateLimited;
  }
  if (!node_wide_.try_acquire()) {
    return Verdict::kOverloaded;
  }
  return Verdict::kAdmitted;
}

CreateAdmission::Verdict CreateAdmission::admit_directory(
    const transport::PeerKey& from, const std::optional<asio::ip::address>& address) {
  return take_group_token(from, address) ? Verdict::kAdmitted : Verdict::kRateLimited;
}

}  // namespace nyx::mix
