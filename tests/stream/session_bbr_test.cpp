// Sessions with BBR-N (SessionConfig::congestion = kBbr) over the lossy
// simulated link the other session tests use.
#include <array>
#include <cstdio>
#include <vector>

#include <gtest/gtest.h>

#include "stream/session.hpp"
#include "tests/stream/support/session_pair.hpp"

namespace nyx::stream {
namespace {

using namespace std::chrono_literals;
using testing::LinkConfig;
using testing::SessionPair;

struct Transfer {
  bool complete = false;
  bool exact = true;
  Nanos took{0};
  SessionStats sender;
  std::uint64_t steps = 0;  // turns of the simulated event loop
};

// One stream of `size` bytes from client to server, then FIN; the server
// checks every byte against the pattern.
Transfer transfer(CongestionAlgorithm algorithm, const LinkConfig& link, std::size_t size,
                  std::uint64_t seed) {
  SessionConfig config;
  config.congestion = algorithm;
  SessionPair pair(config, link, seed);
  auto pattern = [](std::size_t i) { return static_cast<std::uint8_t>((i * 131 + 7) >> 3); };
  std::vector<std::uint8_t> data(size);
  for (std::size_t i = 0; i < size; ++i) {
    data[i] = pattern(i);
  }
  Transfer t;
  const StreamId id = *pair.client().open_stream();
  std::size_t written = 0;
  std::size_t received = 0;
  bool fin = false;
  bool finished = false;
  std::uint64_t steps = 0;
  const Nanos start = pair.clock().now();
  std::array<std::uint8_t, 16384> buf{};
  while (!fin) {
    if (written < size) {
      auto n = pair.client().write(id, Bytes{data.data() + written, size - written});
      if (n) {
        written += *n;
      }
    }
    if (written == size && !finished) {
      finished = pair.client().finish(id).has_value();
    }
    while (pair.server().poll_event()) {
    }
    while (pair.client().poll_event()) {
    }
    for (;;) {
      auto r = pair.server().read(id, MutableBytes{buf.data(), buf.size()});
      if (!r || r->bytes == 0) {
        fin = r && r->fin;
        break;
      }
      for (std::size_t i = 0; i < r->bytes; ++i) {
        t.exact = t.exact && buf[i] == pattern(received + i);
      }
      received += r->bytes;
      fin = r->fin;
    }
    // A step cap as well as a time cap: a session that spins without
    // letting simulated time move must fail, not hang.
    if (!pair.step() || pair.clock().now() - start > 600s || ++steps > 20'000'000) {
      break;
    }
  }
  t.complete = fin && received == size;
  t.took = pair.clock().now() - start;
  t.sender = pair.client().stats();
  t.steps = steps;
  return t;
}

LinkConfig lossy_bottleneck(std::uint32_t loss_permille) {
  LinkConfig link;
  link.loss_permille = loss_permille;
  link.duplicate_permille = 10;
  link.reorder_permille = 20;
  link.reorder_jitter = 2ms;
  link.delay = 20ms;
  link.bytes_per_second = 2'000'000;
  return link;
}

TEST(SessionBbr, TransfersExactlyOverALossyLink) {
  const Transfer t = transfer(CongestionAlgorithm::kBbr, lossy_bottleneck(20), 4u << 20, 11);
  EXPECT_TRUE(t.complete);
  EXPECT_TRUE(t.exact);
  EXPECT_GT(t.sender.packets_lost, 0u);
  // 4 MiB at 2 MB/s is 2.1 s; startup and 2 % loss cost some of it.
  EXPECT_LT(t.took, 5s);
}

TEST(SessionBbr, OutrunsNewRenoAtThreePercentLoss) {
  const auto link = lossy_bottleneck(30);
  const Transfer bbr = transfer(CongestionAlgorithm::kBbr, link, 2u << 20, 5);
  const Transfer reno = transfer(CongestionAlgorithm::kNewReno, link, 2u << 20, 5);
  std::printf("2 MiB over 2 MB/s, RTT 40 ms, 3 %% loss: bbr %.2f s, newreno %.2f s\n",
              static_cast<double>(bbr.took.count()) / 1e9,
              static_cast<double>(reno.took.count()) / 1e9);
  ASSERT_TRUE(bbr.complete && bbr.exact);
  ASSERT_TRUE(reno.complete && reno.exact);
  EXPECT_LT(bbr.took * 3, reno.took);
}

// A paced sender whose channel pushes back (a full link queue) must not
// spin on a pacing deadline that has passed: the bug BBR-N's pacing found
// (simulated time stopped while step() kept reporting progress).
TEST(SessionBbr, PacingDeadlineDoesNotSpinWhileTheChannelPushesBack) {
  LinkConfig link;
  link.loss_permille = 10;
  link.delay = 1ms;
  link.queue_limit = 256;
  const Transfer t = transfer(CongestionAlgorithm::kBbr, link, 32u << 20, 7);
  EXPECT_TRUE(t.complete);
  EXPECT_TRUE(t.exact);
}

// On a fast link the pacer releases a send quantum per wake, not one
// datagram: released one by one, every datagram cost a loop turn and half an
// ACK (BM_Session_GoodputBbr ran 10-90 % behind NewReno for it).
TEST(SessionBbr, PacesInQuantaNotDatagramsOnAFastLink) {
  LinkConfig link;
  link.loss_permille = 10;
  link.delay = 1ms;
  link.queue_limit = 256;
  const Transfer t = transfer(CongestionAlgorithm::kBbr, link, 8u << 20, 7);
  ASSERT_TRUE(t.complete && t.exact);
  EXPECT_GT(t.sender.packets_sent, 4 * t.steps) << t.steps << " turns";
  EXPECT_GT(t.sender.packets_sent, 8 * t.sender.packets_received) << "ACKs per datagram";
}

}  // namespace
}  // namespace nyx::stream
