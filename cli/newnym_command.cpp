#include "cli/newnym_command.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/record_fields.hpp"

namespace nyx::cli {

void add_newnym_command(CLI::App& app, NewnymCommand& command) {
  command.newnym = app.add_subcommand(
      "newnym", "new identity: new streams get new circuits; running streams go on");
  add_node_options(*command.newnym, command.node);
}

std::optional<int> run_newnym_command(const NewnymCommand& command) {
  if (!command.newnym->parsed()) {
    return std::nullopt;
  }
  return with_node(command.node,
                   [](auto& client, const auto& output) { return new_identity(client, output); });
}

std::expected<void, Failure> new_identity(control::ControlClient& client,
                                          const OutputOptions& output) {
  auto result = call_node(client, "circuits.newnym");
  if (!result) {
    return std::unexpected(std::move(result.error()));
  }
  return report_result(output, *result, [](const nlohmann::json& r) {
    return fmt::format(
        "new identity: {} circuits retired (their streams run on); new streams get new circuits",
        natural_text(r, "retired"));
  });
}

}  // namespace nyx::cli
