#pragma once
// The packets a Session sent and has not yet forgotten: a ring indexed by
// packet number, holding for each what it carried (so an acknowledgement or
// a loss is applied to the right state), its size, when it left and whether
// it still counts as in flight. Only ack-eliciting packets are ever in
// flight; the others are recorded as done at once, so the ring only grows
// while eliciting packets wait for their fate.
//
// Ownership and threading: one per Session, used on its thread only.

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "core/assert.hpp"
#include "core/clock.hpp"
#include "stream/delivery_rate.hpp"
#include "stream/detail/range_set.hpp"

namespace nyx::stream::detail {

// One frame an in-flight packet carried that needs action on loss or ack.
struct SentRecord {
  enum Kind : std::uint8_t { kStreamData, kMaxData, kMaxStreamData, kMaxStreams, kReset, kStop };
  Kind kind = kStreamData;
  bool fin = false;
  std::uint32_t length = 0;
  std::uint64_t stream = 0;
  std::uint64_t offset = 0;
};

struct SentPacket {
  static constexpr std::size_t kMaxRecords = 8;
  enum State : std::uint8_t { kEmpty, kInFlight, kDone };

  bool full() const noexcept { return count >= kMaxRecords; }
  void add(const SentRecord& r) noexcept {
    // Past the end it would overwrite the next packet's books.
    NYX_RELEASE_ASSERT(!full(), "a sent packet holds at most kMaxRecords records");
    records[count++] = r;
  }

  State state = kEmpty;
  std::uint8_t count = 0;
  std::uint32_t size = 0;
  Nanos time_sent{0};
  SendState send_state{};  // the delivery state when it left (ack-eliciting packets only)
  std::array<SentRecord, kMaxRecords> records{};
};

class SentPackets {
 public:
  SentPackets() : ring_(256) {}

  std::uint64_t next_pn() const noexcept { return next_pn_; }

  // An empty record for packet number next_pn(), which stays unused until
  // commit().
  SentPacket& prepare();
  void commit() noexcept { ++next_pn_; }

  // Marks [smallest, largest] acknowledged and calls f(pn, packet) for
  // each packet in it that was still in flight.
  template <class F>
  void acknowledge(std::uint64_t smallest, std::uint64_t largest, F&& f) {
    const std::uint64_t lo = std::max(smallest, first_pn_);
    const std::uint64_t hi = largest + 1;
    if (lo >= hi) {
      return;
    }
    for_each_in_flight(lo, hi, f);
    acked_.add(lo, hi);
  }

  // Calls f(pn, packet) for each packet below end still in flight and not
  // acknowledged: the candidates for loss.
  template <class F>
  void for_each_unacked_below(std::uint64_t end, F&& f) {
    if (first_pn_ < end) {
      for_each_in_flight(first_pn_, end, f);
    }
  }

  // Forgets the oldest packets that are no longer in flight.
  void pop_done() noexcept;

 private:
  template <class F>
  void for_each_in_flight(std::uint64_t lo, std::uint64_t hi, F& f) {
    acked_.for_each_gap(lo, hi, [&](std::uint64_t a, std::uint64_t b) {
      for (std::uint64_t pn = a; pn < b; ++pn) {
        SentPacket& p = slot(pn);
        if (p.state == SentPacket::kInFlight) {
          f(pn, p);
        }
      }
    });
  }
  SentPacket& slot(std::uint64_t pn) noexcept {
    // Outside [first_pn_, first_pn_ + size) two packet numbers share a slot.
    NYX_ASSERT(pn >= first_pn_ && pn - first_pn_ < ring_.size(), "packet number outside the ring");
    return ring_[static_cast<std::size_t>(pn & (ring_.size() - 1))];
  }

  std::vector<SentPacket> ring_;  // a power of two long
  std::uint64_t first_pn_ = 0;    // oldest packet still tracked
  std::uint64_t next_pn_ = 0;
  RangeSet acked_;  // acknowledged packets at or above first_pn_
};

}  // namespace nyx::stream::detail
