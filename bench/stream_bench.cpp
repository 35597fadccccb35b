// nyx_bench_stream: the stream layer's pool, frame codec, session and
// congestion controllers, each beside its baseline (NewReno is BBR-N's;
// docs/performance.md, "Stream").
//
// mimalloc is linked into this binary and, as Debian builds it, replaces
// malloc for the whole process; so the glibc baseline calls glibc's own
// __libc_malloc/__libc_free and the mimalloc baseline calls mi_malloc/mi_free.

#include <array>
#include <cstring>
#include <vector>

#include <benchmark/benchmark.h>
#include <mimalloc.h>

#include "core/cell_size.hpp"
#include "stream/buffer_pool.hpp"
#include "stream/congestion_controller.hpp"
#include "stream/delivery_rate.hpp"
#include "stream/frame.hpp"
#include "stream/session.hpp"
#include "tests/stream/support/session_pair.hpp"

extern "C" void* __libc_malloc(std::size_t size);
extern "C" void __libc_free(void* ptr);

namespace {

using namespace nyx;
using namespace nyx::stream;

void BM_BufferPool_AcquireRelease(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  BufferPool::acquire_at_least(size)->reset();  // warm this thread's cache
  for (auto _ : state) {
    auto b = BufferPool::acquire_at_least(size);
    benchmark::DoNotOptimize(b->data());
    b->reset();
  }
}
BENCHMARK(BM_BufferPool_AcquireRelease)->Arg(64)->Arg(1024)->Arg(16384)->Arg(65536);

void BM_Baseline_Malloc(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    void* p = __libc_malloc(size);
    benchmark::DoNotOptimize(p);
    __libc_free(p);
  }
}
BENCHMARK(BM_Baseline_Malloc)->Arg(64)->Arg(1024)->Arg(16384)->Arg(65536);

void BM_Baseline_Mimalloc(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    void* p = mi_malloc(size);
    benchmark::DoNotOptimize(p);
    mi_free(p);
  }
}
BENCHMARK(BM_Baseline_Mimalloc)->Arg(64)->Arg(1024)->Arg(16384)->Arg(65536);

// One cell's worth of packet: a packet number and four STREAM frames that
// fill kCellSize, encoded and then decoded back.
void BM_Frame_EncodeDecode(benchmark::State& state) {
  std::vector<std::uint8_t> payload(kCellSize, 0x5a);
  std::vector<std::uint8_t> cell(kCellSize);
  constexpr std::size_t kFrames = 4;
  const std::size_t per = (kCellSize - 4) / kFrames - 8;
  std::uint64_t pn = 1000;
  for (auto _ : state) {
    ByteWriter w(MutableBytes{cell.data(), cell.size()});
    encode_packet_header(w, pn++);
    for (std::size_t i = 0; i < kFrames; ++i) {
      encode_stream(w, 4 * i, 1'000'000 + i * per, Bytes{payload.data(), per}, false);
    }
    auto header = decode_packet_header(Bytes{cell.data(), w.size()});
    FrameDecoder d(header->frames);
    Frame f;
    std::size_t total = 0;
    while (*d.next(f)) {
      total += f.data.size();
    }
    benchmark::DoNotOptimize(total);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kFrames * per));
}
BENCHMARK(BM_Frame_EncodeDecode);

// Bulk transfer on one stream between two sessions over the in-memory link
// (simulated time: the link adds 1 ms and no bandwidth limit; what is
// measured is the CPU the two sessions and the link spend per byte). Each
// iteration moves 8 MiB.
void session_goodput(benchmark::State& state, CongestionAlgorithm algorithm) {
  testing::LinkConfig link;
  link.loss_permille = static_cast<std::uint32_t>(state.range(0));
  link.delay = std::chrono::milliseconds(1);
  link.max_datagram_size = 990;
  // A bounded channel queue, as a circuit has: a full queue pushes back on
  // the sender instead of growing, which keeps in-flight data near 256 cells.
  link.queue_limit = 256;
  SessionConfig config;
  config.congestion = algorithm;
  testing::SessionPair pair(config, link, 7);
  const StreamId id = *pair.client().open_stream();
  std::vector<std::uint8_t> chunk(64 * 1024, 0xa5);
  std::vector<std::uint8_t> sink(64 * 1024);
  constexpr std::uint64_t kPerIteration = 8u << 20;
  std::uint64_t received = 0;
  std::uint64_t target = 0;
  std::uint64_t steps = 0;
  for (auto _ : state) {
    target += kPerIteration;
    while (received < target) {
      (void)pair.client().write(id, Bytes{chunk.data(), chunk.size()});
      while (pair.client().poll_event()) {
      }
      while (auto e = pair.server().poll_event()) {
        if (e->type != EventType::kReadable) {
          continue;
        }
        for (;;) {
          auto r = pair.server().read(e->stream, MutableBytes{sink.data(), sink.size()});
          if (!r || r->bytes == 0) {
            break;
          }
          received += r->bytes;
        }
      }
      if (!pair.step()) {
        state.SkipWithError("session stalled");
        return;
      }
      ++steps;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(received));
  state.counters["lost"] = static_cast<double>(pair.client().stats().packets_lost);
  state.counters["sent"] = static_cast<double>(pair.client().stats().packets_sent);
  // Per 8 MiB: loop turns (each a flush, a delivery and a timer check on both
  // sides) and ACK datagrams the sender processed. Pacing that releases one
  // datagram per wake shows here as ~1 step and ~0.5 ACK per datagram.
  const auto per_iteration = benchmark::Counter::kAvgIterations;
  state.counters["steps"] = benchmark::Counter(static_cast<double>(steps), per_iteration);
  state.counters["acks"] = benchmark::Counter(
      static_cast<double>(pair.client().stats().packets_received), per_iteration);
}
void BM_Session_Goodput(benchmark::State& state) {
  session_goodput(state, CongestionAlgorithm::kNewReno);
}
BENCHMARK(BM_Session_Goodput)->Arg(0)->Arg(10)->Arg(50)->Unit(benchmark::kMillisecond);

// The same with BBR-N: its per-ACK model costs CPU, and its pacing changes
// how full the link queue runs.
void BM_Session_GoodputBbr(benchmark::State& state) {
  session_goodput(state, CongestionAlgorithm::kBbr);
}
BENCHMARK(BM_Session_GoodputBbr)->Arg(0)->Arg(10)->Arg(50)->Unit(benchmark::kMillisecond);

// --- congestion control per ACK -------------------------------------------------

// One ACK (or loss) and one send per iteration through a controller and the
// session's delivery-rate sampler, exactly the calls Session makes: the
// per-packet callbacks, then one CongestionEvent. 64 packets stay in flight,
// one leaves every 10 µs of simulated time (a 640 µs round trip). The
// argument is the loss in permille. NewReno is the baseline: it pays for the
// sampler too, as it does inside the session.
void congestion_per_ack(benchmark::State& state, CongestionAlgorithm algorithm) {
  constexpr std::uint64_t kSize = 990;
  constexpr std::size_t kInFlight = 64;
  auto cc = make_congestion_controller(algorithm, kSize);
  DeliveryRateSampler sampler;
  testing::SplitMix rng(7);
  const auto loss_permille = static_cast<std::uint32_t>(state.range(0));
  struct Sent {
    Nanos time{0};
    SendState send_state;
  };
  std::array<Sent, kInFlight> ring{};
  Nanos now = std::chrono::seconds(1);
  std::uint64_t in_flight = 0;
  for (Sent& p : ring) {
    p.time = now;
    p.send_state = sampler.on_sent(now, kSize, in_flight);
    cc->on_packet_sent(now, kSize, in_flight);
    in_flight += kSize;
  }
  std::size_t oldest = 0;
  for (auto _ : state) {
    now += std::chrono::microseconds(10);
    Sent& p = ring[oldest];
    oldest = (oldest + 1) % kInFlight;
    CongestionEvent e;
    e.now = now;
    e.prior_in_flight = in_flight;
    if (loss_permille != 0 && rng.below(1000) < loss_permille) {
      cc->on_packet_lost(now, p.time, kSize);
      sampler.on_lost(kSize);
      e.bytes_lost = kSize;
      e.packets_lost = 1;
    } else {
      cc->on_packet_acked(now, p.time, kSize, in_flight);
      sampler.on_acked(now, p.time, kSize, p.send_state);
      e.bytes_acked = kSize;
    }
    in_flight -= kSize;
    e.bytes_in_flight = in_flight;
    e.rate = sampler.take_sample(std::chrono::microseconds(600));
    e.total_delivered = sampler.delivered();
    e.min_rtt = std::chrono::microseconds(640);
    e.smoothed_rtt = std::chrono::microseconds(640);
    cc->on_congestion_event(e);
    benchmark::DoNotOptimize(cc->window());
    benchmark::DoNotOptimize(cc->pacing_rate());
    p.time = now;
    p.send_state = sampler.on_sent(now, kSize, in_flight);
    cc->on_packet_sent(now, kSize, in_flight);
    in_flight += kSize;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_Congestion_PerAck_NewReno(benchmark::State& state) {
  congestion_per_ack(state, CongestionAlgorithm::kNewReno);
}
BENCHMARK(BM_Congestion_PerAck_NewReno)->Arg(0)->Arg(30);

void BM_Congestion_PerAck_Bbr(benchmark::State& state) {
  congestion_per_ack(state, CongestionAlgorithm::kBbr);
}
BENCHMARK(BM_Congestion_PerAck_Bbr)->Arg(0)->Arg(30);

}  // namespace

BENCHMARK_MAIN();
