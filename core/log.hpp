#pragma once
// Logging: one process-wide logger (spdlog behind this wrapper), set up once
// by nyx::log::init() with a level, a destination (stderr or a file) and a
// format (text, or JSON lines for machines).
//
//   nyx::log::info("listening on {}", endpoint.to_string());
//
// A call below the current level costs one relaxed atomic load and a branch;
// its arguments are not formatted. Thread-safe: any thread may log, and init()
// may be called again to reconfigure. Before init(), messages at info and
// above go to stderr as text.
//
// Under systemd (stderr is the stream $JOURNAL_STREAM names), each line on
// stderr starts with its syslog priority, "<3>" error, "<4>" warn, "<6>"
// info, "<7>" debug and trace (sd-daemon(3)), and carries no timestamp: the
// journal keeps its own, and `journalctl -p warning` filters by it.
//
// THE RULE: keys, destinations and payloads never reach a log line.
//  - Secret key types (core/crypto/secret.hpp) cannot be formatted at all:
//    they have no formatter, no operator<< and no begin()/end(), so logging
//    one is a compile error (static_asserts in crypto_secret_test.cpp).
//  - Destinations (the host:port a stream asks for, a circuit's path) and
//    payload bytes (cell, frame and stream contents) are never passed to a
//    log call, not even at trace level; log counts, sizes, ids and errors
//    instead. A public key may be logged (as hex) to name a peer.
//  - Error messages from core/crypto name paths and failures, never key
//    bytes; log_test.cpp checks that no secret reaches captured output.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <iterator>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "core/error.hpp"

namespace nyx::log {

enum class Level : std::uint8_t { kTrace, kDebug, kInfo, kWarn, kError, kOff };

struct LogOptions {
  Level level = Level::kInfo;
  std::filesystem::path file;  // empty: stderr; otherwise appended to
  bool json = false;           // one JSON object per line: {"ts","level","msg"}
};

// Replaces the process's logger. kIo (naming the path) when the file cannot
// be opened; the previous logger then stays in place.
Status init(const LogOptions& options);

// Opens the log file again by its name (after logrotate moved it away), with
// the options of the last init(); nothing to do when logging to stderr.
Status reopen();

// "trace", "debug", "info", "warn", "error" or "off" (for config files and
// command lines); kParse otherwise.
Result<Level> parse_level(std::string_view text);

// Writes buffered lines out (lines at warn and above are flushed at once).
void flush();

namespace detail {
inline std::atomic<Level> current_level{Level::kInfo};
void write(Level level, std::string_view message);
// Whether `journal_stream` ("DEVICE:INODE", as systemd sets
// $JOURNAL_STREAM; may be null) names the file open on `fd`.
bool is_journal_stream(const char* journal_stream, int fd);
}  // namespace detail

inline bool enabled(Level level) noexcept {
  return level >= detail::current_level.load(std::memory_order_relaxed);
}

template <class... Args>
void log(Level level, fmt::format_string<Args...> format, Args&&... args) {
  if (!enabled(level)) {
    return;
  }
  fmt::memory_buffer buffer;
  fmt::format_to(std::back_inserter(buffer), format, std::forward<Args>(args)...);
  detail::write(level, std::string_view(buffer.data(), buffer.size()));
}

template <class... Args>
void trace(fmt::format_string<Args...> format, Args&&... args) {
  log(Level::kTrace, format, std::forward<Args>(args)...);
}
template <class... Args>
void debug(fmt::format_string<Args...> format, Args&&... args) {
  log(Level::kDebug, format, std::forward<Args>(args)...);
}
template <class... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
  log(Level::kInfo, format, std::forward<Args>(args)...);
}
template <class... Args>
void warn(fmt::format_string<Args...> format, Args&&... args) {
  log(Level::kWarn, format, std::forward<Args>(args)...);
}
template <class... Args>
void error(fmt::format_string<Args...> format, Args&&... args) {
  log(Level::kError, format, std::forward<Args>(args)...);
}

}  // namespace nyx::log
