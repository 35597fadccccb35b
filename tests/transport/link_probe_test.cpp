// Link probes against a real LinkManager on loopback sockets, and against a
// scripted responder for what a LinkManager never does (a lost message 1, an
// answer from another port).

#include "transport/link_probe.hpp"

#include <array>
#include <cstdint>
#include <optional>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <gtest/gtest.h>

#include "async/use_result.hpp"
#include "async/with_deadline.hpp"
#include "core/crypto/random.hpp"
#include "support/run_until.hpp"
#include "transport/link_manager.hpp"
#include "transport/noise_handshake.hpp"
#include "transport/udp_wire.hpp"

namespace nyx::transport {
namespace {

using namespace std::chrono_literals;
using nyx::test::run_until;

const asio::ip::address kLoopback = asio::ip::make_address("127.0.0.1");
constexpr Nanos kRetry = 100ms;

// A responder on loopback: UDP and TCP listening on ephemeral ports.
struct Relay {
  explicit Relay(asio::io_context& io) {
    LinkConfig config;
    config.udp_listen = asio::ip::udp::endpoint{kLoopback, 0};
    config.tcp_listen = asio::ip::tcp::endpoint{kLoopback, 0};
    auto created = LinkManager::create(io, SteadyClock::instance(), async::SteadyTimers::instance(),
                                       crypto::X25519KeyPair::generate(), config);
    EXPECT_TRUE(created) << created.error().to_string();
    links = std::move(*created);
    public_key = links->local_key();
    links->set_event_handler([this](const PeerKey&, LinkKind, LinkEvent event) {
      links_up += event == LinkEvent::kUp ? 1 : 0;
    });
  }
  ~Relay() { links->stop(); }

  std::unique_ptr<LinkManager> links;
  PeerKey public_key{};
  int links_up = 0;
};

// Runs `probe` under a deadline to its end: its status, or the deadline's
// error (asio::error::timed_out).
std::expected<Status, asio::error_code> run_probe(asio::io_context& io,
                                                  asio::awaitable<Status> probe,
                                                  Nanos deadline = 5s) {
  std::optional<std::expected<Status, asio::error_code>> outcome;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        outcome = co_await async::with_deadline(std::move(probe), deadline);
      },
      asio::detached);
  EXPECT_TRUE(run_until(
      io, [&] { return outcome.has_value(); }, deadline + 5s));
  return outcome.value_or(std::unexpected(asio::error::operation_aborted));
}

TEST(LinkProbeTest, UdpProbeProvesTheRelaysKeyAndInstallsNoLink) {
  asio::io_context io;
  Relay relay(io);
  const auto outcome =
      run_probe(io, probe_udp_link(relay.public_key, *relay.links->udp_local_endpoint(),
                                   async::SteadyTimers::instance(), kRetry));
  ASSERT_TRUE(outcome.has_value());
  EXPECT_TRUE(outcome->has_value()) << outcome->error().to_string();
  EXPECT_EQ(relay.links_up, 0);
  EXPECT_EQ(relay.links->counters().handshakes_completed, 0u);
}

TEST(LinkProbeTest, UdpProbeOfAnotherKeyGetsNoAnswer) {
  asio::io_context io;
  Relay relay(io);
  // The relay cannot read message 1 sealed for another key, and stays silent.
  const PeerKey other = crypto::X25519KeyPair::generate().public_key;
  const auto outcome = run_probe(io,
                                 probe_udp_link(other, *relay.links->udp_local_endpoint(),
                                                async::SteadyTimers::instance(), kRetry),
                                 500ms);
  ASSERT_FALSE(outcome.has_value());
  EXPECT_EQ(outcome.error(), asio::error::timed_out);
  EXPECT_GE(relay.links->counters().dropped_malformed, 1u);
}

TEST(LinkProbeTest, UdpProbeOfAClosedPortWaitsOutItsDeadline) {
  asio::io_context io;
  asio::ip::udp::endpoint closed;
  {
    asio::ip::udp::socket s(io, asio::ip::udp::endpoint{kLoopback, 0});
    closed = s.local_endpoint();
  }
  // The kernel answers "port unreachable"; an unconnected socket never hears
  // it, so a spoofed one could not fail a probe either.
  const auto outcome = run_probe(io,
                                 probe_udp_link(crypto::X25519KeyPair::generate().public_key,
                                                closed, async::SteadyTimers::instance(), kRetry),
                                 500ms);
  ASSERT_FALSE(outcome.has_value());
  EXPECT_EQ(outcome.error(), asio::error::timed_out);
}

// Message 2 as the holder of `key` answers `message1`; random bytes when
// `key` cannot read it (an impostor at the relay's address).
std::array<std::uint8_t, NoiseHandshake::kMessage2Size> answer(const crypto::X25519KeyPair& key,
                                                               Bytes message1) {
  std::array<std::uint8_t, NoiseHandshake::kMessage2Size> message2{};
  auto noise = NoiseHandshake::responder(key, as_bytes(kLinkPrologue));
  std::array<std::uint8_t, 16> payload{};
  if (!noise.read_message(message1, payload) || !noise.write_message({}, message2)) {
    crypto::random_bytes(message2);
  }
  return message2;
}

// What reaches the probe before the responder's own answer.
enum class Decoy : std::uint8_t {
  kFromAnotherPort,  // the answer, from a stranger's port
  kForgedAnswer,     // a made-up message 2, from the probed port, for the probe's index
};

// A responder that ignores the first message 1 (as if lost), sends `decoy`
// for the second (which the probe must ignore), then answers from its own
// port.
asio::awaitable<void> answer_second_init(asio::ip::udp::socket& own, asio::ip::udp::socket& other,
                                         const crypto::X25519KeyPair& key, int& inits_seen,
                                         Decoy decoy = Decoy::kFromAnotherPort, int forgeries = 1) {
  std::array<std::uint8_t, kDatagramSize> datagram{};
  asio::ip::udp::endpoint from;
  for (;;) {
    auto [ec, size] =
        co_await own.async_receive_from(asio::buffer(datagram), from, async::use_result);
    if (ec) {
      co_return;
    }
    if (++inits_seen < 2) {
      continue;
    }
    auto message = parse_udp_message(Bytes(datagram).first(size));
    EXPECT_TRUE(message.has_value());
    std::array<std::uint8_t, kDatagramSize> response{};
    if (decoy == Decoy::kFromAnotherPort) {
      write_handshake_response(response, 7, message->sender_index, answer(key, message->payload));
      co_await other.async_send_to(asio::buffer(response), from, async::use_result);
    } else {
      for (int n = 0; n < forgeries; ++n) {
        std::array<std::uint8_t, NoiseHandshake::kMessage2Size> forged{};
        crypto::random_bytes(forged);
        write_handshake_response(response, 7, message->sender_index, forged);
        co_await own.async_send_to(asio::buffer(response), from, async::use_result);
      }
    }
    write_handshake_response(response, 7, message->sender_index, answer(key, message->payload));
    co_await own.async_send_to(asio::buffer(response), from, async::use_result);
    co_return;
  }
}

TEST(LinkProbeTest, UdpProbeSendsMessage1AgainAndHearsOnlyTheProbedPort) {
  asio::io_context io;
  const auto key = crypto::X25519KeyPair::generate();
  asio::ip::udp::socket own(io, asio::ip::udp::endpoint{kLoopback, 0});
  asio::ip::udp::socket other(io, asio::ip::udp::endpoint{kLoopback, 0});
  int inits_seen = 0;
  asio::co_spawn(io, answer_second_init(own, other, key, inits_seen), asio::detached);
  const auto outcome = run_probe(io, probe_udp_link(key.public_key, own.local_endpoint(),
                                                    async::SteadyTimers::instance(), kRetry));
  ASSERT_TRUE(outcome.has_value());
  EXPECT_TRUE(outcome->has_value()) << outcome->error().to_string();
  EXPECT_EQ(inits_seen, 2);
}

TEST(LinkProbeTest, UdpProbeTakesNoAnswerThatDoesNotProveTheKey) {
  asio::io_context io;
  const auto impostor = crypto::X25519KeyPair::generate();
  asio::ip::udp::socket own(io, asio::ip::udp::endpoint{kLoopback, 0});
  asio::ip::udp::socket other(io, asio::ip::udp::endpoint{kLoopback, 0});
  int inits_seen = 0;
  asio::co_spawn(io, answer_second_init(own, other, impostor, inits_seen), asio::detached);
  // Message 1 is sealed for `expected`: the impostor cannot read it, and
  // answers anyway with a message 2 it made up. No answer proves the key,
  // so the probe never succeeds: it waits out its deadline.
  const PeerKey expected = crypto::X25519KeyPair::generate().public_key;
  const auto outcome = run_probe(
      io, probe_udp_link(expected, own.local_endpoint(), async::SteadyTimers::instance(), kRetry),
      1s);
  ASSERT_FALSE(outcome.has_value());
  EXPECT_EQ(outcome.error(), asio::error::timed_out);
  EXPECT_GE(inits_seen, 2);
}

TEST(LinkProbeTest, AForgedAnswerDoesNotEndAUdpProbe) {
  // An on-path forger who saw message 1 answers first, from the probed
  // address, for the probe's index. Taking that as the relay's answer would
  // let one forged datagram mark a reachable relay unreachable.
  asio::io_context io;
  const auto key = crypto::X25519KeyPair::generate();
  asio::ip::udp::socket own(io, asio::ip::udp::endpoint{kLoopback, 0});
  asio::ip::udp::socket other(io, asio::ip::udp::endpoint{kLoopback, 0});
  int inits_seen = 0;
  asio::co_spawn(io, answer_second_init(own, other, key, inits_seen, Decoy::kForgedAnswer),
                 asio::detached);
  const auto outcome = run_probe(io, probe_udp_link(key.public_key, own.local_endpoint(),
                                                    async::SteadyTimers::instance(), kRetry));
  ASSERT_TRUE(outcome.has_value());
  EXPECT_TRUE(outcome->has_value()) << outcome->error().to_string();
}

TEST(LinkProbeTest, AFloodOfForgedAnswersEndsAUdpProbeUnproven) {
  // Each forged answer costs a failed read and a rebuild: the fourth ends
  // the probe before the relay's own answer is read.
  asio::io_context io;
  const auto key = crypto::X25519KeyPair::generate();
  asio::ip::udp::socket own(io, asio::ip::udp::endpoint{kLoopback, 0});
  asio::ip::udp::socket other(io, asio::ip::udp::endpoint{kLoopback, 0});
  int inits_seen = 0;
  asio::co_spawn(io, answer_second_init(own, other, key, inits_seen, Decoy::kForgedAnswer, 4),
                 asio::detached);
  const auto outcome = run_probe(io, probe_udp_link(key.public_key, own.local_endpoint(),
                                                    async::SteadyTimers::instance(), kRetry));
  ASSERT_TRUE(outcome.has_value());
  ASSERT_FALSE(outcome->has_value());
  EXPECT_EQ(outcome->error().category, ErrorCategory::kProtocol);
}

TEST(LinkProbeTest, TcpProbeProvesTheRelaysKeyAndInstallsNoLink) {
  asio::io_context io;
  Relay relay(io);
  const auto outcome =
      run_probe(io, probe_tcp_link(relay.public_key, *relay.links->tcp_local_endpoint()));
  ASSERT_TRUE(outcome.has_value());
  EXPECT_TRUE(outcome->has_value()) << outcome->error().to_string();
  EXPECT_EQ(relay.links_up, 0);
}

TEST(LinkProbeTest, TcpProbeOfAnotherKeyFails) {
  asio::io_context io;
  Relay relay(io);
  const auto outcome = run_probe(io, probe_tcp_link(crypto::X25519KeyPair::generate().public_key,
                                                    *relay.links->tcp_local_endpoint()));
  ASSERT_TRUE(outcome.has_value());
  EXPECT_FALSE(outcome->has_value());
  EXPECT_EQ(relay.links_up, 0);
}

TEST(LinkProbeTest, TcpProbeOfAClosedPortFailsAtOnce) {
  asio::io_context io;
  asio::ip::tcp::endpoint closed;
  {
    asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint{kLoopback, 0});
    closed = a.local_endpoint();
  }
  const auto outcome =
      run_probe(io, probe_tcp_link(crypto::X25519KeyPair::generate().public_key, closed));
  ASSERT_TRUE(outcome.has_value());
  ASSERT_FALSE(outcome->has_value());
  EXPECT_EQ(outcome->error().category, ErrorCategory::kIo);
}

}  // namespace
}  // namespace nyx::transport
