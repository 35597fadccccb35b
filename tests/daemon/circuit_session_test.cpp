// CircuitSession's timer in simulated time: two sessions over an in-memory
// circuit, their timers on ManualTimers, so each test moves the clock to a
// deadline and checks what happens there and not a nanosecond before.
// - Pushback: while its channel answers kBlocked the session sleeps on its
//   retry timer (no spinning on the io_context), and once the channel takes
//   datagrams again the refused one leaves at the next retry, with nobody
//   calling wake().
// - Loss: a datagram the path lost is sent again when the session's probe
//   timeout expires.
#include "daemon/circuit_session.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include <asio/io_context.hpp>
#include <gtest/gtest.h>

#include "async/manual_timers.hpp"
#include "core/clock.hpp"
#include "daemon/support/memory_channel.hpp"
#include "support/run_until.hpp"

namespace nyx::daemon {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kHello = "hello";

class CircuitSessionTimerTest : public ::testing::Test {
 protected:
  CircuitSessionTimerTest() {
    auto [a, b] = MemoryChannel::pair(io_);
    link_ = a->link();
    client_ = std::make_unique<CircuitSession>(io_.get_executor(), clock_, timers_, std::move(a),
                                               stream::Role::kInitiator);
    exit_ = std::make_unique<CircuitSession>(io_.get_executor(), clock_, timers_, std::move(b),
                                             stream::Role::kResponder);
    exit_->set_incoming_handler([this](stream::StreamId id) { incoming_ = id; });
  }

  // Opens a stream on the client and writes kHello to it; the session runs
  // in this turn.
  void send_hello() {
    auto id = client_->open_stream();
    ASSERT_TRUE(id.has_value());
    auto written = client_->session().write(*id, as_bytes(kHello));
    ASSERT_TRUE(written.has_value());
    ASSERT_EQ(*written, kHello.size());
    client_->wake();
    test::poll_ready(io_);
  }

  // Moves simulated time by `by`, running what falls due.
  void advance(Nanos by) { timers_.advance(by); }

  asio::io_context io_;
  ManualClock clock_{std::chrono::seconds(1)};
  async::ManualTimers timers_{io_, clock_};  // before the sessions whose timers it fires
  std::shared_ptr<MemoryChannel::Link> link_;
  std::unique_ptr<CircuitSession> client_;
  std::unique_ptr<CircuitSession> exit_;
  std::optional<stream::StreamId> incoming_;
};

TEST_F(CircuitSessionTimerTest, SleepsOnItsRetryTimerWhileBlockedAndResumesOnItsOwn) {
  const Nanos retry = stream::SessionConfig{}.pushback_retry;
  link_->blocked = true;
  ASSERT_NO_FATAL_FAILURE(send_hello());
  ASSERT_GE(link_->refused, 1u);
  for (int i = 0; i < 20; ++i) {
    // Nothing is ready: the session waits on one timer, one retry ahead.
    EXPECT_EQ(test::poll_ready(io_), 0u);
    ASSERT_EQ(timers_.armed(), 1u);
    EXPECT_EQ(timers_.next_deadline(), clock_.now() + retry);
    const std::uint64_t refused = link_->refused;
    advance(retry);
    // One run per retry, which offers the datagram in each of its two passes
    // (the driver's timers, then its flush): a bounded retry, not a spin.
    EXPECT_GE(link_->refused, refused + 1);
    EXPECT_LE(link_->refused, refused + 2);
  }
  EXPECT_FALSE(incoming_.has_value());
  EXPECT_FALSE(client_->is_closed());

  link_->blocked = false;  // no wake(): the retry timer must notice
  advance(retry);
  EXPECT_TRUE(incoming_.has_value());
}

TEST_F(CircuitSessionTimerTest, RetryOfARefusedDatagramFiresAtItsDeadlineAndNotBefore) {
  link_->blocked = true;
  ASSERT_NO_FATAL_FAILURE(send_hello());
  const auto due = timers_.next_deadline();
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(*due, clock_.now() + stream::SessionConfig{}.pushback_retry);
  EXPECT_EQ(client_->session().next_deadline(), due);

  link_->blocked = false;
  advance(*due - clock_.now() - 1ns);
  EXPECT_EQ(link_->taken, 0u);
  EXPECT_FALSE(incoming_.has_value());
  advance(1ns);
  EXPECT_GE(link_->taken, 1u);
  EXPECT_TRUE(incoming_.has_value());
}

TEST_F(CircuitSessionTimerTest, LostDatagramIsSentAgainExactlyAtItsProbeTimeout) {
  link_->dropping = true;
  ASSERT_NO_FATAL_FAILURE(send_hello());
  const std::uint64_t sent = link_->taken;
  ASSERT_GE(sent, 1u);
  // The session's next deadline is its probe timeout, and its timer is armed
  // there.
  const auto probe = client_->session().next_deadline();
  ASSERT_TRUE(probe.has_value());
  ASSERT_GT(*probe, clock_.now());
  EXPECT_EQ(timers_.next_deadline(), probe);

  link_->dropping = false;
  advance(*probe - clock_.now() - 1ns);
  EXPECT_EQ(link_->taken, sent);
  EXPECT_EQ(client_->session().stats().pto_count, 0u);
  EXPECT_FALSE(incoming_.has_value());

  advance(1ns);
  EXPECT_GT(link_->taken, sent);
  EXPECT_EQ(client_->session().stats().pto_count, 1u);
  EXPECT_TRUE(test::run_until(
      io_, timers_, [&] { return incoming_.has_value(); }, 1s));
}

TEST_F(CircuitSessionTimerTest, DestroyedSessionLeavesNoTimerBehind) {
  link_->blocked = true;
  ASSERT_NO_FATAL_FAILURE(send_hello());
  ASSERT_EQ(timers_.armed(), 1u);
  client_.reset();
  EXPECT_EQ(timers_.armed(), 0u);
  advance(1s);  // nothing fires into the gone session
  EXPECT_FALSE(incoming_.has_value());
}

}  // namespace
}  // namespace nyx::daemon
