#pragma once
// A set of disjoint half-open ranges [start, end) of 64-bit numbers, kept
// sorted in a vector. The session keeps one per stream direction and one for
// packet numbers; each holds a handful of ranges (one per hole), so a vector
// beats a tree and allocates only when it grows.

#include <algorithm>
#include <cstdint>
#include <vector>

namespace nyx::stream::detail {

struct Range {
  std::uint64_t start = 0;
  std::uint64_t end = 0;  // exclusive
};

class RangeSet {
 public:
  bool empty() const noexcept { return ranges_.empty(); }
  std::size_t size() const noexcept { return ranges_.size(); }
  const Range& front() const noexcept { return ranges_.front(); }
  const Range& back() const noexcept { return ranges_.back(); }
  const std::vector<Range>& ranges() const noexcept { return ranges_; }
  void clear() noexcept { ranges_.clear(); }

  bool contains(std::uint64_t v) const noexcept {
    auto it = upper(v);
    return it != ranges_.begin() && std::prev(it)->end > v;
  }

  // Adds [start, end), merging with neighbours it touches or overlaps.
  void add(std::uint64_t start, std::uint64_t end) {
    if (start >= end) {
      return;
    }
    // Fast path: appending at or after the last range (in-order traffic).
    if (ranges_.empty() || start > ranges_.back().end) {
      ranges_.push_back({start, end});
      return;
    }
    if (start >= ranges_.back().start) {
      ranges_.back().end = std::max(ranges_.back().end, end);
      return;
    }
    // First range whose end reaches start, last whose start is within end.
    auto first = std::lower_bound(ranges_.begin(), ranges_.end(), start,
                                  [](const Range& r, std::uint64_t v) { return r.end < v; });
    auto last = first;
    while (last != ranges_.end() && last->start <= end) {
      ++last;
    }
    if (first == last) {
      ranges_.insert(first, {start, end});
      return;
    }
    first->start = std::min(first->start, start);
    first->end = std::max(std::prev(last)->end, end);
    ranges_.erase(first + 1, last);
  }

  // Removes [start, end).
  void remove(std::uint64_t start, std::uint64_t end) {
    if (start >= end || ranges_.empty()) {
      return;
    }
    auto it = std::lower_bound(ranges_.begin(), ranges_.end(), start,
                               [](const Range& r, std::uint64_t v) { return r.end <= v; });
    while (it != ranges_.end() && it->start < end) {
      if (it->start < start && it->end > end) {
        const Range tail{end, it->end};
        it->end = start;
        ranges_.insert(it + 1, tail);
        return;
      }
      if (it->start < start) {
        it->end = start;
        ++it;
      } else if (it->end > end) {
        it->start = end;
        return;
      } else {
        it = ranges_.erase(it);
      }
    }
  }

  // Drops everything below v.
  void remove_below(std::uint64_t v) {
    if (!ranges_.empty() && ranges_.front().start < v) {
      remove(0, v);
    }
  }

  // Calls f(start, end) for each part of [start, end) not in the set.
  template <class F>
  void for_each_gap(std::uint64_t start, std::uint64_t end, F&& f) const {
    auto it = std::lower_bound(ranges_.begin(), ranges_.end(), start,
                               [](const Range& r, std::uint64_t v) { return r.end <= v; });
    std::uint64_t pos = start;
    while (pos < end) {
      if (it == ranges_.end() || it->start >= end) {
        f(pos, end);
        return;
      }
      if (it->start > pos) {
        f(pos, it->start);
      }
      pos = std::max(pos, it->end);
      ++it;
    }
  }

 private:
  std::vector<Range>::const_iterator upper(std::uint64_t v) const noexcept {
    return std::upper_bound(ranges_.begin(), ranges_.end(), v,
                            [](std::uint64_t x, const Range& r) { return x < r.start; });
  }

  std::vector<Range> ranges_;
};

}  // namespace nyx::stream::detail
