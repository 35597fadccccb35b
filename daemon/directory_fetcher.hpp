#pragma once
// DirectoryFetcher: the node's consensus client (proposal 0002, sections 6.1
// to 6.4), the I/O around the sans-I/O document::ConsensusTracker. One
// coroutine reads top to bottom: step(now) the tracker; install a consensus
// it switched to; write its files; when it hands out a FetchAttempt, run
// the GET_CONSENSUS with the DirectoryRequester and give the tracker the
// reply (on_reply) or the failure (on_failure); then sleep until the
// tracker's wake_at. One fetch at a time, as the tracker allows.
//
// Every outcome is logged with its reason (a server's own text escaped), by
// the kind of source (fallback, authority, relay) and never by its key or
// address; a failed attempt at info, and while no usable consensus is held
// or the newest expires within 2u, a warning at most every u. Counted in
// nyx_directory_fetches_total{result} (installed, pending, not_modified,
// refused, failed) and nyx_directory_refused_total{reason} (section 11.3).
// consensus.bin and consensus-next.bin are written atomically (a temporary
// file, fsync, rename, fsync of the directory), as key files are.
//
// Time: `wall` reads Unix time (nanoseconds since 1970; the node passes a
// system clock, tests a ManualClock set to a date). Only durations are
// handed to `timers`, so its clock may be another axis (steady time); the
// loop sleeps at most u at a time, so a jump of the wall clock is seen.
//
// Owned by the node beside the tracker and the requester, which must
// outlive it; every call on one executor's thread. stop() cancels the
// coroutine (a fetch in flight included) and wait_stopped() waits for it.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/cancellation_signal.hpp>

#include "async/gate.hpp"
#include "async/timer_service.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "daemon/directory_requester.hpp"
#include "daemon/directory_service.hpp"
#include "document/consensus.hpp"
#include "document/consensus_tracker.hpp"
#include "document/period.hpp"

namespace nyx::metrics {
class Registry;
class Counter;
}  // namespace nyx::metrics

namespace nyx::daemon {

struct DirectoryFetcherCounters {
  std::uint64_t installed = 0;
  std::uint64_t pending = 0;
  std::uint64_t not_modified = 0;
  std::uint64_t refused = 0;  // REFUSED by the server, or the consensus failed section 6.3
  std::uint64_t failed = 0;   // no reply, a broken stream, NOT_FOUND, BUSY
  std::uint64_t file_errors = 0;
};

// A consensus file's bytes (consensus.bin, or one an operator offers);
// nullopt when it does not exist; an error naming it when it cannot be
// read or is larger than a consensus may be (plus one byte, so that the
// check says too_large).
Result<std::optional<std::vector<std::uint8_t>>> read_consensus_file(
    const std::filesystem::path& path);

class DirectoryFetcher {
 public:
  // The consensus paths are now drawn from (section 6.4, step 2): the shard
  // swaps its path selection's consensus in this callback.
  using InstallHandler = std::function<void(std::shared_ptr<const document::Consensus>)>;
  // A newer consensus is held (installed or pending): a cache serves it
  // (HeldConsensusService::hold), section 4.5.
  using HeldHandler = std::function<void(std::uint64_t period, SharedDocument encoded)>;

  // `period` is the tracker's (directory.period).
  DirectoryFetcher(asio::any_io_executor executor, const Clock& wall, async::TimerService& timers,
                   document::ConsensusTracker& tracker, DirectoryRequester& requester,
                   document::Period period, std::filesystem::path data_dir);
  ~DirectoryFetcher();
  DirectoryFetcher(const DirectoryFetcher&) = delete;
  DirectoryFetcher& operator=(const DirectoryFetcher&) = delete;

  void set_install_handler(InstallHandler handler) { on_install_ = std::move(handler); }
  void set_held_handler(HeldHandler handler) { on_held_ = std::move(handler); }
  // Registers nyx_directory_fetches_total and nyx_directory_refused_total.
  void publish_metrics(metrics::Registry& registry);

  // At start, before run(): reads consensus.bin and consensus-next.bin from
  // the data directory and gives them to the tracker (section 6.1); logs
  // what it refused, and installs what it kept. A file that cannot be read
  // is logged and treated as absent.
  document::LoadReport load();
  // Starts the fetch loop.
  void start();
  // Cancels the loop; wait_stopped() completes when it has ended.
  void stop();
  asio::awaitable<void> wait_stopped();

  // directory.offer: `consensus` checked and held as a fetched one is
  // (ConsensusTracker::offer), then logged, counted, installed and written
  // the same way, from "the control socket".
  document::FetchOutcome offer(Bytes consensus);
  // The installed consensus as held (its bytes as served), if any.
  const std::vector<std::uint8_t>* installed_bytes() const;

  const DirectoryFetcherCounters& counters() const noexcept { return counters_; }
  std::filesystem::path current_file() const { return data_dir_ / "consensus.bin"; }
  std::filesystem::path next_file() const { return data_dir_ / "consensus-next.bin"; }

 private:
  asio::awaitable<void> run(async::Gate::Holder holder);
  // One attempt, from the request to the tracker's verdict.
  asio::awaitable<void> fetch(const document::FetchAttempt& attempt,
                              const async::Gate::Holder& holder);
  // Logs and counts what came of an attempt; `from` names where it came from.
  void record(const document::FetchOutcome& outcome, std::string_view from, const Error* failure);
  // Installs, hands on and writes what an outcome brought; true when it
  // brought a consensus (installed or pending).
  bool apply(const document::FetchOutcome& outcome);
  void installed();
  void held();
  // Warns, at most once every u, while no usable consensus is held or the
  // newest one expires within 2u (sections 6.1 and 6.2).
  void warn_if_behind(std::uint64_t now);
  void write_files();
  std::uint64_t unix_now() const noexcept;

  asio::any_io_executor executor_;
  const Clock& wall_;
  async::TimerService& timers_;
  document::ConsensusTracker& tracker_;
  document::Period period_;
  DirectoryRequester& requester_;
  std::filesystem::path data_dir_;
  InstallHandler on_install_;
  HeldHandler on_held_;
  async::Gate gate_;
  asio::cancellation_signal cancel_;
  DirectoryFetcherCounters counters_;
  // The newest period handed to on_held_, so each is handed once.
  std::optional<std::uint64_t> held_period_;
  // Attempts since the last one that brought a newer consensus, and when
  // warn_if_behind last warned (Unix seconds).
  std::uint64_t attempts_without_news_ = 0;
  std::optional<std::uint64_t> last_behind_warning_;
  struct Metrics;
  std::unique_ptr<Metrics> metrics_;
};

}  // namespace nyx::daemon
