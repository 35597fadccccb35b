// CircuitSession under pushback: while its channel answers kBlocked the
// session sleeps on its retry timer (no spinning on the io_context), and
// once the channel takes datagrams again the refused one leaves on the next
// retry, with nobody calling wake().
#include "daemon/circuit_session.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string_view>

#include <asio/io_context.hpp>
#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "daemon/support/memory_channel.hpp"

namespace nyx::daemon {
namespace {

using namespace std::chrono_literals;

TEST(CircuitSessionPushback, SleepsWhileBlockedAndResumesOnItsOwn) {
  asio::io_context io;
  auto [a, b] = MemoryChannel::pair(io);
  const auto link = a->link();
  CircuitSession client(io.get_executor(), SteadyClock::instance(), std::move(a),
                        stream::Role::kInitiator);
  CircuitSession exit(io.get_executor(), SteadyClock::instance(), std::move(b),
                      stream::Role::kResponder);
  std::optional<stream::StreamId> incoming;
  exit.set_incoming_handler([&](stream::StreamId id) { incoming = id; });

  link->blocked = true;
  auto id = client.open_stream();
  ASSERT_TRUE(id.has_value());
  constexpr std::string_view kHello = "hello";
  ASSERT_EQ(*client.session().write(*id, as_bytes(kHello)), kHello.size());
  client.wake();
  // About one retry per millisecond (pushback_retry); a session that spun on
  // its refused datagram would run thousands of handlers here.
  const std::size_t handlers = io.run_for(20ms);
  EXPECT_LT(handlers, 200u);
  EXPECT_FALSE(incoming.has_value());
  EXPECT_FALSE(client.is_closed());

  link->blocked = false;  // no wake(): the retry timer must notice
  for (int i = 0; i < 100 && !incoming; ++i) {
    io.run_for(1ms);
  }
  EXPECT_TRUE(incoming.has_value());
}

}  // namespace
}  // namespace nyx::daemon
