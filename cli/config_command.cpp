#include "cli/config_command.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/node_options.hpp"
#include "cli/process.hpp"

namespace nyx::cli {

void add_config_command(CLI::App& app, ConfigCommand& command) {
  auto* config = app.add_subcommand("config", "nyxd configuration files");
  config->require_subcommand(1);
  command.check =
      config->add_subcommand("check", "validate a nyxd config (runs nyxd --check-config)");
  command.check->add_option("file", command.file, "the config file")
      ->required()
      ->check(CLI::ExistingFile);
}

std::optional<int> run_config_command(const ConfigCommand& command) {
  if (!command.check->parsed()) {
    return std::nullopt;
  }
  auto nyxd = find_program("nyxd");
  if (!nyxd) {
    return report_failure(
        {ExitCode::kFailed,
         fmt::format("{}; the config schema is nyxd's, so nyxctl asks it to check",
                     nyxd.error().message)});
  }
  auto status = run_program({nyxd->string(), "--check-config", command.file});
  if (!status) {
    return report_failure({ExitCode::kFailed, status.error().message});
  }
  return *status == 0 ? 0 : to_int(ExitCode::kFailed);
}

}  // namespace nyx::cli
