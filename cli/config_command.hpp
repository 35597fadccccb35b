#pragma once
// `nyxctl config check FILE` on the command line: the config schema is
// nyxd's, so it runs `nyxd --check-config FILE` and passes on its verdict.
// Not thread-safe; the command table owns the ConfigCommand.

#include <optional>
#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace nyx::cli {

struct ConfigCommand {
  CLI::App* check = nullptr;
  std::string file;
};

void add_config_command(CLI::App& app, ConfigCommand& command);

// The exit code when config check was parsed, or nullopt.
std::optional<int> run_config_command(const ConfigCommand& command);

}  // namespace nyx::cli
