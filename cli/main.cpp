// nyxctl: the command-line client of a Nyx node. Reads a running node over its
// control socket, generates keys, signs and verifies directories, checks
// configs and runs a local test network. Exit codes: see kExitCodes.

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/bench_command.hpp"
#include "cli/descriptor_file.hpp"
#include "cli/directory_tool.hpp"
#include "cli/exit_code.hpp"
#include "cli/node_commands.hpp"
#include "cli/node_connection.hpp"
#include "cli/node_keys.hpp"
#include "cli/process.hpp"
#include "cli/testnet.hpp"
#include "core/config.hpp"
#include "core/crypto/encoding.hpp"

namespace {

using nyx::cli::ExitCode;
using nyx::cli::Failure;

constexpr const char* kExitCodes =
    "Exit codes:\n"
    "  0  success\n"
    "  1  the node answered with an error, or the operation failed\n"
    "     (bad signature, expired directory, invalid config, ...)\n"
    "  2  usage: unknown command, bad option or argument\n"
    "  3  no node is running at the control socket";

int fail(const Failure& failure) {
  std::fprintf(stderr, "nyxctl: %s\n", failure.message.c_str());
  return nyx::cli::to_int(failure.code);
}

int fail(ExitCode code, const std::string& message) { return fail(Failure{code, message}); }

std::uint64_t unix_now() { return static_cast<std::uint64_t>(std::time(nullptr)); }

// The options every node command shares.
struct NodeOptions {
  nyx::cli::NodeLocation location;
  bool json = false;
};

void add_node_options(CLI::App& command, NodeOptions& options) {
  command.add_option("--config", options.location.config,
                     "nyxd config file; its node.data_dir locates the node");
  command.add_option("--data-dir", options.location.data_dir,
                     "the node's data directory (default ./nyx-data)");
  command.add_option("--socket", options.location.socket,
                     "the node's control socket (default DATA_DIR/control.sock)");
  command.add_flag("--json", options.json, "print the raw JSON result, for scripts");
}

// Opens the node's control connection and runs `body` on it.
template <class Body>
int with_node(const NodeOptions& options, Body&& body) {
  auto paths = nyx::cli::resolve_control_paths(options.location);
  if (!paths) {
    return fail(paths.error());
  }
  auto client = nyx::cli::open_control(*paths);
  if (!client) {
    return fail(client.error());
  }
  const nyx::cli::OutputOptions output{options.json, stdout};
  if (auto done = body(*client, output); !done) {
    return fail(done.error());
  }
  return 0;
}

int run_keygen(const std::string& out, bool authority) {
  if (authority) {
    if (auto status = nyx::cli::make_private_dir(out); !status) {
      return fail(ExitCode::kFailed, status.error().message);
    }
    const auto file = std::filesystem::path(out) / nyx::cli::kAuthorityKeyName;
    auto key = nyx::cli::generate_authority_key(file);
    if (!key) {
      return fail(ExitCode::kFailed, key.error().message);
    }
    std::printf("authority key  %s (0600)\npublic key     %s\n", file.c_str(),
                nyx::crypto::to_hex(*key).c_str());
    std::printf(
        "\nPut the public key in each node's [directory] authorities; sign with\n"
        "  nyxctl directory sign --authority-key %s --descriptors FILE... "
        "--valid-for 24h --out directory.bin\n",
        file.c_str());
    return 0;
  }
  auto keys = nyx::cli::generate_node_keys(out);
  if (!keys) {
    return fail(ExitCode::kFailed, keys.error().message);
  }
  // A descriptor with the keys filled in: the operator adds the addresses.
  nyx::mix::NodeDescriptor descriptor;
  descriptor.identity_key = keys->identity;
  descriptor.link_key = keys->link;
  descriptor.onion_key = keys->onion;
  descriptor.onion_key_epoch = keys->onion_epoch;
  const auto descriptor_file = std::filesystem::path(out) / "descriptor.toml";
  if (auto status = nyx::cli::write_descriptor_file(descriptor_file, descriptor); !status) {
    return fail(ExitCode::kFailed, status.error().message);
  }
  std::printf(
      "node id       %s\nidentity key  %s  (Ed25519)\nlink key      %s  (X25519)\n"
      "onion key     %s  (X25519, epoch %llu)\n",
      nyx::crypto::to_hex(keys->node_id()).c_str(), nyx::crypto::to_hex(keys->identity).c_str(),
      nyx::crypto::to_hex(keys->link).c_str(), nyx::crypto::to_hex(keys->onion).c_str(),
      static_cast<unsigned long long>(keys->onion_epoch));
  std::printf(
      "\nSecret keys are in %s (0600, directory 0700): use it as the node's data_dir.\n"
      "Fill in the addresses and roles in %s, then sign a directory with it.\n",
      out.c_str(), descriptor_file.c_str());
  return 0;
}

int run_directory_sign(const std::vector<std::string>& keys,
                       const std::vector<std::string>& descriptors, const std::string& valid_for,
                       const std::string& out) {
  auto duration = nyx::parse_duration(valid_for);
  if (!duration || *duration < std::chrono::seconds(1)) {
    return fail(
        ExitCode::kUsage,
        fmt::format("--valid-for '{}': expected a duration of at least 1s, like 24h", valid_for));
  }
  nyx::cli::SignOptions options;
  options.authority_keys.assign(keys.begin(), keys.end());
  options.descriptors.assign(descriptors.begin(), descriptors.end());
  options.valid_for = std::chrono::duration_cast<std::chrono::seconds>(*duration);
  options.out = out;
  options.now = unix_now();
  auto directory = nyx::cli::sign_directory_files(options);
  if (!directory) {
    return fail(ExitCode::kFailed, directory.error().message);
  }
  std::printf("wrote %s\n%s", out.c_str(),
              nyx::cli::describe_directory(*directory, options.now).c_str());
  return 0;
}

int run_directory_verify(const std::vector<std::string>& authorities, std::size_t threshold,
                         const std::string& file) {
  nyx::mix::DirectoryTrust trust;
  trust.threshold = threshold;
  for (const auto& hex : authorities) {
    auto key = nyx::cli::parse_authority_key(hex);
    if (!key) {
      return fail(ExitCode::kUsage, key.error().message);
    }
    trust.authorities.push_back(*key);
  }
  if (threshold < 1 || threshold > trust.authorities.size()) {
    return fail(ExitCode::kUsage, "--threshold must be between 1 and the number of authorities");
  }
  const std::uint64_t now = unix_now();
  auto directory = nyx::cli::verify_directory_file(file, trust, now);
  if (!directory) {
    return fail(ExitCode::kFailed, fmt::format("{}: {}", file, directory.error().message));
  }
  std::printf("%s: good\n%s", file.c_str(), nyx::cli::describe_directory(*directory, now).c_str());
  return 0;
}

int run_config_check(const std::string& file) {
  auto nyxd = nyx::cli::find_program("nyxd");
  if (!nyxd) {
    return fail(ExitCode::kFailed,
                fmt::format("{}; the config schema is nyxd's, so nyxctl asks it to check",
                            nyxd.error().message));
  }
  auto status = nyx::cli::run_program({nyxd->string(), "--check-config", file});
  if (!status) {
    return fail(ExitCode::kFailed, status.error().message);
  }
  return *status == 0 ? 0 : nyx::cli::to_int(ExitCode::kFailed);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"nyxctl: control a Nyx node, manage keys and directories, run a local network"};
  app.footer(kExitCodes);
  app.require_subcommand(1);

  NodeOptions node;
  auto* status = app.add_subcommand("status", "what the node is: id, roles, addresses, uptime");
  add_node_options(*status, node);
  auto* stats = app.add_subcommand("stats", "every metric of the node");
  add_node_options(*stats, node);
  bool watch = false;
  std::uint32_t interval_ms = 1000;
  stats->add_flag("--watch", watch, "follow the metrics, redrawing with per-second rates");
  stats->add_option("--interval", interval_ms, "milliseconds between updates with --watch")
      ->check(CLI::Range(10, 3'600'000))
      ->capture_default_str();
  auto* peers = app.add_subcommand("peers", "the node's links to other nodes");
  add_node_options(*peers, node);
  auto* circuits = app.add_subcommand("circuits", "the node's circuits");
  add_node_options(*circuits, node);
  auto* streams = app.add_subcommand("streams", "the node's streams");
  add_node_options(*streams, node);

  auto* keygen = app.add_subcommand("keygen", "generate a node's keys (or an authority key)");
  std::string keygen_out;
  bool keygen_authority = false;
  keygen->add_option("--out", keygen_out, "directory to write the keys to (made 0700)")->required();
  keygen->add_flag("--authority", keygen_authority,
                   "write a directory authority's signing key (authority.key) instead");

  auto* directory = app.add_subcommand("directory", "sign or verify a directory");
  directory->require_subcommand(1);
  auto* sign = directory->add_subcommand("sign", "sign descriptor files into a directory");
  std::vector<std::string> sign_keys;
  std::vector<std::string> sign_descriptors;
  std::string sign_valid_for;
  std::string sign_out;
  sign->add_option("--authority-key", sign_keys, "authority key file (nyxctl keygen --authority)")
      ->required()
      ->check(CLI::ExistingFile);
  sign->add_option("--descriptors", sign_descriptors, "descriptor files (TOML, one per node)")
      ->required()
      ->check(CLI::ExistingFile);
  sign->add_option("--valid-for", sign_valid_for, "validity from now, e.g. 24h, 90m")->required();
  sign->add_option("--out", sign_out, "the directory file to write")->required();
  auto* verify = directory->add_subcommand("verify", "check a directory's signatures and time");
  std::vector<std::string> verify_authorities;
  std::size_t verify_threshold = 1;
  std::string verify_file;
  verify->add_option("--authority", verify_authorities, "authority public keys (64 hex digits)")
      ->required();
  verify->add_option("--threshold", verify_threshold, "how many of them must have signed");
  verify->add_option("file", verify_file, "the directory file")->required();

  auto* config = app.add_subcommand("config", "nyxd configuration files");
  config->require_subcommand(1);
  auto* check =
      config->add_subcommand("check", "validate a nyxd config (runs nyxd --check-config)");
  std::string check_file;
  check->add_option("file", check_file, "the config file")->required()->check(CLI::ExistingFile);

  auto* testnet = app.add_subcommand("testnet", "a local network of nyxd processes on 127.0.0.1");
  testnet->require_subcommand(1);
  nyx::cli::TestnetOptions testnet_options;
  bool testnet_json = false;
  auto* up = testnet->add_subcommand(
      "up", "generate keys, configs and a signed directory, start the nodes, wait for them");
  up->add_option("--nodes", testnet_options.nodes,
                 "nodes: a client with SOCKS5, relays, an exit (at least 5)")
      ->capture_default_str();
  up->add_option("--dir", testnet_options.dir, "where keys, configs, logs and state go")
      ->capture_default_str();
  up->add_option("--base-port", testnet_options.base_port,
                 "node K listens on UDP base+K-1; the SOCKS5 port is base+nodes")
      ->capture_default_str();
  auto* testnet_status = testnet->add_subcommand("status", "each node's pid, liveness, counters");
  testnet_status->add_option("--dir", testnet_options.dir, "the testnet's directory");
  testnet_status->add_flag("--json", testnet_json, "print JSON, for scripts");
  auto* down = testnet->add_subcommand("down", "stop the nodes (SIGTERM, SIGKILL after 8 s)");
  down->add_option("--dir", testnet_options.dir, "the testnet's directory");

  nyx::cli::BenchCommand bench;
  nyx::cli::add_bench_command(app, bench);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return nyx::cli::to_int(ExitCode::kUsage);
  }

  if (auto code = nyx::cli::run_bench_command(bench)) {
    return *code;
  }
  if (status->parsed()) {
    return with_node(node, [](auto& client, const auto& output) {
      return nyx::cli::show_status(client, output);
    });
  }
  if (stats->parsed()) {
    return with_node(node, [&](auto& client, const auto& output) {
      return watch ? nyx::cli::watch_stats(client, std::chrono::milliseconds(interval_ms), output)
                   : nyx::cli::show_stats(client, output);
    });
  }
  for (const auto& [command, kind] : {std::pair{peers, nyx::cli::ListKind::kPeers},
                                      std::pair{circuits, nyx::cli::ListKind::kCircuits},
                                      std::pair{streams, nyx::cli::ListKind::kStreams}}) {
    if (command->parsed()) {
      return with_node(node, [kind](auto& client, const auto& output) {
        return nyx::cli::show_list(client, kind, output);
      });
    }
  }
  if (keygen->parsed()) {
    return run_keygen(keygen_out, keygen_authority);
  }
  if (sign->parsed()) {
    return run_directory_sign(sign_keys, sign_descriptors, sign_valid_for, sign_out);
  }
  if (verify->parsed()) {
    return run_directory_verify(verify_authorities, verify_threshold, verify_file);
  }
  if (check->parsed()) {
    return run_config_check(check_file);
  }
  if (up->parsed()) {
    return nyx::cli::to_int(nyx::cli::testnet_up(testnet_options, stdout));
  }
  if (testnet_status->parsed()) {
    return nyx::cli::to_int(nyx::cli::testnet_status(testnet_options.dir, testnet_json, stdout));
  }
  if (down->parsed()) {
    return nyx::cli::to_int(nyx::cli::testnet_down(testnet_options.dir, stdout));
  }
  return nyx::cli::to_int(ExitCode::kUsage);
}
