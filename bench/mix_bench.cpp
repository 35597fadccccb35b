// Mix layer microbenchmarks, each beside its baseline (docs/performance.md,
// "Mix"): a hop's CREATE processing against one X25519 scalar
// multiplication, a hop's cell step each way and a hop's data-cell
// processing (parse, circuit lookup, step, replay window, queue, hand-off to
// the link) against raw ChaCha20 over the same body bytes, the cell
// scheduler's fair queueing
// against a plain FIFO of cells, the client's opening of a CREATED against
// its opening of any backward cell, and cells per second through a relay on
// real loopback links.

#include <algorithm>
#include <array>
#include <cstdlib>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <benchmark/benchmark.h>

#include "core/clock.hpp"
#include "core/crypto/chacha20.hpp"
#include "core/crypto/random.hpp"
#include "core/crypto/x25519.hpp"
#include "document/directory.hpp"
#include "mix/cell_scheduler.hpp"
#include "mix/circuit_crypto.hpp"
#include "mix/client_onion.hpp"
#include "mix/link_manager_cell_link.hpp"
#include "mix/onion_create.hpp"
#include "mix/relay.hpp"

namespace nyx::mix {
namespace {

void BM_Baseline_X25519(benchmark::State& state) {
  auto a = crypto::X25519KeyPair::generate();
  auto b = crypto::X25519KeyPair::generate();
  std::array<std::uint8_t, 32> out;
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto::x25519(out, a.secret.span(), b.public_key));
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_Baseline_X25519);

// A middle hop (DH, MAC, replay cache, routing shift, blinding, key
// derivation) of a circuit of `hops` hops.
void BM_Circuit_CreateHop(benchmark::State& state) {
  const auto hops = static_cast<std::size_t>(state.range(0));
  auto onion = crypto::X25519KeyPair::generate();
  std::vector<OnionHop> path;
  for (std::size_t i = 0; i < hops; ++i) {
    OnionHop hop;
    hop.onion_key = i == 0 ? onion.public_key : crypto::X25519KeyPair::generate().public_key;
    crypto::random_bytes(hop.link_key);
    path.push_back(hop);
  }
  // Distinct CREATEs, so the replay cache accepts every one.
  std::vector<CreatePayload> pool;
  for (int i = 0; i < 256; ++i) {
    pool.push_back(build_create(path)->payload);
  }
  auto ring = std::make_unique<OnionKeyRing>();
  ring->rotate(1, crypto::X25519KeyPair::from_secret(onion.secret.span()));
  std::size_t next = 0;
  for (auto _ : state) {
    if (next == pool.size()) {
      state.PauseTiming();
      ring = std::make_unique<OnionKeyRing>();
      ring->rotate(1, crypto::X25519KeyPair::from_secret(onion.secret.span()));
      next = 0;
      state.ResumeTiming();
    }
    CreatePayload payload = pool[next++];
    auto outcome = process_create(*ring, payload);
    if (!outcome || outcome->action != CreateAction::kForward) {
      state.SkipWithError("CREATE failed");
      break;
    }
    benchmark::DoNotOptimize(payload);
  }
}
BENCHMARK(BM_Circuit_CreateHop)->Arg(3)->Arg(5)->Arg(7);

void BM_Baseline_ChaCha20_Cell(benchmark::State& state) {
  std::array<std::uint8_t, 32> key;
  std::array<std::uint8_t, 12> nonce{};
  crypto::random_bytes(key);
  std::array<std::uint8_t, kCellBodySize> body{};
  for (auto _ : state) {
    crypto::chacha20_xor(key, nonce, 0, body, body);
    benchmark::DoNotOptimize(body);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kCellBodySize));
}
BENCHMARK(BM_Baseline_ChaCha20_Cell);

// Forward cells must be distinct: a hop's window drops a copy. A benchmark
// that feeds a hop cells from a ring of this many, sealed ahead, spends one
// refill per wrap outside the timing (a pause and resume per kRingCells
// cells, noise next to the cells' own time).
constexpr std::size_t kRingCells = 4096;
using Payload = std::array<std::uint8_t, kCellPayloadSize>;
// A backward hop's fresh random bytes; their value does not change the cost.
constexpr std::array<std::uint8_t, kHopHeaderSize> kBenchHopNonce{0x5a};

// Fills `ring` with cells of `seal`, outside the timing once the loop runs.
template <typename Element, typename Seal>
void refill_ring(benchmark::State& state, std::vector<Element>& ring, Seal seal) {
  state.PauseTiming();
  ring.resize(kRingCells);
  for (Element& element : ring) {
    seal(element);
  }
  state.ResumeTiming();
}

// The keys of a circuit of `hops` hops: the hops' and the client's copies.
struct BenchCircuitKeys {
  explicit BenchCircuitKeys(std::size_t hops) {
    std::vector<HopKeys> mine;
    for (std::size_t i = 0; i < hops; ++i) {
      std::array<std::uint8_t, 32> secret;
      crypto::random_bytes(secret);
      relays.push_back(HopKeys::derive(secret));
      mine.push_back(HopKeys::derive(secret));
    }
    client.emplace(std::move(mine));
  }
  // A backward cell originated by hop `origin`, after the steps of the hops
  // before it, as the client receives it.
  void originate_at(std::size_t origin, CellCommand command, std::uint64_t counter, RelayType type,
                    Bytes data, CellPayload cell) const {
    originate(relays[origin].backward, command, counter, type, data, kBenchHopNonce, cell);
    for (std::size_t i = origin; i-- > 0;) {
      relay_backward(relays[i].backward, command, kBenchHopNonce, cell);
    }
  }

  std::vector<HopKeys> relays;
  std::optional<ClientOnion> client;
};

// One hop's forward step alone (header check, replay window, keystream):
// hop 0 of a two-hop circuit, over a ring of sealed cells; the window starts
// afresh when the ring wraps (520 bytes zeroed per kRingCells cells).
void BM_CellStep_Forward(benchmark::State& state) {
  BenchCircuitKeys keys(2);
  std::vector<Payload> ring;
  ring.resize(kRingCells);
  for (Payload& cell : ring) {
    keys.client->seal(RelayType::kData, {}, cell);
  }
  SlotWindow window;
  Payload work;
  std::size_t next = 0;
  for (auto _ : state) {
    if (next == ring.size()) {
      window = SlotWindow{};
      next = 0;
    }
    work = ring[next++];
    if (relay_forward(keys.relays[0].forward, CellCommand::kRelay, window, work) !=
        CellVerdict::kOk) {
      state.SkipWithError("the step refused a sealed cell");
      break;
    }
    benchmark::DoNotOptimize(work);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kCellPayloadSize));
}
BENCHMARK(BM_CellStep_Forward);

// One hop's backward step alone (tweak hash, ET, keystream), in place.
void BM_CellStep_Backward(benchmark::State& state) {
  BenchCircuitKeys keys(1);
  Payload cell{};
  crypto::random_bytes(cell);
  for (auto _ : state) {
    relay_backward(keys.relays[0].backward, CellCommand::kRelay, kBenchHopNonce, cell);
    benchmark::DoNotOptimize(cell);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kCellPayloadSize));
}
BENCHMARK(BM_CellStep_Backward);

// Baseline: the client opens backward RELAY cells of a three-hop circuit
// (every layer, the exit's check and counter window), from a ring of
// distinct counters, as the exit originates them.
void BM_Baseline_ClientOpen(benchmark::State& state) {
  BenchCircuitKeys keys(3);
  std::uint64_t counter = 1;  // 0 was the CREATED
  const auto seal = [&](Payload& cell) {
    keys.originate_at(2, CellCommand::kRelay, counter++, RelayType::kData, {}, cell);
  };
  std::vector<Payload> ring;
  ring.resize(kRingCells);
  for (Payload& cell : ring) {
    seal(cell);
  }
  Payload work;
  RelayMessage message;
  std::size_t next = 0;
  for (auto _ : state) {
    if (next == ring.size()) {
      refill_ring(state, ring, seal);  // the window refuses old counters
      next = 0;
    }
    work = ring[next++];
    if (keys.client->open(work, message) != CellVerdict::kOk) {
      state.SkipWithError("a backward cell did not open");
      break;
    }
    benchmark::DoNotOptimize(message);
  }
}
BENCHMARK(BM_Baseline_ClientOpen);

// open_created() of an answer originated by hop `arg` of three: 2 is the
// common case and must cost what the baseline does; 1 and 0 are REFUSEDs
// found by the scan. A CREATED opens again and again: the scan checks no
// counter.
void BM_Circuit_OpenCreated(benchmark::State& state) {
  const auto origin = static_cast<std::size_t>(state.range(0));
  BenchCircuitKeys keys(3);
  const std::array<std::uint8_t, 1> reason{static_cast<std::uint8_t>(RefusedReason::kKeyClosed)};
  const bool refused = origin + 1 < keys.relays.size();
  Payload cell{};
  keys.originate_at(origin, CellCommand::kCreated, 0,
                    refused ? RelayType::kRefused : RelayType::kCreated,
                    refused ? Bytes(reason) : Bytes{}, cell);
  Payload work;
  ClientOnion::Answer answer;
  for (auto _ : state) {
    work = cell;
    if (keys.client->open_created(work, answer) != CellVerdict::kOk || answer.hop != origin) {
      state.SkipWithError("CREATED did not open");
      break;
    }
    benchmark::DoNotOptimize(answer);
  }
}
BENCHMARK(BM_Circuit_OpenCreated)->Arg(2)->Arg(1)->Arg(0);

// Records cells while a circuit is set up, then only counts them.
class Wire final : public CellLink {
 public:
  bool send_cell(const PeerKey& peer, Bytes cell) override {
    if (recording) {
      Cell copy;
      std::copy(cell.begin(), cell.end(), copy.begin());
      sent.emplace_back(peer, copy);
    }
    ++count;
    benchmark::DoNotOptimize(cell.data());
    return true;
  }
  bool recording = true;
  std::uint64_t count = 0;
  std::vector<std::pair<PeerKey, Cell>> sent;
};

struct BenchNode {
  BenchNode(const Clock& clock, RandomSource& random) {
    crypto::random_bytes(link_key);
    relay = std::make_unique<Relay>(clock, wire, link_key, random);
    relay->onion_keys().rotate(1, crypto::X25519KeyPair::from_secret(onion.secret.span()));
    relay->set_terminal_handler(
        [this](std::unique_ptr<Circuit> c) { ends.push_back(std::move(c)); });
  }
  OnionHop hop() const { return {onion.public_key, link_key}; }
  // Delivers what this node sent to `to` and forgets it.
  void deliver_to(BenchNode& to) {
    for (auto& [peer, cell] : wire.sent) {
      if (peer == to.link_key) {
        to.relay->handle_cell(link_key, cell);
      }
    }
    std::erase_if(wire.sent, [&](const auto& s) { return s.first == to.link_key; });
  }

  crypto::X25519KeyPair onion = crypto::X25519KeyPair::generate();
  PeerKey link_key{};
  Wire wire;
  std::unique_ptr<Relay> relay;
  std::vector<std::unique_ptr<Circuit>> ends;
};

// The shared secret a node derives from the CREATE it receives, which gives
// the keys it shares with the client.
HopKeys keys_from_create(const BenchNode& node, const Cell& create) {
  std::array<std::uint8_t, crypto::kX25519KeySize> alpha;
  std::copy_n(create.begin() + kCellHeaderSize, alpha.size(), alpha.begin());
  std::array<std::uint8_t, crypto::kX25519KeySize> shared;
  if (!crypto::x25519(shared, node.onion.secret.span(), alpha)) {
    std::abort();
  }
  return HopKeys::derive(shared);
}

// The middle hop of a client -> middle -> exit circuit: per cell, the whole
// receive path of Relay::handle_cell (parse, circuit lookup, copy, forward
// step, replay window, queue) and its share of flush() (round-robin dequeue,
// hand-off to the link), flushing every `batch` cells as after a receive
// batch. The cells come from a ring sealed ahead by a copy of the client's
// keys (taken from the CREATEs, as a node with the onion keys would): the
// middle's window drops a copy, and only the relay owns that window, so on
// a wrap the ring is sealed afresh under the next slots, outside the timing.
void BM_Relay_CellHop(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  ManualClock clock;
  CryptoRandomSource random;
  BenchNode client(clock, random);
  BenchNode middle(clock, random);
  BenchNode exit(clock, random);
  std::vector<OnionHop> path = {middle.hop(), exit.hop()};
  auto circuit = client.relay->create_circuit(path);
  const Cell to_middle = client.wire.sent.at(0).second;
  const CircuitId id = load_be32(to_middle.data());
  client.deliver_to(middle);
  const Cell to_exit = middle.wire.sent.at(0).second;
  middle.deliver_to(exit);
  exit.deliver_to(middle);
  middle.deliver_to(client);
  if (!circuit || (*circuit)->state() != Circuit::State::kOpen) {
    state.SkipWithError("circuit setup failed");
    return;
  }
  middle.wire.recording = false;
  std::vector<HopKeys> hops;
  hops.push_back(keys_from_create(middle, to_middle));
  hops.push_back(keys_from_create(exit, to_exit));
  ClientOnion onion(std::move(hops));
  const auto seal = [&](Cell& cell) {
    write_cell_header(cell, id, CellCommand::kRelay);
    onion.seal(RelayType::kData, {}, cell_payload(cell).subspan<0, kCellPayloadSize>());
  };
  std::vector<Cell> ring(kRingCells);
  for (Cell& cell : ring) {
    seal(cell);
  }
  std::size_t next = 0;
  std::size_t pending = 0;
  for (auto _ : state) {
    if (next == ring.size()) {
      refill_ring(state, ring, seal);
      next = 0;
    }
    middle.relay->handle_cell(client.link_key, ring[next++]);
    if (++pending == batch) {
      middle.relay->flush();
      pending = 0;
    }
  }
  middle.relay->flush();
  const RelayCounters counters = middle.relay->counters();
  if (counters.cells_relayed != static_cast<std::uint64_t>(state.iterations()) ||
      counters.dropped_queue_full != 0 || counters.dropped_replayed != 0 ||
      counters.tampered != 0) {
    state.SkipWithError("cells were dropped");
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kCellBodySize));
}
BENCHMARK(BM_Relay_CellHop)->Arg(1)->Arg(32)->Arg(64);

// A FIFO of cells with no fairness: the least a queue per link costs.
void BM_Baseline_CellFifo(benchmark::State& state) {
  std::deque<Cell> fifo;
  Cell cell{};
  Wire wire;
  wire.recording = false;
  const PeerKey peer{};
  std::size_t pending = 0;
  for (auto _ : state) {
    fifo.push_back(cell);
    if (++pending == 64) {
      for (; pending > 0; --pending) {
        wire.send_cell(peer, fifo.front());
        fifo.pop_front();
      }
    }
  }
}
BENCHMARK(BM_Baseline_CellFifo);

// The cell scheduler alone: cells of `circuits` circuits on one link are
// queued in turn and flushed every 64 cells, as after a receive batch.
void BM_CellScheduler_QueueFlush(benchmark::State& state) {
  const auto circuits = static_cast<std::size_t>(state.range(0));
  Wire wire;
  wire.recording = false;
  CellScheduler scheduler(wire, {.link_cells = 1 << 20, .circuit_cells = 1 << 20});
  std::vector<std::unique_ptr<CellQueue>> queues;
  for (std::size_t i = 0; i < circuits; ++i) {
    queues.push_back(std::make_unique<CellQueue>());
  }
  const PeerKey peer{};
  Cell cell{};
  std::size_t next = 0;
  std::size_t pending = 0;
  for (auto _ : state) {
    const std::size_t c = next++ % circuits;
    (void)scheduler.enqueue(LinkCircuit{peer, static_cast<CircuitId>(c + 1)}, *queues[c], cell);
    if (++pending == 64) {
      scheduler.flush();
      pending = 0;
    }
  }
  if (scheduler.counters().dropped_queue_full != 0) {
    state.SkipWithError("cells were dropped");
  }
}
BENCHMARK(BM_CellScheduler_QueueFlush)->Arg(1)->Arg(16)->Arg(256);

// A node on its own LinkManager (Noise over UDP on 127.0.0.1).
struct LinkedNode {
  explicit LinkedNode(asio::io_context& io) {
    transport::LinkConfig config;
    config.udp_listen = {asio::ip::make_address("127.0.0.1"), 0};
    links = std::move(*transport::LinkManager::create(io, SteadyClock::instance(),
                                                      async::SteadyTimers::instance(),
                                                      crypto::X25519KeyPair::generate(), config));
    cell_link = std::make_unique<LinkManagerCellLink>(*links, io);
    relay =
        std::make_unique<Relay>(SteadyClock::instance(), *cell_link, links->local_key(), random);
    cell_link->attach(*relay);
    relay->onion_keys().rotate(1, crypto::X25519KeyPair::from_secret(onion.secret.span()));
    relay->set_terminal_handler(
        [this](std::unique_ptr<Circuit> c) { ends.push_back(std::move(c)); });
  }
  document::NodeDescriptor descriptor() const {
    document::NodeDescriptor d;
    crypto::random_bytes(d.identity_key);
    d.onion_key = onion.public_key;
    d.link_key = links->local_key();
    d.udp_address = "127.0.0.1:" + std::to_string(links->udp_local_endpoint()->port());
    return d;
  }
  OnionHop hop() const { return {onion.public_key, links->local_key()}; }

  CryptoRandomSource random;
  crypto::X25519KeyPair onion = crypto::X25519KeyPair::generate();
  std::unique_ptr<transport::LinkManager> links;
  std::unique_ptr<LinkManagerCellLink> cell_link;
  std::unique_ptr<Relay> relay;
  std::vector<std::unique_ptr<Circuit>> ends;
};

class CountCells final : public DatagramReceiver {
 public:
  void on_datagram(Bytes) override { ++count; }
  std::uint64_t count = 0;
};

// Cells per second from a client through one relay (its own thread and
// io_context, as a separate relay process would be) to an exit, every link
// Noise over UDP on loopback: the relay receives, decrypts the link layer,
// peels its onion layer, queues, re-encrypts for the next link and sends.
// Each iteration sends a burst of `burst` cells and waits for the exit to
// see them (cells lost on the way are counted, not waited for).
void BM_Relay_Loopback(benchmark::State& state) {
  const auto burst = static_cast<std::uint64_t>(state.range(0));
  asio::io_context ends_io;
  asio::io_context relay_io;
  LinkedNode client(ends_io);
  LinkedNode exit(ends_io);
  auto middle = std::make_unique<LinkedNode>(relay_io);
  document::Directory dir;
  dir.nodes = {client.descriptor(), middle->descriptor(), exit.descriptor()};
  for (LinkedNode* node : {&client, middle.get(), &exit}) {
    (void)node->cell_link->add_peers(dir);
  }
  auto guard = asio::make_work_guard(relay_io);
  std::thread relay_thread([&] { relay_io.run(); });
  auto run_until = [&](auto done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      ends_io.run_one_for(std::chrono::milliseconds(1));
      if (ends_io.stopped()) {
        ends_io.restart();
      }
    }
    return done();
  };
  std::vector<OnionHop> path = {middle->hop(), exit.hop()};
  auto circuit = client.relay->create_circuit(path);
  CountCells received;
  if (!circuit || !run_until([&] { return (*circuit)->state() == Circuit::State::kOpen; },
                             std::chrono::seconds(10))) {
    state.SkipWithError("circuit setup failed");
  } else {
    exit.ends.at(0)->set_receiver(&received);
    std::array<std::uint8_t, kMaxRelayData> data{};
    std::uint64_t sent = 0;
    for (auto _ : state) {
      for (std::uint64_t i = 0; i < burst; ++i) {
        (void)(*circuit)->send(data);
      }
      sent += burst;
      run_until([&] { return received.count >= sent; }, std::chrono::milliseconds(200));
      sent = received.count;  // lost cells are not waited for again
    }
    state.counters["cells_per_second"] =
        benchmark::Counter(static_cast<double>(received.count), benchmark::Counter::kIsRate);
    state.counters["delivered_fraction"] =
        static_cast<double>(received.count) /
        static_cast<double>(state.iterations() * static_cast<std::int64_t>(burst));
  }
  asio::post(relay_io, [&] { middle->links->stop(); });
  guard.reset();
  relay_io.stop();
  relay_thread.join();
  middle.reset();
  client.links->stop();
  exit.links->stop();
}
BENCHMARK(BM_Relay_Loopback)->Arg(64)->Arg(256)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace nyx::mix

BENCHMARK_MAIN();
