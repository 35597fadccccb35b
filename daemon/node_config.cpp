#include "daemon/node_config.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "core/crypto/encoding.hpp"
#include "daemon/exit_address_policy.hpp"
#include "daemon/metrics_allow_list.hpp"

namespace nyx::daemon {
namespace {

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
    s.at("node.roles").add_error("node.roles", "at least one of client, relay, exit");
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
    } else {
      s.at("node.roles")
          .add_error("node.roles",
                     fmt::format("unknown role '{}' (expected client, relay or exit)", role));
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

void read_directory(Schema& s, NodeConfig::Directory& dir) {
  s.at("directory.file").require("directory.file");
  dir.file = s.at("directory.file").get_path("directory.file", {});
  s.at("directory.authorities").require("directory.authorities");
  for (const auto& hex :
       s.at("directory.authorities").get_string_list("directory.authorities", {})) {
    auto bytes = crypto::from_hex(hex);
    if (!bytes || bytes->size() != crypto::kEd25519PublicKeySize) {
      s.at("directory.authorities")
          .add_error("directory.authorities",
                     "each authority is an Ed25519 public key in 64 hex digits");
      continue;
    }
    crypto::Ed25519PublicKey key{};
    std::copy(bytes->begin(), bytes->end(), key.begin());
    dir.authorities.push_back(key);
  }
  dir.threshold = s.at("directory.threshold").get_int<std::size_t>("directory.threshold", 1, 1, 64);
  if (!dir.authorities.empty() && dir.threshold > dir.authorities.size()) {
    s.at("directory.threshold")
        .add_error("directory.threshold", fmt::format("{} exceeds the {} authorities configured",
                                                      dir.threshold, dir.authorities.size()));
  }
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
  m.cover_rate = s.at("mix.cover_rate").get_double("mix.cover_rate", 0, 0, 10000);
  m.mix_delay_mean = s.at("mix.mix_delay_mean")
                         .get_duration("mix.mix_delay_mean", m.mix_delay_mean,
                                       std::chrono::nanoseconds::zero(), std::chrono::seconds(10));
  read_create_limits(s, m.create_limits);
}

void read_stream(Schema& s, NodeConfig::Stream& st) {
  const std::string name = s.at("stream.congestion").get_string("stream.congestion", "bbr");
  if (!stream::parse_congestion_algorithm(name, st.congestion)) {
    s.at("stream.congestion")
        .add_error("stream.congestion", fmt::format("\"{}\" is not \"newreno\" or \"bbr\"", name));
  }
}

void read_socks(Schema& s, NodeConfig::Socks& socks) {
  socks.listen = s.at("socks.listen").get_host_port("socks.listen", socks.listen);
  socks.max_clients =
      s.at("socks.max_clients").get_int<std::size_t>("socks.max_clients", 1024, 1, 1 << 20);
  socks.handshake_timeout =
      s.at("socks.handshake_timeout")
          .get_duration("socks.handshake_timeout", socks.handshake_timeout,
                        std::chrono::milliseconds(100), std::chrono::minutes(10));
  socks.optimistic_reply = s.at("socks.optimistic_reply").get_bool("socks.optimistic_reply", false);
}

void read_exit(Schema& s, NodeConfig::Exit& e) {
  e.policy = s.at("exit.policy").get_string_list("exit.policy", e.policy);
  e.allow_private = s.at("exit.allow_private").get_bool("exit.allow_private", false);
  std::string joined;
  for (const auto& rule : e.policy) {
    joined += rule;
    joined += '\n';
  }
  if (auto policy = ExitAddressPolicy::parse(joined, {.allow_private = e.allow_private}); !policy) {
    s.at("exit.policy").add_error("exit.policy", policy.error().message);
  }
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
  read_socks(schema, config.socks);
  read_exit(schema, config.exit);
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
