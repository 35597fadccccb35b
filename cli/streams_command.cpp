#include "cli/streams_command.hpp"

#include <CLI/CLI.hpp>

#include "cli/json_view.hpp"
#include "cli/record_fields.hpp"
#include "cli/table.hpp"

namespace nyx::cli {
namespace {

constexpr std::string_view kNoStreams = "no streams";

}  // namespace

void add_streams_command(CLI::App& app, StreamsCommand& command) {
  command.streams = app.add_subcommand("streams", "the node's streams");
  add_node_options(*command.streams, command.node);
}

std::optional<int> run_streams_command(const StreamsCommand& command) {
  if (!command.streams->parsed()) {
    return std::nullopt;
  }
  return with_node(command.node,
                   [](auto& client, const auto& output) { return show_streams(client, output); });
}

std::expected<void, Failure> show_streams(control::ControlClient& client,
                                          const OutputOptions& output) {
  return show_result(client, "streams.list", output, render_streams);
}

std::string render_streams(const nlohmann::json& result) {
  if (!is_record_list(result)) {
    return render_records(result, kNoStreams);
  }
  if (result.empty()) {
    return std::string(kNoStreams) + "\n";
  }
  Table table({"ID", "CIRCUIT", "AGE", "UP", "DOWN"});
  for (std::size_t column = 0; column < 5; ++column) {
    table.set_align(column, Table::Align::kRight);
  }
  for (const auto& stream : result) {
    table.add_row({count_cell(stream, "id"), count_cell(stream, "circuit"),
                   millis_cell(stream, "age_ms"), bytes_cell(stream, "bytes_up"),
                   bytes_cell(stream, "bytes_down")});
  }
  return table.render();
}

}  // namespace nyx::cli
