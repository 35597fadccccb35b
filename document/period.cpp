#include "document/period.hpp"

#include <limits>

#include <fmt/format.h>

namespace nyx::document {
namespace {

constexpr std::uint64_t kDay = 86'400;
constexpr std::uint64_t kMinPeriod = 24;
constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
  return a > kNever - b ? kNever : a + b;
}

std::unexpected<Error> bad_config(std::string message) {
  return make_error(ErrorCategory::kConfig, std::move(message));
}

}  // namespace

Result<Period> Period::from_seconds(std::uint64_t seconds) {
  if (seconds < kMinPeriod) {
    return bad_config(fmt::format("period {} s: at least {} s", seconds, kMinPeriod));
  }
  if (seconds % 12 != 0) {
    return bad_config(fmt::format("period {} s: not a multiple of 12 s", seconds));
  }
  if (kDay % seconds != 0) {
    return bad_config(fmt::format("period {} s: does not divide a day ({} s)", seconds, kDay));
  }
  return Period(static_cast<std::uint32_t>(seconds));  // at most a day: fits
}

std::uint64_t Period::start(std::uint64_t p) const noexcept {
  return p > kNever / seconds_ ? kNever : p * seconds_;
}

std::uint64_t Period::fresh_until(std::uint64_t q) const noexcept {
  return start(saturating_add(q, 1));
}

std::uint64_t Period::valid_until(std::uint64_t q) const noexcept {
  return start(saturating_add(q, 2));
}

std::uint64_t Period::upload_target(std::uint64_t now) const noexcept {
  return saturating_add(epoch(saturating_add(now, 5 * unit())), 1);
}

Status check_clock_skew(const Period& period, std::uint64_t skew) {
  if (skew > period.unit()) {
    return bad_config(
        fmt::format("clock skew {} s: at most period/12 = {} s", skew, period.unit()));
  }
  const std::uint64_t needed = 2 * skew + kCircuitSetupSeconds;
  if (needed > period.seconds() / 2) {
    return bad_config(
        fmt::format("clock skew {} s: 2·skew + {} s = {} s, more than period/2 = {} s", skew,
                    kCircuitSetupSeconds, needed, period.seconds() / 2));
  }
  return {};
}

}  // namespace nyx::document
