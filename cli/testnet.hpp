#pragma once
// A local test network (nyxctl testnet up|status|down): N nyxd processes on
// 127.0.0.1 — one client with a SOCKS5 port, relays, one exit that may reach
// private addresses — with an authority key, node keys, configs and a signed
// directory generated into one directory, and the state (pids, ports, paths)
// in DIR/testnet.json so later commands find the nodes.
//
// Layout: DIR/authority.key, DIR/directory.bin, DIR/testnet.json and per node
// DIR/nodeK/{nyxd.toml, descriptor.toml, nyxd.log, nyxd.pid, data/}.
// plan_testnet() and the text it generates are pure, so tests check them;
// the functions that start and stop processes print progress to `out`.
// Not thread-safe; one nyxctl command owns a testnet directory at a time.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
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

struct TestnetOptions {
  std::size_t nodes = kTestnetMinNodes;
  std::filesystem::path dir = "nyx-testnet";
  std::uint16_t base_port = 19340;
};

struct TestnetNode {
  std::string name;                // "node1"
  std::vector<std::string> roles;  // nyxd roles: "client", "relay", "exit"
  std::uint16_t udp_port = 0;
  std::uint16_t socks_port = 0;  // 0 unless a client
  pid_t pid = 0;                 // 0 when not started

  bool is_client() const;
  bool is_exit() const;
};

struct Testnet {
  std::filesystem::path dir;
  std::vector<TestnetNode> nodes;

  std::filesystem::path node_dir(const TestnetNode& node) const { return dir / node.name; }
  std::filesystem::path config(const TestnetNode& node) const;
  std::filesystem::path data_dir(const TestnetNode& node) const;
  std::filesystem::path log(const TestnetNode& node) const;
  std::filesystem::path pid_file(const TestnetNode& node) const;
  std::filesystem::path state_file() const { return dir / "testnet.json"; }
  std::filesystem::path directory_file() const { return dir / "directory.bin"; }
  std::filesystem::path authority_key() const { return dir / "authority.key"; }
  // The client's SOCKS5 port.
  std::uint16_t socks_port() const;

  nlohmann::json to_json() const;
  static Result<Testnet> from_json(const nlohmann::json& state, std::filesystem::path dir);
};

// The exit's policy, in its config and its descriptor: everything but port 25,
// so the integration tests can see a policy refusal.
const std::vector<std::string>& testnet_exit_policy();

// Client circuits in state "open" in a circuits.list result
// ({"relayed": N, "circuits": [{"state": ...}, ...]}); 0 for any other shape.
std::size_t open_circuit_count(const nlohmann::json& circuits_list);

// Names, roles and ports: node1 the client (SOCKS5 on base_port + nodes),
// node2..node(N-1) relays, nodeN the exit; node K listens on UDP
// base_port + K - 1. kInvalidArgument for fewer than 5 or more than 64 nodes
// or ports beyond 65535.
Result<Testnet> plan_testnet(const TestnetOptions& options);

// nyxd's config for `node` (docs/nyxd.example.toml's keys).
std::string node_config_text(const Testnet& testnet, const TestnetNode& node,
                             const std::string& authority_hex);

// Reads DIR/testnet.json; kNotFound when there is none.
Result<Testnet> load_testnet(const std::filesystem::path& dir);

// The commands. Each prints progress or a table to `out` and problems to
// stderr, and returns the exit code.
ExitCode testnet_up(const TestnetOptions& options, std::FILE* out);
ExitCode testnet_status(const std::filesystem::path& dir, bool json, std::FILE* out);
ExitCode testnet_down(const std::filesystem::path& dir, std::FILE* out);

}  // namespace nyx::cli
