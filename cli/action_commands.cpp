#include "cli/action_commands.hpp"

#include <chrono>

#include <fmt/format.h>

#include "cli/node_actions.hpp"
#include "core/config.hpp"

namespace nyx::cli {
namespace {

int run_shutdown(const ActionCommands& c) {
  std::chrono::milliseconds timeout{};
  if (c.wait) {
    auto parsed = parse_duration(c.wait_timeout);
    if (!parsed) {
      return report_failure(
          {ExitCode::kUsage,
           fmt::format("--timeout '{}': expected a duration like 30s or 2m", c.wait_timeout)});
    }
    timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*parsed);
  }
  auto paths = resolve_control_paths(c.node.location);
  if (!paths) {
    return report_failure(paths.error());
  }
  {
    auto client = open_control(*paths);
    if (!client) {
      return report_failure(client.error());
    }
    if (auto done = shutdown_node(*client, {c.node.json, stdout}); !done) {
      return report_failure(done.error());
    }
  }
  if (c.wait) {
    if (auto gone = wait_until_gone(paths->socket, timeout); !gone) {
      return report_failure(gone.error());
    }
    if (!c.node.json) {
      std::printf("node stopped\n");
    }
  }
  return 0;
}

}  // namespace

void add_action_commands(CLI::App& app, ActionCommands& c) {
  c.reload = app.add_subcommand(
      "reload", "reload the node's config and directory (what needs a restart is named)");
  add_node_options(*c.reload, c.node);

  c.shutdown = app.add_subcommand("shutdown", "stop the node gracefully (drains streams first)");
  add_node_options(*c.shutdown, c.node);
  c.shutdown->add_flag("--wait", c.wait, "return once the node's control socket is gone");
  c.shutdown->add_option("--timeout", c.wait_timeout, "how long --wait waits, e.g. 30s")
      ->capture_default_str();

  auto* circuit = app.add_subcommand("circuit", "build or close one client circuit");
  circuit->require_subcommand(1);
  c.circuit_build = circuit->add_subcommand("build", "start a circuit now; prints its id");
  add_node_options(*c.circuit_build, c.node);
  c.circuit_close = circuit->add_subcommand("close", "close a circuit (DESTROY along its path)");
  add_node_options(*c.circuit_close, c.node);
  c.circuit_close->add_option("id", c.circuit_id, "the circuit's id (nyxctl circuits)")->required();

  c.newnym = app.add_subcommand(
      "newnym", "new identity: new streams get new circuits; running streams go on");
  add_node_options(*c.newnym, c.node);

  c.call = app.add_subcommand("call", "call any control method (docs/control.md); prints JSON");
  add_node_options(*c.call, c.node);
  c.call->add_option("method", c.method, "the method, e.g. node.info")->required();
  c.call->add_option("params", c.params, "its params as JSON, e.g. '{\"id\": 3}'");
}

std::optional<int> run_action_commands(const ActionCommands& c) {
  if (c.reload->parsed()) {
    return with_node(c.node,
                     [](auto& client, const auto& output) { return reload_node(client, output); });
  }
  if (c.shutdown->parsed()) {
    return run_shutdown(c);
  }
  if (c.circuit_build->parsed()) {
    return with_node(
        c.node, [](auto& client, const auto& output) { return build_circuit(client, output); });
  }
  if (c.circuit_close->parsed()) {
    return with_node(c.node, [&c](auto& client, const auto& output) {
      return close_circuit(client, c.circuit_id, output);
    });
  }
  if (c.newnym->parsed()) {
    return with_node(c.node,
                     [](auto& client, const auto& output) { return new_identity(client, output); });
  }
  if (c.call->parsed()) {
    // A mistyped params is a usage error, found before any node is asked.
    auto params = parse_call_params(c.params);
    if (!params) {
      return report_failure(params.error());
    }
    return with_node(c.node, [&c, &params](auto& client, const auto& output) {
      return call_method(client, c.method, *params, output);
    });
  }
  return std::nullopt;
}

}  // namespace nyx::cli
