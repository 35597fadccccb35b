#include "transport/detail/index_table.hpp"

#include <utility>

#include "core/bytes.hpp"
#include "core/crypto/random.hpp"
#include "transport/detail/peer.hpp"

namespace nyx::transport::detail {
namespace {

std::uint32_t random_index() {
  std::uint32_t index = 0;
  crypto::random_bytes(MutableBytes(reinterpret_cast<std::uint8_t*>(&index), sizeof index));
  return index;
}

}  // namespace

IndexTable::IndexTable() : IndexTable(random_index) {}

IndexTable::IndexTable(RandomIndex random) : random_(std::move(random)) {}

std::uint32_t IndexTable::insert(IndexEntry entry) {
  for (;;) {
    const std::uint32_t index = random_();
    if (index != 0 && entries_.try_emplace(index, entry).second) {
      return index;
    }
  }
}

const IndexEntry* IndexTable::lookup(std::uint32_t index) const {
  auto it = entries_.find(index);
  return it == entries_.end() ? nullptr : &it->second;
}

void IndexTable::set_session(std::uint32_t index, UdpSession& session) {
  entries_[index] = IndexEntry{session.peer, nullptr, &session};
}

void IndexTable::remove(std::uint32_t index) { entries_.erase(index); }

void IndexTable::remove_peer(const Peer& peer) {
  std::erase_if(entries_, [&](const auto& entry) { return entry.second.peer == &peer; });
}

}  // namespace nyx::transport::detail
