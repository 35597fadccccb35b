#pragma once
// SocksExitFixture: the daemon's data path without a mix network, for tests
// that drive it from a SOCKS5 client: Socks5Server (127.0.0.1, port 0) ->
// SocksBridge -> TestSource (a CircuitSession over an in-memory circuit) ->
// ExitConnector -> a real TCP connection to an HttpOrigin on loopback. One
// io_context on the test's thread; the sessions run in real time.
//
// A test fixture: the test class passes the origin's body, and wires the
// rest in SetUp() with wire(), naming the exit policy and options.

#include <memory>
#include <string>
#include <string_view>

#include <asio/io_context.hpp>
#include <gtest/gtest.h>

#include "core/metrics/registry.hpp"
#include "daemon/exit_address_policy.hpp"
#include "daemon/exit_connector.hpp"
#include "daemon/socks5_server.hpp"
#include "daemon/socks_bridge.hpp"
#include "daemon/support/socks5_fixtures.hpp"
#include "daemon/support/test_circuit_source.hpp"

namespace nyx::daemon {

class SocksExitFixture : public ::testing::Test {
 protected:
  explicit SocksExitFixture(std::string origin_body) : body_(std::move(origin_body)) {}

  // Parses `policy` (private addresses allowed: the origin is on loopback),
  // makes the exit with `options` (counting into registry_ when
  // `with_metrics`), the source, the bridge and the SOCKS server, and starts
  // the server. Call with ASSERT_NO_FATAL_FAILURE.
  void wire(std::string_view policy, ExitConnectorOptions options = {}, bool with_metrics = false);

  asio::io_context io_;
  std::string body_;
  test::HttpOrigin origin_{io_, body_};
  ExitAddressPolicy policy_;
  metrics::Registry registry_;  // outlives the connector, which counts into it
  std::unique_ptr<ExitConnector> exit_;
  std::unique_ptr<TestSource> source_;
  std::unique_ptr<SocksBridge> bridge_;
  std::unique_ptr<Socks5Server> server_;
};

}  // namespace nyx::daemon
