#include "daemon/consensus_directory.hpp"

namespace nyx::daemon {

document::Directory consensus_directory(const document::Consensus& consensus,
                                        const document::Period& period, std::uint64_t now) {
  document::Directory directory;
  directory.valid_after = period.valid_after(consensus.period);
  directory.valid_until = period.valid_until(consensus.period);
  const std::uint64_t epoch = period.epoch(now);
  if (epoch != consensus.period && epoch != consensus.period + 1) {
    return directory;
  }
  directory.nodes.reserve(consensus.entries.size());
  for (const document::RelayEntry& entry : consensus.entries) {
    const document::SignedDescriptor& descriptor = entry.descriptor();
    document::NodeDescriptor node = descriptor.listing();
    node.bandwidth_weight = entry.weight();
    if (epoch != descriptor.epoch) {
      node.onion_key = descriptor.next_onion_key;
      node.onion_key_epoch = epoch;
    }
    directory.nodes.push_back(std::move(node));
  }
  return directory;
}

}  // namespace nyx::daemon
