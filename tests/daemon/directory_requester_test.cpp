// DirectoryRequester against the real DirectoryServer: node 0 asks node 1
// over a CREATE_DIR circuit on the mix layer's loopback network (Noise links
// on 127.0.0.1, real Relays), where node 1's Relay hands its directory
// circuits to a DirectoryServer with a HeldConsensusService. The links run
// in real time; the requester's and the server's timers on ManualTimers, so
// the 30 s limit of section 4.5 is reached by moving simulated time.
//
// DirectoryRequesterAttackTest plays a hostile server over an in-memory
// circuit: it answers with whatever bytes the test gives it, so each rule a
// client's reply parser enforces (section 4.4) is met by real bytes.
#include "daemon/directory_requester.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include <asio/co_spawn.hpp>
#include <gtest/gtest.h>

#include "async/manual_timers.hpp"
#include "daemon/circuit_session.hpp"
#include "daemon/circuit_stream.hpp"
#include "daemon/directory_server.hpp"
#include "daemon/directory_service.hpp"
#include "daemon/support/memory_channel.hpp"
#include "document/node_address.hpp"
#include "mix/cell.hpp"
#include "mix/support/loopback_network.hpp"
#include "support/run_until.hpp"

namespace nyx::daemon {
namespace {

using namespace std::chrono_literals;
using Outcome = std::optional<Result<document::DirectoryReply>>;

SharedDocument fake_consensus(std::size_t size) {
  auto bytes = std::make_shared<std::vector<std::uint8_t>>(size);
  for (std::size_t i = 0; i < size; ++i) {
    (*bytes)[i] = static_cast<std::uint8_t>(i * 7);
  }
  return bytes;
}

class DirectoryRequesterTest : public mix::testing::LoopbackTest {
 protected:
  void SetUp() override {
    mix::testing::LoopbackOptions options;
    // Node 1 serves directories; node 2 does not (DESTROY 4).
    options.relay_config = [](int index) {
      mix::RelayConfig config;
      config.serves_directory = index == 1;
      return config;
    };
    start(3, options);
    server = std::make_unique<DirectoryServer>(io, manual_clock, timers, service);
    node(1).relay->set_directory_handler([this](std::unique_ptr<mix::Circuit> circuit) {
      server->accept(std::move(circuit), std::nullopt);
    });
    circuits = std::make_unique<RelayDirectoryCircuits>(*node(0).relay, *node(0).links);
    requester =
        std::make_unique<DirectoryRequester>(io.get_executor(), manual_clock, timers, *circuits);
  }

  void TearDown() override {
    test::poll_ready(io);
    requester.reset();
    circuits.reset();
    node(1).relay->set_directory_handler(nullptr);
    server->stop();
    test::poll_ready(io);
    server.reset();
    LoopbackTest::TearDown();
  }

  document::DirectorySource source(int index) {
    const auto& descriptor = node(index).keys.descriptor;
    document::DirectorySource s;
    s.kind = document::DirectorySource::Kind::kAuthority;
    s.link_key = descriptor.link_key;
    auto udp = document::NodeAddress::from_text(descriptor.udp_address);
    EXPECT_TRUE(udp.has_value());
    if (udp) {
      s.udp_address = *udp;
    }
    return s;
  }

  // Starts one request; its outcome lands in what this returns (shared, so
  // a test that gives up early leaves nothing dangling).
  std::shared_ptr<Outcome> start_request(int index, document::DirectoryRequest request) {
    auto out = std::make_shared<Outcome>();
    asio::co_spawn(
        io,
        [this, s = source(index), request = std::move(request), out]() -> asio::awaitable<void> {
          *out = co_await requester->request(s, request);
        },
        [](std::exception_ptr e) { EXPECT_FALSE(e); });
    return out;
  }

  // Runs one request to its end. The links run in real time; the sessions'
  // timers (pacing after a push-back, loss recovery) on the simulated clock,
  // which moves whenever nothing is ready, as it would by itself.
  Result<document::DirectoryReply> ask(int index, document::DirectoryRequest request) {
    auto out = start_request(index, std::move(request));
    EXPECT_TRUE(test::run_until(
        io, timers, [&] { return out->has_value(); }, std::chrono::seconds(20)));
    if (!*out) {
      return make_error(ErrorCategory::kInternal, "no outcome");
    }
    return std::move(**out);
  }

  async::ManualTimers timers{io, manual_clock};
  HeldConsensusService service;
  std::unique_ptr<DirectoryServer> server;
  std::unique_ptr<RelayDirectoryCircuits> circuits;
  std::unique_ptr<DirectoryRequester> requester;
};

TEST_F(DirectoryRequesterTest, FetchesTheHeldConsensusOverACreateDirCircuit) {
  // Large enough that the reply needs many cells and flow-control credit.
  const SharedDocument consensus = fake_consensus(document::kMinConsensus + 200'000);
  service.hold(489'000, consensus);
  auto reply = ask(1, document::GetConsensusRequest{.have_period = 0});
  ASSERT_TRUE(reply.has_value()) << reply.error().to_string();
  const auto* ok = std::get_if<document::ConsensusReply>(&*reply);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->consensus, *consensus);
  EXPECT_EQ(server->counters().answered, 1u);
  // The requester closed its circuit: the server's session goes with it.
  EXPECT_TRUE(run_until([&] { return server->session_count() == 0; }));
}

TEST_F(DirectoryRequesterTest, ANodeAsksItselfThroughItsOwnServerNotACircuit) {
  // A relay that is also an authority uploads to itself: no circuit reaches
  // its own link key, so its circuits loop back into its own server.
  service.hold(489'000, fake_consensus(document::kMinConsensus + 20'000));
  RelayDirectoryCircuits own_circuits(*node(1).relay, *node(1).links);
  own_circuits.answer_locally(node(1).keys.descriptor.link_key, *server);
  DirectoryRequester own_requester(io.get_executor(), manual_clock, timers, own_circuits);
  Outcome out;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        out = co_await own_requester.request(source(1), document::GetConsensusRequest{});
      },
      [](std::exception_ptr e) { EXPECT_FALSE(e); });
  ASSERT_TRUE(test::run_until(
      io, timers, [&] { return out.has_value(); }, std::chrono::seconds(20)));
  ASSERT_TRUE(out->has_value()) << out->error().to_string();
  EXPECT_TRUE(std::holds_alternative<document::ConsensusReply>(**out));
  EXPECT_EQ(server->counters().answered, 1u);
  EXPECT_EQ(node(1).relay->circuit_count(), 0u);
  // The requester dropped its end: the server's session goes with it.
  EXPECT_TRUE(run_until([&] { return server->session_count() == 0; }));
}

TEST_F(DirectoryRequesterTest, NotModifiedWhenTheClientHoldsThePeriod) {
  service.hold(489'000, fake_consensus(document::kMinConsensus));
  auto reply = ask(1, document::GetConsensusRequest{.have_period = 489'000});
  ASSERT_TRUE(reply.has_value()) << reply.error().to_string();
  EXPECT_TRUE(std::holds_alternative<document::NotModifiedReply>(*reply));
}

TEST_F(DirectoryRequesterTest, ARefusalIsAReplyNotAnError) {
  // No authority is attached: POST_DESCRIPTOR is REFUSED not_authority.
  document::PostDescriptorRequest post;
  post.descriptor.assign(document::kMinDescriptor, 0);
  auto reply = ask(1, post);
  ASSERT_TRUE(reply.has_value()) << reply.error().to_string();
  const auto* refused = std::get_if<document::RefusedReply>(&*reply);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->reason, document::RefusalReason::kNotAuthority);
}

TEST_F(DirectoryRequesterTest, ANodeThatServesNoDirectoryClosesTheCircuit) {
  auto reply = ask(2, document::GetConsensusRequest{});
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().category, ErrorCategory::kClosed);
}

TEST_F(DirectoryRequesterTest, OneTimeoutCoversTheWholeRequest) {
  // Node 1 answers nothing at all: not even its CREATED leaves.
  node(1).tap->set_filter([](const mix::PeerKey&, mix::Cell&) { return false; });
  const auto out = start_request(1, document::GetConsensusRequest{});
  ASSERT_TRUE(run_until([&] { return node(0).tap->sent(mix::CellCommand::kCreateDir) == 1; }));
  test::poll_ready(io);
  timers.advance(std::chrono::duration_cast<Nanos>(document::kReplyTimeout) - 1ns);
  test::poll_ready(io);
  EXPECT_FALSE(out->has_value());
  timers.advance(1ns);
  ASSERT_TRUE(run_until([&] { return out->has_value(); }));
  ASSERT_FALSE(out->value().has_value());
  EXPECT_EQ(out->value().error().category, ErrorCategory::kTimeout);
}

TEST_F(DirectoryRequesterTest, ASourceWithoutAnAddressIsNotTried) {
  Outcome out;
  document::DirectorySource nowhere;
  nowhere.link_key = node(1).keys.descriptor.link_key;
  asio::co_spawn(
      io,
      [this, nowhere, &out]() -> asio::awaitable<void> {
        const document::DirectoryRequest request = document::GetConsensusRequest{};
        out = co_await requester->request(nowhere, request);
      },
      [](std::exception_ptr e) { EXPECT_FALSE(e); });
  ASSERT_TRUE(run_until([&] { return out.has_value(); }));
  ASSERT_FALSE(out->has_value());
  EXPECT_EQ(out->error().category, ErrorCategory::kNotFound);
  EXPECT_EQ(node(0).tap->sent(mix::CellCommand::kCreateDir), 0u);
}

// A directory server that reads the request to its FIN and answers with
// `reply`, right or wrong, then finishes its side when `fin`.
class ScriptedServer final : public DirectoryCircuitSource {
 public:
  ScriptedServer(asio::io_context& io, const Clock& clock, async::TimerService& timers)
      : io_(io), clock_(clock), timers_(timers) {}

  asio::awaitable<Result<DirectoryCircuit>> open(const document::DirectorySource&) override {
    auto [ours, theirs] = MemoryChannel::pair(io_);
    session_ = std::make_unique<CircuitSession>(io_.get_executor(), clock_, timers_,
                                                std::move(theirs), stream::Role::kResponder);
    session_->set_incoming_handler([this](stream::StreamId id) {
      stream_ = std::make_unique<CircuitStream>(*session_, id);
      asio::co_spawn(io_, answer(), [](std::exception_ptr e) { EXPECT_FALSE(e); });
    });
    co_return DirectoryCircuit{.channel = std::move(ours), .set_closed_handler = {}};
  }

  std::vector<std::uint8_t> reply;
  bool fin = true;
  bool answered = false;

 private:
  asio::awaitable<void> answer() {
    std::array<std::uint8_t, 256> chunk{};
    while (true) {
      auto read = co_await stream_->read_some(chunk);
      if (!read) {
        co_return;
      }
      if (read->fin) {
        break;
      }
    }
    auto written = co_await stream_->write_all(reply);
    EXPECT_TRUE(written);
    if (fin) {
      EXPECT_TRUE(stream_->finish());
    }
    answered = true;
  }

  asio::io_context& io_;
  const Clock& clock_;
  async::TimerService& timers_;
  std::unique_ptr<CircuitSession> session_;
  std::unique_ptr<CircuitStream> stream_;  // destroyed before its session
};

// version 1, status OK, then a GET_CONSENSUS body's length field.
std::vector<std::uint8_t> consensus_header(std::uint32_t length) {
  return {1,
          0,
          static_cast<std::uint8_t>(length >> 24),
          static_cast<std::uint8_t>(length >> 16),
          static_cast<std::uint8_t>(length >> 8),
          static_cast<std::uint8_t>(length)};
}

class DirectoryRequesterAttackTest : public ::testing::Test {
 protected:
  ~DirectoryRequesterAttackTest() override { test::poll_ready(io_); }

  // The GET_CONSENSUS's outcome, and the simulated time it took.
  Result<document::DirectoryReply> ask() {
    Outcome out;
    const Nanos started = clock_.now();
    asio::co_spawn(
        io_,
        [this, &out]() -> asio::awaitable<void> {
          const document::DirectorySource source;
          const document::DirectoryRequest request =
              document::GetConsensusRequest{.have_period = 7};
          out = co_await requester_.request(source, request);
        },
        [](std::exception_ptr e) { EXPECT_FALSE(e); });
    EXPECT_TRUE(test::run_until(
        io_, timers_, [&] { return out.has_value(); }, std::chrono::seconds(60)));
    took_ = clock_.now() - started;
    if (!out) {
      return make_error(ErrorCategory::kInternal, "no outcome");
    }
    return std::move(*out);
  }

  static void expect_malformed(const Result<document::DirectoryReply>& reply,
                               document::DirectoryStreamErrc code) {
    ASSERT_FALSE(reply.has_value());
    EXPECT_EQ(reply.error().category, ErrorCategory::kParse) << reply.error().to_string();
    EXPECT_EQ(reply.error().code, static_cast<int>(code)) << reply.error().to_string();
  }

  asio::io_context io_;
  ManualClock clock_;
  async::ManualTimers timers_{io_, clock_};
  ScriptedServer server_{io_, clock_, timers_};
  DirectoryRequester requester_{io_.get_executor(), clock_, timers_, server_};
  Nanos took_{};
};

TEST_F(DirectoryRequesterAttackTest, AnAnnouncedLengthPastTheBoundIsRefusedBeforeItsBody) {
  // 16 MiB + 1 announced, and no byte of it sent: refused on the length
  // alone, at once rather than at the 30 s limit, holding 6 bytes.
  server_.reply = consensus_header(static_cast<std::uint32_t>(document::kMaxDocument) + 1);
  server_.fin = false;
  const auto reply = ask();
  expect_malformed(reply, document::DirectoryStreamErrc::kLengthOutOfBounds);
  EXPECT_LT(took_, std::chrono::seconds(1));
}

TEST_F(DirectoryRequesterAttackTest, BytesAfterACompleteReplyAreRefused) {
  for (const bool fin : {true, false}) {
    SCOPED_TRACE(fin ? "with the FIN" : "without a FIN");
    server_.reply = {1, 1, 0};  // NOT_MODIFIED, then one byte more
    server_.fin = fin;
    expect_malformed(ask(), document::DirectoryStreamErrc::kTrailingBytes);
    EXPECT_LT(took_, std::chrono::seconds(1));
  }
}

TEST_F(DirectoryRequesterAttackTest, AReplyCutShortByTheFinIsRefused) {
  server_.reply = consensus_header(static_cast<std::uint32_t>(document::kMinConsensus));
  server_.reply.resize(server_.reply.size() + 10, 0xAB);
  expect_malformed(ask(), document::DirectoryStreamErrc::kTruncated);
}

TEST_F(DirectoryRequesterAttackTest, AServerThatStallsMidReplyIsCutAtTheLimit) {
  server_.reply = consensus_header(static_cast<std::uint32_t>(document::kMinConsensus));
  server_.reply.resize(server_.reply.size() + 10, 0xAB);
  server_.fin = false;
  const auto reply = ask();
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().category, ErrorCategory::kTimeout) << reply.error().to_string();
  EXPECT_TRUE(server_.answered);
  EXPECT_GE(took_, std::chrono::duration_cast<Nanos>(document::kReplyTimeout));
  EXPECT_LT(took_, std::chrono::duration_cast<Nanos>(document::kReplyTimeout) + 1s);
}

}  // namespace
}  // namespace nyx::daemon
