#pragma once
// Node: nyxd assembled — data directory and keys, the transport's
// LinkManager, the mix Relay over it, the directory (a signed v1 file, or
// the consensus the DirectoryClient fetches, which the cell shards serve),
// the control server and the Prometheus endpoint, and the shutdown sequence.
//
// Threads: the cell path (links, relay, data path, their tick) is the
// CellShard, on a thread of its own, and nothing else touches those objects;
// the control server, the /metrics endpoint and the signals run on the thread
// that calls run(). A control method that needs the shard posts to it and
// awaits the answer as a coroutine (bounded), so the control thread never
// blocks and serves other clients meanwhile; the shard publishes its
// counters into the thread-safe metrics Registry, so no lock is taken on the
// cell path. docs/nyxd.md says what multi-shard operation needs.
//
// Owned by main(); create() and run() are called from one thread;
// request_shutdown() and reload_directory() are thread-safe.

#include <filesystem>
#include <memory>

#include "core/error.hpp"
#include "daemon/node_config.hpp"

namespace nyx::daemon {

// The exit codes of nyxd (docs/nyxd.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // invalid config, or the node could not start
inline constexpr int kExitUsage = 2;    // a wrong command line
inline constexpr int kExitForced = 3;   // a second SIGTERM/SIGINT cut the shutdown short

class Node {
 public:
  // Opens the data directory, loads or makes the keys, binds the link
  // sockets, loads and verifies the directory file (or the consensus files,
  // then fetches), writes the control cookie and binds the control socket
  // and the metrics endpoint. Each error names what failed. config_file is
  // what config.reload reads again.
  static Result<std::unique_ptr<Node>> create(NodeConfig config, std::filesystem::path config_file);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Serves until a shutdown completes (SIGTERM, SIGINT, node.shutdown or
  // request_shutdown()); returns with every thread joined.
  void run();
  // Starts the graceful shutdown: stop accepting, drain up to
  // shutdown.drain_deadline, DESTROY every circuit, stop.
  void request_shutdown();
  // Reads and verifies the directory file again; on success the peers it
  // lists are registered with the transport, otherwise the old directory
  // stays and the error says why (kConfig without directory.file).
  Status reload_directory();

  struct Impl;

 private:
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nyx::daemon
