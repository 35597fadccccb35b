#pragma once
// MetricsAllowList: the client addresses that may scrape /metrics
// (metrics.allow), as IPv4 and IPv6 addresses or CIDR ranges. The default,
// loopback(), is 127.0.0.0/8 and ::1. An IPv4-mapped IPv6 client
// (::ffff:a.b.c.d, as a dual-stack listener sees IPv4 peers) is checked as
// the IPv4 address it carries. Immutable after parse(); safe to share.

#include <string>
#include <vector>

#include "core/error.hpp"
#include "daemon/exit_address_policy.hpp"

namespace nyx::daemon {

class MetricsAllowList {
 public:
  // Each entry is an address ("192.0.2.7", "::1") or a range ("10.0.0.0/8",
  // "fd00::/8"); kConfig naming the first bad entry, also for an empty list
  // (nobody could scrape) and for bits set past the prefix (10.1.2.3/8).
  static Result<MetricsAllowList> parse(const std::vector<std::string>& entries);
  static MetricsAllowList loopback();

  bool allows(const IpAddress& client) const noexcept;

 private:
  struct Range {
    IpAddress network;
    unsigned prefix_bits = 0;
  };
  std::vector<Range> ranges_;
};

}  // namespace nyx::daemon
