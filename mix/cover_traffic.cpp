#include "mix/cover_traffic.hpp"

#include <cmath>
#include <cstdint>

namespace nyx::mix {

Nanos exponential_delay(Nanos mean, RandomSource& random) {
  constexpr std::uint64_t kSteps = std::uint64_t{1} << 53;
  const double u = static_cast<double>(random.uniform(kSteps) + 1) / static_cast<double>(kSteps);
  return Nanos{static_cast<std::int64_t>(-std::log(u) * static_cast<double>(mean.count()))};
}

std::size_t CoverTraffic::take_due(Nanos now, RandomSource& random) {
  if (rate_ <= 0) {
    return 0;
  }
  // From the rate of now, so a changed rate holds from the next gap on.
  const Nanos mean{static_cast<std::int64_t>(1e9 / rate_)};
  if (next_ == Nanos{0}) {
    next_ = now + exponential_delay(mean, random);
  }
  std::size_t due = 0;
  while (next_ <= now) {
    ++due;
    next_ += exponential_delay(mean, random);
  }
  return due;
}

}  // namespace nyx::mix
