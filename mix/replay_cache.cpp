#include "mix/replay_cache.hpp"

namespace nyx::mix {

Status ReplayCache::insert(const ReplayTag& tag) {
  if (tags_.contains(tag)) {
    return make_error(ErrorCategory::kPermission, "CREATE replayed",
                      static_cast<int>(CreateErrc::kReplay));
  }
  if (tags_.size() >= capacity_) {
    return make_error(ErrorCategory::kResourceExhausted, "replay cache full",
                      static_cast<int>(CreateErrc::kCacheFull));
  }
  tags_.insert(tag);
  return {};
}

}  // namespace nyx::mix
