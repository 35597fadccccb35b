#include "stream/session.hpp"

#include <cmath>
#include <cstring>
#include <map>
#include <vector>

#include <gtest/gtest.h>

#include "stream/buffer_pool.hpp"
#include "stream/frame.hpp"
#include "tests/stream/support/session_pair.hpp"

namespace nyx::stream {
namespace {

using namespace std::chrono_literals;
using testing::LinkConfig;
using testing::SessionPair;
using testing::SplitMix;

// The bytes of one stream direction are a function of (key, offset), so
// both ends know what must arrive without storing it.
std::uint64_t content_word(std::uint64_t key, std::uint64_t word_index) {
  SplitMix m(key * 0x9e3779b97f4a7c15ull + word_index);
  return m.next();
}
void fill_content(std::uint64_t key, std::uint64_t offset, MutableBytes out) {
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::uint64_t pos = offset + i;
    out[i] = static_cast<std::uint8_t>(content_word(key, pos / 8) >> (8 * (pos % 8)));
  }
}

// A running hash of a byte sequence fed in arbitrary pieces.
struct Hasher {
  std::uint64_t h = 0xcbf29ce484222325ull;
  void add(Bytes b) {
    for (std::uint8_t c : b) {
      h = (h ^ c) * 0x100000001b3ull;
    }
  }
};

std::uint64_t expected_hash(std::uint64_t key, std::uint64_t size) {
  Hasher h;
  std::vector<std::uint8_t> buf(64 * 1024);
  for (std::uint64_t off = 0; off < size; off += buf.size()) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), size - off));
    fill_content(key, off, MutableBytes{buf.data(), n});
    h.add(Bytes{buf.data(), n});
  }
  return h.h;
}

// One side of the many-streams test: opens its share of streams, sends each
// its payload then FIN, answers every incoming stream with a payload of its
// own, and hashes what it reads.
class App {
 public:
  struct Direction {
    std::uint64_t key = 0;
    std::uint64_t size = 0;
    std::uint64_t written = 0;
    bool finished = false;
  };
  struct Recv {
    Hasher hash;
    std::uint64_t bytes = 0;
    bool fin = false;
  };

  App(Session& s, std::vector<std::uint64_t> outgoing_sizes, std::uint64_t seed)
      : s_(s), to_open_(std::move(outgoing_sizes)), seed_(seed) {}

  // The size a stream's acceptor answers with, from the stream id alone.
  static std::uint64_t answer_size(std::uint64_t seed, StreamId id) {
    SplitMix m(seed ^ (id * 0x51ed27));
    return m.next() % 3000;
  }
  static std::uint64_t key_of(std::uint64_t seed, StreamId id, bool from_opener) {
    return seed * 1000003 + id * 2 + (from_opener ? 1 : 0);
  }

  void pump() {
    while (next_open_ < to_open_.size()) {
      auto id = s_.open_stream();
      if (!id) {
        ASSERT_EQ(id.error().category, ErrorCategory::kResourceExhausted);
        break;
      }
      sends_[*id] = Direction{key_of(seed_, *id, true), to_open_[next_open_++]};
      expected_recv_[*id] = answer_size(seed_, *id);
      write_some(*id);
    }
    while (auto e = s_.poll_event()) {
      switch (e->type) {
        case EventType::kIncoming: {
          const std::uint64_t size = answer_size(seed_, e->stream);
          sends_[e->stream] = Direction{key_of(seed_, e->stream, false), size};
          write_some(e->stream);
          break;
        }
        case EventType::kReadable:
          read_all(e->stream);
          break;
        case EventType::kWritable:
          write_some(e->stream);
          break;
        case EventType::kStreamClosed:
          ++closed_;
          break;
        case EventType::kStreamsAvailable:
          break;  // pump() opens the next streams on every call
        case EventType::kStreamReset:
        case EventType::kStopSending:
        case EventType::kClosed:
          ++unexpected_;
          break;
      }
    }
  }

  void write_some(StreamId id) {
    Direction& d = sends_[id];
    std::uint8_t buf[16384];
    while (d.written < d.size) {
      const auto n =
          static_cast<std::size_t>(std::min<std::uint64_t>(sizeof buf, d.size - d.written));
      fill_content(d.key, d.written, MutableBytes{buf, n});
      auto took = s_.write(id, Bytes{buf, n});
      ASSERT_TRUE(took.has_value()) << took.error().to_string();
      d.written += *took;
      if (*took < n) {
        return;
      }
    }
    if (!d.finished) {
      d.finished = true;
      ASSERT_TRUE(s_.finish(id).has_value());
    }
  }

  void read_all(StreamId id) {
    Recv& r = recvs_[id];
    std::uint8_t buf[16384];
    for (;;) {
      auto got = s_.read(id, MutableBytes{buf, sizeof buf});
      ASSERT_TRUE(got.has_value()) << got.error().to_string();
      r.hash.add(Bytes{buf, got->bytes});
      r.bytes += got->bytes;
      if (got->fin) {
        r.fin = true;
        return;
      }
      if (got->bytes < sizeof buf) {
        return;
      }
    }
  }

  // Checks every stream this side read against what the peer must have sent.
  void verify(const App& peer) const {
    for (const auto& [id, recv] : recvs_) {
      const bool opened_here = expected_recv_.contains(id);
      const std::uint64_t size = opened_here ? expected_recv_.at(id) : peer.to_open_[id >> 2];
      EXPECT_TRUE(recv.fin) << "stream " << id;
      EXPECT_EQ(recv.bytes, size) << "stream " << id;
      EXPECT_EQ(recv.hash.h, expected_hash(key_of(seed_, id, !opened_here), size))
          << "stream " << id;
    }
  }

  std::size_t closed() const { return closed_; }
  std::size_t received_streams() const { return recvs_.size(); }
  std::size_t unexpected() const { return unexpected_; }
  bool done() const {
    return next_open_ == to_open_.size() && closed_ == to_open_.size() + incoming_total_;
  }
  void expect_incoming(std::size_t n) { incoming_total_ = n; }

 private:
  Session& s_;
  std::vector<std::uint64_t> to_open_;
  std::uint64_t seed_;
  std::size_t next_open_ = 0;
  std::size_t closed_ = 0;
  std::size_t unexpected_ = 0;
  std::size_t incoming_total_ = 0;
  std::map<StreamId, Direction> sends_;
  std::map<StreamId, Recv> recvs_;
  std::map<StreamId, std::uint64_t> expected_recv_;
};

// Log-uniform sizes from 1 byte to 4 MiB; once the budget is spent the
// rest stay under 4 KiB so the run's total stays bounded.
std::vector<std::uint64_t> stream_sizes(std::uint64_t seed, std::size_t n, std::uint64_t budget) {
  SplitMix m(seed);
  std::vector<std::uint64_t> sizes;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double u = static_cast<double>(m.next() >> 11) / 9007199254740992.0;
    auto size = static_cast<std::uint64_t>(std::exp(u * std::log(4.0 * 1024 * 1024)));
    if (total + size > budget) {
      size %= 4096;
    }
    total += size;
    sizes.push_back(size);
  }
  return sizes;
}

struct ManyStreamsResult {
  std::uint64_t trace = 0;
  Nanos sim_time{0};
};

ManyStreamsResult run_many_streams(std::uint32_t loss_permille, std::uint64_t seed) {
  LinkConfig link;
  link.loss_permille = loss_permille;
  link.duplicate_permille = 20;
  link.reorder_permille = 100;
  link.delay = 10ms;
  link.bytes_per_second = 200u << 20;
  link.trace = true;
  SessionConfig config;
  SessionPair pair(config, link, seed);
  constexpr std::size_t kPerSide = 500;
  constexpr std::uint64_t kBudget = 3u << 20;
  App client(pair.client(), stream_sizes(seed, kPerSide, kBudget), seed);
  App server(pair.server(), stream_sizes(seed + 1, kPerSide, kBudget), seed);
  client.expect_incoming(kPerSide);
  server.expect_incoming(kPerSide);
  const Nanos start = pair.clock().now();
  std::uint64_t steps = 0;
  while (!(client.done() && server.done())) {
    client.pump();
    server.pump();
    if (::testing::Test::HasFatalFailure() || !pair.step() || ++steps > 20'000'000 ||
        pair.clock().now() - start > 3600s) {
      break;
    }
  }
  EXPECT_TRUE(client.done()) << "client closed " << client.closed();
  EXPECT_TRUE(server.done()) << "server closed " << server.closed();
  EXPECT_EQ(client.unexpected(), 0u);
  EXPECT_EQ(server.unexpected(), 0u);
  EXPECT_EQ(client.received_streams(), 2 * kPerSide);
  EXPECT_EQ(server.received_streams(), 2 * kPerSide);
  client.verify(server);
  server.verify(client);
  EXPECT_EQ(pair.client().open_streams(), 0u);
  EXPECT_EQ(pair.server().open_streams(), 0u);
  EXPECT_FALSE(pair.client().is_closed());
  return {pair.link().trace_hash(), pair.clock().now() - start};
}

class ManyStreams : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(ManyStreams, ThousandStreamsBothWaysArriveExactAndClose) {
  const std::size_t in_use_before = BufferPool::in_use_bytes();
  const auto first = run_many_streams(GetParam(), 42);
  EXPECT_EQ(BufferPool::in_use_bytes(), in_use_before) << "pool buffers leaked";
  if (GetParam() == 50) {
    // Same seed, same trace: the whole run is deterministic.
    const auto second = run_many_streams(GetParam(), 42);
    EXPECT_EQ(first.trace, second.trace);
    EXPECT_EQ(first.sim_time, second.sim_time);
  }
}

INSTANTIATE_TEST_SUITE_P(LossPermille, ManyStreams, ::testing::Values(0u, 10u, 50u, 200u));

}  // namespace
}  // namespace nyx::stream
