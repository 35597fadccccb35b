#pragma once
// AuthorityService: the requests an authority answers (proposal 0002
// sections 4.3 to 4.5, 5.1, 5.4 and 5.6), types 2 to 6 on a directory
// stream, from the sans-I/O AuthorityState. It is attached to the node's
// HeldConsensusService (attach_authority), which serves GET_CONSENSUS
// itself and hands everything else here.
//
// screen() refuses on the header alone what depends only on the type and
// the link, so a stranger's announced 16 MiB vote is never read: POST_VOTE,
// GET_VOTE, POST_SIGNATURE and GET_SIGNATURES from a link that is not a
// configured authority's are REFUSED not_authority; POST_DESCRIPTOR past 6
// per period from one neighbour group is BUSY (section 4.5). A relay whose
// descriptor this authority holds is a group by its link key; any other
// uploader is grouped by its link's address (IPv4 /32, IPv6 /64) and that
// group has 6 per period for each relay an address may list
// (max_relays_per_address), so fresh link keys from one host share one
// budget and cannot crowd out the relays already held, whose own buckets
// are apart from the strangers' table.
//
// answer() runs the checks of AuthorityState in the order of the proposal
// and maps each outcome to its reply:
// - POST_DESCRIPTOR (5.1): checks 1 to 9, then check 10, the reachability
//   probes, before the reply, as 5.1 says: a fresh handshake with the
//   descriptor's link key to every advertised address (the UDP and the TCP
//   one at the same time), each within 10 s; then checks 4, 8 and 9 again,
//   storing (check 11, before the reply) and OK with the epoch. A refusal
//   for an unreachable address names it as section 4.4 does ("udp
//   198.51.100.7:9340: no handshake in 10 s"). The same bytes again
//   are OK at once, without probing. The per-address cap is not applied
//   here but when the vote is made (5.1), and the sweep at T − 5u is the
//   driver's.
// - POST_VOTE (5.4), POST_SIGNATURE (5.6): accepted, stored, OK; a second
//   different vote (equivocation) is logged, counted and REFUSED
//   not_allowed; a signature over another body than ours is logged at warn
//   and REFUSED bad_signature.
// - GET_VOTE, GET_SIGNATURES: what is held, else NOT_FOUND.
// Every refusal carries AuthorityState's reason as its wire value and its
// message cut to 255 bytes of printable ASCII (section 4.4).
//
// Counted: nyx_authority_reachability_checks_total{result} for the upload
// probes, nyx_authority_uploads_busy_total{lane} for uploads past their
// group's limit (lane "listed" or "stranger"), nyx_authority_equivocations_total when
// AuthorityState detects one (the DirectoryServer in front counts the replies it writes).
//
// Time: `wall` reads Unix time (nanoseconds since 1970); only the probes'
// deadlines go to `timers`. Owned by the node; every call on the shard that
// owns the AuthorityState, which the driver shares. The state, store,
// prober, registry and timers must outlive it. stop() cancels the probes in
// flight; an answer still running then replies BUSY and touches nothing.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include "async/async_event.hpp"
#include "async/gate.hpp"
#include "async/timer_service.hpp"
#include "core/clock.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/keyed_rate_limiter.hpp"
#include "daemon/authority_store.hpp"
#include "daemon/directory_service.hpp"
#include "daemon/reachability_prober.hpp"
#include "document/authority_state.hpp"
#include "document/directory_reply.hpp"
#include "document/directory_request.hpp"
#include "document/node_address.hpp"
#include "mix/neighbour_group.hpp"
#include "transport/peer_key.hpp"

namespace nyx::metrics {
class Counter;
class Registry;
}  // namespace nyx::metrics

namespace nyx::daemon {

// Section 5.1 check 10: each upload probe must complete within this time.
inline constexpr std::chrono::seconds kUploadProbeTimeout{10};

class AuthorityService final : public DirectoryService {
 public:
  AuthorityService(asio::any_io_executor executor, document::AuthorityState& state,
                   AuthorityStore& store, ReachabilityProber& prober, const Clock& wall,
                   async::TimerService& timers, metrics::Registry& registry);
  ~AuthorityService() override;
  AuthorityService(const AuthorityService&) = delete;
  AuthorityService& operator=(const AuthorityService&) = delete;

  std::optional<document::DirectoryReply> screen(document::DirectoryRequestType type,
                                                 const DirectoryRequestContext& context) override;
  asio::awaitable<DirectoryAnswer> answer(const document::DirectoryRequest& request,
                                          const DirectoryRequestContext& context) override;

  // Cancels the probes in flight and takes no more requests (BUSY).
  void stop();
  // Completes once every answer that was running has returned.
  asio::awaitable<void> wait_stopped();

 private:
  // One advertised address of a descriptor and how its probe went.
  struct Probe {
    document::AdvertisedAddress target;
    bool reached = false;
    std::string failure;
  };

  // `holder` is answer()'s entry in the gate, which outlives this call.
  asio::awaitable<document::DirectoryReply> post_descriptor(std::vector<std::uint8_t> bytes,
                                                            std::optional<transport::PeerKey> link,
                                                            const async::Gate::Holder& holder);
  // Every address at once, each under kUploadProbeTimeout.
  asio::awaitable<std::vector<Probe>> probe_all(crypto::X25519PublicKey link_key,
                                                std::vector<Probe> targets);
  asio::awaitable<Probe> probe_one(crypto::X25519PublicKey link_key, Probe probe);
  document::DirectoryReply post_vote(const document::PostVoteRequest& request,
                                     const transport::PeerKey& link);
  document::DirectoryReply get_vote(const document::GetVoteRequest& request) const;
  document::DirectoryReply post_signature(const document::PostSignatureRequest& request,
                                          const transport::PeerKey& link);
  document::DirectoryReply get_signatures(const document::GetSignaturesRequest& request) const;

  bool is_authority_link(const std::optional<transport::PeerKey>& link) const;
  // Takes a POST_DESCRIPTOR token from the uploader's group; false (and
  // counted) when it has none left.
  bool admit_upload(const transport::PeerKey& link,
                    const std::optional<asio::ip::address>& address);
  // Counts and logs an equivocation AuthorityState has just detected.
  void note_equivocation(Bytes vote);
  // Writes period q to the store; a failure is logged (the state in memory
  // stays right, and the next save of q carries it).
  void persist(std::uint64_t q);
  std::uint64_t unix_now() const noexcept;

  document::AuthorityState& state_;
  AuthorityStore& store_;
  ReachabilityProber& prober_;
  const Clock& wall_;
  async::TimerService& timers_;
  async::Gate gate_;
  async::AsyncEvent stopping_;
  // POST_DESCRIPTOR's limit per neighbour group (section 4.5): a relay
  // whose descriptor is held has its link key's own bucket; anyone else
  // shares its address group's, sized for max_relays_per_address relays.
  KeyedRateLimiter<transport::PeerKey, transport::PeerKeyHash> listed_uploads_;
  KeyedRateLimiter<mix::NeighbourGroup, mix::NeighbourGroupHash> stranger_uploads_;
  std::uint16_t descriptor_retry_after_;
  metrics::Counter* listed_uploads_busy_;
  metrics::Counter* stranger_uploads_busy_;
  metrics::Counter* probes_ok_;
  metrics::Counter* probes_failed_;
  metrics::Counter* equivocations_;
};

}  // namespace nyx::daemon
