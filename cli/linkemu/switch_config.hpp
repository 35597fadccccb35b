#pragma once
// What the switch emulates: its ports (one per test host), the host access
// shapers and the per-link parameters, as JSON (DIR/emulator.json, written by
// the test-host code, read by `nyxctl testnet switch --config`). Times are
// integer microseconds, rates bits per second, loss and reorder fractions:
//
//   {"seed": 1, "stats": "/path/emulator-stats.json",
//    "default_link": {"delay_us": 20000, "jitter_us": 0, "jitter_tau_us": 20000,
//                     "loss": 0.0, "reorder": 0.0, "reorder_gap_us": 0},
//    "hosts": [{"name": "client", "index": 1, "port": "p1",
//               "up": {"rate_bps": 50000000, "queue_bytes": 0, "queue_us": 50000},
//               "down": {...}}, ...],
//    "links": [{"from": 1, "to": 2, "delay_us": ..., ...}, ...]}
//
// "links" entries override "default_link" for one direction (host indices).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/linkemu/link_model.hpp"
#include "core/error.hpp"

namespace nyx::linkemu {

struct SwitchHost {
  std::string name;
  int index = 0;     // K: address 10.77.0.K, MAC 02:4e:59:00:00:KK
  std::string port;  // the hub's veth end, p<K>
  HostParams params;
};

struct SwitchLink {
  int from = 0;  // host indices
  int to = 0;
  LinkParams params;
};

struct SwitchConfig {
  std::uint64_t seed = 1;
  std::string stats_path;  // written on SIGUSR1 and at exit; empty: none
  LinkParams default_link;
  std::vector<SwitchHost> hosts;
  std::vector<SwitchLink> links;

  // The parameters of link from -> to (host indices).
  LinkParams link(int from, int to) const;
};

Result<SwitchConfig> parse_switch_config(std::string_view json);
std::string to_json(const SwitchConfig& config);

}  // namespace nyx::linkemu
