#pragma once
// The WAN testnet's test hosts (docs/proposals/0003 §2.3, §2.5): one network
// namespace per host, `nyx-<run>-<host>`, joined by veth pairs to a hub
// namespace `nyx-<run>-hub` in which the link emulator (`nyxctl testnet
// switch`) forwards frames between the ports p<K>. Host K has eth0 with
// 10.77.0.K/24 and MAC 02:4e:59:00:00:KK, a permanent neighbour entry for
// every other host (no ARP), IPv6 and redirects off, gso_max_segs 1.
//
// Everything is made by spawning `ip` (cli/process.cpp): the commands are the
// documentation and the debugging aid. A marker /run/nyx-testnet/<run>.json
// names the run before the first namespace exists, so a crash leaves a record
// that gc_test_hosts() acts on.
//
// TestHosts owns a run: its destructor removes every process in the run's
// namespaces and the namespaces. While one exists, SIGINT, SIGTERM and SIGHUP
// tear it down before the process exits (a watcher thread waits for them; the
// signals are blocked in the thread that called create() and in the threads it
// starts afterwards). Not thread-safe, except enter(), which any thread may call.

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>

#include "cli/linkemu/switch_config.hpp"
#include "core/error.hpp"

namespace nyx::cli {

struct TestHost {
  std::string name;  // client, relay1 ... relayN-2, exit, origin
  int index = 0;     // K
};

// The hosts of an N-node testnet: client = 1, relays, exit = N, origin = N+1.
std::vector<TestHost> standard_test_hosts(int nodes);

std::string new_run_id();  // 8 random hex digits
std::string hub_namespace(const std::string& run);
std::string host_namespace(const std::string& run, const std::string& host);
std::string host_address(int index);  // 10.77.0.K
std::string host_mac(int index);      // 02:4e:59:00:00:KK (KK in hex)

struct TestHostsOptions {
  std::filesystem::path dir;     // emulator.json, emulator.log, emulator-stats.json go here
  std::filesystem::path nyxctl;  // the binary that runs `testnet switch`; empty: this one
  bool verbose = false;          // print each command
  std::FILE* out = stdout;
};

class TestHosts {
 public:
  // Creates the run's namespaces, veths, addresses and neighbours. On failure
  // everything made so far is removed again.
  static Result<std::unique_ptr<TestHosts>> create(std::vector<TestHost> hosts,
                                                   TestHostsOptions options);
  // Takes over a run that release() handed on (`nyxctl testnet down` in a
  // later process): its teardown() stops the switch and removes the run.
  static std::unique_ptr<TestHosts> adopt(std::string run, std::vector<TestHost> hosts,
                                          TestHostsOptions options, pid_t switch_pid);
  ~TestHosts();
  TestHosts(const TestHosts&) = delete;
  TestHosts& operator=(const TestHosts&) = delete;

  const std::string& run() const { return run_; }
  const std::vector<TestHost>& hosts() const { return hosts_; }

  // The emulator's config for these hosts, with `link` on every link (stats
  // into options.dir/emulator-stats.json); callers adjust it before start.
  linkemu::SwitchConfig switch_config(const linkemu::LinkParams& link) const;

  // Starts `nyxctl testnet switch` in the hub (with `extra_args`, e.g.
  // {"--io", "recvmmsg"}) and waits until its ports are open. One switch at a
  // time: stop_switch() first to change the links.
  Status start_switch(const linkemu::SwitchConfig& config,
                      const std::vector<std::string>& extra_args = {});
  // SIGTERM, wait; the switch writes its statistics file as it exits.
  // Returns that file's text.
  Result<std::string> stop_switch();

  // Moves the calling thread into host `name`'s network namespace: sockets it
  // opens afterwards live on that host.
  Status enter(const std::string& name) const;

  // The TCP baseline's path (proposal §2.3, §5.2), e.g. client, relay1,
  // relay2, exit, origin: ip_forward on (and redirects off) on the hosts in
  // between, and /32 routes from each host toward both ends via its
  // neighbour on the path. Nyx itself never sends end to end, so the routes
  // change nothing for it.
  Status route_through(const std::vector<std::string>& path);

  pid_t switch_pid() const { return switch_pid_; }

  // Hands the run on to a later process (the namespaces, the switch and the
  // processes in them outlive this object): the marker now names the switch
  // as the run's owner, so `testnet gc` keeps the run while the switch lives.
  // Nothing is torn down afterwards by this object or by a signal.
  Status release();

  // Stops every process in the run's namespaces, deletes the namespaces and
  // the marker. Idempotent.
  Status teardown();

 private:
  TestHosts(std::string run, std::vector<TestHost> hosts, TestHostsOptions options);
  Status build();
  // /run/nyx-testnet/<run>.json: the namespaces and the pid whose death makes
  // the run stale (this process while it builds, the switch once released).
  Status write_marker(pid_t owner) const;
  Status ip(const std::vector<std::string>& args);

  std::string run_;
  std::vector<TestHost> hosts_;
  TestHostsOptions options_;
  pid_t switch_pid_ = -1;
  bool torn_down_ = false;
};

// Moves the calling thread into network namespace `name` (/run/netns/name).
Status enter_namespace(const std::string& name);

// argv that runs `command` inside host `host` of run `run`: `ip netns exec
// nyx-<run>-<host> command...` (ip searches PATH for command[0]).
std::vector<std::string> host_command(const std::string& run, const std::string& host,
                                      const std::vector<std::string>& command);

// Removes the test-host runs left behind by processes that died (marker
// missing or its pid dead), or every run with `force`. Touches only
// namespaces named exactly nyx-<8 hex digits>-<name>. Prints what it removes.
Status gc_test_hosts(bool force, std::FILE* out);

}  // namespace nyx::cli
