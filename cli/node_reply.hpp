#pragma once
// What every command that asks a running node something shares: one call on
// its control connection with a failure as a value, and printing the answer,
// either for people (a table or a line) or, with --json, as the raw result.
//
// Output goes to the given FILE so tests can capture it. Free functions; one
// thread at a time per ControlClient.

#include <cstdio>
#include <expected>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "cli/node_connection.hpp"
#include "daemon/control/control_client.hpp"

namespace nyx::cli {

struct OutputOptions {
  bool json = false;
  std::FILE* out = stdout;
};

// Calls `method`; an error becomes the Failure the command reports.
std::expected<nlohmann::json, Failure> call_node(control::ControlClient& client,
                                                 std::string_view method,
                                                 const nlohmann::json& params = nullptr);

// Writes `text` as it is and flushes, so a pipe sees it at once.
void print_text(const OutputOptions& output, std::string_view text);
// `value` as JSON (dump(indent)) on a line of its own.
void print_json(const OutputOptions& output, const nlohmann::json& value, int indent = 2);

// Calls `method` once and prints its result: render(result) for people, the
// JSON for scripts.
template <class Render>
std::expected<void, Failure> show_result(control::ControlClient& client, std::string_view method,
                                         const OutputOptions& output, Render render) {
  auto result = call_node(client, method);
  if (!result) {
    return std::unexpected(std::move(result.error()));
  }
  if (output.json) {
    print_json(output, *result);
  } else {
    print_text(output, render(*result));
  }
  return {};
}

// For a command that acts: the result as JSON for --json, else the line
// `describe(result)` says what happened.
template <class Describe>
std::expected<void, Failure> report_result(const OutputOptions& output,
                                           const nlohmann::json& result, Describe describe) {
  print_text(output, (output.json ? result.dump(2) : std::string(describe(result))) + "\n");
  return {};
}

}  // namespace nyx::cli
