#include "cli/node_reply.hpp"

namespace nyx::cli {

std::expected<nlohmann::json, Failure> call_node(control::ControlClient& client,
                                                 std::string_view method,
                                                 const nlohmann::json& params) {
  auto result = client.call(method, params);
  if (!result) {
    return std::unexpected(call_failure(result.error()));
  }
  return std::move(*result);
}

void print_text(const OutputOptions& output, std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), output.out);
  std::fflush(output.out);
}

void print_json(const OutputOptions& output, const nlohmann::json& value, int indent) {
  print_text(output, value.dump(indent) + "\n");
}

}  // namespace nyx::cli
