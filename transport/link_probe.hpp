#pragma once
// Link probes: whether a relay completes the link handshake at one address,
// for a directory authority's reachability checks (proposal 0002, section
// 5.1 check 10 and the sweep of section 5.2). A probe runs messages 1 and 2
// of the XK handshake (docs/protocol.md, "Links (transport)") on a socket of
// its own, never through the LinkManager: a live link proves nothing about a
// relay killed a moment ago.
//
// Message 2 proves the key: its payload is sealed under a chaining key that
// mixed in es = DH(e_i, s_r), which only the holder of the responder's
// static secret can compute, so reading it authenticates the advertised
// link key. Message 3 is never sent, so a probe reveals no static key; the
// local static a NoiseHandshake needs is a fresh key pair per probe, which
// no message of the first two uses (the node's own link key is never
// handed to a probe). The relay keeps a half-open entry until its handshake
// timeout, as for any abandoned handshake.
//
// UDP: message 1 from a fresh unconnected socket, sent again after `retry`
// and then at doubling intervals until message 2 arrives. Only a datagram
// from the probed endpoint that answers this probe's random index counts,
// and only a message 2 that proves the key ends the probe: a forged one is
// dropped and the wait goes on, as a link's initiator drops it (the fourth
// such answer ends the probe unproven, bounding what forgers cost).
// An unconnected socket is told of no ICMP error, so a spoofed
// "port unreachable" cannot fail a probe; only silence can.
// TCP: connect, message 1 and message 2 as length-prefixed frames (as
// TcpLink writes them), close.
//
// Neither bounds its own time: the caller wraps the probe in
// async::with_deadline, whose cancellation ends the socket operation or the
// wait at once. Free functions; each probe owns its socket, so probes run
// side by side on one executor.

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>

#include "async/timer_service.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "transport/peer_key.hpp"

namespace nyx::transport {

// kIo when the socket fails (a refused TCP connection included), kProtocol
// when the answer does not prove `responder` ("the relay did not prove its
// link key"); success when message 2 authenticated it.
asio::awaitable<Status> probe_udp_link(const PeerKey& responder,
                                       const asio::ip::udp::endpoint& endpoint,
                                       async::TimerService& timers, Nanos retry);
asio::awaitable<Status> probe_tcp_link(const PeerKey& responder,
                                       const asio::ip::tcp::endpoint& endpoint);

}  // namespace nyx::transport
