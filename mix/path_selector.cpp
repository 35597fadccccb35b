#include "mix/path_selector.hpp"

#include <algorithm>
#include <limits>

#include "core/crypto/random.hpp"

namespace nyx::mix {
namespace {

// Draws one of `candidates` with probability proportional to its weight.
const document::NodeDescriptor* draw(const std::vector<const document::NodeDescriptor*>& candidates,
                                     RandomSource& random) {
  std::uint64_t total = 0;
  for (const document::NodeDescriptor* node : candidates) {
    total += node->bandwidth_weight;
  }
  if (total == 0) {
    return nullptr;
  }
  std::uint64_t pick = random.uniform(total);
  for (const document::NodeDescriptor* node : candidates) {
    if (pick < node->bandwidth_weight) {
      return node;
    }
    pick -= node->bandwidth_weight;
  }
  return nullptr;
}

bool conflicts(const document::NodeDescriptor& node,
               const std::vector<const document::NodeDescriptor*>& chosen) {
  return std::any_of(chosen.begin(), chosen.end(), [&](const document::NodeDescriptor* other) {
    return other->identity_key == node.identity_key ||
           (!node.family.empty() && other->family == node.family);
  });
}

}  // namespace

std::uint64_t CryptoRandomSource::uniform(std::uint64_t bound) {
  // Rejection sampling: drop the top partial range so every value is equally likely.
  std::uint64_t limit =
      std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % bound;
  for (;;) {
    std::uint64_t v = crypto::random_u64();
    if (v < limit) {
      return v % bound;
    }
  }
}

Result<std::vector<const document::NodeDescriptor*>> PathSelector::select(
    std::span<const document::NodeDescriptor> nodes, const PathRequest& request) {
  if (request.hops < kMinHops || request.hops > kMaxHops) {
    return make_error(ErrorCategory::kInvalidArgument, "path: hop count must be 2 to 7");
  }
  std::vector<const document::NodeDescriptor*> chosen;  // exit first while choosing
  std::vector<const document::NodeDescriptor*> candidates;
  for (const document::NodeDescriptor& node : nodes) {
    if (node.is_exit() &&
        (request.destination.empty() || node.exit_rules.allows(request.destination))) {
      candidates.push_back(&node);
    }
  }
  const document::NodeDescriptor* exit = draw(candidates, random_);
  if (exit == nullptr) {
    return make_error(ErrorCategory::kNotFound, "path: no exit allows the destination");
  }
  chosen.push_back(exit);
  while (chosen.size() < request.hops) {
    candidates.clear();
    for (const document::NodeDescriptor& node : nodes) {
      if (node.is_relay() && !conflicts(node, chosen)) {
        candidates.push_back(&node);
      }
    }
    const document::NodeDescriptor* hop = draw(candidates, random_);
    if (hop == nullptr) {
      return make_error(ErrorCategory::kNotFound,
                        "path: too few relays outside the chosen families");
    }
    chosen.push_back(hop);
  }
  // Drawn exit, then the hop before it, ...: reverse to entry-first order.
  std::reverse(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace nyx::mix
