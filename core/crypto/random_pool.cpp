#include "core/crypto/random_pool.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "core/crypto/random.hpp"
#include "core/crypto/secret.hpp"

namespace nyx::crypto {
namespace {

class RandomPool {
 public:
  ~RandomPool() { detail::secure_zero(bytes_.data(), bytes_.size()); }

  void take(MutableBytes out) noexcept {
    std::size_t done = 0;
    while (done < out.size()) {
      if (used_ == bytes_.size()) {
        random_bytes(bytes_);
        used_ = 0;
      }
      const std::size_t n = std::min(out.size() - done, bytes_.size() - used_);
      std::memcpy(out.data() + done, bytes_.data() + used_, n);
      detail::secure_zero(bytes_.data() + used_, n);
      used_ += n;
      done += n;
    }
  }

 private:
  std::array<std::uint8_t, 4096> bytes_{};
  std::size_t used_ = bytes_.size();
};

RandomPool& pool() noexcept {
  thread_local RandomPool instance;
  return instance;
}

}  // namespace

void pooled_random_bytes(MutableBytes out) noexcept { pool().take(out); }

std::uint32_t pooled_random_uniform(std::uint32_t bound) noexcept {
  if (bound == 0) {
    detail::precondition_failed("pooled_random_uniform: bound must be positive");
  }
  // Values below 2^32 mod bound would make the low residues likelier.
  const std::uint32_t floor = static_cast<std::uint32_t>(-bound) % bound;
  for (;;) {
    std::uint32_t value = 0;
    pool().take(MutableBytes(reinterpret_cast<std::uint8_t*>(&value), sizeof value));
    if (value >= floor) {
      return value % bound;
    }
  }
}

}  // namespace nyx::crypto
