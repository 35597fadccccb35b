#pragma once
// What every command that talks to a running node shares: the options that
// locate it (--config, --data-dir, --socket), --json, and with_node(), which
// opens the control connection, runs the command on it and turns a failure
// into its message on stderr and its exit code. Free functions; main()'s
// thread.

#include <cstdio>

#include "cli/exit_code.hpp"
#include "cli/node_connection.hpp"
#include "cli/node_reply.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace nyx::cli {

struct NodeOptions {
  NodeLocation location;
  bool json = false;
};

void add_node_options(CLI::App& command, NodeOptions& options);

// Prints "nyxctl: MESSAGE" on stderr; returns the failure's exit code.
int report_failure(const Failure& failure);

// Opens the node's control connection and runs `body(client, output)` on it;
// the exit code of the whole command.
template <class Body>
int with_node(const NodeOptions& options, Body&& body) {
  auto paths = resolve_control_paths(options.location);
  if (!paths) {
    return report_failure(paths.error());
  }
  auto client = open_control(*paths);
  if (!client) {
    return report_failure(client.error());
  }
  const OutputOptions output{options.json, stdout};
  if (auto done = body(*client, output); !done) {
    return report_failure(done.error());
  }
  return to_int(ExitCode::kOk);
}

}  // namespace nyx::cli
