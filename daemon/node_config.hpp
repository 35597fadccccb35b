#pragma once
// NodeConfig: the typed schema of nyxd's configuration file, read through
// core/config.hpp so that every mistake names its file, line and key, and a
// key nobody reads is an error rather than a silently ignored typo.
//
// docs/nyxd.example.toml lists every key with its default and meaning;
// node_config_keys() names the keys the schema reads, so a test can prove the
// example and the schema agree. Value types; safe to copy and share.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/crypto/x25519.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "mix/create_limits.hpp"
#include "stream/congestion_controller.hpp"

namespace nyx::daemon {

// Where a packaged node lives: nyxd without --config reads kDefaultConfigFile,
// and a config without node.data_dir keeps its state in kDefaultDataDir.
inline constexpr const char* kDefaultConfigFile = "/etc/nyx/nyxd.toml";
inline constexpr const char* kDefaultDataDir = "/var/lib/nyx";

struct NodeRoles {
  bool client = false;     // a SOCKS5 entry for local applications
  bool relay = false;      // relays cells for others (middle hop)
  bool exit = false;       // ends circuits and connects streams to destinations
  bool authority = false;  // votes on and signs the consensus (proposal 0002)

  bool operator==(const NodeRoles&) const = default;
};

struct NodeConfig {
  struct Node {
    std::filesystem::path data_dir{kDefaultDataDir};
    std::string nickname = "nyx";
    NodeRoles roles{.client = true};
    unsigned workers = 0;  // 0: one per core

    bool operator==(const Node&) const = default;
  } node;

  struct Log {
    log::Level level = log::Level::kInfo;
    std::filesystem::path file;  // empty: stderr
    bool json = false;

    bool operator==(const Log&) const = default;
  } log;

  // One entry of directory.authorities: what every node knows of an authority.
  struct DirectoryAuthority {
    crypto::Ed25519PublicKey key{};  // signs votes and consensuses
    crypto::X25519PublicKey link{};  // its node's link key
    HostPort address;                // UDP, an IP literal with a port
    std::optional<HostPort> tcp_address;

    bool operator==(const DirectoryAuthority&) const = default;
  };

  // A relay to bootstrap from before any consensus is held.
  struct Fallback {
    crypto::X25519PublicKey link{};
    HostPort address;

    bool operator==(const Fallback&) const = default;
  };

  struct Directory {
    // The v1 signed directory the daemon still loads, when configured, until
    // the directory client of proposal 0002 replaces it.
    std::filesystem::path file;
    // Every authority's key, from either form of directory.authorities: the
    // v2 tables or the v1 list of keys.
    std::vector<crypto::Ed25519PublicKey> authorities;
    // The v2 entries; empty when the file uses the v1 list of keys.
    std::vector<DirectoryAuthority> authority_entries;
    // Signatures a consensus needs, resolved: a configured 0 is the majority.
    std::size_t threshold = 1;
    std::vector<Fallback> fallbacks;
    std::chrono::seconds period = std::chrono::hours(1);
    std::chrono::nanoseconds clock_skew = std::chrono::minutes(5);

    // Without a v1 file the node fetches the consensus from the authorities
    // of the v2 entries (proposal 0002, section 6), which the parser then
    // requires.
    bool fetches_consensus() const noexcept { return file.empty(); }

    bool operator==(const Directory&) const = default;
  } directory;

  struct Transport {
    HostPort udp_listen{"0.0.0.0", 9340};
    std::optional<HostPort> tcp_listen;  // absent: outbound TCP only
    bool udp_enabled = true;
    int socket_receive_buffer = 4 << 20;
    int socket_send_buffer = 4 << 20;
    double peer_rate = 0;  // bytes/s of cells per peer; 0: unlimited

    bool operator==(const Transport&) const = default;
  } transport;

  struct Mix {
    std::size_t hops = 3;
    std::size_t prebuilt_circuits = 2;
    std::chrono::nanoseconds max_circuit_age = std::chrono::minutes(10);
    std::size_t max_streams_per_circuit = 256;
    // No two hops of a path in one IPv4 /16 or IPv6 /32 (mix/path_conflict.hpp).
    bool distinct_subnets = true;
    double cover_rate = 0;  // cells/s per circuit; 0: off
    std::chrono::nanoseconds mix_delay_mean{0};
    mix::CreateLimits create_limits;  // mix.create_rate_* and mix.create_burst_*
    double replay_rate = 200.0;       // CREATEs/s the replay stores are sized for

    bool operator==(const Mix&) const = default;
  } mix;

  struct Stream {
    // The congestion controller of the stream sessions this node runs
    // (client and exit ends): "bbr" (BBR-N, the default; docs/protocol.md
    // "Congestion control") or "newreno".
    stream::CongestionAlgorithm congestion = stream::CongestionAlgorithm::kBbr;

    bool operator==(const Stream&) const = default;
  } stream;

  struct Socks {
    HostPort listen{"127.0.0.1", 9345};
    std::size_t max_clients = 1024;
    std::chrono::nanoseconds handshake_timeout = std::chrono::seconds(10);
    // Reply success before the exit answers (Socks5ServerOptions).
    bool optimistic_reply = false;
    // Let listen be a non-loopback address: the port has no authentication,
    // so that makes an open proxy (proposal 0004, section 8.2).
    bool allow_remote_clients = false;

    bool operator==(const Socks&) const = default;
  } socks;

  // What a relay advertises in its descriptor (used with the relay role).
  struct Relay {
    std::optional<HostPort> advertise_udp;  // absent: no relay role
    std::optional<HostPort> advertise_tcp;  // absent: none advertised
    std::uint32_t bandwidth_weight = 100;
    std::string family;

    bool operator==(const Relay&) const = default;
  } relay;

  struct Exit {
    std::vector<std::string> policy{"reject *:*"};
    bool allow_private = false;
    // Refuse the exit's own addresses as destinations (daemon/own_addresses.hpp).
    bool reject_own_addresses = true;
    // Host-pattern rules advertised in the descriptor (AdvertisedExitRules).
    std::vector<std::string> advertise{"reject *:*"};

    bool operator==(const Exit&) const = default;
  } exit;

  // Used with the authority role.
  struct Authority {
    std::filesystem::path key_file;  // resolved against node.data_dir
    std::uint32_t max_bandwidth_weight = 1000;
    std::size_t max_relays_per_address = 2;
    std::size_t max_relays = 10000;
    bool allow_private_addresses = false;

    bool operator==(const Authority&) const = default;
  } authority;

  struct Control {
    bool enabled = true;
    // The node's group may use the control socket (0660) and read the cookie
    // (0640), and the data directory may be 0750 (Tor's
    // CookieAuthFileGroupReadable); keys stay 0600.
    bool group_access = false;

    bool operator==(const Control&) const = default;
  } control;

  struct Metrics {
    std::optional<HostPort> listen;  // absent: no /metrics endpoint
    // Who may scrape: addresses or CIDR ranges (MetricsAllowList).
    std::vector<std::string> allow{"127.0.0.0/8", "::1"};

    bool operator==(const Metrics&) const = default;
  } metrics;

  struct Shutdown {
    std::chrono::nanoseconds drain_deadline = std::chrono::seconds(5);

    bool operator==(const Shutdown&) const = default;
  } shutdown;

  // workers, with 0 resolved to the number of cores (at least 1).
  unsigned resolved_workers() const noexcept;
};

// Reads the schema from `reader` and finishes it: kConfig with every error,
// one per line, each naming file:line:column and key.
Result<NodeConfig> parse_node_config(ConfigReader& reader);
Result<NodeConfig> load_node_config(const std::filesystem::path& file);

// Every dotted key the schema reads, in schema order.
std::vector<std::string> node_config_keys();

}  // namespace nyx::daemon
