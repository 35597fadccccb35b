#pragma once
// LinkReachabilityProber: the node's ReachabilityProber, for an authority's
// upload checks and sweep (proposal 0002, sections 5.1 and 5.2). Each probe
// is transport/link_probe.hpp's handshake over the advertised address's own
// transport, on a socket of its own: never the node's links, and never the
// node's link key (a probe reveals no static key).
//
// Probes end when the caller's deadline cancels them (async::with_deadline),
// as the interface asks; until then a UDP probe sends message 1 again at
// doubling intervals from kFirstRetry, so one lost datagram costs a moment
// and not the probe.
//
// Used on one executor's thread (the authority's shard); `timers` runs on it
// and outlives the prober.

#include <asio/awaitable.hpp>

#include "async/timer_service.hpp"
#include "core/clock.hpp"
#include "daemon/reachability_prober.hpp"

namespace nyx::daemon {

class LinkReachabilityProber final : public ReachabilityProber {
 public:
  static constexpr Nanos kFirstRetry = std::chrono::milliseconds(500);

  explicit LinkReachabilityProber(async::TimerService& timers) : timers_(timers) {}

  asio::awaitable<document::ProbeResult> probe(const crypto::X25519PublicKey& link_key,
                                               const document::AdvertisedAddress& target) override;

 private:
  async::TimerService& timers_;
};

}  // namespace nyx::daemon
