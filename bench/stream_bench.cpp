// nyx_bench_stream: the stream layer's pool, frame codec and session, each
// beside its baseline (docs/performance.md, "Stream").
//
// mimalloc is linked into this binary and, as Debian builds it, replaces
// malloc for the whole process; so the glibc baseline calls glibc's own
// __libc_malloc/__libc_free and the mimalloc baseline calls mi_malloc/mi_free.

#include <cstring>
#include <vector>

#include <benchmark/benchmark.h>
#include <mimalloc.h>

#include "core/cell_size.hpp"
#include "stream/buffer_pool.hpp"
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
void BM_Session_Goodput(benchmark::State& state) {
  testing::LinkConfig link;
  link.loss_permille = static_cast<std::uint32_t>(state.range(0));
  link.delay = std::chrono::milliseconds(1);
  link.max_datagram_size = 990;
  // A bounded channel queue, as a circuit has: a full queue pushes back on
  // the sender instead of growing, which keeps in-flight data near 256 cells.
  link.queue_limit = 256;
  SessionConfig config;
  testing::SessionPair pair(config, link, 7);
  const StreamId id = *pair.client().open_stream();
  std::vector<std::uint8_t> chunk(64 * 1024, 0xa5);
  std::vector<std::uint8_t> sink(64 * 1024);
  constexpr std::uint64_t kPerIteration = 8u << 20;
  std::uint64_t received = 0;
  std::uint64_t target = 0;
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
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(received));
  state.counters["lost"] = static_cast<double>(pair.client().stats().packets_lost);
  state.counters["sent"] = static_cast<double>(pair.client().stats().packets_sent);
}
BENCHMARK(BM_Session_Goodput)->Arg(0)->Arg(10)->Arg(50)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
