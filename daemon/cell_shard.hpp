#pragma once
// CellShard: the node's data plane on a thread of its own. It owns the links
// (transport's LinkManager and the mix cell link over it), the Relay, the
// data path (SOCKS entry, circuits, exit), the 50 ms tick, the onion keys
// with their replay tags files in the data directory (replay-<k>.tags, so a
// restart lets no CREATE be replayed), draining and stop. With the relay or
// authority role it also serves directory streams (a DirectoryServer over a
// HeldConsensusService, proposal 0002 section 4.5). Nothing else touches
// those objects.
//
// Onion keys: with a v1 directory file, the key of the epoch the directory
// names for this node. A relay that fetches the consensus instead has its
// keys kept by an OnionKeyManager (proposal 0002, section 7) on the wall
// clock, woken by a timer when it says.
//
// Other threads reach it in two ways only: post() a task, or call() a
// function and co_await its value on their own executor (the control
// thread's coroutine is suspended meanwhile, never blocked, so the control
// server keeps serving other clients). What other threads read directly is
// fixed at creation (addresses, keys) or behind a mutex (the onion key).
//
// Time: the tick, the links, the relay and the data path read the injected
// Clock and run their timers on the injected TimerService (the node passes
// SteadyClock and SteadyTimers); the onion key manager reads `wall`, Unix
// time (SystemClock), and hands the timers durations only. The drain's
// deadline is the node's, in real time.
//
// Lifecycle: create() binds everything (so a port in use fails the start),
// start() runs the thread, shut_down() drains and closes, join() waits for
// the thread. Made and destroyed by the Node on its own thread; the thread
// is joined before anything it runs is destroyed.

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <nlohmann/json.hpp>

#include "async/async_event.hpp"
#include "async/timer.hpp"
#include "async/timer_service.hpp"
#include "async/with_deadline.hpp"
#include "core/clock.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/crypto/x25519.hpp"
#include "core/error.hpp"
#include "daemon/data_dir.hpp"
#include "daemon/directory_service.hpp"
#include "daemon/node_config.hpp"
#include "daemon/onion_key_manager.hpp"
#include "document/directory.hpp"
#include "mix/onion_key_ring.hpp"
#include "mix/path_selector.hpp"
#include "transport/peer_key.hpp"

namespace nyx::metrics {
class Registry;
}  // namespace nyx::metrics

namespace nyx::mix {
class LinkManagerCellLink;
class Relay;
class ReplayStore;
}  // namespace nyx::mix

namespace nyx::transport {
class LinkManager;
}  // namespace nyx::transport

namespace nyx::daemon {

class AuthorityRole;
class DataPath;
class DirectoryCircuitSource;
class DirectoryServer;
class LinkReachabilityProber;
class RelayDirectoryCircuits;

class CellShard {
 public:
  // Keys from the data directory, the links bound, the relay and the data
  // path (SOCKS port bound for the client role) made, the onion key of the
  // epoch `directory` names for us installed; the thread is not running yet.
  // `clock` and `timers` (the service whose clock() is `clock`) outlive the
  // shard. Its timers run on its own thread and io_context, which a test's
  // ManualTimers (bound to the test's io_context) cannot drive: the node and
  // the threaded tests pass SteadyClock and SteadyTimers. `wall` reads Unix
  // time and outlives the shard too.
  static Result<std::unique_ptr<CellShard>> create(
      const NodeConfig& config, const DataDir& data_dir, const Clock& clock, const Clock& wall,
      async::TimerService& timers, metrics::Registry& registry,
      const std::shared_ptr<const document::Directory>& directory);
  ~CellShard();
  CellShard(const CellShard&) = delete;
  CellShard& operator=(const CellShard&) = delete;

  void start();

  // Runs `task` on the shard's thread.
  template <class F>
  void post(F task) {
    asio::post(io_, std::move(task));
  }

  // Runs fn() on the shard's thread and resumes the awaiting coroutine on its
  // own executor with the value. kClosed at once when the shard has stopped,
  // or as soon as it stops with the call still queued; kTimeout when it did
  // not answer within `timeout` (busy). Any thread but the shard's; the
  // caller's io_context must outlive the shard's loop (answers are posted to
  // it).
  template <class F>
  asio::awaitable<Result<std::invoke_result_t<F&>>> call(F fn, Nanos timeout);

  // Registers the directory's peers with the links, switches to the onion
  // key it names for us, hands it to the data path. Posted; any thread.
  void use_directory(std::shared_ptr<const document::Directory> directory);
  // Serves consensus `period` (encoded as verified) to GET_CONSENSUS from
  // now on, if it is newer than the one held; nothing without the relay or
  // authority role. Posted; any thread.
  void hold_consensus(std::uint64_t period, SharedDocument consensus);

  // The graceful end: no new SOCKS clients or exit streams; running streams
  // until they end (awaited on the data path's gates, not polled), at the
  // latest kCloseMargin before `deadline`; then every circuit destroyed
  // (DESTROY to each neighbour), the links flushed and closed, and the
  // streams' last coroutines awaited until `deadline`. `done` runs on the
  // shard's thread at the end. Any thread.
  void shut_down(std::chrono::steady_clock::time_point deadline, std::function<void()> done);
  // The drain deadline passed: the thread's loop stops where it is. Calls
  // from here on, and those still queued, get kClosed.
  void stop_now();
  // Waits for the thread. After shut_down() the loop runs dry by itself
  // (aborted socket operations, ending stream coroutines); a loop that still
  // has work at `deadline` is stopped there.
  void join(std::chrono::steady_clock::time_point deadline);

  // How long before the deadline the drain stops waiting for streams, so
  // that closing circuits still fits inside it.
  static constexpr std::chrono::milliseconds kCloseMargin{500};

  // Fixed at creation; any thread.
  const crypto::Ed25519PublicKey& identity() const noexcept { return identity_; }
  const transport::PeerKey& link_key() const noexcept { return link_key_; }
  const std::string& udp_local() const noexcept { return udp_local_; }
  const std::string& tcp_local() const noexcept { return tcp_local_; }
  const std::string& socks_local() const noexcept { return socks_local_; }
  // The onion key in use and its epoch; any thread.
  std::pair<crypto::X25519PublicKey, std::uint64_t> onion_key() const;

  // Shard thread only: what the control methods read.
  DataPath& data_path() noexcept { return *data_path_; }
  // What the node's directory client runs on, and where its CREATE_DIR
  // circuits come from (this shard's relay and links). Both are fixed at
  // creation; the circuits are opened on the shard's thread only.
  asio::any_io_executor executor() { return io_.get_executor(); }
  DirectoryCircuitSource& directory_circuits() noexcept;
  // The onion keys a descriptor carries now (OnionKeyManager::published());
  // none unless the keys are managed. Shard thread only.
  std::optional<OnionKeyManager::PublishedKeys> published_onion_keys() const;
  std::size_t relayed_circuits() const;
  // onion_keys.list: the relay's epoch, the epochs among those a CREATE
  // tries whose keys its ring holds, and how many keys the ring holds in
  // all; asked of the ring itself, so an erased key cannot show. An
  // invalid-argument error on a node whose onion keys do not rotate (not a
  // relay, or one given directory.file). Shard thread only.
  Result<nlohmann::json> onion_keys_json();
  // The authority role, or null without it. Shard thread only.
  const AuthorityRole* authority() const noexcept { return authority_.get(); }
  nlohmann::json peers_json(const document::Directory* directory) const;

 private:
  CellShard(const NodeConfig& config, const DataDir& data_dir, const Clock& clock,
            const Clock& wall, async::TimerService& timers);
  Status open(metrics::Registry& registry,
              const std::shared_ptr<const document::Directory>& directory);
  Status use_onion_epoch(const document::Directory* directory);
  // A relay that fetches the consensus: the OnionKeyManager takes the
  // relay's ring and brings it up to date.
  Status manage_onion_keys();
  // Does what the manager says is due, and arms the timer for the next.
  void run_onion_keys();
  // The relay's current onion key, for node.info.
  void note_current_onion_key();
  // With the relay or authority role: the server of directory streams.
  void open_directory_server(metrics::Registry& registry);
  // With the authority role: the authority's state, service and driver,
  // attached to the directory server's service.
  Status open_authority(metrics::Registry& registry);
  // The relay ring's store factory: the key's tags file in the data
  // directory (proposal 0002, section 8.2), so a restart keeps its tags.
  std::unique_ptr<mix::ReplayStore> open_replay_store(std::uint64_t epoch,
                                                      const crypto::X25519PublicKey& public_key);
  // After the ring changed: a store that came back closed closes its key for
  // its own reason, and the tags file of a key the ring erased is removed.
  void settle_replay_stores();
  // Peers registered with the links, the onion key switched, paths drawn
  // from it: what a new directory changes.
  void install(const document::Directory& directory);
  void schedule_tick();
  asio::awaitable<void> drain(std::chrono::steady_clock::time_point deadline,
                              std::function<void()> done);
  // Closes the circuits, the sessions and the links: the drain's end.
  void close_all();

  // The calls posted and not yet run, each with the way to tell its caller
  // that the shard stopped. A call is answered once: by the shard if it
  // takes the call first, by refuse_calls() otherwise.
  std::optional<std::uint64_t> admit_call(std::function<void()> refuse);
  bool take_call(std::uint64_t id);
  // From here on call() answers kClosed; what is queued is told so now.
  void refuse_calls();

  const NodeConfig& config_;
  const DataDir& data_dir_;
  const Clock& clock_;
  const Clock& wall_;
  async::TimerService& timers_;
  asio::io_context io_{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
      asio::make_work_guard(io_)};
  async::Timer tick_timer_;
  async::Timer onion_timer_;
  std::thread thread_;
  std::promise<void> ran_dry_;  // set when the thread's loop returns

  std::mutex calls_mu_;  // guards the three below; any thread
  std::map<std::uint64_t, std::function<void()>> pending_calls_;
  std::uint64_t next_call_ = 0;
  bool calls_closed_ = false;

  crypto::Ed25519PublicKey identity_{};
  transport::PeerKey link_key_{};
  std::string udp_local_;
  std::string tcp_local_;
  std::string socks_local_;      // empty without the client role
  mutable std::mutex onion_mu_;  // guards onion_key_ and onion_epoch_
  crypto::X25519PublicKey onion_key_{};
  std::uint64_t onion_epoch_ = 0;

  // Shard thread only (after create()).
  mix::CryptoRandomSource random_;
  std::unique_ptr<transport::LinkManager> links_;
  std::unique_ptr<mix::LinkManagerCellLink> cell_link_;
  std::unique_ptr<mix::Relay> relay_;
  std::unique_ptr<DataPath> data_path_;
  std::unique_ptr<RelayDirectoryCircuits> directory_circuits_;
  // With the relay or authority role; the server answers from the service.
  std::unique_ptr<HeldConsensusService> held_consensus_;
  std::unique_ptr<DirectoryServer> directory_server_;
  // With the authority role. Reset explicitly in the destructor, after the
  // loop and before the io_context their gates and timers use.
  std::unique_ptr<LinkReachabilityProber> prober_;
  std::unique_ptr<AuthorityRole> authority_;
  // Set when the keys are managed (a relay fetching the consensus); the
  // directory then never switches the onion key.
  std::optional<OnionKeyManager> onion_keys_;
  bool stopping_ = false;
  // Epochs whose tags file this shard opened and has not removed yet.
  std::set<std::uint64_t> replay_files_;
  // Why the stores open_replay_store() just made are closed, until
  // settle_replay_stores() hands the reasons to the ring.
  std::map<std::uint64_t, mix::OnionKeyRing::CloseReason> closed_stores_;
};

template <class F>
asio::awaitable<Result<std::invoke_result_t<F&>>> CellShard::call(F fn, Nanos timeout) {
  using Value = std::invoke_result_t<F&>;
  // Owned by this coroutine alone, so it is made, set and destroyed on the
  // caller's thread; the shard holds only a weak reference and hands the
  // value (or the refusal) back by posting to the caller, where the
  // reference is tried. A call the shard never runs then leaves nothing of
  // the caller's behind in the shard's queue.
  struct Reply {
    explicit Reply(const asio::any_io_executor& executor) : ready(executor) {}
    async::AsyncEvent ready;
    std::optional<Value> value;
  };
  const auto caller = co_await asio::this_coro::executor;
  const auto reply = std::make_shared<Reply>(caller);
  const std::weak_ptr<Reply> weak = reply;
  const auto admitted = admit_call([caller, weak] {
    asio::post(caller, [weak] {
      if (auto r = weak.lock()) {
        r->ready.set();
      }
    });
  });
  if (!admitted) {
    co_return make_error(ErrorCategory::kClosed, "the cell shard has stopped");
  }
  asio::post(io_, [this, id = *admitted, caller, weak, fn = std::move(fn)]() mutable {
    if (!take_call(id)) {
      return;  // refused meanwhile
    }
    auto value = fn();
    asio::post(caller, [weak, value = std::move(value)]() mutable {
      if (auto r = weak.lock()) {
        r->value = std::move(value);
        r->ready.set();
      }
    });
  });
  const auto waited = co_await async::with_deadline(reply->ready.wait(), timeout);
  if (reply->value) {
    co_return std::move(*reply->value);
  }
  if (waited) {
    co_return make_error(ErrorCategory::kClosed, "the cell shard stopped before it answered");
  }
  co_return make_error(ErrorCategory::kTimeout, "the cell shard did not answer in time");
}

}  // namespace nyx::daemon
