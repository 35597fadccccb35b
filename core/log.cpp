#include "core/log.hpp"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <shared_mutex>

#include <fmt/chrono.h>
#include <nlohmann/json.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <sys/stat.h>
#include <unistd.h>

namespace nyx::log {

namespace {

constexpr std::string_view kLevelNames[] = {"trace", "debug", "info", "warn", "error", "off"};

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::kTrace:
      return spdlog::level::trace;
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
    case Level::kOff:
      break;
  }
  return spdlog::level::off;
}

std::string_view name_of(Level level) { return kLevelNames[static_cast<std::size_t>(level)]; }

// The syslog priority sd-daemon(3) reads from a "<N>" line prefix.
int syslog_priority(Level level) {
  switch (level) {
    case Level::kError:
      return 3;
    case Level::kWarn:
      return 4;
    case Level::kInfo:
      return 6;
    case Level::kTrace:
    case Level::kDebug:
    case Level::kOff:
      break;
  }
  return 7;
}

// Text lines carry spdlog's timestamp and our level name (the one
// parse_level() reads); JSON lines are built whole by format_json(), so
// spdlog prints them as they are.
// The journal stamps each line itself, so lines going there carry none.
constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%e%z %v";
constexpr const char* kJsonPattern = "%v";

// Writers hold the mutex shared for the whole write, init() holds it
// exclusively: a logger being replaced finishes and flushes every line before
// its successor writes one, even when both open the same file (each has its
// own stdio buffer, so two writing at once would split lines).
struct State {
  std::shared_mutex mutex;
  std::shared_ptr<spdlog::logger> logger;
  LogOptions options;
  bool journal = false;  // stderr is systemd's journal stream
};

std::shared_ptr<spdlog::logger> make_logger(spdlog::sink_ptr sink, bool plain) {
  auto logger = std::make_shared<spdlog::logger>("nyx", std::move(sink));
  logger->set_pattern(plain ? kJsonPattern : kTextPattern);
  logger->set_level(spdlog::level::trace);  // filtering happens in enabled()
  logger->flush_on(spdlog::level::warn);
  return logger;
}

// Never destroyed: threads and static destructors may log during exit.
State& state() {
  static State* const instance = [] {
    auto* s = new State;
    s->logger = make_logger(std::make_shared<spdlog::sinks::stderr_sink_mt>(), false);
    return s;
  }();
  return *instance;
}

std::string format_json(Level level, std::string_view message) {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  nlohmann::json line{
      {"ts", fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", fmt::gmtime(now), ms.count() % 1000)},
      {"level", name_of(level)},
      // Invalid UTF-8 is replaced, not thrown on: a message may quote input.
      {"msg", message},
  };
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Status init(const LogOptions& options) {
  spdlog::sink_ptr sink;
  if (options.file.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    // spdlog reports a file it cannot open by exception; it stops here.
    try {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file.string(),
                                                                 /*truncate=*/false);
    } catch (const spdlog::spdlog_ex& e) {
      return make_error(ErrorCategory::kIo,
                        fmt::format("log file {}: {}", options.file.string(), e.what()));
    }
  }
  const bool journal = options.file.empty() &&
                       detail::is_journal_stream(std::getenv("JOURNAL_STREAM"), STDERR_FILENO);
  auto logger = make_logger(std::move(sink), options.json || journal);
  auto& s = state();
  {
    const std::unique_lock lock(s.mutex);
    if (s.logger) {
      s.logger->flush();
    }
    s.logger = std::move(logger);
    s.options = options;
    s.journal = journal;
  }
  detail::current_level.store(options.level, std::memory_order_relaxed);
  return {};
}

Result<Level> parse_level(std::string_view text) {
  for (std::size_t i = 0; i < std::size(kLevelNames); ++i) {
    if (text == kLevelNames[i]) {
      return static_cast<Level>(i);
    }
  }
  return make_error(ErrorCategory::kParse,
                    "log level must be trace, debug, info, warn, error or off");
}

Status reopen() {
  LogOptions options;
  {
    auto& s = state();
    const std::shared_lock lock(s.mutex);
    options = s.options;
  }
  if (options.file.empty()) {
    return {};
  }
  return init(options);
}

void flush() {
  auto& s = state();
  const std::shared_lock lock(s.mutex);
  s.logger->flush();
}

namespace detail {

void write(Level level, std::string_view message) {
  if (level == Level::kOff) {
    return;
  }
  auto& s = state();
  const std::shared_lock lock(s.mutex);
  spdlog::logger& logger = *s.logger;
  if (s.journal && s.options.json) {
    logger.log(to_spdlog(level), "<{}>{}", syslog_priority(level), format_json(level, message));
  } else if (s.journal) {
    logger.log(to_spdlog(level), "<{}>[{}] {}", syslog_priority(level), name_of(level), message);
  } else if (s.options.json) {
    logger.log(to_spdlog(level), "{}", format_json(level, message));
  } else {
    logger.log(to_spdlog(level), "[{}] {}", name_of(level), message);
  }
}

bool is_journal_stream(const char* journal_stream, int fd) {
  if (journal_stream == nullptr) {
    return false;
  }
  std::uintmax_t device = 0;
  std::uintmax_t inode = 0;
  if (std::sscanf(journal_stream, "%" SCNuMAX ":%" SCNuMAX, &device, &inode) != 2) {
    return false;
  }
  struct stat st {};
  return ::fstat(fd, &st) == 0 && static_cast<std::uintmax_t>(st.st_dev) == device &&
         static_cast<std::uintmax_t>(st.st_ino) == inode;
}

}  // namespace detail

}  // namespace nyx::log
