#pragma once
// The link emulator's model (docs/proposals/0003 §2.4.1-2.4.2), sans I/O: fed
// packets with their arrival time, asked for the next event time and for the
// packets due. It owns the host access shapers (a virtual-time FIFO with a
// drop-tail byte bound, one per host and direction), the per-link delay lines
// (one-way delay, Ornstein-Uhlenbeck jitter that never reorders, a separate
// reorder draw that holds a packet back), the per-link loss PRNGs and the
// counters. No clock, no socket: every time is a parameter (nanoseconds on one
// monotonic time line), so tests move time instead of sleeping.
//
// Pipeline of a packet A -> B arriving at t0:
//   t1 = A's uplink shaper (drop-tail)      at submit()
//   loss draw on link A->B                  at submit()
//   t2 = t1 + delay + J(t1), clamped, or held back by the reorder gap
//   t3 = B's downlink shaper, run when the packet leaves the delay line
//        (packets of different links reach B in release order)
//   released at t3 on B's port.
//
// One owner (the switch's single thread); not thread-safe.

#include <cstddef>
#include <cstdint>
#include <queue>
#include <vector>

namespace nyx::linkemu {

using Nanos = std::int64_t;
inline constexpr Nanos kMicro = 1000;
inline constexpr Nanos kMilli = 1000 * kMicro;
inline constexpr Nanos kSecond = 1000 * kMilli;

// One direction of one ordered host pair.
struct LinkParams {
  Nanos delay = 0;                 // one-way propagation delay
  Nanos jitter = 0;                // standard deviation of the delay variation
  Nanos jitter_tau = 20 * kMilli;  // its correlation time
  double loss = 0;                 // i.i.d. drop probability per packet
  double reorder = 0;              // probability that a packet is held back
  Nanos reorder_gap = 0;           // by this much; 0 = max(1 ms, 2 x jitter)
};

// A virtual-time FIFO: depart = max(arrive, busy) + bytes * 8 / rate; a packet
// is dropped when the bytes queued in front of it plus its own would exceed
// the bound. rate_bps 0 = unlimited (no queue).
struct ShaperParams {
  std::uint64_t rate_bps = 0;
  std::uint64_t queue_bytes = 0;  // the bound; when 0, queue_time at the rate
  Nanos queue_time = 50 * kMilli;
};

// A host's access link: everything it sends (up) and receives (down).
struct HostParams {
  ShaperParams up{};
  ShaperParams down{};
};

struct ShaperCounters {
  std::uint64_t packets = 0;  // admitted
  std::uint64_t bytes = 0;
  std::uint64_t queue_drops = 0;
  std::uint64_t max_backlog_bytes = 0;
};

struct LinkCounters {
  std::uint64_t packets = 0;  // offered to the link (after the uplink shaper)
  std::uint64_t bytes = 0;
  std::uint64_t loss_drops = 0;
  std::uint64_t reordered = 0;  // held back by the reorder draw
};

// The bound of a shaper in bytes (at least 16 KiB when given as time).
std::uint64_t queue_limit_bytes(const ShaperParams& params);

// One shaper's state: pure arithmetic on virtual time, exact over any
// number of packets (the remainder of bytes * 8e9 / rate is carried).
class Shaper {
 public:
  Shaper() = default;
  explicit Shaper(ShaperParams params);

  // The departure time of a packet of `bytes` arriving at `arrival`, or -1
  // when the queue bound drops it. Arrivals must not go backwards by more
  // than the current backlog (the model feeds them in time order).
  Nanos admit(Nanos arrival, std::uint32_t bytes);

  // Bytes waiting or in transmission at `at`.
  std::uint64_t backlog_bytes(Nanos at) const;
  const ShaperCounters& counters() const { return counters_; }
  const ShaperParams& params() const { return params_; }

 private:
  ShaperParams params_;
  std::uint64_t limit_ = 0;
  Nanos busy_until_ = 0;
  std::uint64_t remainder_ = 0;  // of bits * 1e9 not yet turned into ns
  ShaperCounters counters_;
};

// SplitMix64: small, fast, deterministic; one per link.
class Prng {
 public:
  explicit Prng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  double uniform();  // [0, 1)
  double normal();   // N(0, 1), Box-Muller
 private:
  std::uint64_t state_;
};

class LinkModel {
 public:
  using PacketId = std::uint32_t;

  enum class Verdict { kQueued, kLost, kQueueDropped };

  // A packet whose time has come: send it on `to`'s port, or (dropped) free it.
  struct Release {
    PacketId id;
    std::uint16_t to;
    Nanos at;      // scheduled time (for lateness)
    bool dropped;  // by `to`'s downlink queue bound
  };

  LinkModel(std::size_t hosts, std::uint64_t seed);

  std::size_t hosts() const { return hosts_.size(); }
  void set_link(std::size_t from, std::size_t to, const LinkParams& params);
  void set_host(std::size_t host, const HostParams& params);
  const LinkParams& link(std::size_t from, std::size_t to) const;

  // A packet of `bytes` (IP bytes) from host `from` to host `to`, arrived at
  // `arrival`. kQueued: it comes back from release_due() later.
  Verdict submit(PacketId id, std::size_t from, std::size_t to, std::uint32_t bytes, Nanos arrival);

  // The earliest time at which release_due() has work, or -1 when idle.
  Nanos next_event() const;

  // Runs every event due at or before `now` in time order; appends the
  // packets to send (or to free) to `out`.
  void release_due(Nanos now, std::vector<Release>& out);

  std::size_t in_flight() const { return events_.size(); }
  const LinkCounters& link_counters(std::size_t from, std::size_t to) const;
  const ShaperCounters& up_counters(std::size_t host) const { return hosts_[host].up.counters(); }
  const ShaperCounters& down_counters(std::size_t host) const {
    return hosts_[host].down.counters();
  }

 private:
  enum class Stage : std::uint8_t { kDownlink, kSend };
  struct Event {
    Nanos at;
    std::uint64_t seq;  // FIFO among equal times
    PacketId id;
    std::uint32_t bytes;
    std::uint16_t to;
    Stage stage;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };
  struct Link {
    LinkParams params;
    Prng prng{0};
    double jitter_state = 0;  // J(t), ns
    Nanos jitter_at = 0;
    bool jitter_started = false;
    Nanos last_release = 0;
    LinkCounters counters;
  };
  struct Host {
    Shaper up;
    Shaper down;
  };

  Link& link_at(std::size_t from, std::size_t to) { return links_[from * hosts_.size() + to]; }
  Nanos jitter(Link& link, Nanos at);
  void push(Nanos at, PacketId id, std::uint32_t bytes, std::size_t to, Stage stage);

  std::vector<Host> hosts_;
  std::vector<Link> links_;
  std::priority_queue<Event, std::vector<Event>, Later> events_;
  std::uint64_t seq_ = 0;
};

}  // namespace nyx::linkemu
