#pragma once
// ConsensusTracker: what a node's directory client holds and when it fetches
// next (proposal 0002 sections 4.5 and 6.1 to 6.5), without any I/O. It keeps
// the installed consensus, a pending one and the floor below which nothing is
// accepted; decides when the next GET_CONSENSUS goes out and to which source
// (the bootstrap list, the authorities or the relays of the installed
// consensus, with back-off); runs every reply through verify_consensus; and
// says what the data directory must hold. The daemon around it opens the
// CREATE_DIR streams, writes the files, logs and counts.
//
// Time is Unix seconds on the node's clock, passed in; randomness comes from
// a FetchRandom the caller owns and keeps alive.
//
// One owner (the daemon's directory task); not thread-safe.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "core/crypto/x25519.hpp"
#include "core/error.hpp"
#include "document/consensus.hpp"
#include "document/directory_reply.hpp"
#include "document/directory_request.hpp"
#include "document/node_address.hpp"
#include "document/verify_consensus.hpp"

namespace nyx::document {

// Section 4.5: a reply not complete within 30 s fails the attempt.
inline constexpr std::uint64_t kDirectoryReplyTimeoutSeconds = 30;
// Section 6.2: a client tries this many relays before the fallbacks.
inline constexpr std::size_t kClientRelayAttempts = 3;

// Uniform draws for the fetch schedule and the choice of source.
class FetchRandom {
 public:
  virtual ~FetchRandom() = default;
  // Uniform in [0, bound); 0 when bound < 2.
  virtual std::uint64_t uniform(std::uint64_t bound) = 0;
};

// Somewhere a GET_CONSENSUS can go: reached by its link key and addresses.
struct DirectorySource {
  enum class Kind : std::uint8_t { kFallback, kAuthority, kRelay };

  Kind kind = Kind::kRelay;
  crypto::X25519PublicKey link_key{};
  NodeAddress udp_address;
  NodeAddress tcp_address;  // none when the source has no TCP address

  bool operator==(const DirectorySource&) const = default;
};

// Section 6.2: a cache (relay or authority role) fetches early from the
// authorities; a client later, from the relays.
enum class DirectoryRole : std::uint8_t { kClient, kCache };

// How usable the installed consensus is, for the log and a gauge (issue 13:
// the last valid one is kept until it expires, and the node says so; section
// 11.3 has no metric for it yet).
enum class ConsensusFreshness : std::uint8_t {
  kNone,           // nothing installed: bootstrapping, no circuits
  kFresh,          // now < fresh_until
  kStaleButValid,  // fresh_until <= now < valid_until: still used, nothing newer yet
  kExpired,        // valid_until <= now: kept only as the floor, not used
};
std::string_view to_string(ConsensusFreshness freshness) noexcept;

struct HeldConsensus {
  Consensus consensus;
  std::vector<std::uint8_t> encoded;  // exactly as verified, for the data directory and serving
  std::size_t valid_signatures = 0;   // by distinct configured authorities when verified
  std::uint64_t verified_at = 0;      // the node's clock then
};

// One GET_CONSENSUS to send now, on a CREATE_DIR stream to `source`.
struct FetchAttempt {
  DirectorySource source;
  GetConsensusRequest request;
  std::uint64_t deadline = 0;  // fail it (on_failure or step) if no reply is complete by then
};

// What a reply (or a failed attempt) did.
struct FetchOutcome {
  enum class Kind : std::uint8_t {
    kInstalled,         // a newer consensus, valid now: installed
    kPending,           // a newer consensus, valid later: held pending (section 6.4)
    kNotModified,       // NOT_MODIFIED, or the period already held (dropped quietly)
    kNotFound,          // NOT_FOUND
    kBusy,              // BUSY: the source is not asked again before retry_after
    kServerRefused,     // REFUSED: server_refusal says why
    kConsensusRefused,  // the consensus failed section 6.3: refusal says why
    kFailed,            // no reply in time, the stream broke, or a reply of another type
  };

  Kind kind = Kind::kFailed;
  std::optional<ConsensusRefusal> refusal;     // kConsensusRefused
  std::optional<RefusedReply> server_refusal;  // kServerRefused
  bool files_changed = false;                  // write ConsensusTracker::files()
};

// What the data directory holds (section 6.1): consensus.bin is the installed
// consensus, kept after it expires as the floor against roll-back;
// consensus-next.bin the pending one, absent when there is none.
struct ConsensusFiles {
  std::optional<std::vector<std::uint8_t>> current;  // consensus.bin
  std::optional<std::vector<std::uint8_t>> next;     // consensus-next.bin; nullopt: delete it
};

// What load() made of the files.
struct LoadReport {
  std::optional<ConsensusRefusal> current_refused;  // consensus.bin not usable, and why
  std::optional<ConsensusRefusal> next_refused;     // consensus-next.bin not kept, and why
  bool files_changed = false;                       // the pending one was due: rewrite
};

// What step() did, and when to call it again.
struct StepReport {
  bool switched = false;                  // the pending consensus was installed (section 6.4)
  std::optional<FetchOutcome> timed_out;  // the attempt in flight passed its deadline
  std::optional<FetchAttempt> fetch;      // start this one now
  std::uint64_t wake_at = 0;              // call step() again no later than this
  bool files_changed = false;             // write files()
};

class ConsensusTracker {
 public:
  struct Config {
    ConsensusTrust trust;
    DirectoryRole role = DirectoryRole::kClient;
    std::vector<DirectorySource> authorities;  // directory.authorities (link and addresses)
    std::vector<DirectorySource> fallbacks;    // directory.fallbacks
    // This node's own link key, so a cache never picks itself from the
    // consensus. An authority still asks itself among the authorities.
    std::optional<crypto::X25519PublicKey> own_link_key;
  };

  ConsensusTracker(Config config, FetchRandom& random);

  // At start, with the bytes of consensus.bin and consensus-next.bin (nullopt
  // when absent), both verified with section 6.3 at `now`. A consensus.bin
  // that expired while the node was off is not used, but its period, once its
  // signatures verify at its own valid_after, is still the floor.
  LoadReport load(std::optional<Bytes> current, std::optional<Bytes> next, std::uint64_t now);

  // Installs the pending consensus at its valid_after, fails an attempt past
  // its deadline, and starts a fetch when one is due and a source is free.
  StepReport step(std::uint64_t now);

  // The reply to the attempt in flight (kInvalidArgument if none is).
  Result<FetchOutcome> on_reply(const DirectoryReply& reply, std::uint64_t now);
  // The attempt in flight failed before a reply: the stream broke or the
  // reply did not parse (kInvalidArgument if none is in flight).
  Result<FetchOutcome> on_failure(std::uint64_t now);
  // A consensus handed over outside a fetch (directory.offer: an offline
  // bootstrap, a test), checked by section 6.3 as a fetched one is and held
  // the same way: kInstalled, kPending, kNotModified (this period is held
  // already) or kConsensusRefused with the reason. No source is involved,
  // so none is backed off, and a fetch in flight goes on.
  FetchOutcome offer(Bytes consensus, std::uint64_t now);

  ConsensusFreshness freshness(std::uint64_t now) const noexcept;
  // Section 6.2: the newest held consensus expires in less than 2u; the
  // node retries every u/4 at most and logs a warning.
  bool expiring_soon(std::uint64_t now) const noexcept;
  // Section 6.5: the consensus paths are drawn from, the installed one while
  // it is valid; never a pending one. Null otherwise.
  const Consensus* consensus_for_paths(std::uint64_t now) const noexcept;

  const std::optional<HeldConsensus>& installed() const noexcept { return installed_; }
  const std::optional<HeldConsensus>& pending() const noexcept { return pending_; }
  // The newest period ever accepted: `held` for verify_consensus, and the
  // have_period of a request (0 when none).
  std::optional<std::uint64_t> floor() const noexcept { return floor_; }
  // When the next fetch may start (the 6.2 window, or a back-off).
  std::uint64_t next_fetch_at() const noexcept { return next_fetch_at_; }
  bool fetch_in_flight() const noexcept { return in_flight_.has_value(); }

  ConsensusFiles files() const;

 private:
  struct Backoff {
    std::uint64_t not_before = 0;
    std::uint64_t delay = 0;  // the last one given; the next failure doubles it
  };

  std::uint64_t unit() const noexcept { return config_.trust.period().unit(); }
  const HeldConsensus* newest_held() const noexcept;
  bool holds_usable(std::uint64_t now) const noexcept;
  void hold(VerifiedConsensus verified, Bytes encoded, std::uint64_t now);
  void schedule_after_success(std::uint64_t now);
  void schedule_retry(std::uint64_t now);
  void back_off_source(const DirectorySource& source, std::uint64_t now,
                       std::optional<std::uint64_t> retry_after);
  bool source_free(const DirectorySource& source, std::uint64_t now) const;
  std::optional<DirectorySource> choose_source(std::uint64_t now);
  std::optional<DirectorySource> choose_free_source(std::uint64_t now);
  std::optional<DirectorySource> weighted_relay(std::uint64_t now);
  std::optional<DirectorySource> random_authority(std::uint64_t now);
  std::optional<DirectorySource> next_bootstrap_source(bool allow_authorities, std::uint64_t now);
  void shuffle_bootstrap_order();
  std::optional<std::uint64_t> earliest_source_free(std::uint64_t now) const;
  // An attempt that brought nothing newer: back off the source and retry.
  FetchOutcome without_news(FetchOutcome outcome, const DirectorySource& source, std::uint64_t now,
                            std::optional<std::uint64_t> retry_after = {});

  Config config_;
  FetchRandom& random_;
  std::optional<HeldConsensus> installed_;
  std::optional<HeldConsensus> pending_;
  std::optional<std::uint64_t> floor_;

  std::uint64_t next_fetch_at_ = 0;  // 0: at once (bootstrap)
  std::optional<FetchAttempt> in_flight_;
  std::uint64_t retry_delay_ = 0;   // between attempts after failures; 0 after a success
  std::size_t round_failures_ = 0;  // attempts without a new consensus since the last one
  std::map<crypto::X25519PublicKey, Backoff> backoff_;
  // The source that failed last: the next attempt goes elsewhere if anywhere
  // else is free (section 4.5, "another cache is tried").
  std::optional<crypto::X25519PublicKey> last_failed_;
  bool avoid_last_failed_ = false;  // set while choose_source makes its first pass
  // Sources in random order, walked one fetch each (section 6.1); reshuffled
  // when walked to the end.
  std::vector<DirectorySource> bootstrap_order_;
  std::size_t bootstrap_cursor_ = 0;
};

}  // namespace nyx::document
