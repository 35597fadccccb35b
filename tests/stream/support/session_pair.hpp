#pragma once
// Two sessions joined by a SimLink on simulated time: the event loop the
// daemon will run with asio, written out for tests and benchmarks. step()
// does one round of work (send, deliver, timers) or, when there is none,
// jumps the clock to the next thing that will happen.

#include <algorithm>
#include <optional>

#include "stream/session.hpp"
#include "stream/session_driver.hpp"
#include "tests/stream/support/sim_link.hpp"

namespace nyx::stream::testing {

class SessionPair {
 public:
  SessionPair(const SessionConfig& config, const LinkConfig& link, std::uint64_t seed)
      : clock_(Nanos{1'000'000'000}),
        link_(link, seed, clock_),
        client_(Role::kInitiator, config, clock_.now()),
        server_(Role::kResponder, config, clock_.now()),
        client_driver_(client_, link_.a(), clock_),
        server_driver_(server_, link_.b(), clock_) {}

  Session& client() noexcept { return client_; }
  Session& server() noexcept { return server_; }
  SimLink& link() noexcept { return link_; }
  ManualClock& clock() noexcept { return clock_; }

  // One round; false when nothing is left to happen (both sessions closed
  // and the link empty).
  bool step() {
    const std::uint64_t sent = link_.sent();
    (void)client_driver_.flush();
    (void)server_driver_.flush();
    bool progressed = link_.sent() != sent;
    progressed |= link_.deliver_due() != 0;
    const Nanos now = clock_.now();
    for (auto* d : {&client_driver_, &server_driver_}) {
      if (auto t = d->next_deadline(); t && *t <= now) {
        (void)d->run_timers();
        // A deadline that stays due (an ACK owed while the link pushes
        // back) is not progress: let the clock move to the next delivery.
        progressed |= d->next_deadline() != t || link_.sent() != sent;
      }
    }
    if (progressed) {
      return true;
    }
    std::optional<Nanos> next = link_.next_delivery();
    for (auto t : {client_.next_deadline(), server_.next_deadline()}) {
      if (t && (!next || *t < *next)) {
        next = t;
      }
    }
    if (!next) {
      return false;
    }
    clock_.set(std::max(*next, now + Nanos{1}));
    return true;
  }

 private:
  ManualClock clock_;
  SimLink link_;
  Session client_;
  Session server_;
  SessionDriver client_driver_;
  SessionDriver server_driver_;
};

}  // namespace nyx::stream::testing
