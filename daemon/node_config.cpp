#include "daemon/node_config.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>
#include <set>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "core/crypto/encoding.hpp"
#include "daemon/exit_address_policy.hpp"
#include "daemon/metrics_allow_list.hpp"
#include "document/exit_rules.hpp"

namespace nyx::daemon {
namespace {

// Proposal 0002, section 2.1.
constexpr std::size_t kMaxAuthorities = 32;
constexpr std::chrono::seconds kMinPeriod{24};
constexpr std::chrono::seconds kDay{86400};
constexpr std::chrono::seconds kCircuitSetupTimeout{10};  // T_setup, protocol.md "Lifetime"
constexpr std::size_t kMaxFamily = 64;
constexpr std::size_t kMaxAdvertisedRules = 64;
constexpr std::size_t kMaxAdvertisedRuleSize = 64;
constexpr std::size_t kMaxRelaysInAVote = 16384;

// Forwards to the ConfigReader and remembers each key asked for, so that
// node_config_keys() is the schema itself rather than a list kept beside it.
class Schema {
 public:
  Schema(ConfigReader& reader, std::vector<std::string>* keys) : reader_(reader), keys_(keys) {}

  ConfigReader& at(std::string_view key) {
    if (keys_ != nullptr && std::find(keys_->begin(), keys_->end(), key) == keys_->end()) {
      keys_->emplace_back(key);
    }
    return reader_;
  }

 private:
  ConfigReader& reader_;
  std::vector<std::string>* keys_;
};

bool is_loopback(const HostPort& address) {
  if (address.host == "localhost") {
    return true;
  }
  auto ip = IpAddress::parse(address.host);
  if (!ip) {
    return false;
  }
  const IpAddress plain = ip->unmapped();
  if (plain.is_v4()) {
    return plain.bytes()[0] == 127;
  }
  static constexpr std::array<std::uint8_t, 16> kV6Loopback{0, 0, 0, 0, 0, 0, 0, 0,
                                                            0, 0, 0, 0, 0, 0, 0, 1};
  return plain.bytes() == kV6Loopback;
}

// An optional address: absent or "" means off.
std::optional<HostPort> optional_host_port(Schema& schema, std::string_view key) {
  if (schema.at(key).get_string(key, "").empty()) {
    return std::nullopt;
  }
  return schema.at(key).get_host_port(key, HostPort{});
}

void read_node(Schema& s, NodeConfig::Node& node) {
  node.data_dir = s.at("node.data_dir").get_path("node.data_dir", kDefaultDataDir);
  node.nickname = s.at("node.nickname").get_string("node.nickname", node.nickname);
  if (node.nickname.empty() || node.nickname.size() > 64) {
    s.at("node.nickname").add_error("node.nickname", "must be 1 to 64 characters");
  }
  const auto roles = s.at("node.roles").get_string_list("node.roles", {"client"});
  node.roles = {};
  if (roles.empty()) {
    s.at("node.roles").add_error("node.roles", "at least one of client, relay, exit, authority");
  }
  std::set<std::string, std::less<>> seen;
  for (const auto& role : roles) {
    if (!seen.insert(role).second) {
      s.at("node.roles").add_error("node.roles", fmt::format("role '{}' given twice", role));
    } else if (role == "client") {
      node.roles.client = true;
    } else if (role == "relay") {
      node.roles.relay = true;
    } else if (role == "exit") {
      node.roles.exit = true;
    } else if (role == "authority") {
      node.roles.authority = true;
    } else {
      s.at("node.roles")
          .add_error(
              "node.roles",
              fmt::format("unknown role '{}' (expected client, relay, exit or authority)", role));
    }
  }
  node.workers = s.at("node.workers").get_int<unsigned>("node.workers", 0, 0, 256);
}

void read_log(Schema& s, NodeConfig::Log& log) {
  const auto level = s.at("log.level").get_string("log.level", "info");
  if (auto parsed = log::parse_level(level)) {
    log.level = *parsed;
  } else {
    s.at("log.level")
        .add_error("log.level",
                   "expected trace, debug, info, warn, error or off, got '" + level + "'");
  }
  if (!s.at("log.file").get_string("log.file", "").empty()) {
    log.file = s.at("log.file").get_path("log.file", {});
  }
  log.json = s.at("log.json").get_bool("log.json", false);
}

// An endpoint another node dials: an IP literal with a non-zero port.
std::optional<HostPort> ip_endpoint(Schema& s, const std::string& key) {
  const HostPort endpoint = s.at(key).get_host_port(key, HostPort{});
  if (endpoint.host.empty()) {
    return std::nullopt;  // absent, or already reported by get_host_port
  }
  if (!IpAddress::parse(endpoint.host) || endpoint.port == 0) {
    s.at(key).add_error(key, fmt::format("\"{}\" must be an IP literal with a port, like "
                                         "\"203.0.113.10:9340\" or \"[2001:db8::1]:9340\"",
                                         endpoint.to_string()));
    return std::nullopt;
  }
  return endpoint;
}

// A field an entry of an array of tables must have. A missing one is reported
// at the entry, so the error still names a line.
bool require_field(Schema& s, const std::string& entry, std::string_view field) {
  const std::string key = fmt::format("{}.{}", entry, field);
  if (s.at(key).has(key)) {
    return true;
  }
  s.at(key).add_error(entry, fmt::format("missing '{}' (required)", field));
  return false;
}

// A public key given as 64 hex digits: field `field` of `entry`.
template <std::size_t N>
std::optional<std::array<std::uint8_t, N>> hex_key(Schema& s, const std::string& entry,
                                                   std::string_view field, std::string_view what) {
  if (!require_field(s, entry, field)) {
    return std::nullopt;
  }
  const std::string key = fmt::format("{}.{}", entry, field);
  const std::string hex = s.at(key).get_string(key, "");
  auto bytes = crypto::from_hex(hex);
  if (!bytes || bytes->size() != N) {
    s.at(key).add_error(key, fmt::format("expected {} in {} hex digits", what, 2 * N));
    return std::nullopt;
  }
  std::array<std::uint8_t, N> out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

// 1 to 32 authorities (absent is reported as missing by read_directory).
void check_authority_count(Schema& s, std::size_t count) {
  constexpr std::string_view kKey = "directory.authorities";
  if (!s.at(kKey).has(kKey)) {
    return;
  }
  if (count == 0 || count > kMaxAuthorities) {
    s.at(kKey).add_error(kKey,
                         fmt::format("{} authorities; 1 to {} are needed", count, kMaxAuthorities));
  }
}

// The v2 form: authorities = [{ key, link, address, tcp_address }, ...].
void read_authority_entries(Schema& s, NodeConfig::Directory& dir) {
  constexpr std::string_view kKey = "directory.authorities";
  const std::size_t count = s.at(kKey).table_count(kKey);
  check_authority_count(s, count);
  std::set<crypto::Ed25519PublicKey> keys;
  std::set<crypto::X25519PublicKey> links;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string entry = fmt::format("{}[{}]", kKey, i);
    auto key = hex_key<crypto::kEd25519PublicKeySize>(s, entry, "key", "an Ed25519 public key");
    auto link = hex_key<crypto::kX25519KeySize>(s, entry, "link", "an X25519 public key");
    auto address =
        require_field(s, entry, "address") ? ip_endpoint(s, entry + ".address") : std::nullopt;
    std::optional<HostPort> tcp_address;
    if (!s.at(entry + ".tcp_address").get_string(entry + ".tcp_address", "").empty()) {
      tcp_address = ip_endpoint(s, entry + ".tcp_address");
    }
    if (key && !keys.insert(*key).second) {
      s.at(entry + ".key").add_error(entry + ".key", "this authority key is listed twice");
    }
    if (link && !links.insert(*link).second) {
      s.at(entry + ".link").add_error(entry + ".link", "this link key is listed twice");
    }
    if (key && link && address) {
      dir.authorities.push_back(*key);
      dir.authority_entries.push_back(
          {.key = *key, .link = *link, .address = *address, .tcp_address = tcp_address});
    }
  }
}

// The v1 form, a list of keys, read while the v1 directory file still is.
void read_authority_keys(Schema& s, NodeConfig::Directory& dir) {
  constexpr std::string_view kKey = "directory.authorities";
  const auto list = s.at(kKey).get_string_list(kKey, {});
  check_authority_count(s, list.size());
  for (const auto& hex : list) {
    auto bytes = crypto::from_hex(hex);
    if (!bytes || bytes->size() != crypto::kEd25519PublicKeySize) {
      s.at(kKey).add_error(kKey, "each authority is an Ed25519 public key in 64 hex digits");
      continue;
    }
    crypto::Ed25519PublicKey key{};
    std::copy(bytes->begin(), bytes->end(), key.begin());
    dir.authorities.push_back(key);
  }
}

// A string element has none of the fields of a v2 entry.
bool authorities_are_v1_list(Schema& s) {
  auto& reader = s.at("directory.authorities");
  return reader.has("directory.authorities[0]") && !reader.has("directory.authorities[0].key") &&
         !reader.has("directory.authorities[0].link") &&
         !reader.has("directory.authorities[0].address");
}

// 0 is the majority; below it, two disjoint minorities could each sign a
// consensus of their own.
void read_threshold(Schema& s, NodeConfig::Directory& dir) {
  constexpr std::string_view kKey = "directory.threshold";
  const auto configured = s.at(kKey).get_int<std::size_t>(kKey, 0, 0, kMaxAuthorities);
  const std::size_t n = dir.authorities.size();
  const std::size_t majority = n / 2 + 1;
  dir.threshold = configured == 0 ? majority : configured;
  if (n == 0 || configured == 0) {
    return;
  }
  if (configured < majority) {
    s.at(kKey).add_error(
        kKey, fmt::format("{} is less than a majority of the {} authorities ({}): two disjoint "
                          "minorities could each sign a consensus; use 0 for the majority",
                          configured, n, majority));
  } else if (configured > n) {
    s.at(kKey).add_error(kKey,
                         fmt::format("{} exceeds the {} authorities configured", configured, n));
  }
}

void read_fallbacks(Schema& s, NodeConfig::Directory& dir) {
  constexpr std::string_view kKey = "directory.fallbacks";
  const std::size_t count = s.at(kKey).table_count(kKey);
  for (std::size_t i = 0; i < count; ++i) {
    const std::string entry = fmt::format("{}[{}]", kKey, i);
    auto link = hex_key<crypto::kX25519KeySize>(s, entry, "link", "an X25519 public key");
    auto address =
        require_field(s, entry, "address") ? ip_endpoint(s, entry + ".address") : std::nullopt;
    if (link && address) {
      dir.fallbacks.push_back({.link = *link, .address = *address});
    }
  }
}

// Proposal 0002, section 2.1: periods align with UTC days, and at most two
// epochs' onion keys are in use at once.
void read_period_and_skew(Schema& s, NodeConfig::Directory& dir) {
  using std::chrono::seconds;
  constexpr std::string_view kPeriod = "directory.period";
  constexpr std::string_view kSkew = "directory.clock_skew";
  const auto period = s.at(kPeriod).get_duration(kPeriod, dir.period);
  bool period_valid = false;
  if (period % seconds(1) != std::chrono::nanoseconds::zero()) {
    s.at(kPeriod).add_error(kPeriod, "must be a whole number of seconds");
  } else if (const auto whole = std::chrono::duration_cast<seconds>(period);
             whole < kMinPeriod || whole.count() % 12 != 0 || kDay.count() % whole.count() != 0) {
    s.at(kPeriod).add_error(kPeriod, fmt::format("{} s: must be a multiple of 12 s that divides "
                                                 "24 h (86400 s), at least 24 s",
                                                 whole.count()));
  } else {
    dir.period = whole;
    period_valid = true;
  }
  dir.clock_skew = s.at(kSkew).get_duration(kSkew, dir.clock_skew);
  if (!period_valid) {
    return;
  }
  const auto unit = dir.period / 12;
  if (dir.clock_skew > unit) {
    s.at(kSkew).add_error(
        kSkew,
        fmt::format("{} ms exceeds period/12 ({} s)",
                    std::chrono::duration_cast<std::chrono::milliseconds>(dir.clock_skew).count(),
                    unit.count()));
  } else if (2 * dir.clock_skew + kCircuitSetupTimeout > dir.period / 2) {
    s.at(kSkew).add_error(
        kSkew, fmt::format("2·skew + 10 s (circuit setup) must be at most period/2 ({} s)",
                           (dir.period / 2).count()));
  }
}

void read_directory(Schema& s, NodeConfig::Directory& dir) {
  dir.file = s.at("directory.file").get_path("directory.file", {});
  s.at("directory.authorities").require("directory.authorities");
  if (authorities_are_v1_list(s)) {
    read_authority_keys(s, dir);
  } else {
    read_authority_entries(s, dir);
  }
  // Only the v2 entries say where to fetch a consensus; with the v1 list of
  // keys (or none) the node needs the v1 file.
  if (dir.authority_entries.empty()) {
    s.at("directory.file").require("directory.file");
  }
  read_threshold(s, dir);
  read_fallbacks(s, dir);
  read_period_and_skew(s, dir);
}

void read_transport(Schema& s, NodeConfig::Transport& t) {
  t.udp_listen = s.at("transport.udp_listen").get_host_port("transport.udp_listen", t.udp_listen);
  t.tcp_listen = optional_host_port(s, "transport.tcp_listen");
  t.udp_enabled = s.at("transport.udp_enabled").get_bool("transport.udp_enabled", true);
  t.socket_receive_buffer =
      s.at("transport.socket_receive_buffer")
          .get_int("transport.socket_receive_buffer", t.socket_receive_buffer, 64 << 10, 1 << 30);
  t.socket_send_buffer =
      s.at("transport.socket_send_buffer")
          .get_int("transport.socket_send_buffer", t.socket_send_buffer, 64 << 10, 1 << 30);
  t.peer_rate = s.at("transport.peer_rate").get_double("transport.peer_rate", 0, 0, 1e12);
  if (!t.udp_enabled && !t.tcp_listen) {
    s.at("transport.udp_enabled")
        .add_error("transport.udp_enabled",
                   "with UDP off, transport.tcp_listen must be set or no peer can reach us");
  }
}

// CREATE admission (proposal 0002, section 9): CREATEs per second and bursts.
void read_create_limits(Schema& s, mix::CreateLimits& l) {
  const auto rate = [&](const char* key, double& value) {
    value = s.at(key).get_double(key, value, 0.01, 1e6);
  };
  const auto burst = [&](const char* key, std::uint64_t& value) {
    value = s.at(key).get_int<std::uint64_t>(key, value, 1, 1'000'000);
  };
  rate("mix.create_rate_per_address", l.rate_per_address);
  burst("mix.create_burst_per_address", l.burst_per_address);
  rate("mix.create_rate_per_relay", l.rate_per_relay);
  burst("mix.create_burst_per_relay", l.burst_per_relay);
  rate("mix.create_rate_max", l.rate_max);
  burst("mix.create_burst_max", l.burst_max);
}

void read_mix(Schema& s, NodeConfig::Mix& m) {
  m.hops = s.at("mix.hops").get_int<std::size_t>("mix.hops", 3, 2, 7);
  m.prebuilt_circuits =
      s.at("mix.prebuilt_circuits").get_int<std::size_t>("mix.prebuilt_circuits", 2, 0, 64);
  m.max_circuit_age = s.at("mix.max_circuit_age")
                          .get_duration("mix.max_circuit_age", m.max_circuit_age,
                                        std::chrono::seconds(10), std::chrono::hours(24));
  m.max_streams_per_circuit =
      s.at("mix.max_streams_per_circuit")
          .get_int<std::size_t>("mix.max_streams_per_circuit", 256, 1, 65536);
  m.distinct_subnets = s.at("mix.distinct_subnets").get_bool("mix.distinct_subnets", true);
  m.cover_rate = s.at("mix.cover_rate").get_double("mix.cover_rate", 0, 0, 10000);
  m.mix_delay_mean = s.at("mix.mix_delay_mean")
                         .get_duration("mix.mix_delay_mean", m.mix_delay_mean,
                                       std::chrono::nanoseconds::zero(), std::chrono::seconds(10));
  read_create_limits(s, m.create_limits);
  m.replay_rate = s.at("mix.replay_rate").get_double("mix.replay_rate", m.replay_rate, 0.01, 1e6);
}

void read_stream(Schema& s, NodeConfig::Stream& st) {
  const std::string name = s.at("stream.congestion").get_string("stream.congestion", "bbr");
  if (!stream::parse_congestion_algorithm(name, st.congestion)) {
    s.at("stream.congestion")
        .add_error("stream.congestion", fmt::format("\"{}\" is not \"newreno\" or \"bbr\"", name));
  }
}

// Proposal 0004, section 8.2: the SOCKS port has no authentication, so off
// loopback it is an open proxy, which takes the operator's explicit word.
void check_socks_exposure(Schema& s, const NodeConfig::Socks& socks) {
  if (socks.allow_remote_clients || is_loopback(socks.listen) || socks.listen.host.empty()) {
    return;
  }
  s.at("socks.listen")
      .add_error("socks.listen",
                 fmt::format("{} is not a loopback address and Nyx's SOCKS port has no "
                             "authentication; set socks.allow_remote_clients = true to serve "
                             "other hosts",
                             socks.listen.to_string()));
}

void read_socks(Schema& s, const NodeRoles& roles, NodeConfig::Socks& socks) {
  socks.listen = s.at("socks.listen").get_host_port("socks.listen", socks.listen);
  socks.max_clients =
      s.at("socks.max_clients").get_int<std::size_t>("socks.max_clients", 1024, 1, 1 << 20);
  socks.handshake_timeout =
      s.at("socks.handshake_timeout")
          .get_duration("socks.handshake_timeout", socks.handshake_timeout,
                        std::chrono::milliseconds(100), std::chrono::minutes(10));
  socks.optimistic_reply = s.at("socks.optimistic_reply").get_bool("socks.optimistic_reply", false);
  socks.allow_remote_clients =
      s.at("socks.allow_remote_clients").get_bool("socks.allow_remote_clients", false);
  // Only the client role opens the port.
  if (roles.client) {
    check_socks_exposure(s, socks);
  }
}

void read_exit(Schema& s, NodeConfig::Exit& e) {
  e.policy = s.at("exit.policy").get_string_list("exit.policy", e.policy);
  e.allow_private = s.at("exit.allow_private").get_bool("exit.allow_private", false);
  e.reject_own_addresses =
      s.at("exit.reject_own_addresses").get_bool("exit.reject_own_addresses", true);
  std::string joined;
  for (const auto& rule : e.policy) {
    joined += rule;
    joined += '\n';
  }
  if (auto policy = ExitAddressPolicy::parse(joined, {.allow_private = e.allow_private}); !policy) {
    s.at("exit.policy").add_error("exit.policy", policy.error().message);
  }
}

// What an exit promises in its descriptor, so clients pick it for a destination.
void read_exit_advertise(Schema& s, const NodeRoles& roles, NodeConfig::Exit& e) {
  constexpr std::string_view kKey = "exit.advertise";
  e.advertise = s.at(kKey).get_string_list(kKey, e.advertise);
  if (e.advertise.size() > kMaxAdvertisedRules) {
    s.at(kKey).add_error(
        kKey, fmt::format("{} rules; at most {}", e.advertise.size(), kMaxAdvertisedRules));
  }
  for (const auto& rule : e.advertise) {
    if (rule.size() > kMaxAdvertisedRuleSize) {
      s.at(kKey).add_error(
          kKey, fmt::format("rule \"{}\" is longer than {} bytes", rule, kMaxAdvertisedRuleSize));
    }
  }
  auto rules = document::AdvertisedExitRules::parse(e.advertise);
  if (!rules) {
    s.at(kKey).add_error(kKey, rules.error().message);
    return;
  }
  const bool accepts = std::any_of(rules->rules().begin(), rules->rules().end(),
                                   [](const auto& rule) { return rule.accept; });
  if (roles.exit && !accepts) {
    s.at(kKey).add_error(kKey, "an exit must advertise at least one accept rule");
  }
}

// A family is an operator's name for the relays they run: [a-z0-9.-], 0 to 64 bytes.
bool valid_family(std::string_view family) {
  return family.size() <= kMaxFamily && std::all_of(family.begin(), family.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
         });
}

bool is_global(const HostPort& address) {
  auto ip = IpAddress::parse(address.host);
  return ip && !ExitAddressPolicy::is_private(ip->unmapped());
}

void read_relay(Schema& s, const NodeConfig& config, NodeConfig::Relay& r) {
  constexpr std::string_view kUdp = "relay.advertise_udp";
  constexpr std::string_view kTcp = "relay.advertise_tcp";
  if (!s.at(kUdp).get_string(kUdp, "").empty()) {
    r.advertise_udp = ip_endpoint(s, std::string(kUdp));
  } else if (config.node.roles.relay) {
    if (is_global(config.transport.udp_listen)) {
      r.advertise_udp = config.transport.udp_listen;
    } else {
      s.at(kUdp).add_error(
          kUdp, fmt::format("required with the relay role: transport.udp_listen ({}) is not a "
                            "global address a client can reach",
                            config.transport.udp_listen.to_string()));
    }
  }
  if (!s.at(kTcp).get_string(kTcp, "").empty()) {
    r.advertise_tcp = ip_endpoint(s, std::string(kTcp));
  }
  r.bandwidth_weight = s.at("relay.bandwidth_weight")
                           .get_int<std::uint32_t>("relay.bandwidth_weight", r.bandwidth_weight, 1,
                                                   std::numeric_limits<std::uint32_t>::max());
  r.family = s.at("relay.family").get_string("relay.family", "");
  if (!valid_family(r.family)) {
    s.at("relay.family")
        .add_error("relay.family", fmt::format("\"{}\": at most {} bytes of a-z, 0-9, '.' and '-'",
                                               r.family, kMaxFamily));
  }
}

// The authority's own settings; its key file lives in the data directory.
void read_authority(Schema& s, const NodeConfig::Node& node, NodeConfig::Authority& a) {
  constexpr std::string_view kKeyFile = "authority.key_file";
  const std::string key_file = s.at(kKeyFile).get_string(kKeyFile, "authority.key");
  if (key_file.empty()) {
    s.at(kKeyFile).add_error(kKeyFile, "must name a file (relative to node.data_dir)");
  } else {
    a.key_file = node.data_dir / key_file;
  }
  a.max_bandwidth_weight =
      s.at("authority.max_bandwidth_weight")
          .get_int<std::uint32_t>("authority.max_bandwidth_weight", a.max_bandwidth_weight, 1,
                                  std::numeric_limits<std::uint32_t>::max());
  a.max_relays_per_address =
      s.at("authority.max_relays_per_address")
          .get_int<std::size_t>("authority.max_relays_per_address", a.max_relays_per_address, 1,
                                kMaxRelaysInAVote);
  a.max_relays =
      s.at("authority.max_relays")
          .get_int<std::size_t>("authority.max_relays", a.max_relays, 1, kMaxRelaysInAVote);
  a.allow_private_addresses = s.at("authority.allow_private_addresses")
                                  .get_bool("authority.allow_private_addresses", false);
}

void read_rest(Schema& s, NodeConfig& config) {
  config.control.enabled = s.at("control.enabled").get_bool("control.enabled", true);
  config.control.group_access =
      s.at("control.group_access").get_bool("control.group_access", false);
  config.metrics.listen = optional_host_port(s, "metrics.listen");
  const bool allow_given = s.at("metrics.allow").has("metrics.allow");
  config.metrics.allow =
      s.at("metrics.allow").get_string_list("metrics.allow", config.metrics.allow);
  if (auto allow = MetricsAllowList::parse(config.metrics.allow); !allow) {
    s.at("metrics.allow").add_error("metrics.allow", allow.error().message);
  }
  // Reachable from other hosts, the endpoint must say who may scrape it.
  if (config.metrics.listen && !is_loopback(*config.metrics.listen) && !allow_given) {
    s.at("metrics.listen")
        .add_error("metrics.listen",
                   "a non-loopback address needs metrics.allow (the addresses or CIDR ranges "
                   "that may scrape); the default allows loopback only");
  }
  config.shutdown.drain_deadline =
      s.at("shutdown.drain_deadline")
          .get_duration("shutdown.drain_deadline", config.shutdown.drain_deadline,
                        std::chrono::nanoseconds::zero(), std::chrono::minutes(10));
}

NodeConfig read_schema(ConfigReader& reader, std::vector<std::string>* keys) {
  Schema schema(reader, keys);
  NodeConfig config;
  read_node(schema, config.node);
  read_log(schema, config.log);
  read_directory(schema, config.directory);
  read_transport(schema, config.transport);
  read_mix(schema, config.mix);
  read_stream(schema, config.stream);
  read_socks(schema, config.node.roles, config.socks);
  read_relay(schema, config, config.relay);
  read_exit(schema, config.exit);
  read_exit_advertise(schema, config.node.roles, config.exit);
  read_authority(schema, config.node, config.authority);
  read_rest(schema, config);
  return config;
}

}  // namespace

unsigned NodeConfig::resolved_workers() const noexcept {
  if (node.workers != 0) {
    return node.workers;
  }
  return std::max(1U, std::thread::hardware_concurrency());
}

Result<NodeConfig> parse_node_config(ConfigReader& reader) {
  NodeConfig config = read_schema(reader, nullptr);
  if (auto status = reader.finish(); !status) {
    return std::unexpected(std::move(status.error()));
  }
  return config;
}

Result<NodeConfig> load_node_config(const std::filesystem::path& file) {
  auto reader = ConfigReader::from_file(file);
  if (!reader) {
    return std::unexpected(std::move(reader.error()));
  }
  return parse_node_config(*reader);
}

std::vector<std::string> node_config_keys() {
  auto reader = ConfigReader::from_string("", "schema");
  std::vector<std::string> keys;
  if (reader) {
    read_schema(*reader, &keys);
  }
  return keys;
}

}  // namespace nyx::daemon
