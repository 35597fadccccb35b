#pragma once
// DescriptorPublisher: a relay's upload of its own descriptor v2 to the
// directory authorities (proposal 0002, section 5.0).
//
// The descriptor is built from the configuration (descriptor_content: the
// [relay] advertised addresses, weight and family, and for an exit
// [exit].advertise) and the onion keys OnionKeyManager::published() gives
// for target(now) and the epoch after; published = the time of the first
// upload for that epoch; signed with the identity key (build_descriptor).
// Every authority gets the same bytes for an epoch: a consensus lists only a
// descriptor a majority of authorities hold byte for byte (section 5.5), so
// a descriptor signed afresh per authority (another `published` each time)
// would leave the relay out of every consensus its authorities upload at
// different seconds. It is signed again only when the keys it carries change.
//
// Each authority has its own upload coroutine, independent of the others:
// at start it uploads for target(now) at once; when target(now) changes to
// e it uploads at a uniform random time in the first 3u of e's window
// (AuthoritySchedule::relay_upload_time). A failed attempt (no answer, a
// broken circuit, BUSY, no onion keys for the epoch yet) is retried after
// 1 s, doubling, capped at u/2 (never sooner than a BUSY's retry_after),
// until e's upload deadline. REFUSED wrong_epoch naming an open epoch within
// one of target(now) means the two clocks straddle a deadline: an authority
// ahead gets the descriptor for its open epoch (retried until this node's
// key source publishes keys for it, which its clock reaches within the
// skew); an authority behind is retried for e until its clock opens e. A
// wrong_epoch farther off is logged as a clock warning. OK and each refusal
// are logged per authority (by its place in directory.authorities, never by
// key or address; the authority's message escaped) and counted in
// nyx_relay_descriptor_uploads_total{result}. A change of content other than
// `published` means a restart with another configuration, which uploads at
// start.
//
// Time: `wall` reads Unix time (nanoseconds since 1970); only durations go
// to `timers`. Owned by the node beside the requester, which must outlive
// it; every call on one executor's thread. stop() cancels every upload.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/cancellation_signal.hpp>

#include "async/gate.hpp"
#include "async/timer_service.hpp"
#include "core/clock.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/crypto/x25519.hpp"
#include "core/error.hpp"
#include "daemon/directory_requester.hpp"
#include "daemon/node_config.hpp"
#include "daemon/onion_key_manager.hpp"
#include "document/authority_schedule.hpp"
#include "document/consensus_tracker.hpp"
#include "document/exit_rules.hpp"
#include "document/node_address.hpp"
#include "document/signed_descriptor.hpp"
#include "mix/path_selector.hpp"

namespace nyx::metrics {
class Registry;
class Counter;
}  // namespace nyx::metrics

namespace nyx::daemon {

// What the descriptor says that does not change while the node runs.
struct DescriptorContent {
  crypto::X25519PublicKey link_key{};
  document::NodeAddress udp_address;
  document::NodeAddress tcp_address;  // none when not advertised
  bool exit = false;
  std::uint32_t bandwidth_weight = 1;
  std::string family;
  document::AdvertisedExitRules exit_rules;  // only with `exit`
};

// From the configuration: kConfig naming the key when relay.advertise_udp is
// missing or an advertised address is not an IP literal with a port, or the
// exit rules do not parse.
Result<DescriptorContent> descriptor_content(const NodeConfig& config,
                                             const crypto::X25519PublicKey& link_key);

// The descriptor for keys.epoch, published at `now`, signed by `identity`.
Result<document::SignedDescriptor> build_descriptor(const DescriptorContent& content,
                                                    const crypto::Ed25519KeyPair& identity,
                                                    const OnionKeyManager::PublishedKeys& keys,
                                                    std::uint64_t now);

// directory.authorities as directory sources (link key and addresses).
Result<std::vector<document::DirectorySource>> authority_sources(const NodeConfig& config);

// What happened to the uploads to one authority.
struct AuthorityUploads {
  std::uint64_t attempts = 0;
  std::uint64_t accepted = 0;
  std::uint64_t refused = 0;
  std::uint64_t failed = 0;
  std::optional<std::uint64_t> accepted_epoch;  // the last epoch an OK named
  std::optional<std::uint64_t> last_attempt;    // Unix seconds of the last attempt (status)
};

class DescriptorPublisher {
 public:
  // The onion keys to publish now: OnionKeyManager::published().
  using KeySource = std::function<std::optional<OnionKeyManager::PublishedKeys>()>;

  // `identity` and `random` must outlive the publisher.
  DescriptorPublisher(asio::any_io_executor executor, const Clock& wall,
                      async::TimerService& timers, DirectoryRequester& requester,
                      document::Period period, DescriptorContent content,
                      const crypto::Ed25519KeyPair& identity, KeySource keys,
                      std::vector<document::DirectorySource> authorities,
                      mix::RandomSource& random);
  ~DescriptorPublisher();
  DescriptorPublisher(const DescriptorPublisher&) = delete;
  DescriptorPublisher& operator=(const DescriptorPublisher&) = delete;

  // Registers nyx_relay_descriptor_uploads_total{result}.
  void publish_metrics(metrics::Registry& registry);
  // One upload coroutine per authority.
  void start();
  void stop();
  asio::awaitable<void> wait_stopped();

  // In the order of directory.authorities.
  const std::vector<AuthorityUploads>& uploads() const noexcept { return uploads_; }

 private:
  // How one attempt ended: done for this epoch, or to be retried (for
  // `epoch` when set: the open epoch of an authority whose clock is ahead),
  // not before `retry_after` seconds (a BUSY's).
  struct Attempt {
    bool retry = false;
    std::optional<std::uint64_t> epoch;
    std::uint64_t retry_after = 0;

    static Attempt done() { return {}; }
    static Attempt again(std::optional<std::uint64_t> for_epoch = std::nullopt,
                         std::uint64_t after = 0) {
      return {true, for_epoch, after};
    }
  };
  asio::awaitable<void> run(std::size_t index, async::Gate::Holder holder);
  // One POST_DESCRIPTOR for `epoch` to authority `index`.
  asio::awaitable<Attempt> upload(std::size_t index, std::uint64_t epoch,
                                  const async::Gate::Holder& holder);
  // Sleeps until Unix second `at`; false when cancelled.
  asio::awaitable<bool> sleep_until(std::uint64_t at);
  // The encoded descriptor for `keys`, signed at `now` unless already signed
  // for these keys; kept for the other authorities' uploads.
  Result<std::vector<std::uint8_t>> descriptor_for(const OnionKeyManager::PublishedKeys& keys,
                                                   std::uint64_t now);
  std::uint64_t unix_now() const noexcept;
  void count(std::string_view result);

  asio::any_io_executor executor_;
  const Clock& wall_;
  async::TimerService& timers_;
  DirectoryRequester& requester_;
  document::AuthoritySchedule schedule_;
  DescriptorContent content_;
  const crypto::Ed25519KeyPair& identity_;
  KeySource keys_;
  std::vector<document::DirectorySource> authorities_;
  mix::RandomSource& random_;
  async::Gate gate_;
  std::vector<std::unique_ptr<asio::cancellation_signal>> cancels_;
  std::vector<AuthorityUploads> uploads_;
  // The last descriptor signed, and the keys it carries.
  std::optional<OnionKeyManager::PublishedKeys> signed_keys_;
  std::vector<std::uint8_t> signed_bytes_;
  metrics::Registry* registry_ = nullptr;
};

}  // namespace nyx::daemon
