#pragma once
// Relay: a node's circuit engine. It builds circuits for its own client
// (origin), relays cells for others (middle hop) and ends circuits (last
// hop, handing a Circuit to the exit handler). A node that serves
// directories also ends one-hop CREATE_DIR circuits, handing them to the
// directory handler, never to the exit's (proposal 0002, section 4). It sees
// the network only through a CellLink and time only through the injected
// Clock.
//
// A cell's way through it (relay.cpp reads in this order): handle_cell
// parses it and looks up its circuit; a middle hop peels its layer and
// forwards, an end has its Circuit open and deliver it; forwarded and sent
// data cells wait in the CellScheduler's bounded per-link queues, served
// round-robin between circuits by flush(). A full queue drops (counted),
// never grows. Control cells (CREATE, CREATE_DIR, CREATED, DESTROY) go out
// at once.
// A CREATE under a closed onion key is answered REFUSED (docs/protocol.md,
// "REFUSED"); a circuit of its own that meets one is rebuilt once with the
// refusing hop's next key.
// Optionally, a middle hop holds each data cell for an exponentially
// distributed delay. tick() runs setup and idle timeouts, delayed cells and
// the ends' cover traffic. publish_metrics() exports its counters and gauges
// (nyx_relay_*), brought up to date by tick().
//
// Ownership and threading: owned by its shard; every call on one thread.
// Circuits it hands out reach it through CircuitCarrier; if it is destroyed
// first they are closed silently.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <span>
#include <unordered_set>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "mix/cell_link.hpp"
#include "mix/cell_scheduler.hpp"
#include "mix/circuit.hpp"
#include "mix/circuit_endpoint.hpp"
#include "mix/circuit_table.hpp"
#include "mix/create_admission.hpp"
#include "mix/onion_create.hpp"
#include "mix/onion_key_ring.hpp"
#include "mix/path_selector.hpp"

namespace nyx::metrics {
class Registry;
}  // namespace nyx::metrics

namespace nyx::mix {

namespace detail {
class RelayMetrics;
}  // namespace detail

struct RelayConfig {
  std::size_t link_queue_cells = 1024;    // data cells queued per link, all circuits
  std::size_t circuit_queue_cells = 256;  // data cells queued per circuit per link
  std::size_t flush_cells_per_link = 64;  // cells one flush() hands to a link
  std::size_t max_circuits = 65536;
  Nanos setup_timeout{std::chrono::seconds(10)};
  Nanos idle_timeout{std::chrono::minutes(10)};
  Nanos mean_hop_delay{0};     // exponential mixing delay at middle hops; 0: none
  CreateLimits create_limits;  // CREATE admission before any Diffie-Hellman
  // Accepts CREATE_DIR circuits (the relay and authority roles); otherwise
  // each is answered DESTROY 4.
  bool serves_directory = false;
  // CELL_CAP (docs/protocol.md, "Lifetime"): data cells one way per circuit
  // beyond which a hop or end destroys it (END 7). The security argument's
  // bounds assume it; tests lower it.
  std::uint64_t cell_cap = std::uint64_t{1} << 32;
};

struct RelayCounters {
  std::uint64_t cells_received = 0;
  std::uint64_t cells_relayed = 0;
  std::uint64_t dropped_malformed = 0;
  std::uint64_t dropped_unknown_circuit = 0;
  std::uint64_t dropped_queue_full = 0;
  std::uint64_t dropped_link = 0;  // the CellLink refused the cell
  // Data cells whose header (forward, at a hop or the last hop) or origin's
  // counter (backward, at the client) was seen before, or is older than the
  // window: dropped, the circuit lives.
  std::uint64_t dropped_replayed = 0;
  std::uint64_t dropped_too_old = 0;
  std::uint64_t padding_received = 0;
  std::uint64_t cover_dropped = 0;  // cover cells opened and dropped here
  // CREATEs by result (proposal 0002, section 9).
  std::uint64_t creates_accepted = 0;
  std::uint64_t creates_rejected = 0;        // table full, bad MAC, unknown key, bad routing
  std::uint64_t creates_rate_limited = 0;    // the neighbour group's bucket was empty
  std::uint64_t creates_overloaded = 0;      // the node-wide bucket was
  std::uint64_t creates_replay = 0;          // the tag was in the key's replay store
  std::uint64_t creates_refused_closed = 0;  // a fresh CREATE for a closed onion key
  // CREATE_DIRs by result (proposal 0002, sections 4.1 and 9).
  std::uint64_t create_dirs_accepted = 0;
  std::uint64_t create_dirs_refused = 0;       // not served here (DESTROY 4), bad padding (1)
  std::uint64_t create_dirs_rejected = 0;      // the circuit table was full
  std::uint64_t create_dirs_rate_limited = 0;  // the neighbour group's bucket was empty
  // Early rotations of the onion key ring (proposal 0002, section 8.4), by
  // why the key of epoch(now) closed.
  std::uint64_t early_rotations_full = 0;
  std::uint64_t early_rotations_untrusted = 0;
  std::uint64_t tampered = 0;  // a hop's header or an end's check failed (circuit destroyed)
  std::uint64_t destroys_received = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t cell_limits = 0;  // circuits destroyed at the cell cap
};

class Relay final : private CircuitCarrier {
 public:
  using TerminalHandler = std::function<void(std::unique_ptr<Circuit>)>;

  Relay(const Clock& clock, CellLink& link, const PeerKey& local_key, RandomSource& random,
        RelayConfig config = {});
  ~Relay() override;
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  OnionKeyRing& onion_keys() noexcept { return onion_keys_; }
  // The link keys of the relays of the installed directory: CREATE admission
  // limits each of them by name, everyone else by address. Replaces the set.
  void set_relay_links(std::unordered_set<PeerKey, PeerKeyHash> links) {
    admission_.set_relay_links(std::move(links));
  }
  // Receives circuits that end here; without a handler they are refused.
  void set_terminal_handler(TerminalHandler handler) { terminal_handler_ = std::move(handler); }
  // Receives the CREATE_DIR circuits that end here, which never reach the
  // terminal handler. Refused without one, or without
  // RelayConfig::serves_directory.
  void set_directory_handler(TerminalHandler handler) { directory_handler_ = std::move(handler); }
  // Where this node's circuits find a hop's next onion key when that hop
  // answers REFUSED (proposal 0002, section 8.5): the key after
  // `hop.onion_key`, if the installed directory lists it and it is at most
  // epoch(now) + 1. Asked afresh each time, so the client keeps nothing about
  // a refusal. Without a lookup (or with no key) a refused circuit fails.
  using NextOnionKeyLookup =
      std::function<std::optional<crypto::X25519PublicKey>(const OnionHop& hop)>;
  void set_next_onion_key_lookup(NextOnionKeyLookup lookup) { next_onion_key_ = std::move(lookup); }

  // Starts a circuit through `hops` (entry first); it opens when CREATED
  // returns (Circuit::state(), set_state_handler). A hop that refuses its
  // onion key costs one rebuild of the same path, with that hop's next key,
  // in the same Circuit (set_next_onion_key_lookup).
  Result<std::unique_ptr<Circuit>> create_circuit(std::span<const OnionHop> hops);
  // Starts a one-hop directory circuit to the neighbour `hop_link_key` by
  // CREATE_DIR: no onion key is needed, so a client bootstrapping from
  // nothing can fetch a consensus. It opens as create_circuit()'s do; a hop
  // that does not serve directories closes it (kCreateFailed).
  Result<std::unique_ptr<Circuit>> create_directory_circuit(const PeerKey& hop_link_key);

  // One cell from a neighbour.
  void handle_cell(const PeerKey& from, Bytes cell);
  // Every circuit through a neighbour whose link went down is destroyed.
  void link_down(const PeerKey& peer);
  // Destroys every circuit, sending DESTROY (kRequested) to each neighbour
  // (the node's shutdown).
  void close_all();
  // Hands up to flush_cells_per_link queued cells to each link, round-robin.
  void flush() { scheduler_.flush(); }
  // Called when data cells start waiting (queued_cells() leaves 0), so the
  // owner can schedule flush() on its event loop; it keeps flushing, one
  // budget per turn, while queued_cells() > 0.
  void set_flush_request(std::function<void()> request) {
    scheduler_.set_flush_request(std::move(request));
  }
  // Timeouts, cover cells and delayed cells, as of the clock's now().
  void tick();

  // The relay's counters with its scheduler's (relayed, queue and link drops).
  RelayCounters counters() const noexcept;
  // Registers the relay's metrics in `registry` (which must outlive the
  // relay): every RelayCounters field in a nyx_relay_* family (see
  // detail/relay_metrics.hpp) and the gauges. tick() updates them.
  void publish_metrics(metrics::Registry& registry);
  std::size_t circuit_count() const noexcept { return table_.size(); }
  std::size_t queued_cells(const PeerKey& peer) const { return scheduler_.queued_cells(peer); }
  std::size_t queued_cells() const noexcept { return scheduler_.queued_cells(); }

 private:
  struct Delayed {
    Nanos due;
    LinkCircuit out;
    Cell cell;
    bool operator>(const Delayed& other) const noexcept { return due > other.due; }
  };

  // The cell path, in the order a cell takes it.
  void on_relay(CircuitState& circuit, Side from, Cell& cell);
  void deliver(CircuitState& circuit, Side from, Cell& cell);
  void forward(CircuitState& circuit, Side towards, Cell& cell);
  // Circuit setup.
  CircuitId allocate_id(const PeerKey& peer);
  CircuitState& insert_origin(const PeerKey& entry, std::vector<OnionHop> path);
  enum class CreateKind : std::uint8_t { kCreate, kCreateDir };
  bool admit_create(const LinkCircuit& up, CreateKind kind);
  void on_create(const PeerKey& from, const CellView& view);
  void on_create_dir(const PeerKey& from, const CellView& view);
  void count_refused_create(const Error& error);
  void refuse_create(const LinkCircuit& up, const HopKeys& keys);
  CircuitState& insert_terminal(const LinkCircuit& up, HopKeys keys);
  void accept_terminal(CircuitState& circuit, const TerminalHandler& handler);
  void on_created(CircuitState& circuit, Side from, Cell& cell);
  void on_origin_created(CircuitState& circuit, Cell& cell);
  void on_refused(CircuitState& circuit, std::size_t hop);
  void fail_setup(CircuitState& circuit);
  void send_control(const LinkCircuit& to, CellCommand command, Bytes payload);
  // Teardown: DESTROY to each neighbour except the link it came from,
  // queued cells dropped, the end told (unless it is the one going away).
  void destroy(CircuitState& circuit, DestroyReason reason, const LinkCircuit* from = nullptr,
               bool tell_end = true);
  void send_destroy(CircuitState& circuit, Side towards, DestroyReason reason);
  void teardown(CircuitState& circuit, DestroyReason reason, bool tell_end = true);
  void on_destroy(CircuitState& circuit, Side from, Cell& cell);
  void expire_circuits();
  void release_delayed();

  // CircuitCarrier: the calls of the Circuits this relay hands out.
  SendOutcome send_cell(const LinkCircuit& out, Cell& cell) override;
  void destroy_circuit(const LinkCircuit& out, DestroyReason reason) override;
  void release_circuit(const LinkCircuit& out) override;

  const Clock& clock_;
  CellLink& link_;
  PeerKey local_key_;
  RandomSource& random_;
  RelayConfig config_;
  OnionKeyRing onion_keys_;
  CreateAdmission admission_;
  CircuitTable table_;
  CellScheduler scheduler_;
  std::priority_queue<Delayed, std::vector<Delayed>, std::greater<>> delayed_;
  TerminalHandler terminal_handler_;
  TerminalHandler directory_handler_;
  NextOnionKeyLookup next_onion_key_;
  RelayCounters counters_;                         // what the scheduler does not count itself
  std::unique_ptr<detail::RelayMetrics> metrics_;  // set by publish_metrics()
  Nanos now_{0};  // refreshed by tick() and on setup; data cells never read the clock
};

}  // namespace nyx::mix
