#pragma once
// CellShard: the node's data plane on a thread of its own. It owns the links
// (transport's LinkManager and the mix cell link over it), the Relay, the
// data path (SOCKS entry, circuits, exit), the 50 ms tick, the onion key of
// the current epoch, draining and stop. Nothing else touches those objects.
//
// Other threads reach it in two ways only: post() a task, or call() a
// function and co_await its value on their own executor (the control
// thread's coroutine is suspended meanwhile, never blocked, so the control
// server keeps serving other clients). What other threads read directly is
// fixed at creation (addresses, keys) or behind a mutex (the onion key).
//
// Lifecycle: create() binds everything (so a port in use fails the start),
// start() runs the thread, shut_down() drains and closes, join() waits for
// the thread. Made and destroyed by the Node on its own thread; the thread
// is joined before anything it runs is destroyed.

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include <asio/awaitable.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <nlohmann/json.hpp>

#include "async/async_event.hpp"
#include "async/with_deadline.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/crypto/x25519.hpp"
#include "core/error.hpp"
#include "daemon/data_dir.hpp"
#include "daemon/node_config.hpp"
#include "document/directory.hpp"
#include "mix/path_selector.hpp"
#include "transport/peer_key.hpp"

namespace nyx::metrics {
class Registry;
}  // namespace nyx::metrics

namespace nyx::mix {
class LinkManagerCellLink;
class Relay;
}  // namespace nyx::mix

namespace nyx::transport {
class LinkManager;
}  // namespace nyx::transport

namespace nyx::daemon {

class DataPath;

class CellShard {
 public:
  // Keys from the data directory, the links bound, the relay and the data
  // path (SOCKS port bound for the client role) made, the onion key of the
  // epoch `directory` names for us installed; the thread is not running yet.
  static Result<std::unique_ptr<CellShard>> create(
      const NodeConfig& config, const DataDir& data_dir, metrics::Registry& registry,
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
  // own executor with the value; nothing when the shard did not answer
  // within `timeout` (busy, or stopped).
  template <class F>
  asio::awaitable<std::optional<std::invoke_result_t<F&>>> call(F fn, Nanos timeout);

  // Registers the directory's peers with the links, switches to the onion
  // key it names for us, hands it to the data path. Posted; any thread.
  void use_directory(std::shared_ptr<const document::Directory> directory);

  // The graceful end: no new SOCKS clients, running streams until
  // `drain_until`, then every circuit destroyed (DESTROY to each neighbour),
  // the links flushed and closed. `done` runs on the shard's thread at the
  // end. Any thread.
  void shut_down(std::chrono::steady_clock::time_point drain_until, std::function<void()> done);
  // The drain deadline passed: the thread's loop stops where it is.
  void stop_now();
  // Waits for the thread. After shut_down() the loop runs dry by itself
  // (aborted socket operations, ending stream coroutines); a loop that does
  // not within `run_dry` is stopped.
  void join(std::chrono::milliseconds run_dry);

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
  std::size_t relayed_circuits() const;
  nlohmann::json peers_json(const document::Directory* directory) const;

 private:
  CellShard(const NodeConfig& config, const DataDir& data_dir);
  Status open(metrics::Registry& registry,
              const std::shared_ptr<const document::Directory>& directory);
  Status use_onion_epoch(const document::Directory* directory);
  // Peers registered with the links, the onion key switched, paths drawn
  // from it: what a new directory changes.
  void install(const document::Directory& directory);
  void schedule_tick();
  void drain(std::chrono::steady_clock::time_point until, std::function<void()> done);

  const NodeConfig& config_;
  const DataDir& data_dir_;
  asio::io_context io_{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
      asio::make_work_guard(io_)};
  asio::steady_timer tick_timer_;
  asio::steady_timer drain_check_;
  std::thread thread_;
  std::promise<void> ran_dry_;  // set when the thread's loop returns

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
  bool stopping_ = false;
};

template <class F>
asio::awaitable<std::optional<std::invoke_result_t<F&>>> CellShard::call(F fn, Nanos timeout) {
  using Value = std::invoke_result_t<F&>;
  // Lives on the caller's executor: the shard only moves the value into it,
  // posted back, so the event is set and destroyed on the caller's thread.
  struct Reply {
    explicit Reply(const asio::any_io_executor& executor) : ready(executor) {}
    async::AsyncEvent ready;
    std::optional<Value> value;
  };
  const auto caller = co_await asio::this_coro::executor;
  auto reply = std::make_shared<Reply>(caller);
  asio::post(io_, [caller, reply, fn = std::move(fn)]() mutable {
    auto value = fn();
    asio::post(caller, [reply = std::move(reply), value = std::move(value)]() mutable {
      reply->value = std::move(value);
      reply->ready.set();
    });
  });
  (void)co_await async::with_deadline(reply->ready.wait(), timeout);
  co_return std::move(reply->value);
}

}  // namespace nyx::daemon
