#include "core/assert.hpp"

#include <cstdio>
#include <cstdlib>

#include "core/log.hpp"

namespace nyx {
namespace {

std::atomic<std::uint64_t> g_bugs{0};

}  // namespace

std::uint64_t bug_count() noexcept { return g_bugs.load(std::memory_order_relaxed); }

namespace assert_detail {

void fail(const char* kind, const char* condition, std::string_view message, const char* file,
          int line) noexcept {
  // Straight to stderr, not through the logger: the process is about to
  // die, and the logger may be what is broken or may buffer the line away.
  std::fprintf(stderr, "%s failed at %s:%d: %s: %.*s\n", kind, file, line, condition,
               static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
  std::abort();
}

void bug(const char* condition, std::string_view message, const char* file, int line,
         std::atomic<bool>& logged) noexcept {
  g_bugs.fetch_add(1, std::memory_order_relaxed);
  // Once per call site: a bug on a per-cell path would otherwise flood the log.
  if (!logged.exchange(true, std::memory_order_relaxed)) {
    log::error("NYX_BUG at {}:{}: {}: {} (logged once; nyx_bugs_total counts every one)", file,
               line, condition, message);
  }
}

}  // namespace assert_detail
}  // namespace nyx
