#include "mix/path_selector.hpp"

#include <algorithm>
#include <limits>

#include "core/crypto/random.hpp"

namespace nyx::mix {
namespace {

bool conflicts_with_any(const document::NodeDescriptor& node,
                        const std::vector<const document::NodeDescriptor*>& chosen,
                        SubnetRule subnets) {
  return std::any_of(chosen.begin(), chosen.end(), [&](const document::NodeDescriptor* other) {
    return paths_conflict(node, *other, subnets);
  });
}

// Exits whose advertised rules allow the destination, outside the conflicts
// of the hops already fixed (the entry, when the caller names one).
std::vector<const document::NodeDescriptor*> fitting_exits(
    std::span<const document::NodeDescriptor> nodes, const PathRequest& request,
    const std::vector<const document::NodeDescriptor*>& fixed) {
  std::vector<const document::NodeDescriptor*> exits;
  for (const document::NodeDescriptor& node : nodes) {
    if (node.is_exit() &&
        (request.destination.empty() || node.exit_rules.allows(request.destination)) &&
        !conflicts_with_any(node, fixed, request.subnets)) {
      exits.push_back(&node);
    }
  }
  return exits;
}

}  // namespace

const document::NodeDescriptor* draw_by_bandwidth(
    std::span<const document::NodeDescriptor* const> candidates, RandomSource& random) {
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
  // Every hop fixed so far, in the order chosen: the entry if given, the
  // exit, then the middles from the exit backwards, then a drawn entry.
  std::vector<const document::NodeDescriptor*> chosen;
  if (request.entry != nullptr) {
    chosen.push_back(request.entry);
  }
  const document::NodeDescriptor* exit =
      draw_by_bandwidth(fitting_exits(nodes, request, chosen), random_);
  if (exit == nullptr) {
    return make_error(ErrorCategory::kNotFound,
                      request.entry != nullptr
                          ? "path: no exit allows the destination outside the guard's conflicts"
                          : "path: no exit allows the destination");
  }
  chosen.push_back(exit);
  std::vector<const document::NodeDescriptor*> candidates;
  while (chosen.size() < request.hops) {
    candidates.clear();
    for (const document::NodeDescriptor& node : nodes) {
      if (node.is_relay() && !conflicts_with_any(node, chosen, request.subnets)) {
        candidates.push_back(&node);
      }
    }
    const document::NodeDescriptor* hop = draw_by_bandwidth(candidates, random_);
    if (hop == nullptr) {
      return make_error(ErrorCategory::kNotFound,
                        "path: too few relays outside the chosen hops' families and subnets");
    }
    chosen.push_back(hop);
  }
  // Entry-first order: a given entry stays in front; the rest were drawn
  // exit first, so they are reversed behind it.
  const auto drawn = chosen.begin() + (request.entry != nullptr ? 1 : 0);
  std::reverse(drawn, chosen.end());
  return chosen;
}

}  // namespace nyx::mix
