#include "daemon/link_reachability_prober.hpp"

#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>

#include "daemon/node_address_ip.hpp"
#include "transport/link_probe.hpp"

namespace nyx::daemon {

asio::awaitable<document::ProbeResult> LinkReachabilityProber::probe(
    const crypto::X25519PublicKey& link_key, const document::AdvertisedAddress& target) {
  // Copied before the first wait: the caller's references may not outlive it.
  document::ProbeResult result;
  result.address = target.address;
  result.transport = target.transport;
  const transport::PeerKey responder = link_key;
  const auto ip = ip_of(target.address);
  if (!ip) {
    result.failure = "no address";
    co_return result;
  }
  Status reached;
  if (target.transport == document::LinkTransport::kUdp) {
    reached = co_await transport::probe_udp_link(
        responder, asio::ip::udp::endpoint(*ip, target.address.port), timers_, kFirstRetry);
  } else {
    reached = co_await transport::probe_tcp_link(responder,
                                                 asio::ip::tcp::endpoint(*ip, target.address.port));
  }
  result.reached = reached.has_value();
  if (!reached) {
    result.failure = reached.error().message;
  }
  co_return result;
}

}  // namespace nyx::daemon
