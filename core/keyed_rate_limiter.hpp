#pragma once
// KeyedRateLimiter: one token bucket per key (peer, source address), with
// bounded memory. The owner (a listener, a link manager) keeps it alive
// longer than the Clock it was given.
//
// Thread-safe behind one internal mutex; give each shard its own instance so
// that the mutex is never contended. Every call reads the clock once (the
// lookup and the lock cost more than the clock here, and exact times keep the
// eviction rule below sound).
//
// Memory: at most max_keys entries. A key is forgotten only when its bucket
// is full again, because a forgotten key comes back with a full bucket: so
// forgetting never hands out extra tokens, and no one can reset their own
// limit by flooding the table with new keys. Keys idle for idle_expiry (and
// full) are dropped as calls pass by; when the table is full, a new key
// takes the place of the least recently used key if that one is full,
// otherwise the new key is REFUSED. Refusing (rather than sharing one bucket
// among newcomers, or evicting an active key) keeps every admitted key's
// limit exact under a flood; the cost is that new keys wait until an entry
// has been idle for burst / rate, which is the right trade for a limiter
// whose job is to hold under attack.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <unordered_map>

#include "core/clock.hpp"
#include "core/detail/gcra.hpp"

namespace nyx {

template <class Key, class Hash = std::hash<Key>>
class KeyedRateLimiter {
 public:
  // Every key's bucket has the same rate and burst and starts full.
  KeyedRateLimiter(const Clock& clock, double tokens_per_second, std::uint64_t burst,
                   std::size_t max_keys, Nanos idle_expiry)
      : clock_(&clock),
        interval_(detail::gcra::interval_for(tokens_per_second, burst)),
        tau_(detail::gcra::tau_for(burst, interval_)),
        idle_expiry_(std::clamp<std::int64_t>(idle_expiry.count(), 0,
                                              detail::gcra::kMaxTau / detail::gcra::kUnitsPerNano) *
                     detail::gcra::kUnitsPerNano),
        max_keys_(max_keys) {
    index_.reserve(max_keys);
  }

  // Takes n tokens from key's bucket; false if it lacks them, if n > burst,
  // or if key is new and the table is full of keys still owing tokens.
  bool try_acquire(const Key& key, std::uint64_t n = 1) {
    if (n == 0) {
      return true;
    }
    const std::int64_t cost = detail::gcra::cost_for(n, interval_, tau_);
    if (cost < 0) {
      return false;
    }
    const std::uint64_t now = detail::gcra::to_units(clock_->now());
    std::lock_guard lock(mu_);
    expire(now);
    auto found = index_.find(key);
    Entry* entry = nullptr;
    if (found != index_.end()) {
      lru_.splice(lru_.begin(), lru_, found->second);
      entry = &*found->second;
    } else {
      if (lru_.size() >= max_keys_) {
        if (lru_.empty() || !forgettable(lru_.back(), now)) {
          return false;
        }
        index_.erase(lru_.back().key);
        lru_.pop_back();
      }
      lru_.push_front(Entry{key, now - static_cast<std::uint64_t>(tau_), now});
      index_.emplace(key, lru_.begin());
      entry = &lru_.front();
    }
    entry->last_used = now;
    const std::int64_t credit = detail::gcra::credit(now, entry->z, tau_);
    if (credit < cost) {
      return false;
    }
    entry->z = now - static_cast<std::uint64_t>(credit - cost);
    return true;
  }

  // Keys tracked now.
  std::size_t size() const {
    std::lock_guard lock(mu_);
    return lru_.size();
  }

 private:
  struct Entry {
    Key key;
    std::uint64_t z;          // when this key's bucket is empty (gcra.hpp)
    std::uint64_t last_used;  // fixed point, on the same axis
  };

  bool forgettable(const Entry& entry, std::uint64_t now) const {
    return detail::gcra::credit(now, entry.z, tau_) == tau_;
  }

  // Drops idle, full keys from the cold end; amortised O(1) per call.
  void expire(std::uint64_t now) {
    while (!lru_.empty()) {
      const Entry& oldest = lru_.back();
      if (static_cast<std::int64_t>(now - oldest.last_used) < idle_expiry_ ||
          !forgettable(oldest, now)) {
        return;
      }
      index_.erase(oldest.key);
      lru_.pop_back();
    }
  }

  const Clock* clock_;
  const std::int64_t interval_;
  const std::int64_t tau_;
  const std::int64_t idle_expiry_;  // fixed point
  const std::size_t max_keys_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<Key, typename std::list<Entry>::iterator, Hash> index_;
};

}  // namespace nyx
