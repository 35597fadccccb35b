// CircuitStream and pump(): two CircuitSessions over an in-memory circuit,
// real TCP sockets on 127.0.0.1 for the pump, one io_context on the test's
// thread. Each test plays one way a stream ends and checks that every
// waiter wakes with the right outcome.

#include "daemon/circuit_stream.hpp"

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <gtest/gtest.h>

#include "async/timer_service.hpp"
#include "async/use_result.hpp"
#include "core/clock.hpp"
#include "daemon/circuit_session.hpp"
#include "daemon/stream_pump.hpp"
#include "daemon/support/memory_channel.hpp"

namespace nyx::daemon {
namespace {

using asio::ip::tcp;

class CircuitStreamTest : public ::testing::Test {
 protected:
  explicit CircuitStreamTest(stream::SessionConfig config = {}) {
    auto [a, b] = MemoryChannel::pair(io_);
    link_ = a->link();
    client_ = std::make_unique<CircuitSession>(io_.get_executor(), SteadyClock::instance(),
                                               async::SteadyTimers::instance(), std::move(a),
                                               stream::Role::kInitiator, config);
    exit_ = std::make_unique<CircuitSession>(io_.get_executor(), SteadyClock::instance(),
                                             async::SteadyTimers::instance(), std::move(b),
                                             stream::Role::kResponder, config);
    exit_->set_incoming_handler(
        [this](stream::StreamId id) { accepted_ = std::make_unique<CircuitStream>(*exit_, id); });
  }

  std::unique_ptr<CircuitStream> open() {
    auto id = client_->open_stream();
    EXPECT_TRUE(id);
    return std::make_unique<CircuitStream>(*client_, *id);
  }

  // Runs until `accepted_` exists (the exit saw the stream).
  asio::awaitable<void> until_accepted() {
    asio::steady_timer pause(io_);
    for (int i = 0; i < 500 && !accepted_; ++i) {
      pause.expires_after(std::chrono::milliseconds(2));
      co_await pause.async_wait(async::use_result);
    }
  }

  void run(std::function<asio::awaitable<void>()> body) {
    bool done = false;
    asio::co_spawn(io_, body(), [&](std::exception_ptr e) {
      done = true;
      EXPECT_FALSE(e);
      io_.stop();  // the sessions' keep-alive timers would run on
    });
    io_.run_for(std::chrono::seconds(20));
    EXPECT_TRUE(done) << "timed out";
  }

  // Both ends lose the circuit, as a DESTROY does.
  void destroy_circuit() {
    link_->closed = true;
    client_->channel_closed();
    exit_->channel_closed();
  }

  asio::io_context io_;
  std::shared_ptr<MemoryChannel::Link> link_;
  std::unique_ptr<CircuitSession> client_;
  std::unique_ptr<CircuitSession> exit_;
  std::unique_ptr<CircuitStream> accepted_;
};

std::string text_of(const std::vector<std::uint8_t>& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

// Every byte `stream` delivers up to its FIN, or the error that ended it
// first.
asio::awaitable<Result<std::vector<std::uint8_t>>> read_to_fin(CircuitStream& stream) {
  std::vector<std::uint8_t> got;
  std::array<std::uint8_t, 4096> buffer{};
  for (;;) {
    auto read = co_await stream.read_some(buffer);
    if (!read) {
      co_return std::unexpected(std::move(read.error()));
    }
    got.insert(got.end(), buffer.begin(), buffer.begin() + read->bytes);
    if (read->fin) {
      co_return got;
    }
  }
}

TEST_F(CircuitStreamTest, ReadSomeWaitsForDataThenSeesTheFin) {
  run([&]() -> asio::awaitable<void> {
    auto stream = open();
    const std::string hello = "hello";
    EXPECT_TRUE(co_await stream->write_all(
        Bytes(reinterpret_cast<const std::uint8_t*>(hello.data()), hello.size())));
    EXPECT_TRUE(stream->finish());
    co_await until_accepted();
    auto got = co_await read_to_fin(*accepted_);
    if (!got) {
      ADD_FAILURE() << got.error().to_string();
      co_return;
    }
    EXPECT_EQ(text_of(*got), hello);
    EXPECT_EQ(accepted_->traffic().bytes_down, hello.size());
    EXPECT_EQ(stream->traffic().bytes_up, hello.size());
  });
}

class CircuitStreamSmallWindowTest : public CircuitStreamTest {
 protected:
  CircuitStreamSmallWindowTest()
      : CircuitStreamTest(stream::SessionConfig{.initial_max_stream_data = 8u << 10,
                                                .max_stream_data_window = 8u << 10}) {}
};

TEST_F(CircuitStreamSmallWindowTest, WriteAllWaitsForCreditAndDeliversEveryByte) {
  run([&]() -> asio::awaitable<void> {
    auto stream = open();
    std::vector<std::uint8_t> sent(256u << 10);
    for (std::size_t i = 0; i < sent.size(); ++i) {
      sent[i] = static_cast<std::uint8_t>(i * 7 + i / 251);
    }
    bool written = false;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          EXPECT_TRUE(co_await stream->write_all(sent));
          EXPECT_TRUE(stream->finish());
          written = true;
        },
        [](std::exception_ptr e) { EXPECT_FALSE(e); });
    co_await until_accepted();
    // 32 windows' worth: the writer cannot be done before we read.
    EXPECT_FALSE(written);
    auto got = co_await read_to_fin(*accepted_);
    if (!got) {
      ADD_FAILURE() << got.error().to_string();
      co_return;
    }
    EXPECT_TRUE(written);
    EXPECT_TRUE(*got == sent);
  });
}

TEST_F(CircuitStreamTest, DestroyingAnUnfinishedStreamResetsItForThePeer) {
  run([&]() -> asio::awaitable<void> {
    auto stream = open();
    const std::uint8_t byte = 1;
    EXPECT_TRUE(co_await stream->write_all(Bytes(&byte, 1)));
    co_await until_accepted();
    std::array<std::uint8_t, 16> buffer{};
    auto first = co_await accepted_->read_some(buffer);
    EXPECT_TRUE(first && first->bytes == 1);
    stream.reset();  // abandoned without a FIN
    auto next = co_await accepted_->read_some(buffer);
    EXPECT_FALSE(next);
    if (!next) {
      EXPECT_EQ(next.error().category, ErrorCategory::kClosed);
    }
    EXPECT_FALSE(accepted_->circuit_closed());  // the stream, not the circuit
  });
}

TEST_F(CircuitStreamTest, ADestroyedCircuitWakesAWaitingReaderAndWriter) {
  run([&]() -> asio::awaitable<void> {
    auto stream = open();
    const std::uint8_t byte = 1;
    EXPECT_TRUE(co_await stream->write_all(Bytes(&byte, 1)));
    co_await until_accepted();
    std::array<std::uint8_t, 16> buffer{};
    EXPECT_TRUE(co_await accepted_->read_some(buffer));
    asio::steady_timer soon(io_, std::chrono::milliseconds(20));
    soon.async_wait([&](std::error_code) { destroy_circuit(); });
    auto read = co_await accepted_->read_some(buffer);  // waits: nothing more comes
    EXPECT_FALSE(read);
    EXPECT_TRUE(accepted_->circuit_closed());
    // The client's session is destroyed outright: its stream learns it too.
    client_.reset();
    EXPECT_TRUE(stream->circuit_closed());
    EXPECT_FALSE(co_await stream->write_all(Bytes(&byte, 1)));
  });
}

// A connected pair of loopback sockets.
asio::awaitable<std::pair<tcp::socket, tcp::socket>> socket_pair(asio::io_context& io) {
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
  tcp::socket near(io);
  auto [cec] = co_await near.async_connect(acceptor.local_endpoint(), async::use_result);
  EXPECT_FALSE(cec);
  auto [aec, far] = co_await acceptor.async_accept(async::use_result);
  EXPECT_FALSE(aec);
  co_return std::pair{std::move(near), std::move(far)};
}

TEST_F(CircuitStreamTest, PumpCarriesBothWaysAndEndsCleanlyOnBothFins) {
  run([&]() -> asio::awaitable<void> {
    auto [app, pumped] = co_await socket_pair(io_);
    auto stream = open();
    const std::vector<std::uint8_t> early = {'e', 'a', 'r', 'l', 'y'};
    bool clean = false;
    bool pumping = true;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          clean = co_await pump(*stream, pumped, early);
          pumping = false;
        },
        [](std::exception_ptr e) { EXPECT_FALSE(e); });
    const std::string up = "request";
    co_await asio::async_write(app, asio::buffer(up), async::use_result);
    app.shutdown(tcp::socket::shutdown_send);
    co_await until_accepted();
    auto at_exit = co_await read_to_fin(*accepted_);
    if (!at_exit) {
      ADD_FAILURE() << at_exit.error().to_string();
      co_return;
    }
    EXPECT_EQ(text_of(*at_exit), up);
    const std::string down = "response";
    EXPECT_TRUE(co_await accepted_->write_all(
        Bytes(reinterpret_cast<const std::uint8_t*>(down.data()), down.size())));
    EXPECT_TRUE(accepted_->finish());
    std::string at_app;
    auto [ec, n] = co_await asio::async_read(app, asio::dynamic_buffer(at_app), async::use_result);
    EXPECT_EQ(ec, asio::error::eof);  // a clean end, not a reset
    EXPECT_EQ(at_app, "early" + down);
    asio::steady_timer pause(io_);
    for (int i = 0; i < 100 && pumping; ++i) {
      pause.expires_after(std::chrono::milliseconds(5));
      co_await pause.async_wait(async::use_result);
    }
    EXPECT_FALSE(pumping);
    EXPECT_TRUE(clean);
  });
}

TEST_F(CircuitStreamTest, PumpResetsTheSocketWhenTheCircuitDiesUnderAQuietApplication) {
  run([&]() -> asio::awaitable<void> {
    auto [app, pumped] = co_await socket_pair(io_);
    auto stream = open();
    bool clean = true;
    bool pumping = true;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          clean = co_await pump(*stream, pumped);
          pumping = false;
        },
        [](std::exception_ptr e) { EXPECT_FALSE(e); });
    const std::uint8_t byte = 1;
    co_await asio::async_write(app, asio::buffer(&byte, 1), async::use_result);
    co_await until_accepted();
    // The exit finishes its side: the pump's downward half is done and only
    // the socket is read now, by an application that sends nothing more.
    EXPECT_TRUE(accepted_->finish());
    std::string at_app;
    auto [eof, n] = co_await asio::async_read(app, asio::dynamic_buffer(at_app), async::use_result);
    EXPECT_EQ(eof, asio::error::eof);
    EXPECT_TRUE(pumping);
    destroy_circuit();
    asio::steady_timer pause(io_);
    for (int i = 0; i < 100 && pumping; ++i) {
      pause.expires_after(std::chrono::milliseconds(5));
      co_await pause.async_wait(async::use_result);
    }
    EXPECT_FALSE(pumping);
    EXPECT_FALSE(clean);
    // Closed abortively (RST): the application's next write fails; a
    // graceful close would have taken it.
    auto [ec, m] = co_await asio::async_write(app, asio::buffer(&byte, 1), async::use_result);
    EXPECT_TRUE(ec == asio::error::broken_pipe || ec == asio::error::connection_reset)
        << ec.message();
  });
}

}  // namespace
}  // namespace nyx::daemon
