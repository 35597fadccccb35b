// nyxd: the Nyx node daemon. Without --config it runs with
// /etc/nyx/nyxd.toml. Exit codes: 0 clean exit (or a valid config for
// --check-config), 1 invalid config or a failed start, 2 a wrong command
// line, 3 a second signal cut the shutdown short (docs/nyxd.md).

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/log.hpp"
#include "daemon/config_check.hpp"
#include "daemon/node.hpp"
#include "daemon/node_config.hpp"
#include "nyx_version.hpp"

namespace {

// Prints each error of a failed load on its own line.
void print_errors(const nyx::Error& error) { fmt::print(stderr, "{}\n", error.message); }

std::uint64_t unix_now() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

int run(const std::filesystem::path& config_file) {
  auto config = nyx::daemon::load_node_config(config_file);
  if (!config) {
    print_errors(config.error());
    return nyx::daemon::kExitFailure;
  }
  if (auto status = nyx::log::init(
          {.level = config->log.level, .file = config->log.file, .json = config->log.json});
      !status) {
    print_errors(status.error());
    return nyx::daemon::kExitFailure;
  }
  auto node = nyx::daemon::Node::create(std::move(*config), config_file);
  if (!node) {
    nyx::log::error("cannot start: {}", node.error().message);
    nyx::log::flush();
    return nyx::daemon::kExitFailure;
  }
  (*node)->run();
  return nyx::daemon::kExitOk;
}

// The schema, then what the node would find at start; every problem on its
// own line.
int check(const std::filesystem::path& config_file, bool bind_addresses) {
  auto config = nyx::daemon::load_node_config(config_file);
  if (!config) {
    print_errors(config.error());
    return nyx::daemon::kExitFailure;
  }
  auto found = nyx::daemon::check_node_files(*config, unix_now());
  if (bind_addresses) {
    auto binds = nyx::daemon::check_binds(*config);
    found.problems.insert(found.problems.end(), binds.problems.begin(), binds.problems.end());
  }
  for (const auto& note : found.notes) {
    fmt::print("{}: {}\n", config_file.string(), note);
  }
  for (const auto& problem : found.problems) {
    fmt::print(stderr, "{}: {}\n", config_file.string(), problem);
  }
  if (!found.problems.empty()) {
    return nyx::daemon::kExitFailure;
  }
  fmt::print("{}: valid\n", config_file.string());
  return nyx::daemon::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{fmt::format("nyxd: the Nyx anonymity-network node (without --config it reads {})",
                           nyx::daemon::kDefaultConfigFile)};
  std::filesystem::path config_file = nyx::daemon::kDefaultConfigFile;
  std::filesystem::path check_file;
  bool bind_addresses = false;
  app.set_version_flag("--version",
                       fmt::format("nyxd {} (commit {}, {})", nyx::version::kVersion,
                                   nyx::version::kGitCommit, nyx::version::kBuildType),
                       "Print the version, commit and build type, and exit");
  auto* config_opt = app.add_option("-c,--config", config_file, "Run the node with this config")
                         ->capture_default_str();
  auto* check_opt = app.add_option(
      "--check-config", check_file,
      "Check a config without starting: the schema, directory.file's signatures (when set; a "
      "fetched consensus is checked on arrival), the data directory and its key files; print "
      "every problem, exit 0 (valid) or 1");
  app.add_flag("--bind", bind_addresses,
               "With --check-config: also bind (and release) every configured address")
      ->needs(check_opt);
  config_opt->excludes(check_opt);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? nyx::daemon::kExitOk : nyx::daemon::kExitUsage;
  }
  try {
    if (!check_file.empty()) {
      return check(check_file, bind_addresses);
    }
    if (config_opt->count() == 0 && !std::filesystem::exists(config_file)) {
      // Most likely not installed as a package: say what nyxd looked for.
      fmt::print(stderr,
                 "nyxd: no config at {} (the default); run `nyxd --config FILE`, see "
                 "`nyxd --help`\n",
                 config_file.string());
      return nyx::daemon::kExitFailure;
    }
    return run(config_file);
  } catch (const std::exception& e) {
    fmt::print(stderr, "nyxd: {}\n", e.what());
    return nyx::daemon::kExitFailure;
  }
}
