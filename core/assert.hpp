#pragma once
// Three levels of assertion, as Envoy's ASSERT, RELEASE_ASSERT and ENVOY_BUG:
//
//   NYX_ASSERT(cond, "why")          debug builds only (compiled out under
//       NDEBUG, which the release and fuzz presets define: the dev, ASan and
//       TSan builds evaluate it): an invariant on a hot path that tests and
//       fuzzing should break if anything does.
//   NYX_RELEASE_ASSERT(cond, "why")  always: an invariant whose breach would
//       corrupt memory or state if the process went on. Aborts with
//       file:line, the condition and the message.
//   NYX_BUG(cond, "why")             a bug the process can survive because
//       the caller drops what it was doing or repairs it (the caller must
//       handle the condition being false). Debug builds abort as
//       NYX_RELEASE_ASSERT does; release builds log the first failure at each
//       call site at error level and count every failure (bug_count(),
//       exported as nyx_bugs_total by core/metrics/process_metrics.hpp).
//
// The message is a string literal or a string_view; it is only looked at
// when the condition is false. Thread-safe.

#include <atomic>
#include <cstdint>
#include <string_view>

namespace nyx {

// NYX_BUG failures this process survived (release builds); any thread.
std::uint64_t bug_count() noexcept;

namespace assert_detail {

// Prints "<kind> failed at file:line: condition: message" to stderr and aborts.
[[noreturn]] void fail(const char* kind, const char* condition, std::string_view message,
                       const char* file, int line) noexcept;

// The release-build NYX_BUG: counts the failure, and logs it unless `logged`
// (one flag per call site) says this site already did.
void bug(const char* condition, std::string_view message, const char* file, int line,
         std::atomic<bool>& logged) noexcept;

}  // namespace assert_detail
}  // namespace nyx

#define NYX_RELEASE_ASSERT(condition, message)                                                   \
  do {                                                                                           \
    if (!(condition)) [[unlikely]] {                                                             \
      ::nyx::assert_detail::fail("NYX_RELEASE_ASSERT", #condition, message, __FILE__, __LINE__); \
    }                                                                                            \
  } while (false)

#ifdef NDEBUG

#define NYX_ASSERT(condition, message) \
  do {                                 \
    (void)sizeof(!(condition));        \
  } while (false)

#define NYX_BUG(condition, message)                                                       \
  do {                                                                                    \
    if (!(condition)) [[unlikely]] {                                                      \
      static std::atomic<bool> nyx_bug_logged = false;                                    \
      ::nyx::assert_detail::bug(#condition, message, __FILE__, __LINE__, nyx_bug_logged); \
    }                                                                                     \
  } while (false)

#else

#define NYX_ASSERT(condition, message)                                                   \
  do {                                                                                   \
    if (!(condition)) [[unlikely]] {                                                     \
      ::nyx::assert_detail::fail("NYX_ASSERT", #condition, message, __FILE__, __LINE__); \
    }                                                                                    \
  } while (false)

#define NYX_BUG(condition, message)                                                   \
  do {                                                                                \
    if (!(condition)) [[unlikely]] {                                                  \
      ::nyx::assert_detail::fail("NYX_BUG", #condition, message, __FILE__, __LINE__); \
    }                                                                                 \
  } while (false)

#endif
