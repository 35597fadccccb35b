#include "cli/call_command.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace nyx::cli {

void add_call_command(CLI::App& app, CallCommand& command) {
  command.call =
      app.add_subcommand("call", "call any control method (docs/control.md); prints JSON");
  add_node_options(*command.call, command.node);
  command.call->add_option("method", command.method, "the method, e.g. node.info")->required();
  command.call->add_option("params", command.params, "its params as JSON, e.g. '{\"id\": 3}'");
}

std::optional<int> run_call_command(const CallCommand& command) {
  if (!command.call->parsed()) {
    return std::nullopt;
  }
  auto params = parse_call_params(command.params);
  if (!params) {
    return report_failure(params.error());
  }
  return with_node(command.node, [&command, &params](auto& client, const auto& output) {
    return call_method(client, command.method, *params, output);
  });
}

std::expected<nlohmann::json, Failure> parse_call_params(std::string_view text) {
  if (text.empty()) {
    return nlohmann::json(nullptr);
  }
  auto params = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (params.is_discarded()) {
    return std::unexpected(
        Failure{ExitCode::kUsage, fmt::format("PARAMS '{}' is not valid JSON", text)});
  }
  return params;
}

std::expected<void, Failure> call_method(control::ControlClient& client, const std::string& method,
                                         const nlohmann::json& params,
                                         const OutputOptions& output) {
  auto result = call_node(client, method, params);
  if (!result) {
    return std::unexpected(std::move(result.error()));
  }
  print_json(output, *result);
  return {};
}

}  // namespace nyx::cli
