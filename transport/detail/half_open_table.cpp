#include "transport/detail/half_open_table.hpp"

#include <algorithm>
#include <utility>

namespace nyx::transport::detail {

HalfOpen* HalfOpenTable::find_by_sender(std::uint32_t sender_index) const {
  auto it = by_sender_.find(sender_index);
  return it == by_sender_.end() ? nullptr : it->second;
}

void HalfOpenTable::add(std::unique_ptr<HalfOpen> half_open) {
  by_sender_[half_open->remote_index] = half_open.get();
  order_.push_back(std::move(half_open));
}

std::unique_ptr<HalfOpen> HalfOpenTable::take(const HalfOpen& half_open) {
  auto it = std::find_if(order_.begin(), order_.end(),
                         [&](const auto& h) { return h.get() == &half_open; });
  if (it == order_.end()) {
    return nullptr;
  }
  std::unique_ptr<HalfOpen> taken = std::move(*it);
  order_.erase(it);
  by_sender_.erase(taken->remote_index);
  return taken;
}

}  // namespace nyx::transport::detail
