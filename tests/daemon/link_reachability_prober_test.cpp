// The node's reachability prober against a real LinkManager on loopback:
// each advertised address is probed over its own transport, and the result
// names the transport it was reached on.

#include "daemon/link_reachability_prober.hpp"

#include <optional>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "support/run_until.hpp"
#include "transport/link_manager.hpp"

namespace nyx::daemon {
namespace {

using namespace std::chrono_literals;

document::NodeAddress loopback(std::uint16_t port) {
  return *document::NodeAddress::from_text(fmt::format("127.0.0.1:{}", port));
}

struct ProberTest : ::testing::Test {
  ProberTest() {
    transport::LinkConfig config;
    config.udp_listen = asio::ip::udp::endpoint{asio::ip::make_address("127.0.0.1"), 0};
    config.tcp_listen = asio::ip::tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0};
    auto created =
        transport::LinkManager::create(io, SteadyClock::instance(), async::SteadyTimers::instance(),
                                       crypto::X25519KeyPair::generate(), config);
    EXPECT_TRUE(created) << created.error().to_string();
    relay = std::move(*created);
  }
  ~ProberTest() override { relay->stop(); }

  document::ProbeResult probe(const crypto::X25519PublicKey& key,
                              const document::AdvertisedAddress& target) {
    std::optional<document::ProbeResult> result;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { result = co_await prober.probe(key, target); },
        asio::detached);
    EXPECT_TRUE(test::run_until(
        io, [&] { return result.has_value(); }, 10s));
    return result.value_or(document::ProbeResult{});
  }

  asio::io_context io;
  std::unique_ptr<transport::LinkManager> relay;
  LinkReachabilityProber prober{async::SteadyTimers::instance()};
};

TEST_F(ProberTest, ReachesTheRelayOverUdpAndOverTcp) {
  const document::AdvertisedAddress udp{document::LinkTransport::kUdp,
                                        loopback(relay->udp_local_endpoint()->port())};
  const document::AdvertisedAddress tcp{document::LinkTransport::kTcp,
                                        loopback(relay->tcp_local_endpoint()->port())};
  const auto by_udp = probe(relay->local_key(), udp);
  EXPECT_TRUE(by_udp.reached) << by_udp.failure;
  EXPECT_EQ(by_udp.transport, document::LinkTransport::kUdp);
  EXPECT_EQ(by_udp.address, udp.address);
  const auto by_tcp = probe(relay->local_key(), tcp);
  EXPECT_TRUE(by_tcp.reached) << by_tcp.failure;
  EXPECT_EQ(by_tcp.transport, document::LinkTransport::kTcp);
  EXPECT_EQ(relay->counters().handshakes_completed, 0u);
}

TEST_F(ProberTest, ATcpProbeOfTheUdpPortFailsAndSaysWhy) {
  // Nothing listens on TCP at the UDP port: the TCP address is not reached
  // even though the UDP one at the same ip:port is.
  const std::uint16_t port = relay->udp_local_endpoint()->port();
  const auto result = probe(relay->local_key(), {document::LinkTransport::kTcp, loopback(port)});
  EXPECT_FALSE(result.reached);
  EXPECT_NE(result.failure.find("tcp probe connect"), std::string::npos) << result.failure;
}

TEST_F(ProberTest, AnEmptyAddressIsNotReached) {
  const auto result = probe(relay->local_key(), {document::LinkTransport::kUdp, {}});
  EXPECT_FALSE(result.reached);
  EXPECT_EQ(result.failure, "no address");
}

}  // namespace
}  // namespace nyx::daemon
