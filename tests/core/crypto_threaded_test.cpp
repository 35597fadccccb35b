// Crypto from many threads at once. Each test runs in its own process (the
// tests are discovered one by one), so the first libsodium call really does
// race here: initialisation must happen exactly once and before any use.

#include <array>
#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/crypto/aead.hpp"
#include "core/crypto/blake2b.hpp"
#include "core/crypto/random.hpp"
#include "core/crypto/x25519.hpp"

namespace nyx::crypto {
namespace {

constexpr int kThreads = 4;
constexpr int kRounds = 50;

TEST(CryptoThreaded, FirstUseFromManyThreads) {
  std::atomic<int> failures{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      while (!go.load(std::memory_order_acquire)) {
      }
      for (int round = 0; round < kRounds; ++round) {
        const auto a = X25519KeyPair::generate();
        const auto b = X25519KeyPair::generate();
        std::array<std::uint8_t, 32> ab{};
        std::array<std::uint8_t, 32> ba{};
        if (!x25519(ab, a.secret.span(), b.public_key) ||
            !x25519(ba, b.secret.span(), a.public_key) || ab != ba) {
          failures.fetch_add(1);
          continue;
        }
        std::array<std::uint8_t, 32> key{};
        kdf(key, ab, "threaded test");
        std::array<std::uint8_t, 12> nonce{};
        random_bytes(nonce);
        const std::array<std::uint8_t, 5> message{1, 2, 3, 4, 5};
        std::array<std::uint8_t, message.size() + kAeadTagSize> sealed{};
        aead_seal(key, nonce, {}, message, sealed);
        std::array<std::uint8_t, message.size()> opened{};
        if (!aead_open(key, nonce, {}, sealed, opened) || opened != message) {
          failures.fetch_add(1);
        }
      }
    });
  }
  go.store(true, std::memory_order_release);
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace nyx::crypto
