#include "cli/circuit_command.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/record_fields.hpp"

namespace nyx::cli {

void add_circuit_command(CLI::App& app, CircuitCommand& command) {
  auto* circuit = app.add_subcommand("circuit", "build or close one client circuit");
  circuit->require_subcommand(1);
  command.build = circuit->add_subcommand("build", "start a circuit now; prints its id");
  add_node_options(*command.build, command.node);
  command.close = circuit->add_subcommand("close", "close a circuit (DESTROY along its path)");
  add_node_options(*command.close, command.node);
  command.close->add_option("id", command.id, "the circuit's id (nyxctl circuits)")->required();
}

std::optional<int> run_circuit_command(const CircuitCommand& command) {
  if (command.build->parsed()) {
    return with_node(command.node, [](auto& client, const auto& output) {
      return build_circuit(client, output);
    });
  }
  if (command.close->parsed()) {
    return with_node(command.node, [&command](auto& client, const auto& output) {
      return close_circuit(client, command.id, output);
    });
  }
  return std::nullopt;
}

std::expected<void, Failure> build_circuit(control::ControlClient& client,
                                           const OutputOptions& output) {
  auto result = call_node(client, "circuit.build");
  if (!result) {
    return std::unexpected(std::move(result.error()));
  }
  return report_result(output, *result, [](const nlohmann::json& r) {
    return fmt::format("circuit {} building (nyxctl circuits shows it)", natural_text(r, "id"));
  });
}

std::expected<void, Failure> close_circuit(control::ControlClient& client, std::uint64_t id,
                                           const OutputOptions& output) {
  auto result = call_node(client, "circuit.close", nlohmann::json{{"id", id}});
  if (!result) {
    return std::unexpected(std::move(result.error()));
  }
  return report_result(output, *result, [id](const nlohmann::json&) {
    return fmt::format("circuit {} closed", id);
  });
}

}  // namespace nyx::cli
