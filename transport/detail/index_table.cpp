#include "transport/detail/index_table.hpp"

#include <utility>

#include "core/assert.hpp"
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
  if (it == entries_.end()) {
    return nullptr;
  }
  // A session entry names the session filed under this index and its peer
  // (set_session); anything else is an entry left behind by a removal.
  [[maybe_unused]] const IndexEntry& entry = it->second;
  NYX_ASSERT(entry.session == nullptr ||
                 (entry.session->local_index == index && entry.session->peer == entry.peer),
             "index entry disagrees with its session");
  return &it->second;
}

void IndexTable::set_session(std::uint32_t index, UdpSession& session) {
  // A handshake completes under the index it was handed (insert()); an entry
  // made here for an index that was removed meanwhile would name a session
  // nothing else knows of, and outlive it.
  NYX_RELEASE_ASSERT(session.local_index == index && session.peer != nullptr,
                     "a session is filed under its own index, with its peer");
  auto it = entries_.find(index);
  if (it == entries_.end()) {
    NYX_BUG(false, "set_session for an index the table does not hold");
    return;
  }
  it->second = IndexEntry{session.peer, nullptr, &session};
}

void IndexTable::remove(std::uint32_t index) { entries_.erase(index); }

void IndexTable::remove_peer(const Peer& peer) {
  std::erase_if(entries_, [&](const auto& entry) { return entry.second.peer == &peer; });
}

}  // namespace nyx::transport::detail
