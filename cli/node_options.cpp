#include "cli/node_options.hpp"

#include <CLI/CLI.hpp>

namespace nyx::cli {

void add_node_options(CLI::App& command, NodeOptions& options) {
  command.add_option("--config", options.location.config,
                     "nyxd config file; its node.data_dir locates the node");
  command.add_option("--data-dir", options.location.data_dir,
                     "the node's data directory (default: the first of $NYX_DATA_DIR, "
                     "/var/lib/nyx, ./nyx-data with a control socket)");
  command.add_option("--socket", options.location.socket,
                     "the node's control socket (default DATA_DIR/control.sock)");
  command.add_flag("--json", options.json, "print the raw JSON result, for scripts");
}

int report_failure(const Failure& failure) {
  std::fprintf(stderr, "nyxctl: %s\n", failure.message.c_str());
  return to_int(failure.code);
}

}  // namespace nyx::cli
