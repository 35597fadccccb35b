#pragma once
// DirectoryClient: the node's side of the voting directory (proposal 0002,
// sections 5.0 and 6). It holds the DirectoryFetcher that keeps the
// consensus (with its ConsensusTracker and DirectoryRequester) and, with the
// relay role, the DescriptorPublisher that uploads this relay's descriptor
// with the onion keys its cell shard's OnionKeyManager publishes. Both open
// their CREATE_DIR circuits on the shard's relay and run on its executor.
//
// Made by the node when it fetches the consensus (no directory.file), after
// the shard and before the shard's thread runs: load() reads the consensus
// files then. start() and stop() run on the shard's thread (the node posts
// them), and so do the handlers. The shard must outlive every call. The
// client is destroyed after the shard's loop has ended and before the
// shard's io_context: its gates and timers use that io_context's services,
// and the coroutine frames the io_context may still destroy find those
// gates closed and touch nothing else of the client.

#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "async/timer_service.hpp"
#include "core/clock.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/error.hpp"
#include "daemon/data_dir.hpp"
#include "daemon/descriptor_publisher.hpp"
#include "daemon/directory_fetcher.hpp"
#include "daemon/directory_requester.hpp"
#include "daemon/node_config.hpp"
#include "document/consensus_tracker.hpp"
#include "document/period.hpp"
#include "mix/path_selector.hpp"

namespace nyx::metrics {
class Registry;
}  // namespace nyx::metrics

namespace nyx::daemon {

class CellShard;

class DirectoryClient {
 public:
  // kConfig for a directory section the consensus client cannot use, or the
  // relay section a descriptor cannot be built from; the key store's error
  // for an identity key that cannot be read. `wall` reads Unix time; the
  // metrics of the fetcher (and publisher) are registered in `registry`.
  static Result<std::unique_ptr<DirectoryClient>> create(const NodeConfig& config,
                                                         const DataDir& data_dir, CellShard& shard,
                                                         const Clock& wall,
                                                         async::TimerService& timers,
                                                         metrics::Registry& registry);
  ~DirectoryClient();
  DirectoryClient(const DirectoryClient&) = delete;
  DirectoryClient& operator=(const DirectoryClient&) = delete;

  // The fetcher's: a consensus installed for paths, a newer one held.
  void set_handlers(DirectoryFetcher::InstallHandler on_install,
                    DirectoryFetcher::HeldHandler on_held);
  // Before start(): consensus.bin and consensus-next.bin (section 6.1).
  void load();
  // Shard thread: the fetch loop and the uploads start, or stop.
  void start();
  void stop();

  const document::Period& period() const noexcept { return period_; }

  // directory.get (proposal 0002, section 11.1): {"consensus": base64} of
  // the installed consensus as served; kNotFound while none is. Shard thread.
  Result<nlohmann::json> consensus_json() const;
  // directory.offer: params {"consensus": base64} or {"file": path} (a
  // consensus too large for a 64 KiB control message), checked and held as
  // a fetched consensus is: {"result": "installed" | "pending" |
  // "already_held"}; kInvalidArgument for params that name no consensus,
  // the file's error for one that cannot be read, kPermission naming
  // section 6.3's reason for one refused. Shard thread.
  Result<nlohmann::json> offer(const nlohmann::json& params);

 private:
  // The tracker's draws and the publisher's, from the system's CSPRNG.
  class Random final : public document::FetchRandom, public mix::RandomSource {
   public:
    std::uint64_t uniform(std::uint64_t bound) override {
      return bound < 2 ? 0 : crypto_.uniform(bound);
    }

   private:
    mix::CryptoRandomSource crypto_;
  };

  DirectoryClient(document::Period period, document::ConsensusTracker::Config tracker);

  document::Period period_;
  Random random_;
  document::ConsensusTracker tracker_;
  std::unique_ptr<DirectoryRequester> requester_;
  std::unique_ptr<DirectoryFetcher> fetcher_;
  // The relay role only; the publisher signs with `identity_`.
  std::optional<crypto::Ed25519KeyPair> identity_;
  std::unique_ptr<DescriptorPublisher> publisher_;
};

}  // namespace nyx::daemon
