#pragma once
// Path selection: picks the hops of a circuit from the directory's nodes.
//
// The exit is drawn first among exits whose advertised exit rules allow the
// destination, then the other hops among relays, each draw weighted by bandwidth, never
// the same node or the same (non-empty) family twice. Randomness is injected
// so that tests are deterministic. Stateless apart from the injected source;
// a PathSelector is used by one thread at a time.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "document/descriptor.hpp"

namespace nyx::mix {

inline constexpr std::size_t kDefaultHops = 3;
inline constexpr std::size_t kMinHops = 2;
inline constexpr std::size_t kMaxHops = 7;

// Uniform integers for path selection.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Uniform in [0, bound); precondition bound > 0.
  virtual std::uint64_t uniform(std::uint64_t bound) = 0;
};

// The system's CSPRNG (libsodium through core/crypto/random.hpp).
class CryptoRandomSource final : public RandomSource {
 public:
  std::uint64_t uniform(std::uint64_t bound) override;
};

struct PathRequest {
  std::size_t hops = kDefaultHops;
  std::string destination{};  // "host:port" the exit must allow; empty: any exit
};

class PathSelector {
 public:
  explicit PathSelector(RandomSource& random) noexcept : random_(random) {}

  // The hops in order, entry first and exit last (pointers into `nodes`).
  // kInvalidArgument for a hop count outside 2..7; kNotFound when the
  // directory has no exit for the destination or too few eligible relays.
  Result<std::vector<const document::NodeDescriptor*>> select(
      std::span<const document::NodeDescriptor> nodes, const PathRequest& request);

 private:
  RandomSource& random_;
};

}  // namespace nyx::mix
