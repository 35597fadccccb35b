#include "cli/reload_command.hpp"

#include <ctime>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/record_fields.hpp"

namespace nyx::cli {
namespace {

using nlohmann::json;

// A JSON array of strings as "a, b"; `none` when empty or of another shape.
std::string names(const json& list, std::string_view none) {
  std::vector<std::string> out;
  if (list.is_array()) {
    for (const auto& name : list) {
      if (name.is_string()) {
        out.push_back(name.get<std::string>());
      }
    }
  }
  return out.empty() ? std::string(none) : fmt::format("{}", fmt::join(out, ", "));
}

}  // namespace

void add_reload_command(CLI::App& app, ReloadCommand& command) {
  command.reload = app.add_subcommand(
      "reload", "reload the node's config and directory (what needs a restart is named)");
  add_node_options(*command.reload, command.node);
}

std::optional<int> run_reload_command(const ReloadCommand& command) {
  if (!command.reload->parsed()) {
    return std::nullopt;
  }
  return with_node(command.node,
                   [](auto& client, const auto& output) { return reload_node(client, output); });
}

std::expected<void, Failure> reload_node(control::ControlClient& client,
                                         const OutputOptions& output) {
  auto config = call_node(client, "config.reload");
  if (!config) {
    return std::unexpected(
        Failure{config.error().code, fmt::format("config refused: {}", config.error().message)});
  }
  auto directory = call_node(client, "directory.reload");
  if (!directory) {
    return std::unexpected(Failure{
        directory.error().code,
        fmt::format(
            "config reloaded (applied {}), but the directory was refused: {}",
            names(config->is_object() ? config->value("applied", json::array()) : json::array(),
                  "nothing"),
            directory.error().message)});
  }
  if (output.json) {
    print_json(output, json{{"config", *config}, {"directory", *directory}});
  } else {
    print_text(output, describe_reload(*config, *directory) + "\n");
  }
  return {};
}

std::string describe_reload(const json& config, const json& directory) {
  const json empty = json::array();
  const json& applied =
      config.is_object() && config.contains("applied") ? config["applied"] : empty;
  const json& restart = config.is_object() && config.contains("restart_required")
                            ? config["restart_required"]
                            : empty;
  std::string line = fmt::format("config reloaded: applied {}", names(applied, "nothing"));
  if (!restart.empty()) {
    line +=
        fmt::format("; changed but need a restart (ignored until then): {}", names(restart, "-"));
  }
  line += fmt::format("; directory: {} nodes", natural_text(directory, "nodes"));
  if (const auto until = natural_field(directory, "valid_until")) {
    line += fmt::format(", valid until {:%Y-%m-%d %H:%M} UTC",
                        fmt::gmtime(static_cast<std::time_t>(*until)));
  }
  return line;
}

}  // namespace nyx::cli
