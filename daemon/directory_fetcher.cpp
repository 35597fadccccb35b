#include "daemon/directory_fetcher.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "async/spawn.hpp"
#include "async/timer.hpp"
#include "core/file_io.hpp"
#include "core/log.hpp"
#include "core/metrics/registry.hpp"
#include "core/unique_fd.hpp"
#include "document/verify_consensus.hpp"

namespace nyx::daemon {
namespace {

using document::FetchOutcome;

constexpr std::string_view kFetchesName = "nyx_directory_fetches_total";
constexpr std::string_view kFetchesHelp = "Consensus fetches, by result";
constexpr std::string_view kRefusedName = "nyx_directory_refused_total";
constexpr std::string_view kRefusedHelp = "Consensuses refused, by reason (proposal 0002, 6.3)";

std::string_view source_name(document::DirectorySource::Kind kind) noexcept {
  switch (kind) {
    case document::DirectorySource::Kind::kFallback:
      return "a fallback";
    case document::DirectorySource::Kind::kAuthority:
      return "an authority";
    case document::DirectorySource::Kind::kRelay:
      return "a cache";
  }
  return "a source";
}

Status remove_durably(const std::filesystem::path& path) {
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) {
      return {};
    }
    return file_error("directory file", path, "remove", errno);
  }
  return fsync_parent_directory(path);
}

}  // namespace

Result<std::optional<std::vector<std::uint8_t>>> read_consensus_file(
    const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (ec) {
      return file_error("directory file", path, "stat", ec.value());
    }
    return std::nullopt;
  }
  // One byte past the bound is enough for verify_consensus to say too_large.
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    return file_error("directory file", path, "stat", ec.value());
  }
  if (size > document::kMaxDocument + 1) {
    return make_error(ErrorCategory::kResourceExhausted,
                      fmt::format("directory file {}: {} bytes, at most {}", path.string(), size,
                                  document::kMaxDocument));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return file_error("directory file", path, "open", errno);
  }
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!in) {
    return file_error("directory file", path, "read", errno);
  }
  return std::optional(std::move(bytes));
}

struct DirectoryFetcher::Metrics {
  metrics::Registry* registry = nullptr;
  metrics::Counter* installed = nullptr;
  metrics::Counter* pending = nullptr;
  metrics::Counter* not_modified = nullptr;
  metrics::Counter* refused = nullptr;
  metrics::Counter* failed = nullptr;
};

DirectoryFetcher::DirectoryFetcher(asio::any_io_executor executor, const Clock& wall,
                                   async::TimerService& timers, document::ConsensusTracker& tracker,
                                   DirectoryRequester& requester, document::Period period,
                                   std::filesystem::path data_dir)
    : executor_(std::move(executor)),
      wall_(wall),
      timers_(timers),
      tracker_(tracker),
      period_(period),
      requester_(requester),
      data_dir_(std::move(data_dir)),
      gate_(executor_),
      metrics_(std::make_unique<Metrics>()) {}

DirectoryFetcher::~DirectoryFetcher() { stop(); }

void DirectoryFetcher::publish_metrics(metrics::Registry& registry) {
  metrics_->registry = &registry;
  auto counter = [&](std::string_view result) {
    return &registry.counter(kFetchesName, kFetchesHelp, {{"result", std::string(result)}});
  };
  metrics_->installed = counter("installed");
  metrics_->pending = counter("pending");
  metrics_->not_modified = counter("not_modified");
  metrics_->refused = counter("refused");
  metrics_->failed = counter("failed");
}

std::uint64_t DirectoryFetcher::unix_now() const noexcept {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(wall_.now()).count();
  return seconds > 0 ? static_cast<std::uint64_t>(seconds) : 0;
}

document::LoadReport DirectoryFetcher::load() {
  auto read = [](const std::filesystem::path& path) -> std::optional<std::vector<std::uint8_t>> {
    auto bytes = read_consensus_file(path);
    if (!bytes) {
      log::warn("directory: {} not used: {}", path.filename().string(), bytes.error().message);
      return std::nullopt;
    }
    return std::move(*bytes);
  };
  const auto current = read(current_file());
  const auto next = read(next_file());
  const document::LoadReport report =
      tracker_.load(current ? std::optional<Bytes>(*current) : std::nullopt,
                    next ? std::optional<Bytes>(*next) : std::nullopt, unix_now());
  if (report.current_refused) {
    log::warn("directory: consensus.bin not used: {}", report.current_refused->error.message);
  }
  if (report.next_refused) {
    log::info("directory: consensus-next.bin not kept: {}", report.next_refused->error.message);
  }
  if (report.files_changed) {
    write_files();
  }
  if (tracker_.installed()) {
    installed();
  }
  held();
  return report;
}

void DirectoryFetcher::start() {
  auto holder = gate_.enter();
  if (!holder) {
    return;
  }
  async::spawn(executor_, run(std::move(*holder)), "directory fetcher", cancel_.slot());
}

void DirectoryFetcher::stop() {
  if (gate_.closed()) {
    return;
  }
  gate_.close();
  cancel_.emit(asio::cancellation_type::terminal);
}

asio::awaitable<void> DirectoryFetcher::wait_stopped() { co_await gate_.wait_closed(); }

asio::awaitable<void> DirectoryFetcher::run(async::Gate::Holder holder) {
  async::Timer wake(executor_, timers_);
  // The kind of the last attempt, for a timeout the tracker reports.
  document::DirectorySource::Kind last = document::DirectorySource::Kind::kRelay;
  while (!holder.gate_closed()) {
    const std::uint64_t now = unix_now();
    const document::StepReport report = tracker_.step(now);
    if (report.timed_out) {
      record(*report.timed_out, source_name(last), nullptr);
    }
    if (report.switched) {
      installed();
    }
    if (report.files_changed) {
      write_files();
    }
    if (report.fetch) {
      last = report.fetch->source.kind;
      co_await fetch(*report.fetch, holder);
      continue;
    }
    // At most u asleep: the timers run on another axis than the wall clock,
    // so a clock that jumps is seen within u (section 6.4, "every tick").
    const std::uint64_t wake_at = std::clamp(report.wake_at, now + 1, now + period_.unit());
    // To the second itself (now is rounded down), so a pending consensus is
    // installed at its valid_after, not up to a second later.
    wake.expires_after(std::chrono::seconds(wake_at) - wall_.now());
    if (co_await wake.wait()) {
      break;  // cancelled: stop()
    }
  }
}

asio::awaitable<void> DirectoryFetcher::fetch(const document::FetchAttempt& attempt,
                                              const async::Gate::Holder& holder) {
  const document::DirectorySource::Kind kind = attempt.source.kind;
  // A named request: GCC 12 destroys a temporary in a co_await's operands twice.
  const document::DirectoryRequest request = attempt.request;
  auto reply = co_await requester_.request(attempt.source, request);
  if (holder.gate_closed()) {
    co_return;  // stopped, perhaps destroyed: touch nothing of it
  }
  const std::uint64_t now = unix_now();
  Result<FetchOutcome> outcome = reply ? tracker_.on_reply(*reply, now) : tracker_.on_failure(now);
  if (!outcome) {
    // The tracker timed the attempt out in the meantime; nothing is in flight.
    log::debug("directory: reply after the attempt ended: {}", outcome.error().message);
    co_return;
  }
  record(*outcome, source_name(kind), reply ? nullptr : &reply.error());
  if (apply(*outcome)) {
    attempts_without_news_ = 0;
  } else {
    ++attempts_without_news_;
    warn_if_behind(now);
  }
}

FetchOutcome DirectoryFetcher::offer(Bytes consensus) {
  const FetchOutcome outcome = tracker_.offer(consensus, unix_now());
  record(outcome, "the control socket", nullptr);
  if (apply(outcome)) {
    attempts_without_news_ = 0;
  }
  return outcome;
}

const std::vector<std::uint8_t>* DirectoryFetcher::installed_bytes() const {
  const auto& current = tracker_.installed();
  return current ? &current->encoded : nullptr;
}

bool DirectoryFetcher::apply(const FetchOutcome& outcome) {
  const bool news = outcome.kind == FetchOutcome::Kind::kInstalled ||
                    outcome.kind == FetchOutcome::Kind::kPending;
  if (outcome.kind == FetchOutcome::Kind::kInstalled) {
    installed();
  }
  if (news) {
    held();
  }
  if (outcome.files_changed) {
    write_files();
  }
  return news;
}

void DirectoryFetcher::warn_if_behind(std::uint64_t now) {
  // Sections 6.1 and 6.2: a warning every u at most, not one per attempt.
  if (last_behind_warning_ && now < *last_behind_warning_ + period_.unit()) {
    return;
  }
  const document::ConsensusFreshness freshness = tracker_.freshness(now);
  if (freshness == document::ConsensusFreshness::kNone ||
      freshness == document::ConsensusFreshness::kExpired) {
    log::warn(
        "directory: no valid consensus ({} attempts failed): no circuits can be built until one is "
        "fetched",
        attempts_without_news_);
  } else if (tracker_.expiring_soon(now)) {
    log::warn(
        "directory: the consensus held expires in {} s and no newer one was fetched ({} attempts); "
        "check the authorities",
        period_.valid_until(tracker_.floor().value_or(0)) - now, attempts_without_news_);
  } else {
    return;
  }
  last_behind_warning_ = now;
}

void DirectoryFetcher::record(const FetchOutcome& outcome, std::string_view from,
                              const Error* failure) {
  metrics::Counter* counter = nullptr;
  switch (outcome.kind) {
    case FetchOutcome::Kind::kInstalled:
    case FetchOutcome::Kind::kPending: {
      const bool now = outcome.kind == FetchOutcome::Kind::kInstalled;
      const auto& got = now ? tracker_.installed() : tracker_.pending();
      if (got) {
        log::info("directory: consensus of period {} from {}: {} nodes, {} valid signatures{}",
                  got->consensus.period, from, got->consensus.entries.size(), got->valid_signatures,
                  now ? "" : ", pending");
      }
      ++(now ? counters_.installed : counters_.pending);
      counter = now ? metrics_->installed : metrics_->pending;
      break;
    }
    case FetchOutcome::Kind::kNotModified:
      log::debug("directory: nothing newer from {}", from);
      ++counters_.not_modified;
      counter = metrics_->not_modified;
      break;
    case FetchOutcome::Kind::kConsensusRefused: {
      const bool older =
          outcome.refusal && outcome.refusal->reason == document::ConsensusRefusalReason::kOlder;
      const std::string why = outcome.refusal ? outcome.refusal->error.message : "unknown";
      if (older) {
        log::info("directory: consensus from {} refused: {}", from, why);
      } else {
        log::warn("directory: consensus from {} refused: {}", from, why);
      }
      if (outcome.refusal && metrics_->registry != nullptr) {
        metrics_->registry
            ->counter(kRefusedName, kRefusedHelp,
                      {{"reason", std::string(document::to_string(outcome.refusal->reason))}})
            .inc();
      }
      ++counters_.refused;
      counter = metrics_->refused;
      break;
    }
    case FetchOutcome::Kind::kServerRefused: {
      // The message is the server's, for logs only; it names no client. Its
      // bytes come from the network, so they are escaped.
      const auto& refusal = outcome.server_refusal;
      log::warn("directory: {} refused the request: {}: {:?}", from,
                refusal ? document::to_string(refusal->reason) : "unknown",
                refusal ? refusal->message : std::string());
      ++counters_.refused;
      counter = metrics_->refused;
      break;
    }
    case FetchOutcome::Kind::kNotFound:
      log::info("directory: {} holds no consensus", from);
      ++counters_.failed;
      counter = metrics_->failed;
      break;
    case FetchOutcome::Kind::kBusy:
      log::info("directory: {} is busy", from);
      ++counters_.failed;
      counter = metrics_->failed;
      break;
    case FetchOutcome::Kind::kFailed:
      // Per attempt at info; warn_if_behind warns every u while it matters.
      log::info("directory: fetch from {} failed: {}", from,
                failure != nullptr ? failure->to_string() : std::string("no reply in time"));
      ++counters_.failed;
      counter = metrics_->failed;
      break;
  }
  if (counter != nullptr) {
    counter->inc();
  }
}

void DirectoryFetcher::installed() {
  const auto& current = tracker_.installed();
  if (!current) {
    return;
  }
  log::info("directory: now using the consensus of period {}: {} nodes", current->consensus.period,
            current->consensus.entries.size());
  if (on_install_) {
    on_install_(std::make_shared<const document::Consensus>(current->consensus));
  }
}

void DirectoryFetcher::held() {
  const document::HeldConsensus* newest = nullptr;
  for (const auto* candidate : {&tracker_.installed(), &tracker_.pending()}) {
    if (*candidate &&
        (newest == nullptr || (*candidate)->consensus.period > newest->consensus.period)) {
      newest = &**candidate;
    }
  }
  if (newest == nullptr || (held_period_ && *held_period_ >= newest->consensus.period)) {
    return;
  }
  held_period_ = newest->consensus.period;
  if (on_held_) {
    on_held_(newest->consensus.period,
             std::make_shared<const std::vector<std::uint8_t>>(newest->encoded));
  }
}

void DirectoryFetcher::write_files() {
  const document::ConsensusFiles files = tracker_.files();
  auto check = [this](Status status) {
    if (!status) {
      ++counters_.file_errors;
      log::error("directory: {}", status.error().message);
    }
  };
  // consensus.bin first: a crash between the two leaves the newer floor.
  if (files.current) {
    check(replace_file_durably(current_file(), *files.current, 0600));
  }
  if (files.next) {
    check(replace_file_durably(next_file(), *files.next, 0600));
  } else {
    check(remove_durably(next_file()));
  }
}

}  // namespace nyx::daemon
