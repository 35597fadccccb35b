// async::accept_loop: accepted sockets reach the handler, a failed accept
// (out of descriptors, or an acceptor that is closed) pauses for the
// back-off on the injected timers instead of spinning, and the loop ends
// when its server says it stopped.

#include "async/accept_loop.hpp"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <exception>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include "async/manual_timers.hpp"
#include "support/run_until.hpp"

namespace nyx::async {
namespace {

using asio::ip::tcp;
using namespace std::chrono_literals;
using nyx::test::run_for;
using nyx::test::run_until;

constexpr Nanos kBackoff = 50ms;

// Lowers RLIMIT_NOFILE and takes every descriptor left, so the next
// accept() fails with EMFILE; gives them back when destroyed.
class DescriptorExhaustion {
 public:
  DescriptorExhaustion() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit lowered = saved_;
    lowered.rlim_cur = std::min<rlim_t>(saved_.rlim_cur, 1024);
    ::setrlimit(RLIMIT_NOFILE, &lowered);
    for (int fd = ::open("/dev/null", O_RDONLY); fd >= 0; fd = ::open("/dev/null", O_RDONLY)) {
      taken_.push_back(fd);
    }
    exhausted_ = errno == EMFILE;
  }
  ~DescriptorExhaustion() { release(); }
  DescriptorExhaustion(const DescriptorExhaustion&) = delete;
  DescriptorExhaustion& operator=(const DescriptorExhaustion&) = delete;

  bool exhausted() const noexcept { return exhausted_; }
  void release() {
    for (const int fd : taken_) {
      ::close(fd);
    }
    taken_.clear();
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }

 private:
  rlimit saved_{};
  std::vector<int> taken_;
  bool exhausted_ = false;
};

class AcceptLoopTest : public ::testing::Test {
 protected:
  AcceptLoopTest() {
    acceptor_.open(tcp::v4());
    acceptor_.bind(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    acceptor_.listen();
  }

  void start() {
    asio::co_spawn(io_,
                   accept_loop(
                       acceptor_, timers_, kBackoff, [this] { return stopped_; },
                       [this](tcp::socket socket) { accepted_.push_back(std::move(socket)); }),
                   [this](const std::exception_ptr& e) {
                     finished_ = true;
                     if (e) {
                       std::rethrow_exception(e);
                     }
                   });
  }

  // Runs what is ready, one handler at a time; false when more than `limit`
  // handlers ran, i.e. the loop keeps itself busy instead of waiting.
  bool settles(std::size_t limit = 1000) {
    io_.restart();
    for (std::size_t ran = 0; ran <= limit; ++ran) {
      if (io_.poll_one() == 0) {
        return true;
      }
    }
    return false;
  }

  // Runs one failed accept and its pause on a closed acceptor, while
  // descriptors are left. UBSan checks a dynamic type the first time a
  // member is called through a base (the reactor as the scheduler's task,
  // the timers as a TimerService), and that first check probes memory
  // through a pipe: with every descriptor taken it reports an invalid vptr.
  // Later checks of the same pair hit its cache, so a rehearsal makes every
  // check the exhausted loop will need.
  void rehearse_a_failed_accept() {
    tcp::acceptor closed(io_);
    bool rehearsed = false;
    bool ended = false;
    asio::co_spawn(
        io_,
        accept_loop(
            closed, timers_, kBackoff, [&rehearsed] { return rehearsed; }, [](tcp::socket) {}),
        [&ended](const std::exception_ptr&) { ended = true; });
    ASSERT_TRUE(settles());
    ASSERT_EQ(timers_.armed(), 1u);
    rehearsed = true;
    run_for(io_, timers_, kBackoff);
    ASSERT_TRUE(ended);
  }

  // Every test ends the loop: its timer must go before the timers do.
  void stop() {
    stopped_ = true;
    acceptor_.close();
    run_for(io_, timers_, kBackoff);
    EXPECT_TRUE(finished_);
  }

  asio::io_context io_;
  ManualClock clock_{1s};
  ManualTimers timers_{io_, clock_};
  tcp::acceptor acceptor_{io_};
  std::vector<tcp::socket> accepted_;
  bool stopped_ = false;
  bool finished_ = false;
};

TEST_F(AcceptLoopTest, HandsEachAcceptedSocketToTheHandler) {
  start();
  tcp::socket first(io_);
  tcp::socket second(io_);
  first.connect(acceptor_.local_endpoint());
  second.connect(acceptor_.local_endpoint());
  ASSERT_TRUE(run_until(
      io_, [this] { return accepted_.size() == 2; }, 10s));
  EXPECT_EQ(timers_.armed(), 0u);  // no error, no pause
  stop();
  EXPECT_EQ(accepted_.size(), 2u);
}

TEST_F(AcceptLoopTest, OutOfDescriptorsPausesForTheBackoffInsteadOfSpinning) {
  ASSERT_NO_FATAL_FAILURE(rehearse_a_failed_accept());
  tcp::socket client(io_);
  client.connect(acceptor_.local_endpoint());  // waits in the backlog
  start();
  DescriptorExhaustion exhaustion;
  ASSERT_TRUE(exhaustion.exhausted());
  ASSERT_TRUE(settles());
  EXPECT_TRUE(accepted_.empty());
  ASSERT_EQ(timers_.armed(), 1u);
  const Nanos failed_at = clock_.now();
  EXPECT_EQ(timers_.next_deadline(), failed_at + kBackoff);

  // Just before the back-off ends nothing is retried; at its end one retry
  // fails again and pauses again.
  timers_.advance(kBackoff - 1ns);
  ASSERT_TRUE(settles());
  EXPECT_EQ(timers_.next_deadline(), failed_at + kBackoff);
  timers_.advance(1ns);
  ASSERT_TRUE(settles());
  EXPECT_TRUE(accepted_.empty());
  EXPECT_EQ(timers_.next_deadline(), failed_at + 2 * kBackoff);

  // Descriptors back: the next retry takes the waiting client.
  exhaustion.release();
  timers_.advance(kBackoff);
  ASSERT_TRUE(run_until(
      io_, [this] { return accepted_.size() == 1; }, 10s));
  stop();
}

TEST_F(AcceptLoopTest, AClosedAcceptorPausesEachRetry) {
  acceptor_.close();  // every accept fails at once (bad descriptor)
  start();
  ASSERT_TRUE(settles());
  ASSERT_EQ(timers_.armed(), 1u);
  timers_.advance(kBackoff);
  ASSERT_TRUE(settles());
  ASSERT_EQ(timers_.armed(), 1u);
  EXPECT_EQ(timers_.next_deadline(), 1s + 2 * kBackoff);
  EXPECT_FALSE(finished_);
  stop();
}

TEST_F(AcceptLoopTest, EndsWhenStoppedDuringAnAccept) {
  start();
  ASSERT_TRUE(settles());
  stopped_ = true;
  acceptor_.close();  // the pending accept ends with operation_aborted
  ASSERT_TRUE(settles());
  EXPECT_TRUE(finished_);
  EXPECT_EQ(timers_.armed(), 0u);
}

}  // namespace
}  // namespace nyx::async
