#include "cli/status_command.hpp"

#include <CLI/CLI.hpp>

#include "cli/json_view.hpp"

namespace nyx::cli {

void add_status_command(CLI::App& app, StatusCommand& command) {
  command.status = app.add_subcommand("status", "what the node is: id, roles, addresses, uptime");
  add_node_options(*command.status, command.node);
}

std::optional<int> run_status_command(const StatusCommand& command) {
  if (!command.status->parsed()) {
    return std::nullopt;
  }
  return with_node(command.node,
                   [](auto& client, const auto& output) { return show_status(client, output); });
}

std::expected<void, Failure> show_status(control::ControlClient& client,
                                         const OutputOptions& output) {
  return show_result(client, "node.info", output,
                     [](const nlohmann::json& info) { return render_fields(info); });
}

}  // namespace nyx::cli
