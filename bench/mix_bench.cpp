// Mix layer microbenchmarks, each beside its baseline (docs/performance.md,
// "Mix"): a hop's CREATE processing against one X25519 scalar
// multiplication, a hop's data-cell processing (parse, circuit lookup,
// layer, nonce permutation, queue, hand-off to the link) against raw
// ChaCha20 over the same body bytes, the cell scheduler's fair queueing
// against a plain FIFO of cells, the client's opening of a CREATED against
// its opening of any backward cell, and cells per second through a relay on
// real loopback links.

#include <array>
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

// A three-hop client and the answer to its CREATE sealed by hop `sealer`
// (2: the exit's CREATED; 0 or 1: a REFUSED), as the client receives it.
struct CreatedAnswer {
  explicit CreatedAnswer(std::size_t sealer) {
    std::vector<HopKeys> relays;
    std::vector<HopKeys> mine;
    for (int i = 0; i < 3; ++i) {
      std::array<std::uint8_t, 32> secret;
      crypto::random_bytes(secret);
      relays.push_back(HopKeys::derive(secret));
      mine.push_back(HopKeys::derive(secret));
    }
    client.emplace(std::move(mine));
    const std::array<std::uint8_t, 1> reason{static_cast<std::uint8_t>(RefusedReason::kKeyClosed)};
    const bool refused = sealer + 1 < relays.size();
    terminal_seal(relays[sealer], refused ? RelayType::kRefused : RelayType::kCreated,
                  refused ? Bytes(reason) : Bytes{}, cell);
    for (std::size_t i = sealer; i-- > 0;) {
      relay_layer(relays[i], Direction::kBackward, cell);
    }
  }
  std::optional<ClientOnion> client;
  std::array<std::uint8_t, kCellPayloadSize> cell{};
};

// Baseline: the client opens the exit's CREATED as any backward cell.
void BM_Baseline_ClientOpen(benchmark::State& state) {
  CreatedAnswer answer(2);
  std::array<std::uint8_t, kCellPayloadSize> work;
  for (auto _ : state) {
    work = answer.cell;
    auto opened = answer.client->open(work);
    benchmark::DoNotOptimize(opened);
  }
}
BENCHMARK(BM_Baseline_ClientOpen);

// open_created() of an answer sealed by hop `arg` of three: 2 is the
// common case and must cost what the baseline does; 1 and 0 are REFUSEDs
// found by the scan.
void BM_Circuit_OpenCreated(benchmark::State& state) {
  CreatedAnswer answer(static_cast<std::size_t>(state.range(0)));
  std::array<std::uint8_t, kCellPayloadSize> work;
  std::array<std::uint8_t, kRelayPlainSize> plain;
  for (auto _ : state) {
    work = answer.cell;
    auto opened = answer.client->open_created(work, plain);
    if (!opened) {
      state.SkipWithError("CREATED did not open");
      break;
    }
    benchmark::DoNotOptimize(opened);
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

// The middle hop of a client -> middle -> exit circuit: per cell, the whole
// receive path of Relay::handle_cell (parse, circuit lookup, copy, layer,
// nonce permutation, queue) and its share of flush() (round-robin dequeue,
// hand-off to the link), flushing every `batch` cells as after a receive
// batch.
void BM_Relay_CellHop(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  ManualClock clock;
  CryptoRandomSource random;
  BenchNode client(clock, random);
  BenchNode middle(clock, random);
  BenchNode exit(clock, random);
  std::vector<OnionHop> path = {middle.hop(), exit.hop()};
  auto circuit = client.relay->create_circuit(path);
  const CircuitId id = load_be32(client.wire.sent.at(0).second.data());
  client.deliver_to(middle);
  middle.deliver_to(exit);
  exit.deliver_to(middle);
  middle.deliver_to(client);
  if (!circuit || (*circuit)->state() != Circuit::State::kOpen) {
    state.SkipWithError("circuit setup failed");
    return;
  }
  middle.wire.recording = false;
  Cell cell;
  write_cell_header(cell, id, CellCommand::kRelay);
  crypto::random_bytes(cell_payload(cell));
  std::size_t pending = 0;
  for (auto _ : state) {
    middle.relay->handle_cell(client.link_key, cell);
    if (++pending == batch) {
      middle.relay->flush();
      pending = 0;
    }
  }
  middle.relay->flush();
  if (middle.relay->counters().cells_relayed != static_cast<std::uint64_t>(state.iterations()) ||
      middle.relay->counters().dropped_queue_full != 0) {
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
