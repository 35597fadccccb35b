#pragma once
// ScriptedProber: a ReachabilityProber for the authority's tests (service
// and driver). Each probe is answered at once, reached or refused, or is
// silent: it waits on a timer of the given TimerService for an hour, past
// any probe's timeout, so only the caller's deadline or stop ends it. What
// a probe gets is decided in this order: a port in `silent_ports`, the
// `script` by call number (counted from the last clear_probes()), the
// answer set for the relay's link key and the probe's transport, the answer
// set for the link key, then `fallback`.
//
// Every probe is recorded with the simulated times it started and ended.
// Owned by the test; used on one executor's thread; the TimerService must
// outlive the probes in flight.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/this_coro.hpp>

#include "async/timer.hpp"
#include "async/timer_service.hpp"
#include "core/clock.hpp"
#include "core/crypto/x25519.hpp"
#include "daemon/reachability_prober.hpp"
#include "document/authority_state.hpp"
#include "document/node_address.hpp"

namespace nyx::daemon {

class ScriptedProber final : public ReachabilityProber {
 public:
  enum class Answer { kReached, kRefused, kSilent };

  struct Probe {
    crypto::X25519PublicKey link_key{};
    document::NodeAddress address;
    document::LinkTransport transport = document::LinkTransport::kUdp;
    Nanos started{};
    std::optional<Nanos> ended;  // none while it runs
  };

  explicit ScriptedProber(async::TimerService& timers) : timers_(timers) {}

  // Every probe of the relay with this link key, unless a port or the script says otherwise.
  void answer(const crypto::X25519PublicKey& link_key, Answer answer) {
    answers_[link_key] = answer;
  }
  // Overrides the answer above for the relay's probes over one transport only.
  void answer(const crypto::X25519PublicKey& link_key, document::LinkTransport transport,
              Answer answer) {
    transport_answers_[{link_key, transport}] = answer;
  }

  asio::awaitable<document::ProbeResult> probe(const crypto::X25519PublicKey& link_key,
                                               const document::AdvertisedAddress& target) override {
    const Answer answer = answer_for(link_key, target, probes_.size());
    const Nanos now = timers_.clock().now();
    probes_.push_back({link_key, target.address, target.transport, now, std::nullopt});
    if (answer != Answer::kSilent) {
      probes_.back().ended = now;
      const bool reached = answer == Answer::kReached;
      co_return document::ProbeResult{target.address, target.transport, reached,
                                      reached ? "" : "handshake refused"};
    }
    // `target` is the caller's; copied before the wait, which may outlive it.
    const document::AdvertisedAddress probed = target;
    const std::size_t index = probes_.size() - 1;
    const std::size_t generation = generation_;
    async::Timer never(co_await asio::this_coro::executor, timers_);
    never.expires_after(std::chrono::hours(1));
    const asio::error_code waited = co_await never.wait();
    if (waited) {
      ++cancelled_;  // the caller's deadline, or its stop
    }
    if (generation == generation_) {
      probes_[index].ended = timers_.clock().now();
    }
    co_return document::ProbeResult{probed.address, probed.transport, false, "no answer"};
  }

  const std::vector<Probe>& probes() const noexcept { return probes_; }
  void clear_probes() {
    probes_.clear();
    ++generation_;
  }
  // Silent probes that were ended by their caller rather than by the hour.
  int cancelled() const noexcept { return cancelled_; }

  std::set<std::uint16_t> silent_ports;  // silent whatever else is set
  std::vector<Answer> script;            // by call number
  Answer fallback = Answer::kReached;

 private:
  Answer answer_for(const crypto::X25519PublicKey& link_key,
                    const document::AdvertisedAddress& target, std::size_t call) const {
    if (silent_ports.contains(target.address.port)) {
      return Answer::kSilent;
    }
    if (call < script.size()) {
      return script[call];
    }
    if (const auto by_transport = transport_answers_.find({link_key, target.transport});
        by_transport != transport_answers_.end()) {
      return by_transport->second;
    }
    const auto scripted = answers_.find(link_key);
    return scripted == answers_.end() ? fallback : scripted->second;
  }

  async::TimerService& timers_;
  std::map<crypto::X25519PublicKey, Answer> answers_;
  std::map<std::pair<crypto::X25519PublicKey, document::LinkTransport>, Answer> transport_answers_;
  std::vector<Probe> probes_;
  std::size_t generation_ = 0;  // bumped by clear_probes(), so a late end writes nothing
  int cancelled_ = 0;
};

}  // namespace nyx::daemon
