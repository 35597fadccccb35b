#pragma once
// What the two files of AuthorityDriver share, and nothing else includes:
// authority_driver.cpp (the timeline, the sweep, the vote, the consensus and
// its publication) defines these; authority_exchange.cpp (the requests to
// the other authorities) uses them too.

#include <cstdint>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>

#include "core/clock.hpp"
#include "daemon/authority_driver.hpp"

namespace nyx::daemon {

struct AuthorityDriver::Metrics {
  metrics::Counter& checks_ok;
  metrics::Counter& checks_failed;
  metrics::Gauge& descriptors_accepted;
  metrics::Gauge& descriptors_reachable;
  metrics::Counter& published;
  metrics::Counter& too_few_votes;
  metrics::Counter& too_few_signatures;
  metrics::Counter& equivocations;
  metrics::Gauge& authorities_reachable;
};

namespace authority_detail {

// "10:00 UTC", with seconds when the time is not on a minute (test periods).
std::string utc(std::uint64_t unix_seconds);

// "10 s", or "2500 ms" when not whole seconds.
std::string duration_text(Nanos span);

// Runs `tasks` side by side on this coroutine's executor and completes once
// every one has ended (asio 1.22 has no ranged parallel group).
asio::awaitable<void> side_by_side(std::vector<asio::awaitable<void>>& tasks);

}  // namespace authority_detail
}  // namespace nyx::daemon
