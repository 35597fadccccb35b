#pragma once
// TestSource: a CircuitSource for daemon tests. It hands out one client
// session at a time, made on demand over a new MemoryChannel (optionally
// delayed by a one-way time) whose other end the exit connector accepts; a
// closed session is replaced on the next acquire, as a new circuit. The
// sessions run in real time (the tests that use it move bytes over real
// sockets).

#include <chrono>
#include <memory>
#include <utility>

#include <asio/io_context.hpp>

#include "async/timer_service.hpp"
#include "core/clock.hpp"
#include "daemon/circuit_session.hpp"
#include "daemon/exit_connector.hpp"
#include "daemon/socks_bridge.hpp"
#include "daemon/support/memory_channel.hpp"

namespace nyx::daemon {

class TestSource final : public CircuitSource {
 public:
  TestSource(asio::io_context& io, ExitConnector& exit, std::chrono::milliseconds delay = {})
      : io_(io), exit_(exit), delay_(delay) {}

  asio::awaitable<Result<CircuitSession*>> acquire(const IsolationKey&,
                                                   const Socks5Destination&) override {
    if (!session_ || session_->is_closed()) {
      open_ = 0;  // as the circuit manager's pools do, a closed circuit takes its count along
      auto [client, exit] = MemoryChannel::pair(io_, delay_);
      link_ = client->link();
      session_ = std::make_unique<CircuitSession>(io_.get_executor(), SteadyClock::instance(),
                                                  async::SteadyTimers::instance(),
                                                  std::move(client), stream::Role::kInitiator);
      exit_.accept(std::move(exit));
      ++built_;
    }
    ++open_;
    co_return session_.get();
  }
  void release(const CircuitSession*) override { --open_; }
  void stop() { session_.reset(); }

  // Destroys the current circuit under both sessions.
  void destroy() {
    link_->closed = true;
    session_->channel_closed();
  }

  int built_ = 0;
  int open_ = 0;

 private:
  asio::io_context& io_;
  ExitConnector& exit_;
  std::chrono::milliseconds delay_;
  std::unique_ptr<CircuitSession> session_;
  std::shared_ptr<MemoryChannel::Link> link_;
};

}  // namespace nyx::daemon
