#pragma once
// Path selection: picks the hops of a circuit from the directory's nodes
// (proposal 0004 §5.4).
//
// The entry is the caller's guard when it names one (mix/guard_set.hpp).
// The exit is drawn first among exits whose advertised exit rules allow the
// destination, then the other hops among relays, each draw weighted by
// bandwidth; no two hops conflict (mix/path_conflict.hpp: one node, one
// family, one IPv4 /16 or IPv6 /32). Randomness is injected so that tests
// are deterministic. Stateless apart from the injected source; a
// PathSelector is used by one thread at a time.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "document/descriptor.hpp"
#include "mix/path_conflict.hpp"

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

// One of `candidates` with probability proportional to its bandwidth
// weight; null when there are none or all weigh 0.
const document::NodeDescriptor* draw_by_bandwidth(
    std::span<const document::NodeDescriptor* const> candidates, RandomSource& random);

struct PathRequest {
  std::size_t hops = kDefaultHops;
  std::string destination{};  // "host:port" the exit must allow; empty: any exit
  // Hop 0 when set: the circuit's guard (it need not be among the nodes of
  // select()); no other hop conflicts with it, so it is never the exit.
  // Null: the entry is drawn like a middle.
  const document::NodeDescriptor* entry = nullptr;
  SubnetRule subnets = SubnetRule::kEnforce;
};

class PathSelector {
 public:
  explicit PathSelector(RandomSource& random) noexcept : random_(random) {}

  // The hops in order, entry first and exit last (pointers into `nodes`,
  // and request.entry as it was given).
  // kInvalidArgument for a hop count outside 2..7; kNotFound when the
  // directory has no exit for the destination outside the entry's
  // conflicts, or too few relays outside the chosen hops' conflicts (a
  // caller with a guard may retry with its next usable guard, §5.4).
  Result<std::vector<const document::NodeDescriptor*>> select(
      std::span<const document::NodeDescriptor> nodes, const PathRequest& request);

 private:
  RandomSource& random_;
};

}  // namespace nyx::mix
