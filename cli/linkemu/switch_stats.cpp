#include "cli/linkemu/switch_stats.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/resource.h>

namespace nyx::linkemu {
namespace {

using nlohmann::json;

struct PortTotals {
  json ports = json::array();
  std::uint64_t ring_drops = 0;
  std::uint64_t tx_errors = 0;
};

PortTotals ports_json(std::span<const PortStats> ports, const std::vector<SwitchHost>& hosts) {
  PortTotals totals;
  for (const auto& port : ports) {
    totals.ring_drops += port.ring_drops;
    totals.tx_errors += port.tx_errors;
    totals.ports.push_back({{"port", port.name},
                            {"host", hosts[port.host].name},
                            {"received", port.received},
                            {"sent", port.sent},
                            {"ring_drops", port.ring_drops},
                            {"tx_errors", port.tx_errors}});
  }
  return totals;
}

struct LinkTotals {
  json links = json::array();    // the links that carried packets
  Nanos smallest_delay = 0;      // of every link with a delay, used or not
  std::uint64_t loss_drops = 0;  // of every link
};

LinkTotals links_json(const LinkModel& model, const std::vector<SwitchHost>& hosts) {
  LinkTotals totals;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    for (std::size_t j = 0; j < hosts.size(); ++j) {
      if (i == j) {
        continue;
      }
      const auto& params = model.link(i, j);
      if (params.delay > 0 &&
          (totals.smallest_delay == 0 || params.delay < totals.smallest_delay)) {
        totals.smallest_delay = params.delay;
      }
      const auto& c = model.link_counters(i, j);
      totals.loss_drops += c.loss_drops;
      if (c.packets == 0) {
        continue;
      }
      totals.links.push_back({{"from", hosts[i].name},
                              {"to", hosts[j].name},
                              {"packets", c.packets},
                              {"bytes", c.bytes},
                              {"loss_drops", c.loss_drops},
                              {"reordered", c.reordered}});
    }
  }
  return totals;
}

json shaper_json(const ShaperCounters& c) {
  return json{{"packets", c.packets},
              {"bytes", c.bytes},
              {"queue_drops", c.queue_drops},
              {"max_queue_bytes", c.max_backlog_bytes}};
}

json hosts_json(const LinkModel& model, const std::vector<SwitchHost>& hosts,
                std::uint64_t& queue_drops) {
  json out = json::array();
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    queue_drops += model.up_counters(i).queue_drops + model.down_counters(i).queue_drops;
    out.push_back({{"host", hosts[i].name},
                   {"up", shaper_json(model.up_counters(i))},
                   {"down", shaper_json(model.down_counters(i))}});
  }
  return out;
}

// docs/proposals/0003 §2.4.6: the run's results are attributable only if the
// emulator kept up. Empty when it did.
std::vector<std::string> verdict_reasons(const SwitchStats& stats, const PortTotals& ports,
                                         Nanos smallest_delay) {
  std::vector<std::string> reasons;
  const std::int64_t p99 = stats.lateness.quantile_us(0.99);
  const std::int64_t p999 = stats.lateness.quantile_us(0.999);
  // p99 within min(1 ms, 5 % of the smallest link delay) (proposal §2.4.6),
  // but never asked below 100 us.
  std::int64_t p99_limit = 1000;
  if (smallest_delay > 0) {
    p99_limit = std::min<std::int64_t>(p99_limit, smallest_delay / kMicro / 20);
  }
  p99_limit = std::max<std::int64_t>(p99_limit, 100);
  const std::uint64_t ring_drops = stats.ring_drops + ports.ring_drops;
  if (ring_drops > 0) {
    reasons.push_back(fmt::format("{} ring drops", ring_drops));
  }
  if (ports.tx_errors > 0) {
    reasons.push_back(fmt::format("{} transmit errors", ports.tx_errors));
  }
  if (stats.pool_drops > 0) {
    reasons.push_back(fmt::format("{} pool drops", stats.pool_drops));
  }
  if (stats.clock_steps > 0) {
    reasons.push_back(fmt::format("{} clock steps", stats.clock_steps));
  }
  if (p99 > p99_limit) {
    reasons.push_back(fmt::format("p99 lateness {} us > {} us", p99, p99_limit));
  }
  if (p999 > 5000) {
    reasons.push_back(fmt::format("p99.9 lateness {} us > 5 ms", p999));
  }
  if (stats.lateness.max_us() > 20000) {
    reasons.push_back(fmt::format("max lateness {} us > 20 ms", stats.lateness.max_us()));
  }
  return reasons;
}

double cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

void write_atomically(const std::string& path, const json& stats) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << stats.dump(2) << '\n';
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
}

}  // namespace

void LatencyHistogram::add(Nanos value) {
  const Nanos us = std::max<Nanos>(value, 0) / kMicro;
  std::size_t bucket = 0;
  if (us < 1000) {
    bucket = static_cast<std::size_t>(us / 10);
  } else if (us < 10000) {
    bucket = 100 + static_cast<std::size_t>((us - 1000) / 100);
  } else if (us < 100000) {
    bucket = 190 + static_cast<std::size_t>((us - 10000) / 1000);
  } else {
    bucket = kBuckets - 1;
  }
  ++counts_[bucket];
  ++total_;
  max_ = std::max(max_, value);
}

std::int64_t LatencyHistogram::quantile_us(double q) const {
  if (total_ == 0) {
    return 0;
  }
  const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < kBuckets; ++b) {
    seen += counts_[b];
    if (seen >= rank) {
      return std::min(upper_us(b), max_ / kMicro);
    }
  }
  return max_ / kMicro;
}

std::int64_t LatencyHistogram::upper_us(std::size_t bucket) {
  if (bucket < 100) {
    return static_cast<std::int64_t>(bucket + 1) * 10;
  }
  if (bucket < 190) {
    return 1000 + static_cast<std::int64_t>(bucket - 99) * 100;
  }
  if (bucket < 280) {
    return 10000 + static_cast<std::int64_t>(bucket - 189) * 1000;
  }
  return std::numeric_limits<std::int64_t>::max();
}

void write_switch_stats(const SwitchConfig& config, const LinkModel& model,
                        std::span<const PortStats> ports, const SwitchStats& stats, bool ring,
                        Nanos elapsed) {
  if (config.stats_path.empty()) {
    return;
  }
  PortTotals port_totals = ports_json(ports, config.hosts);
  LinkTotals link_totals = links_json(model, config.hosts);
  std::uint64_t queue_drops = 0;
  json host_stats = hosts_json(model, config.hosts, queue_drops);
  const auto reasons = verdict_reasons(stats, port_totals, link_totals.smallest_delay);
  const double wall_s = static_cast<double>(elapsed) / static_cast<double>(kSecond);
  const auto& lateness = stats.lateness;
  const auto& ingest_lag = stats.ingest_lag;
  json out{{"verdict", {{"ok", reasons.empty()}, {"reasons", reasons}}},
           {"io", ring ? "TPACKET_V2 ring" : "recvmmsg+SO_TIMESTAMPNS per port"},
           {"lateness_us",
            {{"p50", lateness.quantile_us(0.5)},
             {"p99", lateness.quantile_us(0.99)},
             {"p999", lateness.quantile_us(0.999)},
             {"max", lateness.max_us()},
             {"count", lateness.total()}}},
           {"ingest_lag_us",
            {{"p50", ingest_lag.quantile_us(0.5)},
             {"p99", ingest_lag.quantile_us(0.99)},
             {"max", ingest_lag.max_us()}}},
           {"forwarded", stats.forwarded},
           {"loss_drops", link_totals.loss_drops},
           {"queue_drops", queue_drops},
           {"late_over_1ms", stats.late_over_1ms},
           {"ring_drops", stats.ring_drops + port_totals.ring_drops},
           {"tx_errors", port_totals.tx_errors},
           {"pool_drops", stats.pool_drops},
           {"non_ipv4", stats.non_ipv4},
           {"unknown_destination", stats.unknown_destination},
           {"truncated", stats.truncated},
           {"clock_steps", stats.clock_steps},
           {"in_flight", model.in_flight()},
           {"wakeups", stats.wakeups},
           {"cpu_pct", wall_s > 0 ? 100.0 * cpu_seconds() / wall_s : 0.0},
           {"ports", std::move(port_totals.ports)},
           {"links", std::move(link_totals.links)},
           {"hosts", std::move(host_stats)}};
  write_atomically(config.stats_path, out);
}

}  // namespace nyx::linkemu
