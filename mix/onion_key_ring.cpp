#include "mix/onion_key_ring.hpp"

namespace nyx::mix {

void OnionKeyRing::rotate(std::uint64_t epoch, crypto::X25519KeyPair key) {
  previous_ = std::move(current_);
  current_.emplace(Entry{epoch, std::move(key), ReplayCache(replay_capacity_)});
}

}  // namespace nyx::mix
