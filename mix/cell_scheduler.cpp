#include "mix/cell_scheduler.hpp"

#include "core/bytes.hpp"

namespace nyx::mix {

void CellScheduler::send_now(const PeerKey& peer, Bytes cell) {
  if (!link_.send_cell(peer, cell)) {
    ++counters_.dropped_link;
  }
}

bool CellScheduler::enqueue(const LinkCircuit& to, CellQueue& queue, Cell& cell) {
  LinkRing& ring = links_[to.peer];
  if (ring.cells >= limits_.link_cells || queue.cells_.size() >= limits_.circuit_cells) {
    ++counters_.dropped_queue_full;
    return false;
  }
  store_be32(cell.data(), to.id);
  if (queue.cells_.empty()) {
    link_in(ring, queue);
  }
  queue.cells_.push_back(cell);
  ++ring.cells;
  if (queued_++ == 0 && flush_request_) {
    flush_request_();
  }
  return true;
}

void CellScheduler::flush() {
  for (auto& [peer, ring] : links_) {
    flush_link(peer, ring);
  }
}

void CellScheduler::flush_link(const PeerKey& peer, LinkRing& ring) {
  for (std::size_t budget = limits_.flush_cells_per_link; budget > 0 && ring.head; --budget) {
    CellQueue& queue = *ring.head;
    if (link_.send_cell(peer, queue.cells_.front())) {
      ++counters_.sent;
    } else {
      ++counters_.dropped_link;
    }
    queue.cells_.pop_front();
    --ring.cells;
    --queued_;
    if (queue.cells_.empty()) {
      link_out(ring, queue);
    } else {
      ring.head = queue.next_;  // its next cell waits until every other circuit
                                // had a turn
    }
  }
}

void CellScheduler::discard(const PeerKey& peer, CellQueue& queue) {
  if (queue.cells_.empty()) {
    return;
  }
  auto it = links_.find(peer);
  if (it != links_.end()) {
    it->second.cells -= queue.cells_.size();
    link_out(it->second, queue);
  }
  queued_ -= queue.cells_.size();
  queue.cells_.clear();
}

void CellScheduler::forget_link(const PeerKey& peer) {
  auto it = links_.find(peer);
  if (it == links_.end()) {
    return;
  }
  // Normally empty by now (its circuits were destroyed first); unlinking
  // what is left keeps a queue from pointing into a forgotten ring.
  LinkRing& ring = it->second;
  while (ring.head != nullptr) {
    CellQueue& queue = *ring.head;
    queued_ -= queue.cells_.size();
    queue.cells_.clear();
    link_out(ring, queue);
  }
  links_.erase(it);
}

std::size_t CellScheduler::queued_cells(const PeerKey& peer) const {
  auto it = links_.find(peer);
  return it == links_.end() ? 0 : it->second.cells;
}

void CellScheduler::link_in(LinkRing& ring, CellQueue& queue) noexcept {
  if (ring.head == nullptr) {
    queue.next_ = queue.prev_ = &queue;
    ring.head = &queue;
    return;
  }
  // At the tail: served after every circuit already waiting.
  CellQueue* tail = ring.head->prev_;
  queue.prev_ = tail;
  queue.next_ = ring.head;
  tail->next_ = &queue;
  ring.head->prev_ = &queue;
}

void CellScheduler::link_out(LinkRing& ring, CellQueue& queue) noexcept {
  if (queue.next_ == &queue) {
    ring.head = nullptr;
  } else {
    queue.prev_->next_ = queue.next_;
    queue.next_->prev_ = queue.prev_;
    if (ring.head == &queue) {
      ring.head = queue.next_;
    }
  }
  queue.next_ = queue.prev_ = nullptr;
}

}  // namespace nyx::mix
