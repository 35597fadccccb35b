#pragma once
// CellScheduler: the way out of a relay. Control cells (CREATE, CREATED,
// DESTROY) go to their link at once; data cells wait in one CellQueue per
// circuit and link, and flush() hands each link up to a budget of them, one
// cell per circuit in turn (round-robin), so a busy circuit cannot starve
// the others on its link. Queues are bounded per circuit and per link: a
// cell over either bound is dropped and counted, never queued (the stream
// layer's loss recovery absorbs it). When cells start waiting it asks its
// owner, once, to schedule a flush.
//
// Ownership and threading: owned by its Relay; every call on the relay's
// thread. A CellQueue belongs to its circuit, which must discard() it before
// destroying it; forget_link() drops what still waits for a link.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <unordered_map>

#include "mix/cell.hpp"
#include "mix/cell_link.hpp"
#include "mix/link_circuit.hpp"

namespace nyx::mix {

// One circuit's data cells waiting for one link. Intrusive: while it holds
// cells it sits in its link's ring, so serving it and discarding it need no
// lookup.
class CellQueue {
 public:
  CellQueue() = default;
  CellQueue(const CellQueue&) = delete;
  CellQueue& operator=(const CellQueue&) = delete;

  std::size_t size() const noexcept { return cells_.size(); }

 private:
  friend class CellScheduler;
  std::deque<Cell> cells_;
  CellQueue* next_ = nullptr;  // neighbours in the link's ring while not empty
  CellQueue* prev_ = nullptr;
};

class CellScheduler {
 public:
  struct Limits {
    std::size_t link_cells = 1024;    // data cells queued per link, all circuits
    std::size_t circuit_cells = 256;  // data cells queued per circuit per link
    std::size_t flush_cells_per_link = 64;
  };
  struct Counters {
    std::uint64_t sent = 0;                // data cells handed to a link
    std::uint64_t dropped_queue_full = 0;  // refused by a bound
    std::uint64_t dropped_link = 0;        // the CellLink refused the cell (data or control)
  };

  CellScheduler(CellLink& link, Limits limits) : link_(link), limits_(limits) {}
  CellScheduler(const CellScheduler&) = delete;
  CellScheduler& operator=(const CellScheduler&) = delete;

  // Hands a control cell to the link now, ahead of every queued data cell.
  void send_now(const PeerKey& peer, Bytes cell);
  // Queues a data cell of the circuit `to` names, in `queue` (that circuit's
  // queue for the link), with its header's id rewritten to `to.id`. False
  // when a bound refused it (dropped and counted).
  bool enqueue(const LinkCircuit& to, CellQueue& queue, Cell& cell);
  // Hands up to flush_cells_per_link queued cells to each link, round-robin.
  void flush();
  // Drops the cells waiting in `queue`, which waits for the link to `peer`.
  void discard(const PeerKey& peer, CellQueue& queue);
  // Drops whatever still waits for the link to `peer` and forgets the link.
  void forget_link(const PeerKey& peer);

  // Called when cells start waiting (queued_cells() leaves 0).
  void set_flush_request(std::function<void()> request) { flush_request_ = std::move(request); }
  std::size_t queued_cells() const noexcept { return queued_; }
  std::size_t queued_cells(const PeerKey& peer) const;
  const Counters& counters() const noexcept { return counters_; }

 private:
  // The circuits with cells for one link: `head` is served next, the ring
  // closes through next_/prev_.
  struct LinkRing {
    CellQueue* head = nullptr;
    std::size_t cells = 0;
  };
  static void link_in(LinkRing& ring, CellQueue& queue) noexcept;
  static void link_out(LinkRing& ring, CellQueue& queue) noexcept;
  void flush_link(const PeerKey& peer, LinkRing& ring);

  CellLink& link_;
  Limits limits_;
  std::unordered_map<PeerKey, LinkRing, PeerKeyHash> links_;
  std::function<void()> flush_request_;
  std::size_t queued_ = 0;
  Counters counters_;
};

}  // namespace nyx::mix
