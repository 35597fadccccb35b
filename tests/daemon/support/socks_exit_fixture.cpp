#include "daemon/support/socks_exit_fixture.hpp"

#include <utility>

#include <asio/ip/address_v4.hpp>
#include <asio/ip/tcp.hpp>

#include "async/timer_service.hpp"
#include "core/clock.hpp"

namespace nyx::daemon {

void SocksExitFixture::wire(std::string_view policy, ExitConnectorOptions options,
                            bool with_metrics) {
  auto parsed = ExitAddressPolicy::parse(policy, {.allow_private = true});
  ASSERT_TRUE(parsed);
  policy_ = std::move(*parsed);
  exit_ = std::make_unique<ExitConnector>(
      io_, SteadyClock::instance(), async::SteadyTimers::instance(), policy_, std::move(options));
  if (with_metrics) {
    exit_->publish_metrics(registry_);
  }
  source_ = std::make_unique<TestSource>(io_, *exit_);
  bridge_ = std::make_unique<SocksBridge>(*source_);
  Socks5ServerOptions server_options;
  server_options.listen = asio::ip::tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0);
  server_ = std::make_unique<Socks5Server>(io_, server_options, *bridge_);
  ASSERT_TRUE(server_->start());
}

}  // namespace nyx::daemon
