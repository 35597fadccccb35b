#include "cli/circuits_command.hpp"

#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/json_view.hpp"
#include "cli/record_fields.hpp"
#include "cli/table.hpp"

namespace nyx::cli {
namespace {

constexpr std::string_view kNoCircuits = "no circuits";

std::string path_cell(const nlohmann::json& circuit) {
  constexpr std::size_t kShown = 8;
  const auto it = circuit.find("hops");
  if (it == circuit.end() || !it->is_array()) {
    return "-";
  }
  std::vector<std::string> hops;
  for (const auto& hop : *it) {
    hops.push_back(hop.is_string() ? hop.get<std::string>().substr(0, kShown) : "?");
  }
  return fmt::format("{}", fmt::join(hops, " > "));
}

}  // namespace

void add_circuits_command(CLI::App& app, CircuitsCommand& command) {
  command.circuits = app.add_subcommand("circuits", "the node's circuits");
  add_node_options(*command.circuits, command.node);
}

std::optional<int> run_circuits_command(const CircuitsCommand& command) {
  if (!command.circuits->parsed()) {
    return std::nullopt;
  }
  return with_node(command.node,
                   [](auto& client, const auto& output) { return show_circuits(client, output); });
}

std::expected<void, Failure> show_circuits(control::ControlClient& client,
                                           const OutputOptions& output) {
  return show_result(client, "circuits.list", output, render_circuits);
}

std::string render_circuits(const nlohmann::json& result) {
  if (!result.is_object() || !result.contains("circuits") || !is_record_list(result["circuits"])) {
    return render_records(result, kNoCircuits);
  }
  std::string text = fmt::format("relayed for others: {}\n", count_cell(result, "relayed"));
  const auto& circuits = result["circuits"];
  if (circuits.empty()) {
    return text + "no client circuits\n";
  }
  Table table({"ID", "STATE", "AGE", "STREAMS", "TOTAL", "ISOLATION", "PATH"});
  for (std::size_t column : {0u, 2u, 3u, 4u}) {
    table.set_align(column, Table::Align::kRight);
  }
  for (const auto& circuit : circuits) {
    std::string state = text_cell(circuit, "state");
    const auto retired = circuit.find("retired");
    if (retired != circuit.end() && retired->is_boolean() && retired->get<bool>()) {
      state += " (retired)";
    }
    table.add_row({count_cell(circuit, "id"), state, millis_cell(circuit, "age_ms"),
                   count_cell(circuit, "streams_open"), count_cell(circuit, "streams_total"),
                   text_cell(circuit, "isolation"), path_cell(circuit)});
  }
  return text + table.render();
}

}  // namespace nyx::cli
