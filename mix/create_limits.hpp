#pragma once
// CreateLimits: the rates and bursts of CREATE admission (mix/create_admission.hpp),
// in CREATEs per second and CREATEs. The defaults are the config's
// (mix.create_*, docs/nyxd.example.toml); the per-address ones are Tor's
// DoSCircuitCreationRate and DoSCircuitCreationBurst. A plain value.

#include <cstdint>

namespace nyx::mix {

struct CreateLimits {
  double rate_per_address = 3;  // each client address (IPv4 /32, IPv6 /64)
  std::uint64_t burst_per_address = 90;
  double rate_per_relay = 200;  // each relay of the installed directory
  std::uint64_t burst_per_relay = 400;
  double rate_max = 2000;  // the whole node
  std::uint64_t burst_max = 2000;

  bool operator==(const CreateLimits&) const = default;
};

}  // namespace nyx::mix
