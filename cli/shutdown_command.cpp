#include "cli/shutdown_command.hpp"

#include <cerrno>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/config.hpp"

namespace nyx::cli {
namespace {

constexpr auto kGonePoll = std::chrono::milliseconds(50);

// --timeout as milliseconds; zero without --wait, which is the only user.
std::expected<std::chrono::milliseconds, Failure> wait_timeout(const ShutdownCommand& command) {
  if (!command.wait) {
    return std::chrono::milliseconds{};
  }
  auto parsed = parse_duration(command.wait_timeout);
  if (!parsed) {
    return std::unexpected(Failure{
        ExitCode::kUsage,
        fmt::format("--timeout '{}': expected a duration like 30s or 2m", command.wait_timeout)});
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(*parsed);
}

}  // namespace

void add_shutdown_command(CLI::App& app, ShutdownCommand& command) {
  command.shutdown =
      app.add_subcommand("shutdown", "stop the node gracefully (drains streams first)");
  add_node_options(*command.shutdown, command.node);
  command.shutdown->add_flag("--wait", command.wait,
                             "return once the node's control socket is gone");
  command.shutdown->add_option("--timeout", command.wait_timeout, "how long --wait waits, e.g. 30s")
      ->capture_default_str();
}

std::optional<int> run_shutdown_command(const ShutdownCommand& command) {
  if (!command.shutdown->parsed()) {
    return std::nullopt;
  }
  const auto timeout = wait_timeout(command);
  if (!timeout) {
    return report_failure(timeout.error());
  }
  auto paths = resolve_control_paths(command.node.location);
  if (!paths) {
    return report_failure(paths.error());
  }
  {
    auto client = open_control(*paths);
    if (!client) {
      return report_failure(client.error());
    }
    if (auto done = shutdown_node(*client, {command.node.json, stdout}); !done) {
      return report_failure(done.error());
    }
  }
  if (command.wait) {
    if (auto gone = wait_until_gone(paths->socket, *timeout); !gone) {
      return report_failure(gone.error());
    }
    if (!command.node.json) {
      std::printf("node stopped\n");
    }
  }
  return 0;
}

std::expected<void, Failure> shutdown_node(control::ControlClient& client,
                                           const OutputOptions& output) {
  auto result = call_node(client, "node.shutdown");
  if (!result) {
    return std::unexpected(std::move(result.error()));
  }
  return report_result(output, *result, [](const nlohmann::json&) {
    return "node shutting down: streams drain, then circuits close";
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

}  // namespace nyx::cli
