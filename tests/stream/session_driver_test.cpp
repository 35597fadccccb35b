// SessionDriver with a channel that pushes back: the event loop around it
// must sleep, not spin, while the channel refuses (docs/performance.md,
// "Stream": the busy-wait BBR-N's pacing first showed).
#include "stream/session_driver.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "stream/session.hpp"

namespace nyx::stream {
namespace {

using namespace std::chrono_literals;

// A channel whose queue is full until told otherwise; counts what it was
// offered, keeps the last datagram offered and every one it took.
class FullChannel final : public DatagramChannel {
 public:
  std::size_t max_datagram_size() const noexcept override { return 990; }
  SendOutcome send(Bytes datagram) override {
    ++offered;
    last_offered.assign(datagram.begin(), datagram.end());
    if (full) {
      return SendOutcome::kBlocked;
    }
    taken.push_back(last_offered);
    return SendOutcome::kSent;
  }
  void set_receiver(DatagramReceiver*) noexcept override {}

  bool full = true;
  std::uint64_t offered = 0;
  std::vector<std::uint8_t> last_offered;
  std::vector<std::vector<std::uint8_t>> taken;
};

// The owner's event loop in miniature (as daemon/circuit_session.cpp runs
// one): run the timers and flush, then sleep until next_deadline(). A
// deadline that is already due wakes it again at the same simulated time.
// Returns the wakes in `span` of simulated time, at most `cap`.
std::uint64_t run_loop(ManualClock& clock, SessionDriver& driver, Nanos span, std::uint64_t cap) {
  const Nanos end = clock.now() + span;
  std::uint64_t wakes = 0;
  while (clock.now() < end && wakes < cap) {
    ++wakes;
    (void)driver.run_timers();
    const auto deadline = driver.next_deadline();
    if (!deadline) {
      break;
    }
    clock.set(std::max(*deadline, clock.now()));
  }
  return wakes;
}

class PushbackTest : public ::testing::TestWithParam<CongestionAlgorithm> {};

// The session owes the peer an ACK and has data of its own, but the channel
// refuses everything. Before the fix the owed ACK kept next_deadline() at
// "now", so the loop woke without end at one instant (here: the cap).
TEST_P(PushbackTest, TheLoopSleepsWhileTheChannelRefuses) {
  ManualClock clock(1s);
  SessionConfig config;
  config.congestion = GetParam();
  Session session(Role::kInitiator, config, clock.now());
  FullChannel channel;
  SessionDriver driver(session, channel, clock);
  Session peer(Role::kResponder, SessionConfig{}, clock.now());

  std::vector<std::uint8_t> data(64 * 1024, 0x5a);
  const StreamId mine = *session.open_stream();
  ASSERT_GT(*session.write(mine, Bytes{data.data(), data.size()}), 0u);
  const StreamId theirs = *peer.open_stream();
  ASSERT_GT(*peer.write(theirs, Bytes{data.data(), data.size()}), 0u);
  std::array<std::uint8_t, 990> buf{};
  auto deliver_from_peer = [&](int packets) {
    for (int i = 0; i < packets; ++i) {
      const std::size_t n = peer.poll_transmit(MutableBytes{buf.data(), buf.size()}, clock.now());
      ASSERT_GT(n, 0u);
      driver.on_datagram(Bytes{buf.data(), n});
    }
  };

  deliver_from_peer(2);
  ASSERT_EQ(driver.flush(), SendOutcome::kBlocked);  // an ACK and data, refused and kept
  ASSERT_EQ(channel.offered, 1u);
  deliver_from_peer(2);  // a second ACK is owed at once (every second packet)

  const std::uint64_t wakes = run_loop(clock, driver, 20ms, 1000);
  // One retry per pushback_retry (1 ms), not a wake per instant.
  EXPECT_LE(wakes, 22u);
  EXPECT_LE(channel.offered, 23u);
  EXPECT_TRUE(channel.taken.empty());
  EXPECT_FALSE(session.is_closed());

  // Once the channel takes datagrams again, the kept one and the owed ACK
  // leave within one retry interval.
  channel.full = false;
  run_loop(clock, driver, 1500us, 1000);
  EXPECT_GE(channel.taken.size(), 2u);
}

// kBlocked stops the flush at the refused datagram: the session is not
// polled for more, and each later flush (the owner's wake-up) offers that
// same datagram first; once it is taken, polling resumes where it stopped.
TEST(SessionDriverPushback, StopsPollingOnBlockedAndResumesWithTheKeptDatagram) {
  ManualClock clock(1s);
  Session session(Role::kInitiator, SessionConfig{}, clock.now());
  FullChannel channel;
  SessionDriver driver(session, channel, clock);
  std::vector<std::uint8_t> data(8 * 1024, 0x5a);
  const StreamId id = *session.open_stream();
  ASSERT_GT(*session.write(id, Bytes{data.data(), data.size()}), 0u);

  ASSERT_EQ(driver.flush(), SendOutcome::kBlocked);
  EXPECT_EQ(channel.offered, 1u);  // one refusal, then no more polling
  const std::vector<std::uint8_t> refused = channel.last_offered;
  clock.advance(1ms);
  ASSERT_EQ(driver.flush(), SendOutcome::kBlocked);
  EXPECT_EQ(channel.offered, 2u);
  EXPECT_EQ(channel.last_offered, refused);  // the kept one, not a new poll

  channel.full = false;
  clock.advance(1ms);
  EXPECT_EQ(driver.flush(), SendOutcome::kSent);  // the session has nothing more now
  ASSERT_GT(channel.taken.size(), 1u);            // the kept one, then more polled
  EXPECT_EQ(channel.taken[0], refused);
}

INSTANTIATE_TEST_SUITE_P(Controllers, PushbackTest,
                         ::testing::Values(CongestionAlgorithm::kNewReno,
                                           CongestionAlgorithm::kBbr),
                         [](const auto& p) {
                           return std::string(congestion_algorithm_name(p.param));
                         });

}  // namespace
}  // namespace nyx::stream
