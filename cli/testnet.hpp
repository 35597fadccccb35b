#pragma once
// A local test network (nyxctl testnet up|status|down): N nyxd processes on
// 127.0.0.1 — one client with a SOCKS5 port, relays, one exit that may reach
// private addresses — that forms itself as an operator's network does
// (proposal 0002): the first three relays are also the network's
// authorities, every node's config lists them, and the relays' descriptors
// become a consensus the authorities vote on and sign every period. Keys and
// configs are generated into one directory, and the state (pids, ports,
// paths, authorities) into DIR/testnet.json so later commands find the nodes.
// While it runs, `add-relay` starts one more relay and `remove` stops one
// (cli/testnet_membership.hpp decides which); a removed node stays in the
// state, marked, so its name and port are not given out again.
//
// Layout: DIR/testnet.json and per node DIR/nodeK/{nyxd.toml, nyxd.log,
// nyxd.pid, data/}; an authority's data/ holds its authority.key. No
// directory file and no descriptor: the nodes fetch the consensus.
// plan_testnet() and the text it generates are pure, so tests check them;
// the functions that start and stop processes print progress to `out`.
//
// With `hosts` (the WAN testnet, docs/proposals/0003 §2.3; root only) every
// node runs in its own test host (cli/testnet_hosts.hpp): node K on
// 10.77.0.K, links on UDP and TCP 9340 and the client's SOCKS5 on 9345, an
// origin host N+1 for test servers, the link emulator in a hub namespace
// between them, and the TCP baseline's /32 routes. The state file then also
// names the run, the switch's pid and the link parameters; `down` removes
// every namespace and every process in them.
// Not thread-safe; one nyxctl command owns a testnet directory at a time.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/types.h>

#include "cli/exit_code.hpp"
#include "cli/node_connection.hpp"
#include "core/error.hpp"

namespace nyx::cli {

inline constexpr std::size_t kTestnetMinNodes = 5;
inline constexpr std::size_t kTestnetMaxNodes = 64;
// The first this many relays are also authorities (fewer when there are
// fewer relays, at least one).
inline constexpr std::size_t kTestnetAuthorities = 3;
// `remove` leaves at least this many relays: a path's three hops.
inline constexpr std::size_t kTestnetMinRelays = 3;

// The network's period and clock skew: the shortest period nyxd accepts and
// the largest skew it allows with it, so the first consensus comes within
// one to two periods of the start.
inline constexpr std::uint64_t kTestnetPeriodSeconds = 24;
inline constexpr const char* kTestnetPeriod = "24s";
inline constexpr const char* kTestnetClockSkew = "1s";

// Fixed ports on the test hosts (--hosts).
inline constexpr std::uint16_t kHostLinkPort = 9340;
inline constexpr std::uint16_t kHostSocksPort = 9345;

// The emulated links of a --hosts testnet: every link gets delay, jitter and
// loss (per direction); the client's access link is shaped to `rate_mbit`
// both ways with a `queue_ms` drop-tail queue.
struct TestnetLinks {
  double delay_ms = 0;
  double jitter_ms = 0;
  double loss_pct = 0;   // per link and direction
  double rate_mbit = 0;  // 0: unlimited
  double queue_ms = 50;
  std::uint64_t seed = 0;  // 0: a random one (recorded in the state)
  std::vector<std::string> tcp_path{"client", "relay1", "relay2", "exit", "origin"};

  nlohmann::json to_json() const;
};

struct TestnetOptions {
  std::size_t nodes = kTestnetMinNodes;
  std::filesystem::path dir = "nyx-testnet";
  std::uint16_t base_port = 19340;
  bool hosts = false;  // the WAN testnet: one network namespace per node
  TestnetLinks links{};
  std::string congestion{};  // [stream] congestion in every node's config; empty: nyxd's default
  bool verbose = false;      // print each `ip` command
};

struct TestnetNode {
  std::string name;                // "node1"
  std::vector<std::string> roles;  // nyxd roles: "client", "relay", "exit", "authority"
  std::string address = "127.0.0.1";
  std::string host;  // the test host (--hosts): "client", "relay1", ..., "exit"; else empty
  std::uint16_t udp_port = 0;
  std::uint16_t socks_port = 0;  // 0 unless a client
  pid_t pid = 0;                 // 0 when not started
  bool removed = false;          // stopped by `testnet remove`: no longer in the network

  bool is_client() const;
  bool is_relay() const;  // the exit too
  bool is_exit() const;
  bool is_authority() const;
};

// An authority's entry of every node's directory.authorities (proposal 0002
// section 10.2), keys in hex; tcp_address empty when it has none.
struct TestnetAuthority {
  std::string name;  // its node: "node2"
  std::string key;   // Ed25519 authority key
  std::string link;  // X25519 link key of its node
  std::string address;
  std::string tcp_address;
};

// A --hosts testnet's run (cli/testnet_hosts.hpp).
struct TestnetHosts {
  std::string run;  // the namespaces are nyx-<run>-<host>
  pid_t switch_pid = 0;
  std::vector<std::string> names;  // every host, the origin last
  TestnetLinks links{};
};

struct Testnet {
  std::filesystem::path dir;
  std::vector<TestnetNode> nodes;
  std::vector<TestnetAuthority> authorities;  // filled by generate_testnet_files
  std::string congestion;                     // see TestnetOptions
  std::optional<TestnetHosts> hosts;          // --hosts only

  std::filesystem::path node_dir(const TestnetNode& node) const { return dir / node.name; }
  std::filesystem::path config(const TestnetNode& node) const;
  std::filesystem::path data_dir(const TestnetNode& node) const;
  std::filesystem::path log(const TestnetNode& node) const;
  std::filesystem::path pid_file(const TestnetNode& node) const;
  std::filesystem::path state_file() const { return dir / "testnet.json"; }
  // The client's SOCKS5 port, and its address HOST:PORT.
  std::uint16_t socks_port() const;
  std::string socks_address() const;
  // Nodes with the relay role (the exit too), removed ones not: what a full
  // consensus lists.
  std::size_t relay_count() const;

  nlohmann::json to_json() const;
  static Result<Testnet> from_json(const nlohmann::json& state, std::filesystem::path dir);
};

// The exit's policy, in its config and its descriptor: everything but port 25,
// so the integration tests can see a policy refusal.
const std::vector<std::string>& testnet_exit_policy();

// The consensus a node has installed, as node.info's "directory" tells it.
struct InstalledConsensus {
  std::uint64_t period = 0;  // the period its valid_after begins
  std::size_t nodes = 0;     // the relays it lists
};

// From a node.info result; nullopt while the node holds no consensus (no
// "directory") or for any other shape.
std::optional<InstalledConsensus> installed_consensus(const nlohmann::json& node_info);

// Client circuits in state "open" in a circuits.list result
// ({"relayed": N, "circuits": [{"state": ...}, ...]}); 0 for any other shape.
std::size_t open_circuit_count(const nlohmann::json& circuits_list);

// Names, roles and ports: node1 the client (SOCKS5 on base_port + nodes),
// node2..node(N-1) relays, nodeN the exit, and the first kTestnetAuthorities
// relays also authorities; node K listens on UDP (and a relay on TCP)
// base_port + K - 1. With `hosts`, node K is test host K at 10.77.0.K with
// the fixed ports. kInvalidArgument for fewer than 5 or more than 64 nodes
// or ports beyond 65535.
Result<Testnet> plan_testnet(const TestnetOptions& options);

// nyxd's config for `node` (docs/nyxd.example.toml's keys), listing
// testnet.authorities.
std::string node_config_text(const Testnet& testnet, const TestnetNode& node);

// Reads DIR/testnet.json; kNotFound when there is none.
Result<Testnet> load_testnet(const std::filesystem::path& dir);

// Writes what `up` needs before it starts a process: each node's keys (an
// authority's authority.key too, as nyxctl keygen --authority writes it),
// then, with testnet.authorities filled in, each node's config
// (cli/testnet_generate.cpp).
Status generate_testnet_files(Testnet& testnet);
// The keys and config of `node`, a relay `add-relay` adds to a testnet whose
// authorities are already in testnet.authorities.
Status generate_added_relay_files(const Testnet& testnet, const TestnetNode& node);

// The commands. Each prints progress or a table to `out` and problems to
// stderr, and returns the exit code.
ExitCode testnet_up(const TestnetOptions& options, std::FILE* out);
ExitCode testnet_status(const std::filesystem::path& dir, bool json, std::FILE* out);
ExitCode testnet_down(const std::filesystem::path& dir, std::FILE* out);
// A running local testnet's membership (issue #13): `add_relay` generates and
// starts the next relay (an exit with `exit`) and waits until the client's
// consensus lists one relay more; `remove` stops node `name`, marks it
// removed and waits until the client's consensus lists one relay fewer.
// kUsage for a refusal (cli/testnet_membership.hpp), kFailed when the
// client's consensus does not change within three periods and 15 s.
ExitCode testnet_add_relay(const std::filesystem::path& dir, bool exit, std::FILE* out);
ExitCode testnet_remove(const std::filesystem::path& dir, const std::string& name, std::FILE* out);
// Runs `command` inside test host `host` of a --hosts testnet (client,
// relay1, ..., exit, origin), stdout and stderr inherited; its exit code.
int testnet_exec(const std::filesystem::path& dir, const std::string& host,
                 const std::vector<std::string>& command);

}  // namespace nyx::cli
