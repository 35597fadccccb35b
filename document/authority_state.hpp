#pragma once
// AuthorityState: the sans-I/O core of one directory authority (proposal
// 0002 sections 5.1 to 5.7). It takes what arrives (descriptors, votes,
// signature messages), the results of the reachability probes the caller
// ran, and the time, and returns values: a refusal with its reason, the vote
// to push, the signature message to push, the consensus to publish. No
// sockets, no threads, no clock: every call that depends on time takes
// `now` (Unix seconds on the authority's own clock), and the daemon decides
// when to call what from AuthoritySchedule.
//
// Held: descriptors per epoch (the open upload epoch and the one being
// swept and voted on), and per consensus period q the votes, the own
// consensus and the signatures on it. Everything for q < voting_period − 2
// is dropped by prune(). snapshot() and restore() carry one period across a
// restart (section 5.7); the files are the daemon's business.
//
// Not thread-safe: one owner (the authority's shard) calls it.

#include <cstddef>
#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/crypto/x25519.hpp"
#include "core/error.hpp"
#include "document/authority_schedule.hpp"
#include "document/consensus.hpp"
#include "document/node_address.hpp"
#include "document/period.hpp"
#include "document/signature_message.hpp"
#include "document/signed_descriptor.hpp"
#include "document/vote.hpp"

namespace nyx::document {

// One entry of directory.authorities: the key that signs votes and
// consensuses, and the static link key its Noise links authenticate.
struct ConfiguredAuthority {
  crypto::Ed25519PublicKey authority_key{};
  crypto::X25519PublicKey link_key{};
};

struct AuthorityConfig {
  Period period;
  std::uint64_t clock_skew = 0;  // S
  // Every configured authority, this one included (N = size, 1 to 32).
  std::vector<ConfiguredAuthority> authorities;
  std::size_t threshold = 0;  // t; 0 = the majority
  std::size_t max_relays = 10'000;
  std::size_t max_relays_per_address = 2;
  std::uint32_t max_bandwidth_weight = 1000;
  bool allow_private_addresses = false;
};

// The reasons of a REFUSED reply (section 4.4) an authority gives.
enum class AuthorityRefusalReason : std::uint8_t {
  kMalformed = 1,
  kNotAllowed,
  kBadSignature,
  kWrongEpoch,
  kClock,
  kStale,
  kLimit,
  kUnreachable,
  kNotAuthority,
  kUnknownVoter,
  kEquivocation,        // a second, different vote by one authority for q: just detected
  kKnownEquivocator,    // a vote by an authority already caught equivocating for q
  kDifferentConsensus,  // a signature over another body than ours
};

std::string_view to_string(AuthorityRefusalReason reason) noexcept;

struct AuthorityRefusal {
  AuthorityRefusalReason reason;
  std::string message;
  // kWrongEpoch for a descriptor: the epoch this authority accepts now.
  std::optional<std::uint64_t> open_epoch;
};

template <class T>
using AuthorityOutcome = std::expected<T, AuthorityRefusal>;

// The result of probing one advertised address over its transport (a fresh
// Noise handshake with the descriptor's link key, section 5.1 check 10 and
// section 5.2). A result satisfies only the address advertised for its own
// transport: UDP and TCP may share an ip:port.
struct ProbeResult {
  NodeAddress address;
  LinkTransport transport = LinkTransport::kUdp;
  bool reached = false;
  std::string failure;  // why not, when not reached ("timeout after 10 s")
};

// A descriptor that passed checks 1 to 9 of section 5.1 and now needs the
// reachability probes (unless the same bytes are already held: then the
// reply is OK at once).
struct ScreenedDescriptor {
  bool already_held = false;
  SignedDescriptor descriptor;
  std::vector<std::uint8_t> bytes;

  // Every advertised address, UDP first, then TCP: each must be reached
  // over its own transport.
  std::vector<AdvertisedAddress> addresses() const;
};

// What a node of the sweep must probe (section 5.2).
struct SweepTarget {
  NodeId node_id{};
  crypto::X25519PublicKey link_key{};
  std::vector<AdvertisedAddress> addresses;
};

enum class VoteAccepted : std::uint8_t { kNew, kAlreadyHeld };

// Section 5.7: what one period's state is after a restart.
struct AuthoritySnapshot {
  std::uint64_t q = 0;
  std::vector<std::vector<std::uint8_t>> descriptors;  // accepted for epoch q
  std::vector<std::vector<std::uint8_t>> votes;        // held for q, the own one included
  std::optional<std::vector<std::uint8_t>> consensus;  // own body and every signature held
};

class AuthorityState {
 public:
  // kConfig unless the key is one of the configured authorities, there are
  // 1 to 32 of them with no key or link twice, the threshold is 0 or from
  // the majority to N, and the skew fits the period.
  static Result<AuthorityState> make(AuthorityConfig config, crypto::Ed25519KeyPair key);

  const AuthorityConfig& config() const noexcept { return config_; }
  const AuthoritySchedule& schedule() const noexcept { return schedule_; }
  std::size_t threshold() const noexcept { return threshold_; }

  // POST_DESCRIPTOR (section 5.1), checks 1 to 9, from a link whose peer
  // key is `peer_link_key`. Then probe screened.addresses() and call
  // admit_descriptor with the results.
  AuthorityOutcome<ScreenedDescriptor> screen_descriptor(
      Bytes bytes, const crypto::X25519PublicKey& peer_link_key, std::uint64_t now) const;
  // Checks 4, 8 and 9 again (the probes took time), then 10 and 11: the
  // epoch stored, which the OK reply names.
  AuthorityOutcome<std::uint64_t> admit_descriptor(const ScreenedDescriptor& screened,
                                                   std::span<const ProbeResult> probes,
                                                   std::uint64_t now);
  // The descriptor held for `node_id` in `epoch`, if any.
  const SignedDescriptor* descriptor(std::uint64_t epoch, const NodeId& node_id) const;
  // Whether a descriptor with this link key is held for any epoch: its
  // relay passed checks 1 to 11, probes included, so section 4.5 limits its
  // uploads by its own key rather than by its address's group. A scan of
  // at most 2 × max_relays entries.
  bool holds_link(const crypto::X25519PublicKey& link_key) const;

  // Section 5.2: every descriptor held for epoch q, and the results.
  std::vector<SweepTarget> sweep_targets(std::uint64_t q) const;
  void record_sweep(std::uint64_t q, const NodeId& node_id, std::span<const ProbeResult> probes);

  // Section 5.3: the own vote for q, made once in [T − 4u, T − 3u) from the
  // descriptors that passed the sweep and stored; afterwards the stored one
  // (a second vote would be equivocation). `listed_before`: node ids in
  // consensus q − 1, kept first under the per-address cap.
  Result<Vote> make_vote(std::uint64_t q, std::uint64_t now,
                         std::span<const NodeId> listed_before = {});

  // POST_VOTE, or a GET_VOTE reply (section 5.4), from a link whose peer key
  // is `peer_link_key`. The same vote again is kAlreadyHeld.
  AuthorityOutcome<VoteAccepted> accept_vote(Bytes bytes,
                                             const crypto::X25519PublicKey& peer_link_key,
                                             std::uint64_t now);
  // The votes held for q, sorted by authority key; votes of equivocators
  // are gone.
  std::vector<Vote> votes(std::uint64_t q) const;
  // Configured authorities with no vote held for q (GET_VOTE at T − 3.5u).
  std::vector<crypto::Ed25519PublicKey> missing_votes(std::uint64_t q) const;
  // The held vote of `authority` for q, encoded, to answer GET_VOTE.
  std::optional<std::vector<std::uint8_t>> vote_bytes(
      std::uint64_t q, const crypto::Ed25519PublicKey& authority) const;

  // Section 5.5 and 5.6, at T − 3u or later (before T): the consensus from
  // the votes held, signed, and the signature message to push. Once made,
  // the stored one. kNotFound "too few votes" with fewer than a majority.
  Result<SignatureMessage> compute(std::uint64_t q, std::uint64_t now);
  // POST_SIGNATURE, or a GET_SIGNATURES reply (section 5.6). Returns the
  // number of valid signatures held afterwards.
  AuthorityOutcome<std::size_t> accept_signature(Bytes bytes,
                                                 const crypto::X25519PublicKey& peer_link_key,
                                                 std::uint64_t now);
  // The own consensus for q with every signature held, if computed.
  const Consensus* consensus(std::uint64_t q) const;
  // Signature messages for the own body of q, to answer GET_SIGNATURES.
  std::vector<SignatureMessage> signature_messages(std::uint64_t q) const;
  // Configured authorities whose signature on the own body is missing.
  std::vector<crypto::Ed25519PublicKey> missing_signatures(std::uint64_t q) const;

  // Section 5.6: from T − 2u, the encoded consensus when it carries at least
  // t valid signatures of distinct configured authorities, its own
  // included; kNotFound naming the count otherwise.
  Result<std::vector<std::uint8_t>> publishable(std::uint64_t q, std::uint64_t now) const;

  // Section 5.7.
  AuthoritySnapshot snapshot(std::uint64_t q) const;
  // Reloads a snapshot after a restart: every document is checked again
  // (signatures included) but not against the time windows, and
  // reachability is not restored (the sweep redoes it).
  Status restore(const AuthoritySnapshot& snapshot);
  // Drops everything for periods below voting_period(now) − 2.
  void prune(std::uint64_t now);

 private:
  struct HeldDescriptor {
    SignedDescriptor descriptor;
    std::vector<std::uint8_t> bytes;
    std::optional<bool> swept;  // the sweep's result; none before it reported
  };
  struct PeriodVotes {
    std::map<crypto::Ed25519PublicKey, Vote> votes;
    std::set<crypto::Ed25519PublicKey> equivocators;
    std::optional<Consensus> consensus;  // own body, every valid signature
    std::vector<std::uint8_t> body;      // its encoding
  };

  AuthorityState(AuthorityConfig config, crypto::Ed25519KeyPair key, std::size_t threshold);

  bool is_authority_link(const crypto::X25519PublicKey& link_key) const;
  bool is_configured(const crypto::Ed25519PublicKey& key) const;
  std::optional<AuthorityRefusal> epoch_fault(const SignedDescriptor& d, std::uint64_t now) const;
  std::optional<AuthorityRefusal> held_fault(const ScreenedDescriptor& s) const;
  Status check_vote_signatures(const Vote& vote) const;
  AuthorityOutcome<VoteAccepted> hold_vote(Vote vote);
  Status adopt_consensus(std::uint64_t q, Consensus consensus);

  AuthorityConfig config_;
  crypto::Ed25519KeyPair key_;
  std::size_t threshold_;
  AuthoritySchedule schedule_;
  std::map<std::uint64_t, std::map<NodeId, HeldDescriptor>> descriptors_;  // by epoch
  std::map<std::uint64_t, PeriodVotes> periods_;                           // by q
};

}  // namespace nyx::document
