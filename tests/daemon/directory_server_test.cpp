// DirectoryServer over an in-memory circuit: a client CircuitSession opens
// directory streams to a server session, its timers on ManualTimers, so the
// timeouts of proposal 0002, sections 4.2 and 4.5, are checked by moving
// simulated time. The service is HeldConsensusService, with a fake authority
// where a test needs one.
#include "daemon/directory_server.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <gtest/gtest.h>

#include "async/manual_timers.hpp"
#include "core/clock.hpp"
#include "core/metrics/registry.hpp"
#include "daemon/circuit_session.hpp"
#include "daemon/circuit_stream.hpp"
#include "daemon/directory_service.hpp"
#include "daemon/support/memory_channel.hpp"
#include "document/directory_reply.hpp"
#include "document/directory_request.hpp"
#include "support/run_until.hpp"

namespace nyx::daemon {
namespace {

using namespace std::chrono_literals;
using document::DirectoryReply;
using document::DirectoryRequest;
using document::DirectoryRequestType;

// What a client stream saw: the reply's bytes and how the stream ended.
struct Exchange {
  std::vector<std::uint8_t> received;
  bool fin = false;
  bool failed = false;       // reset by the server, or the circuit ended
  bool open_failed = false;  // the client's session refused to open it
  bool done = false;
};

// Stands in for an authority: answers every request NOT_FOUND, and
// remembers the link it came from.
class FakeAuthority final : public DirectoryService {
 public:
  asio::awaitable<DirectoryAnswer> answer(const DirectoryRequest&,
                                          const DirectoryRequestContext& context) override {
    ++asked;
    link_peer = context.link_peer;
    co_return DirectoryReply(document::NotFoundReply{});
  }
  int asked = 0;
  std::optional<transport::PeerKey> link_peer;
};

SharedDocument fake_consensus(std::size_t size) {
  auto bytes = std::make_shared<std::vector<std::uint8_t>>(size);
  for (std::size_t i = 0; i < size; ++i) {
    (*bytes)[i] = static_cast<std::uint8_t>(i * 31);
  }
  return bytes;
}

// Sessions that the stream layer's own idle timeout would not close within a
// test, so that what closes one is the server's 30 s without a stream.
stream::SessionConfig long_idle() {
  stream::SessionConfig config;
  config.idle_timeout = std::chrono::minutes(10);
  return config;
}

std::vector<std::uint8_t> encode(const DirectoryRequest& request) {
  auto bytes = document::encode_directory_request(request);
  EXPECT_TRUE(bytes.has_value());
  return bytes ? *bytes : std::vector<std::uint8_t>{};
}

class DirectoryServerTest : public ::testing::Test {
 protected:
  DirectoryServerTest() {
    auto [a, b] = MemoryChannel::pair(io_);
    link_ = a->link();
    // A directory client knows the limit of section 4.2: the stream layer
    // takes a stream beyond the peer's limit as a session error.
    client_ = std::make_unique<CircuitSession>(io_.get_executor(), clock_, timers_, std::move(a),
                                               stream::Role::kInitiator, directory_client());
    server_.accept(std::move(b), DirectoryRequestContext{.link_peer = peer_});
  }
  ~DirectoryServerTest() override {
    other_clients_.clear();
    client_.reset();
    server_.stop();
    test::poll_ready(io_);
  }

  // One stream: writes `request`, finishes (unless told not to) and reads
  // until the server's FIN or reset.
  static asio::awaitable<void> exchange(CircuitSession& client, std::vector<std::uint8_t> request,
                                        bool finish, Exchange& out) {
    auto id = client.open_stream();
    if (!id) {
      out.open_failed = true;
      out.done = true;
      co_return;
    }
    CircuitStream stream(client, *id);
    if (!request.empty() && !co_await stream.write_all(request)) {
      out.failed = true;
    }
    if (finish) {
      (void)stream.finish();
    }
    std::array<std::uint8_t, 4096> chunk{};
    while (!out.failed) {
      auto read = co_await stream.read_some(chunk);
      if (!read) {
        out.failed = true;
        break;
      }
      out.received.insert(out.received.end(), chunk.begin(), chunk.begin() + read->bytes);
      if (read->fin) {
        out.fin = true;
        break;
      }
    }
    out.done = true;
  }

  // Asks for the consensus, then reads nothing until the stream fails.
  static asio::awaitable<void> ask_and_never_read(CircuitSession& client,
                                                  std::shared_ptr<bool> failed) {
    auto id = client.open_stream();
    if (!id) {
      co_return;
    }
    CircuitStream stream(client, *id);
    if (co_await stream.write_all(encode(document::GetConsensusRequest{})) && stream.finish()) {
      co_await stream.wait_failed();
      *failed = true;
    }
  }

  // Starts one exchange; its outcome lives in the fixture, so a coroutine
  // still waiting when a test ends touches nothing gone.
  Exchange& start(std::vector<std::uint8_t> request, bool finish = true,
                  CircuitSession* client = nullptr) {
    CircuitSession& on = client != nullptr ? *client : *client_;
    Exchange& out = exchanges_.emplace_back();
    asio::co_spawn(io_, exchange(on, std::move(request), finish, out),
                   [](std::exception_ptr e) { EXPECT_FALSE(e); });
    on.wake();
    return out;
  }

  // Another circuit to the server, its client session's limits from `config`.
  CircuitSession& connect(stream::SessionConfig config) {
    auto [a, b] = MemoryChannel::pair(io_);
    auto& client = other_clients_.emplace_back(std::make_unique<CircuitSession>(
        io_.get_executor(), clock_, timers_, std::move(a), stream::Role::kInitiator, config));
    server_.accept(std::move(b), DirectoryRequestContext{.link_peer = peer_});
    return *client;
  }
  static stream::SessionConfig directory_client() {
    stream::SessionConfig config = long_idle();
    config.max_concurrent_streams = document::kMaxDirectoryStreamsPerSession;
    return config;
  }

  // Runs one exchange to its end; the reply decoded for the request's type.
  Result<DirectoryReply> ask(const DirectoryRequest& request) {
    Exchange& out = start(encode(request));
    EXPECT_TRUE(test::run_until(
        io_, timers_, [&] { return out.done; }, 5s));
    EXPECT_TRUE(out.fin);
    return document::decode_directory_reply_at_fin(document::request_type(request), out.received);
  }

  asio::io_context io_;
  ManualClock clock_{std::chrono::seconds(1)};
  async::ManualTimers timers_{io_, clock_};  // before the sessions whose timers it fires
  transport::PeerKey peer_{0x42};
  HeldConsensusService service_;
  DirectoryServer server_{io_, clock_, timers_, service_,
                          DirectoryServerOptions{.session = long_idle()}};
  std::shared_ptr<MemoryChannel::Link> link_;
  std::deque<Exchange> exchanges_;  // before client_: its streams' coroutines end first
  std::unique_ptr<CircuitSession> client_;
  std::vector<std::unique_ptr<CircuitSession>> other_clients_;
};

TEST_F(DirectoryServerTest, ServesTheHeldConsensusAsItIs) {
  const SharedDocument consensus = fake_consensus(document::kMinConsensus + 5000);
  service_.hold(489'000, consensus);
  auto reply = ask(document::GetConsensusRequest{.have_period = 0});
  ASSERT_TRUE(reply.has_value()) << reply.error().to_string();
  const auto* ok = std::get_if<document::ConsensusReply>(&*reply);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->consensus, *consensus);
  EXPECT_EQ(server_.counters().answered, 1u);
  // Every byte of the reply is counted: version, status, length, document.
  EXPECT_EQ(server_.counters().bytes_served, consensus->size() + 6);
  EXPECT_EQ(server_.counters().served_count(DirectoryRequestType::kGetConsensus,
                                            document::DirectoryStatus::kOk),
            1u);
}

TEST_F(DirectoryServerTest, RepliesAreCountedInTheRegistryByTypeAndStatus) {
  metrics::Registry registry;
  server_.publish_metrics(registry);
  auto served = [&registry](const char* type, const char* status) {
    return registry
        .counter("nyx_directory_requests_served_total", "", {{"type", type}, {"status", status}})
        .value();
  };
  ASSERT_TRUE(ask(document::GetConsensusRequest{}).has_value());        // NOT_FOUND
  ASSERT_TRUE(ask(document::GetVoteRequest{.period = 1}).has_value());  // REFUSED
  EXPECT_EQ(served("get_consensus", "not_found"), 1u);
  EXPECT_EQ(served("get_vote", "refused"), 1u);
  EXPECT_EQ(served("get_consensus", "ok"), 0u);
}

TEST_F(DirectoryServerTest, NotModifiedUnlessTheClientHoldsAnOlderOne) {
  service_.hold(100, fake_consensus(document::kMinConsensus));
  for (std::uint64_t have : {100u, 101u}) {
    auto reply = ask(document::GetConsensusRequest{.have_period = have});
    ASSERT_TRUE(reply.has_value());
    EXPECT_TRUE(std::holds_alternative<document::NotModifiedReply>(*reply)) << have;
  }
  auto newer = ask(document::GetConsensusRequest{.have_period = 99});
  ASSERT_TRUE(newer.has_value());
  EXPECT_TRUE(std::holds_alternative<document::ConsensusReply>(*newer));
  // An older consensus is never held over a newer one.
  service_.hold(50, fake_consensus(document::kMinConsensus));
  EXPECT_EQ(service_.held_period(), 100u);
}

TEST_F(DirectoryServerTest, NotFoundWhileNoConsensusIsHeld) {
  auto reply = ask(document::GetConsensusRequest{.have_period = 0});
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(std::holds_alternative<document::NotFoundReply>(*reply));
}

TEST_F(DirectoryServerTest, AuthorityRequestsAreRefusedWithoutAnAuthority) {
  auto reply = ask(document::GetVoteRequest{.period = 7});
  ASSERT_TRUE(reply.has_value());
  const auto* refused = std::get_if<document::RefusedReply>(&*reply);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->reason, document::RefusalReason::kNotAuthority);

  FakeAuthority authority;
  service_.attach_authority(&authority);
  auto answered = ask(document::GetVoteRequest{.period = 7});
  ASSERT_TRUE(answered.has_value());
  EXPECT_TRUE(std::holds_alternative<document::NotFoundReply>(*answered));
  EXPECT_EQ(authority.asked, 1);
  EXPECT_EQ(authority.link_peer, peer_);  // the link's key reaches the authority checks
  service_.attach_authority(nullptr);
}

TEST_F(DirectoryServerTest, BytesAfterACompleteRequestResetTheStream) {
  auto request = encode(document::GetConsensusRequest{.have_period = 0});
  request.push_back(0x00);
  Exchange& out = start(request);
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return out.done; }, 5s));
  EXPECT_TRUE(out.failed);
  EXPECT_FALSE(out.fin);
  EXPECT_EQ(server_.counters().trailing_bytes, 1u);
  EXPECT_EQ(server_.counters().answered, 0u);
}

TEST_F(DirectoryServerTest, AMalformedOrTruncatedRequestIsRefusedMalformed) {
  for (std::vector<std::uint8_t> request : {std::vector<std::uint8_t>{0x02, 0x01},  // version 2
                                            std::vector<std::uint8_t>{0x01, 0x09},  // type 9
                                            std::vector<std::uint8_t>{0x01, 0x01, 0x00}}) {
    Exchange& out = start(request);
    ASSERT_TRUE(test::run_until(
        io_, timers_, [&] { return out.done; }, 5s));
    ASSERT_TRUE(out.fin);
    auto reply =
        document::decode_directory_reply_at_fin(DirectoryRequestType::kGetConsensus, out.received);
    ASSERT_TRUE(reply.has_value());
    const auto* refused = std::get_if<document::RefusedReply>(&*reply);
    ASSERT_NE(refused, nullptr);
    EXPECT_EQ(refused->reason, document::RefusalReason::kMalformed);
  }
  EXPECT_EQ(server_.counters().malformed, 3u);
  EXPECT_EQ(server_.counters().served_count(DirectoryRequestType::kGetConsensus,
                                            document::DirectoryStatus::kRefused),
            3u);
}

TEST_F(DirectoryServerTest, ARequestNotCompleteIn10SecondsIsReset) {
  Exchange& out = start({0x01, 0x01, 0x00}, /*finish=*/false);
  test::run_for(io_, timers_, 9s);
  EXPECT_FALSE(out.done);
  EXPECT_EQ(server_.counters().timeouts, 0u);
  test::run_for(io_, timers_, 2s);
  EXPECT_EQ(server_.counters().timeouts, 1u);
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return out.done; }, 5s));
  EXPECT_TRUE(out.failed);
}

TEST_F(DirectoryServerTest, AtMostFourStreamsAtOnceOnASession) {
  std::vector<Exchange*> outs;
  for (int i = 0; i < 6; ++i) {
    outs.push_back(&start({0x01}, /*finish=*/false));  // each waits for the rest of its request
  }
  test::run_for(io_, timers_, 1s);
  EXPECT_EQ(server_.active_streams(), document::kMaxDirectoryStreamsPerSession);
  EXPECT_TRUE(outs[4]->open_failed);
  EXPECT_TRUE(outs[5]->open_failed);
  EXPECT_EQ(server_.session_count(), 1u);
}

TEST_F(DirectoryServerTest, ASessionWithoutAStreamClosesAfter30Seconds) {
  service_.hold(5, fake_consensus(document::kMinConsensus));
  ASSERT_TRUE(ask(document::GetConsensusRequest{}).has_value());
  ASSERT_EQ(server_.session_count(), 1u);
  test::run_for(io_, timers_, 29s);
  EXPECT_EQ(server_.session_count(), 1u);
  test::run_for(io_, timers_, 2s);
  EXPECT_EQ(server_.session_count(), 0u);
  EXPECT_EQ(server_.counters().sessions_idle, 1u);
}

TEST_F(DirectoryServerTest, ASessionIsNotIdleWhileAStreamRuns) {
  Exchange& out = start({0x01, 0x01}, /*finish=*/false);  // the request is never completed
  test::run_for(io_, timers_, 9s);
  EXPECT_EQ(server_.active_streams(), 1u);
  // The request timeout resets the stream at 10 s; the session's 30 s start
  // then, not at its accept.
  test::run_for(io_, timers_, 2s);
  EXPECT_EQ(server_.counters().timeouts, 1u);
  EXPECT_TRUE(test::run_until(
      io_, timers_, [&] { return out.done; }, 5s));
  test::run_for(io_, timers_, 25s);
  EXPECT_EQ(server_.session_count(), 1u);
  test::run_for(io_, timers_, 10s);
  EXPECT_EQ(server_.session_count(), 0u);
}

// The request of a stranger that announces a 16 MiB vote is refused on its
// header and length alone: the answer comes before the body, and the body
// is never held.
TEST_F(DirectoryServerTest, AnAuthorityRequestIsRefusedBeforeItsBodyArrives) {
  // POST_VOTE announcing kMaxVote bytes, of which only 1000 are sent.
  std::vector<std::uint8_t> request{0x01, 0x03, 0x01, 0x00, 0x00, 0x00};
  request.resize(request.size() + 1000, 0xAB);
  Exchange& out = start(request, /*finish=*/false);
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return out.done; }, 5s));
  ASSERT_TRUE(out.fin);
  auto reply =
      document::decode_directory_reply_at_fin(DirectoryRequestType::kPostVote, out.received);
  ASSERT_TRUE(reply.has_value());
  const auto* refused = std::get_if<document::RefusedReply>(&*reply);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->reason, document::RefusalReason::kNotAuthority);
  EXPECT_EQ(server_.counters().served_count(DirectoryRequestType::kPostVote,
                                            document::DirectoryStatus::kRefused),
            1u);
  // The rest never comes: the stream is given up at the 60 s of a vote.
  test::run_for(io_, timers_, 61s);
  EXPECT_EQ(server_.active_streams(), 0u);
}

// A stream answered before the client's FIN was read (a request refused
// malformed on its header) is read to its end, so its id is released and
// the circuit can carry more than four of them in turn.
TEST_F(DirectoryServerTest, StreamsAnsweredEarlyDoNotUseUpTheCircuit) {
  const std::vector<std::uint8_t> request{0x01, 0x09, 0x00, 0x00, 0x00, 0x00};  // type 9
  for (std::size_t i = 0; i < 2 * document::kMaxDirectoryStreamsPerSession; ++i) {
    Exchange& out = start(request);
    ASSERT_TRUE(test::run_until(
        io_, timers_, [&] { return out.done; }, 5s));
    ASSERT_FALSE(out.open_failed) << "stream " << i;
    EXPECT_TRUE(out.fin) << "stream " << i;
    test::run_for(io_, timers_, 100ms);  // the stream's end reaches both sides
  }
  EXPECT_EQ(server_.counters().malformed, 2 * document::kMaxDirectoryStreamsPerSession);
  EXPECT_EQ(server_.active_streams(), 0u);
}

// Past 64 streams at once over every circuit the answer is BUSY, given on
// the header, and the streams that hold the server are unharmed.
TEST_F(DirectoryServerTest, BusyPastSixtyFourStreamsAtOnce) {
  service_.hold(5, fake_consensus(document::kMinConsensus));
  std::vector<Exchange*> waiting;
  const std::size_t circuits =
      document::kMaxDirectoryStreamsPerServer / document::kMaxDirectoryStreamsPerSession;
  for (std::size_t c = 0; c < circuits; ++c) {
    CircuitSession& client = connect(directory_client());
    for (std::size_t i = 0; i < document::kMaxDirectoryStreamsPerSession; ++i) {
      waiting.push_back(&start({0x01}, /*finish=*/false, &client));  // waits for its header
    }
  }
  test::run_for(io_, timers_, 1s);
  ASSERT_EQ(server_.active_streams(), document::kMaxDirectoryStreamsPerServer);
  auto busy = ask(document::GetConsensusRequest{.have_period = 0});
  ASSERT_TRUE(busy.has_value());
  const auto* reply = std::get_if<document::BusyReply>(&*busy);
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(reply->retry_after_seconds, DirectoryServerOptions{}.busy_retry_after_seconds);
  EXPECT_EQ(server_.counters().busy, 1u);
  // The waiting streams time out (10 s); then the server serves again.
  test::run_for(io_, timers_, 10s);
  EXPECT_EQ(server_.counters().timeouts, document::kMaxDirectoryStreamsPerServer);
  auto served = ask(document::GetConsensusRequest{.have_period = 0});
  ASSERT_TRUE(served.has_value());
  EXPECT_TRUE(std::holds_alternative<document::ConsensusReply>(*served));
  for (const Exchange* out : waiting) {
    EXPECT_TRUE(out->failed);
  }
}

// A client that ignores the limit of four streams and opens a fifth breaks
// the stream layer's rules: the server closes its circuit, nothing else.
TEST_F(DirectoryServerTest, AFifthStreamOnACircuitClosesIt) {
  CircuitSession& greedy = connect(long_idle());  // believes in 100 streams
  ASSERT_EQ(server_.session_count(), 2u);
  for (std::size_t i = 0; i <= document::kMaxDirectoryStreamsPerSession; ++i) {
    start({0x01}, /*finish=*/false, &greedy);
  }
  test::run_for(io_, timers_, 1s);
  EXPECT_EQ(server_.session_count(), 1u);  // the fixture's circuit is still served
  EXPECT_EQ(server_.active_streams(), 0u);
  service_.hold(5, fake_consensus(document::kMinConsensus));
  auto reply = ask(document::GetConsensusRequest{.have_period = 0});
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(std::holds_alternative<document::ConsensusReply>(*reply));
}

TEST_F(DirectoryServerTest, AVoteHasSixtySecondsToArrive) {
  FakeAuthority authority;
  service_.attach_authority(&authority);
  Exchange& out = start({0x01, 0x03, 0x00, 0x00, 0x01, 0x00}, /*finish=*/false);
  test::run_for(io_, timers_, 11s);
  EXPECT_EQ(server_.counters().timeouts, 0u);  // not the 10 s of other requests
  EXPECT_FALSE(out.done);
  test::run_for(io_, timers_, 50s);
  EXPECT_EQ(server_.counters().timeouts, 1u);
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return out.done; }, 5s));
  EXPECT_TRUE(out.failed);
  EXPECT_EQ(authority.asked, 0);
  service_.attach_authority(nullptr);
}

// The circuit ends while the consensus is on its way: the stream and the
// session go, nothing is counted as answered, and the server serves on.
TEST_F(DirectoryServerTest, ACircuitClosedMidReplyEndsItsStreamOnly) {
  const SharedDocument consensus = fake_consensus(2u << 20);
  service_.hold(9, consensus);
  Exchange& out = start(encode(document::GetConsensusRequest{.have_period = 0}));
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return !out.received.empty(); }, 5s));
  ASSERT_FALSE(out.done);
  link_->closed = true;  // as a DESTROY does
  test::run_for(io_, timers_, 5s);
  EXPECT_EQ(server_.session_count(), 0u);
  EXPECT_EQ(server_.active_streams(), 0u);
  EXPECT_EQ(server_.counters().answered, 0u);
  EXPECT_LT(server_.counters().bytes_served, consensus->size());

  CircuitSession& again = connect(directory_client());
  Exchange& next = start(encode(document::GetConsensusRequest{.have_period = 0}), true, &again);
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return next.done; }, 30s));
  EXPECT_TRUE(next.fin);
  EXPECT_EQ(next.received.size(), consensus->size() + 6);
  EXPECT_EQ(server_.counters().answered, 1u);
}

// A client that asks for the consensus and then reads nothing would hold
// one of the server's streams for good: it is given up after 30 s.
TEST_F(DirectoryServerTest, AReplyNotTakenIn30SecondsIsGivenUp) {
  service_.hold(9, fake_consensus(2u << 20));
  auto failed = std::make_shared<bool>(false);
  asio::co_spawn(io_, ask_and_never_read(*client_, failed),
                 [](std::exception_ptr e) { EXPECT_FALSE(e); });
  client_->wake();
  test::run_for(io_, timers_, 29s);
  EXPECT_EQ(server_.active_streams(), 1u);
  EXPECT_FALSE(*failed);
  test::run_for(io_, timers_, 2s);
  EXPECT_EQ(server_.counters().reply_timeouts, 1u);
  EXPECT_EQ(server_.active_streams(), 0u);
  EXPECT_TRUE(*failed);
  EXPECT_EQ(server_.counters().answered, 0u);
}

}  // namespace
}  // namespace nyx::daemon
