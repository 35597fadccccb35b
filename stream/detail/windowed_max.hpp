#pragma once
// A running maximum over a sliding window of "time" (rounds, here), in O(1)
// space and time: Kathleen Nichols' three-sample algorithm, as Linux's
// lib/win_minmax.c and google/quiche's windowed_filter.h use it for BBR.
// It keeps the best, second-best and third-best samples of successive
// sub-windows, so when the best ages out the next one is already there.
//
// Value type; not thread-safe.

#include <array>
#include <cstdint>

namespace nyx::stream::detail {

template <class T>
class WindowedMax {
 public:
  explicit WindowedMax(std::uint64_t window) noexcept : window_(window) {}

  T get() const noexcept { return s_[0].value; }

  void reset(T value, std::uint64_t time) noexcept { s_.fill(Sample{value, time}); }

  // A sample at `time` (non-decreasing from call to call).
  void update(T value, std::uint64_t time) noexcept {
    const Sample sample{value, time};
    // A new overall best, or the window has passed since the best: start over.
    if (value >= s_[0].value || time - s_[2].time > window_) {
      s_.fill(sample);
      return;
    }
    if (value >= s_[1].value) {
      s_[1] = s_[2] = sample;
    } else if (value >= s_[2].value) {
      s_[2] = sample;
    }
    age(sample);
  }

 private:
  struct Sample {
    T value{};
    std::uint64_t time = 0;
  };

  // Promotes the runners-up as the best ones leave the window, and keeps
  // the three spread over it (a quarter and a half of the window apart).
  void age(const Sample& sample) noexcept {
    const std::uint64_t dt = sample.time - s_[0].time;
    if (dt > window_) {
      s_[0] = s_[1];
      s_[1] = s_[2];
      s_[2] = sample;
      if (sample.time - s_[0].time > window_) {
        s_[0] = s_[1];
        s_[1] = s_[2];
        s_[2] = sample;
      }
    } else if (s_[1].time == s_[0].time && dt > window_ / 4) {
      s_[1] = s_[2] = sample;
    } else if (s_[2].time == s_[1].time && dt > window_ / 2) {
      s_[2] = sample;
    }
  }

  std::uint64_t window_;
  std::array<Sample, 3> s_{};
};

}  // namespace nyx::stream::detail
