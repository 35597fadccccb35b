#include "mix/memory_replay_store.hpp"

namespace nyx::mix {

Status MemoryReplayStore::insert(const ReplayTag& tag) {
  if (full()) {
    return make_error(ErrorCategory::kResourceExhausted, "replay store full");
  }
  tags_.insert(tag);
  return {};
}

}  // namespace nyx::mix
