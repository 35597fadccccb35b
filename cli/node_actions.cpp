#include "cli/node_actions.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace nyx::cli {
namespace {

using nlohmann::json;

constexpr auto kGonePoll = std::chrono::milliseconds(50);

std::expected<json, Failure> call(control::ControlClient& client, std::string_view method,
                                  const json& params = nullptr) {
  auto result = client.call(method, params);
  if (!result) {
    return std::unexpected(call_failure(result.error()));
  }
  return std::move(*result);
}

void print_line(const OutputOptions& output, const std::string& line) {
  std::fprintf(output.out, "%s\n", line.c_str());
  std::fflush(output.out);
}

// The result as JSON for --json, else `line(result)`.
template <class Line>
std::expected<void, Failure> report(const OutputOptions& output, const json& result, Line line) {
  print_line(output, output.json ? result.dump(2) : line(result));
  return {};
}

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

// A count or time: any integer JSON holds that is not negative.
std::optional<std::uint64_t> natural(const json& result, std::string_view key) {
  const auto it = result.is_object() ? result.find(key) : result.end();
  if (it == result.end() || !it->is_number_integer() ||
      (!it->is_number_unsigned() && it->get<std::int64_t>() < 0)) {
    return std::nullopt;
  }
  return it->get<std::uint64_t>();
}

std::string number(const json& result, std::string_view key) {
  const auto value = natural(result, key);
  return value ? std::to_string(*value) : "?";
}

}  // namespace

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
  line += fmt::format("; directory: {} nodes", number(directory, "nodes"));
  if (const auto until = natural(directory, "valid_until")) {
    line += fmt::format(", valid until {:%Y-%m-%d %H:%M} UTC",
                        fmt::gmtime(static_cast<std::time_t>(*until)));
  }
  return line;
}

std::expected<json, Failure> parse_call_params(std::string_view text) {
  if (text.empty()) {
    return json(nullptr);
  }
  json params = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (params.is_discarded()) {
    return std::unexpected(
        Failure{ExitCode::kUsage, fmt::format("PARAMS '{}' is not valid JSON", text)});
  }
  return params;
}

std::expected<void, Failure> reload_node(control::ControlClient& client,
                                         const OutputOptions& output) {
  auto config = call(client, "config.reload");
  if (!config) {
    return std::unexpected(
        Failure{config.error().code, fmt::format("config refused: {}", config.error().message)});
  }
  auto directory = call(client, "directory.reload");
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
    print_line(output, json{{"config", *config}, {"directory", *directory}}.dump(2));
  } else {
    print_line(output, describe_reload(*config, *directory));
  }
  return {};
}

std::expected<void, Failure> shutdown_node(control::ControlClient& client,
                                           const OutputOptions& output) {
  auto result = call(client, "node.shutdown");
  if (!result) {
    return std::unexpected(std::move(result.error()));
  }
  return report(output, *result, [](const json&) {
    return std::string("node shutting down: streams drain, then circuits close");
  });
}

std::expected<void, Failure> wait_until_gone(const std::filesystem::path& socket,
                                             std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto probe = control::ControlClient::connect(socket, kGonePoll);
    if (!probe && probe.error().category == ErrorCategory::kIo &&
        (probe.error().code == ENOENT || probe.error().code == ECONNREFUSED)) {
      return {};
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::unexpected(
          Failure{ExitCode::kFailed, fmt::format("the node still answers at {} after {} ms",
                                                 socket.string(), timeout.count())});
    }
    std::this_thread::sleep_for(kGonePoll);
  }
}

std::expected<void, Failure> build_circuit(control::ControlClient& client,
                                           const OutputOptions& output) {
  auto result = call(client, "circuit.build");
  if (!result) {
    return std::unexpected(std::move(result.error()));
  }
  return report(output, *result, [](const json& r) {
    return fmt::format("circuit {} building (nyxctl circuits shows it)", number(r, "id"));
  });
}

std::expected<void, Failure> close_circuit(control::ControlClient& client, std::uint64_t id,
                                           const OutputOptions& output) {
  auto result = call(client, "circuit.close", json{{"id", id}});
  if (!result) {
    return std::unexpected(std::move(result.error()));
  }
  return report(output, *result,
                [id](const json&) { return fmt::format("circuit {} closed", id); });
}

std::expected<void, Failure> new_identity(control::ControlClient& client,
                                          const OutputOptions& output) {
  auto result = call(client, "circuits.newnym");
  if (!result) {
    return std::unexpected(std::move(result.error()));
  }
  return report(output, *result, [](const json& r) {
    return fmt::format(
        "new identity: {} circuits retired (their streams run on); new streams get new circuits",
        number(r, "retired"));
  });
}

std::expected<void, Failure> call_method(control::ControlClient& client, const std::string& method,
                                         const json& params, const OutputOptions& output) {
  auto result = call(client, method, params);
  if (!result) {
    return std::unexpected(std::move(result.error()));
  }
  print_line(output, result->dump(2));
  return {};
}

}  // namespace nyx::cli
