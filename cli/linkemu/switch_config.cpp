#include "cli/linkemu/switch_config.hpp"

#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace nyx::linkemu {
namespace {

using nlohmann::json;

json link_json(const LinkParams& p) {
  return {{"delay_us", p.delay / kMicro},
          {"jitter_us", p.jitter / kMicro},
          {"jitter_tau_us", p.jitter_tau / kMicro},
          {"loss", p.loss},
          {"reorder", p.reorder},
          {"reorder_gap_us", p.reorder_gap / kMicro}};
}

LinkParams link_from(const json& j, LinkParams p) {
  p.delay = j.value("delay_us", p.delay / kMicro) * kMicro;
  p.jitter = j.value("jitter_us", p.jitter / kMicro) * kMicro;
  p.jitter_tau = j.value("jitter_tau_us", p.jitter_tau / kMicro) * kMicro;
  p.loss = j.value("loss", p.loss);
  p.reorder = j.value("reorder", p.reorder);
  p.reorder_gap = j.value("reorder_gap_us", p.reorder_gap / kMicro) * kMicro;
  return p;
}

json shaper_json(const ShaperParams& s) {
  return {{"rate_bps", s.rate_bps},
          {"queue_bytes", s.queue_bytes},
          {"queue_us", s.queue_time / kMicro}};
}

ShaperParams shaper_from(const json& j) {
  ShaperParams s;
  s.rate_bps = j.value("rate_bps", std::uint64_t{0});
  s.queue_bytes = j.value("queue_bytes", std::uint64_t{0});
  s.queue_time = j.value("queue_us", s.queue_time / kMicro) * kMicro;
  return s;
}

Status check_link(const LinkParams& p, const std::string& what) {
  if (p.delay < 0 || p.jitter < 0 || p.jitter_tau < 0 || p.reorder_gap < 0 || p.loss < 0 ||
      p.loss > 1 || p.reorder < 0 || p.reorder > 1) {
    return make_error(ErrorCategory::kConfig, fmt::format("{}: a value is out of range", what));
  }
  return {};
}

}  // namespace

LinkParams SwitchConfig::link(int from, int to) const {
  LinkParams params = default_link;
  for (const auto& l : links) {
    if (l.from == from && l.to == to) {
      params = l.params;
    }
  }
  return params;
}

Result<SwitchConfig> parse_switch_config(std::string_view text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error(ErrorCategory::kParse, "emulator config: not a JSON object");
  }
  try {
    SwitchConfig config;
    config.seed = j.value("seed", std::uint64_t{1});
    config.stats_path = j.value("stats", std::string());
    if (j.contains("default_link")) {
      config.default_link = link_from(j.at("default_link"), LinkParams{});
    }
    if (auto ok = check_link(config.default_link, "default_link"); !ok) {
      return std::unexpected(ok.error());
    }
    std::set<int> indices;
    for (const auto& h : j.at("hosts")) {
      SwitchHost host;
      host.name = h.at("name").get<std::string>();
      host.index = h.at("index").get<int>();
      host.port = h.value("port", fmt::format("p{}", host.index));
      if (host.index < 1 || host.index > 254 || !indices.insert(host.index).second) {
        return make_error(
            ErrorCategory::kConfig,
            fmt::format("emulator config: bad or repeated host index {}", host.index));
      }
      if (h.contains("up")) {
        host.params.up = shaper_from(h.at("up"));
      }
      if (h.contains("down")) {
        host.params.down = shaper_from(h.at("down"));
      }
      config.hosts.push_back(std::move(host));
    }
    if (config.hosts.size() < 2) {
      return make_error(ErrorCategory::kConfig, "emulator config: needs at least two hosts");
    }
    if (j.contains("links")) {
      for (const auto& l : j.at("links")) {
        SwitchLink link;
        link.from = l.at("from").get<int>();
        link.to = l.at("to").get<int>();
        if (!indices.contains(link.from) || !indices.contains(link.to) || link.from == link.to) {
          return make_error(
              ErrorCategory::kConfig,
              fmt::format("emulator config: link {}>{} names an unknown host", link.from, link.to));
        }
        link.params = link_from(l, config.default_link);
        if (auto ok = check_link(link.params, fmt::format("link {}>{}", link.from, link.to)); !ok) {
          return std::unexpected(ok.error());
        }
        config.links.push_back(link);
      }
    }
    return config;
  } catch (const json::exception& e) {
    return make_error(ErrorCategory::kParse, fmt::format("emulator config: {}", e.what()));
  }
}

std::string to_json(const SwitchConfig& config) {
  json hosts = json::array();
  for (const auto& h : config.hosts) {
    hosts.push_back({{"name", h.name},
                     {"index", h.index},
                     {"port", h.port},
                     {"up", shaper_json(h.params.up)},
                     {"down", shaper_json(h.params.down)}});
  }
  json links = json::array();
  for (const auto& l : config.links) {
    json entry = link_json(l.params);
    entry["from"] = l.from;
    entry["to"] = l.to;
    links.push_back(std::move(entry));
  }
  return json{{"seed", config.seed},
              {"stats", config.stats_path},
              {"default_link", link_json(config.default_link)},
              {"hosts", std::move(hosts)},
              {"links", std::move(links)}}
      .dump(2);
}

}  // namespace nyx::linkemu
