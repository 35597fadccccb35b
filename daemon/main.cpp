// nyxd: the Nyx node daemon. Exit codes: 0 clean exit (or a valid config for
// --check-config), 1 invalid config or a failed start, 2 a wrong command
// line, 3 a second signal cut the shutdown short (docs/nyxd.md).

#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/log.hpp"
#include "daemon/node.hpp"
#include "daemon/node_config.hpp"

namespace {

// Prints each error of a failed load on its own line.
void print_errors(const nyx::Error& error) { fmt::print(stderr, "{}\n", error.message); }

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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"nyxd: the Nyx anonymity-network node"};
  std::filesystem::path config_file;
  std::filesystem::path check_file;
  bool version = false;
  auto* config_opt = app.add_option("-c,--config", config_file, "Run the node with this config");
  auto* check_opt = app.add_option("--check-config", check_file,
                                   "Validate a config, print every error, exit 0 (valid) or 1");
  app.add_flag("--version", version, "Print the version and exit");
  config_opt->excludes(check_opt);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? nyx::daemon::kExitOk : nyx::daemon::kExitUsage;
  }
  try {
    if (version) {
      fmt::print("nyxd {}\n", NYX_VERSION_STRING);
      return nyx::daemon::kExitOk;
    }
    if (!check_file.empty()) {
      auto config = nyx::daemon::load_node_config(check_file);
      if (!config) {
        print_errors(config.error());
        return nyx::daemon::kExitFailure;
      }
      fmt::print("{}: valid\n", check_file.string());
      return nyx::daemon::kExitOk;
    }
    if (config_file.empty()) {
      fmt::print(stderr, "{}", app.help());
      return nyx::daemon::kExitUsage;
    }
    return run(config_file);
  } catch (const std::exception& e) {
    fmt::print(stderr, "nyxd: {}\n", e.what());
    return nyx::daemon::kExitFailure;
  }
}
