#pragma once
// ReachabilityProber: the seam between an authority and the link layer for
// the reachability checks of proposal 0002 (section 5.1 check 10, and the
// sweep of section 5.2). A probe is a *fresh* Noise handshake, a new session
// and never an existing link, to one advertised address of a relay, with
// the relay's link key as the responder's static key; it reports whether
// the handshake completed and installs no peer. A live link is no proof: a
// relay killed a moment ago still looks up for 30 s.
//
// A probe runs over the transport the address is advertised for: a
// descriptor's UDP and TCP addresses may be the same ip:port, and a TCP
// handshake proves nothing about UDP (or the reverse).
//
// The node's implementation is daemon/link_reachability_prober.hpp; the
// tests use ScriptedProber (tests/daemon/support/scripted_prober.hpp).
// Callers bound each probe with async::with_deadline, so an implementation
// must end promptly when its awaiting operation is cancelled, and may leave
// the timeout to the caller.
//
// Implementations are used on one executor's thread (the authority's shard).

#include <asio/awaitable.hpp>

#include "core/crypto/x25519.hpp"
#include "document/authority_state.hpp"
#include "document/node_address.hpp"

namespace nyx::daemon {

class ReachabilityProber {
 public:
  virtual ~ReachabilityProber() = default;
  // One handshake over target.transport to target.address, authenticating
  // `link_key`: reached, or not with the reason ("handshake refused", "no
  // handshake in 1 s"). The result names the target's address and transport.
  virtual asio::awaitable<document::ProbeResult> probe(
      const crypto::X25519PublicKey& link_key, const document::AdvertisedAddress& target) = 0;
};

}  // namespace nyx::daemon
