#include "mix/cell_scheduler.hpp"

#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/bytes.hpp"

namespace nyx::mix {
namespace {

PeerKey peer_key(std::uint8_t fill) {
  PeerKey key{};
  key.fill(fill);
  return key;
}

// Records every cell handed to it as (peer, circuit id); refuses while
// `refuse` is set.
class RecordingLink final : public CellLink {
 public:
  bool send_cell(const PeerKey& peer, Bytes cell) override {
    if (refuse) {
      return false;
    }
    sent.emplace_back(peer, load_be32(cell.data()));
    return true;
  }
  std::vector<CircuitId> ids_to(const PeerKey& peer) const {
    std::vector<CircuitId> ids;
    for (const auto& [to, id] : sent) {
      if (to == peer) {
        ids.push_back(id);
      }
    }
    return ids;
  }
  bool refuse = false;
  std::vector<std::pair<PeerKey, CircuitId>> sent;
};

Cell data_cell() {
  Cell cell{};
  write_cell_header(cell, 0, CellCommand::kRelay);
  return cell;
}

// Queues `n` cells of the circuit `id` on the link to `peer`; how many it took.
int enqueue(CellScheduler& scheduler, const PeerKey& peer, CircuitId id, CellQueue& queue, int n) {
  int taken = 0;
  for (int i = 0; i < n; ++i) {
    Cell cell = data_cell();
    taken += scheduler.enqueue(LinkCircuit{peer, id}, queue, cell) ? 1 : 0;
  }
  return taken;
}

TEST(CellScheduler, ServesTheCircuitsOfALinkInTurn) {
  RecordingLink link;
  CellScheduler scheduler(link, {});
  const PeerKey a = peer_key(1);
  CellQueue q1, q2, q3;
  enqueue(scheduler, a, 1, q1, 4);
  enqueue(scheduler, a, 2, q2, 2);
  enqueue(scheduler, a, 3, q3, 1);
  EXPECT_EQ(scheduler.queued_cells(a), 7u);
  scheduler.flush();
  // One cell per circuit per turn, the header carrying each circuit's id.
  EXPECT_EQ(link.ids_to(a), (std::vector<CircuitId>{1, 2, 3, 1, 2, 1, 1}));
  EXPECT_EQ(scheduler.queued_cells(), 0u);
  EXPECT_EQ(scheduler.counters().sent, 7u);
}

TEST(CellScheduler, ACircuitThatStartsWaitingLaterJoinsAtTheBackOfTheRing) {
  RecordingLink link;
  CellScheduler scheduler(link, {.flush_cells_per_link = 2});
  const PeerKey a = peer_key(1);
  CellQueue q1, q2, q3;
  enqueue(scheduler, a, 1, q1, 3);
  enqueue(scheduler, a, 2, q2, 3);
  scheduler.flush();  // 1, 2
  enqueue(scheduler, a, 3, q3, 1);
  scheduler.flush();  // 1, 2
  scheduler.flush();  // 3, 1
  scheduler.flush();  // 2
  EXPECT_EQ(link.ids_to(a), (std::vector<CircuitId>{1, 2, 1, 2, 3, 1, 2}));
}

TEST(CellScheduler, EachFlushHandsEveryLinkItsBudget) {
  RecordingLink link;
  CellScheduler scheduler(link, {.flush_cells_per_link = 2});
  const PeerKey a = peer_key(1);
  const PeerKey b = peer_key(2);
  CellQueue qa, qb;
  enqueue(scheduler, a, 1, qa, 5);
  enqueue(scheduler, b, 9, qb, 3);
  scheduler.flush();
  EXPECT_EQ(scheduler.queued_cells(a), 3u);
  EXPECT_EQ(scheduler.queued_cells(b), 1u);
  scheduler.flush();
  scheduler.flush();
  EXPECT_EQ(scheduler.queued_cells(), 0u);
  EXPECT_EQ(link.ids_to(a).size(), 5u);
  EXPECT_EQ(link.ids_to(b).size(), 3u);
}

TEST(CellScheduler, BoundsDropAndCountTheExcess) {
  RecordingLink link;
  CellScheduler scheduler(link, {.link_cells = 5, .circuit_cells = 3});
  const PeerKey a = peer_key(1);
  const PeerKey b = peer_key(2);
  CellQueue q1, q2, q3;
  EXPECT_EQ(enqueue(scheduler, a, 1, q1, 4), 3);  // the circuit's bound
  EXPECT_EQ(enqueue(scheduler, a, 2, q2, 4), 2);  // the link's bound
  EXPECT_EQ(enqueue(scheduler, b, 3, q3, 3), 3);  // another link is not touched
  EXPECT_EQ(scheduler.counters().dropped_queue_full, 3u);
  EXPECT_EQ(scheduler.queued_cells(a), 5u);
  EXPECT_EQ(scheduler.queued_cells(), 8u);
  scheduler.flush();
  EXPECT_EQ(link.ids_to(a), (std::vector<CircuitId>{1, 2, 1, 2, 1}));
}

TEST(CellScheduler, AFullQueuePushesBackAndTakesCellsAgainOnceFlushed) {
  RecordingLink link;
  CellScheduler scheduler(link, {.circuit_cells = 2, .flush_cells_per_link = 1});
  int requests = 0;
  scheduler.set_flush_request([&] { ++requests; });
  const PeerKey a = peer_key(1);
  CellQueue q;
  EXPECT_EQ(enqueue(scheduler, a, 1, q, 3), 2);  // the third is pushed back
  EXPECT_EQ(requests, 1);                        // once, when cells started waiting
  scheduler.flush();
  EXPECT_EQ(enqueue(scheduler, a, 1, q, 1), 1);  // room again
  EXPECT_EQ(requests, 1);                        // still waiting: no second request
  scheduler.flush();
  scheduler.flush();
  EXPECT_EQ(scheduler.queued_cells(), 0u);
  EXPECT_EQ(enqueue(scheduler, a, 1, q, 1), 1);
  EXPECT_EQ(requests, 2);  // drained, then waiting again
  EXPECT_EQ(scheduler.counters().dropped_queue_full, 1u);
}

TEST(CellScheduler, ACellTheLinkRefusesIsCountedAndNotRetried) {
  RecordingLink link;
  CellScheduler scheduler(link, {});
  const PeerKey a = peer_key(1);
  CellQueue q;
  enqueue(scheduler, a, 1, q, 2);
  link.refuse = true;
  scheduler.flush();
  EXPECT_EQ(scheduler.counters().dropped_link, 2u);
  EXPECT_EQ(scheduler.counters().sent, 0u);
  EXPECT_EQ(scheduler.queued_cells(), 0u);
  link.refuse = false;
  enqueue(scheduler, a, 1, q, 1);
  scheduler.flush();
  EXPECT_EQ(scheduler.counters().sent, 1u);
}

TEST(CellScheduler, ControlCellsGoOutAtOnceAheadOfQueuedData) {
  RecordingLink link;
  CellScheduler scheduler(link, {});
  const PeerKey a = peer_key(1);
  CellQueue q;
  enqueue(scheduler, a, 1, q, 2);
  scheduler.send_now(a, make_keyless_destroy_cell(7));
  ASSERT_EQ(link.sent.size(), 1u);
  EXPECT_EQ(link.sent[0].second, 7u);
  link.refuse = true;
  scheduler.send_now(a, make_keyless_destroy_cell(8));
  EXPECT_EQ(scheduler.counters().dropped_link, 1u);
  EXPECT_EQ(scheduler.queued_cells(), 2u);
}

TEST(CellScheduler, DiscardingAQueueLeavesTheOthersInTheRing) {
  RecordingLink link;
  CellScheduler scheduler(link, {});
  const PeerKey a = peer_key(1);
  CellQueue q1, q2, q3;
  enqueue(scheduler, a, 1, q1, 2);
  enqueue(scheduler, a, 2, q2, 2);
  enqueue(scheduler, a, 3, q3, 2);
  scheduler.discard(a, q2);
  scheduler.discard(a, q2);  // twice is harmless
  EXPECT_EQ(q2.size(), 0u);
  EXPECT_EQ(scheduler.queued_cells(a), 4u);
  scheduler.flush();
  EXPECT_EQ(link.ids_to(a), (std::vector<CircuitId>{1, 3, 1, 3}));
  // The discarded queue can wait again.
  enqueue(scheduler, a, 2, q2, 1);
  scheduler.flush();
  EXPECT_EQ(link.ids_to(a).back(), 2u);
}

TEST(CellScheduler, ForgettingALinkDropsWhatWaitsForIt) {
  RecordingLink link;
  CellScheduler scheduler(link, {});
  const PeerKey a = peer_key(1);
  const PeerKey b = peer_key(2);
  CellQueue q1, q2, q3;
  enqueue(scheduler, a, 1, q1, 2);
  enqueue(scheduler, a, 2, q2, 1);
  enqueue(scheduler, b, 3, q3, 1);
  scheduler.forget_link(a);
  EXPECT_EQ(scheduler.queued_cells(a), 0u);
  EXPECT_EQ(scheduler.queued_cells(), 1u);
  EXPECT_EQ(q1.size(), 0u);
  scheduler.flush();
  EXPECT_EQ(link.ids_to(a).size(), 0u);
  EXPECT_EQ(link.ids_to(b).size(), 1u);
  // The queues are free to wait on a new link to the same peer.
  enqueue(scheduler, a, 1, q1, 1);
  scheduler.flush();
  EXPECT_EQ(link.ids_to(a).size(), 1u);
}

}  // namespace
}  // namespace nyx::mix
