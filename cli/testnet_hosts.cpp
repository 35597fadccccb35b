#include "cli/testnet_hosts.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/process.hpp"
#include "core/crypto/random.hpp"

namespace nyx::cli {
namespace {

namespace fs = std::filesystem;

const fs::path kNetnsDir = "/run/netns";
const fs::path kMarkerDir = "/run/nyx-testnet";
const std::regex kNamespaceName("^nyx-([0-9a-f]{8})-([a-z0-9]+)$");

std::string ip_program() {
  if (auto found = find_program("ip")) {
    return found->string();
  }
  for (const char* path : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (::access(path, X_OK) == 0) {
      return path;
    }
  }
  return "ip";
}

Status run_ip(const std::vector<std::string>& args, bool verbose, std::FILE* out) {
  std::vector<std::string> argv{ip_program()};
  argv.insert(argv.end(), args.begin(), args.end());
  if (verbose) {
    std::string line = "ip";
    for (const auto& a : args) {
      line += " " + a;
    }
    fmt::print(out, "+ {}\n", line);
  }
  auto status = run_program(argv);
  if (!status) {
    return std::unexpected(status.error());
  }
  if (*status != 0) {
    std::string line;
    for (const auto& a : args) {
      line += " " + a;
    }
    return make_error(ErrorCategory::kIo, fmt::format("ip{} exited with {}", line, *status),
                      *status);
  }
  return {};
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every process whose network namespace is `name` (by namespace identity,
// never by process name), except this one.
std::vector<pid_t> processes_in(const std::string& name) {
  std::vector<pid_t> pids;
  struct stat target {};
  if (::stat((kNetnsDir / name).c_str(), &target) != 0) {
    return pids;
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string pid_text = entry.path().filename().string();
    if (pid_text.empty() || !std::all_of(pid_text.begin(), pid_text.end(), ::isdigit)) {
      continue;
    }
    const pid_t pid = std::stoi(pid_text);
    struct stat ns {};
    if (pid == ::getpid() || ::stat((entry.path() / "ns/net").c_str(), &ns) != 0) {
      continue;
    }
    if (ns.st_ino == target.st_ino && ns.st_dev == target.st_dev) {
      pids.push_back(pid);
    }
  }
  return pids;
}

// SIGTERM to everything in the namespaces, SIGKILL after 3 s, then delete them.
void remove_namespaces(const std::vector<std::string>& names, bool verbose, std::FILE* out) {
  std::vector<pid_t> pids;
  for (const auto& name : names) {
    for (pid_t pid : processes_in(name)) {
      pids.push_back(pid);
    }
  }
  for (pid_t pid : pids) {
    ::kill(pid, SIGTERM);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < deadline &&
         std::any_of(pids.begin(), pids.end(), [](pid_t pid) { return process_alive(pid); })) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (pid_t pid : pids) {
    if (process_alive(pid)) {
      ::kill(pid, SIGKILL);
    }
  }
  for (const auto& name : names) {
    std::error_code ec;
    if (fs::exists(kNetnsDir / name, ec)) {
      (void)run_ip({"netns", "del", name}, verbose, out);
    }
  }
}

// The runs alive in this process, torn down by the watcher on a signal.
std::mutex g_live_mutex;
std::vector<TestHosts*> g_live;
std::once_flag g_watcher_once;

void watch_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    sigaddset(&set, sig);
  }
  int sig = 0;
  while (::sigwait(&set, &sig) != 0) {
  }
  {
    std::lock_guard lock(g_live_mutex);
    for (TestHosts* hosts : g_live) {
      (void)hosts->teardown();
    }
  }
  std::_Exit(128 + sig);
}

void install_signal_watcher() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    sigaddset(&set, sig);
  }
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::call_once(g_watcher_once, [] { std::thread(watch_signals).detach(); });
}

}  // namespace

std::vector<TestHost> standard_test_hosts(int nodes) {
  std::vector<TestHost> hosts{{"client", 1}};
  for (int k = 2; k < nodes; ++k) {
    hosts.push_back({fmt::format("relay{}", k - 1), k});
  }
  hosts.push_back({"exit", nodes});
  hosts.push_back({"origin", nodes + 1});
  return hosts;
}

std::string new_run_id() { return fmt::format("{:08x}", crypto::random_u64() & 0xffffffffULL); }
std::string hub_namespace(const std::string& run) { return fmt::format("nyx-{}-hub", run); }
std::string host_namespace(const std::string& run, const std::string& host) {
  return fmt::format("nyx-{}-{}", run, host);
}
std::string host_address(int index) { return fmt::format("10.77.0.{}", index); }
std::string host_mac(int index) { return fmt::format("02:4e:59:00:00:{:02x}", index); }

TestHosts::TestHosts(std::string run, std::vector<TestHost> hosts, TestHostsOptions options)
    : run_(std::move(run)), hosts_(std::move(hosts)), options_(std::move(options)) {}

Result<std::unique_ptr<TestHosts>> TestHosts::create(std::vector<TestHost> hosts,
                                                     TestHostsOptions options) {
  if (::geteuid() != 0) {
    return make_error(ErrorCategory::kPermission,
                      "test hosts need root (network namespaces, veths, raw sockets)");
  }
  if (hosts.size() < 2 || hosts.size() > 64) {
    return make_error(ErrorCategory::kInvalidArgument, "test hosts: between 2 and 64 hosts");
  }
  for (const auto& h : hosts) {
    if (h.index < 1 || h.index > 254 || !std::regex_match(h.name, std::regex("^[a-z0-9]+$")) ||
        h.name == "hub") {
      return make_error(ErrorCategory::kInvalidArgument,
                        fmt::format("test host {} ({}): bad name or index", h.name, h.index));
    }
  }
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (options.nyxctl.empty()) {
    options.nyxctl = fs::read_symlink("/proc/self/exe", ec);
  }
  install_signal_watcher();
  std::unique_ptr<TestHosts> self(
      new TestHosts(new_run_id(), std::move(hosts), std::move(options)));
  {
    std::lock_guard lock(g_live_mutex);
    g_live.push_back(self.get());
  }
  if (auto built = self->build(); !built) {
    (void)self->teardown();
    return std::unexpected(built.error());
  }
  return self;
}

std::unique_ptr<TestHosts> TestHosts::adopt(std::string run, std::vector<TestHost> hosts,
                                            TestHostsOptions options, pid_t switch_pid) {
  std::unique_ptr<TestHosts> self(
      new TestHosts(std::move(run), std::move(hosts), std::move(options)));
  // Only a switch still in the run's hub: a pid alone may have been recycled.
  const auto in_hub = processes_in(hub_namespace(self->run_));
  if (std::find(in_hub.begin(), in_hub.end(), switch_pid) != in_hub.end()) {
    self->switch_pid_ = switch_pid;
  }
  return self;
}

TestHosts::~TestHosts() {
  (void)teardown();
  std::lock_guard lock(g_live_mutex);
  std::erase(g_live, this);
}

Status TestHosts::ip(const std::vector<std::string>& args) {
  return run_ip(args, options_.verbose, options_.out);
}

Status TestHosts::write_marker(pid_t owner) const {
  nlohmann::json names = nlohmann::json::array({hub_namespace(run_)});
  for (const auto& h : hosts_) {
    names.push_back(host_namespace(run_, h.name));
  }
  std::ofstream marker(kMarkerDir / (run_ + ".json"), std::ios::trunc);
  marker << nlohmann::json{{"pid", owner}, {"dir", options_.dir.string()}, {"namespaces", names}}
                .dump()
         << '\n';
  if (!marker) {
    return make_error(ErrorCategory::kIo, "cannot write the marker in /run/nyx-testnet");
  }
  return {};
}

Status TestHosts::build() {
  // The marker first: a crash from here on leaves a record of the run.
  std::error_code ec;
  fs::create_directories(kMarkerDir, ec);
  if (auto written = write_marker(::getpid()); !written) {
    return written;
  }
  const std::string hub = hub_namespace(run_);
  const std::vector<std::string> sysctl{"sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                                        "net.ipv6.conf.default.disable_ipv6=1",
                                        "net.ipv4.conf.all.accept_redirects=0"};
  auto in_netns = [&sysctl](const std::string& ns, std::vector<std::string> extra) {
    std::vector<std::string> args{"netns", "exec", ns};
    args.insert(args.end(), sysctl.begin(), sysctl.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  if (auto ok = ip({"netns", "add", hub}); !ok) {
    return ok;
  }
  if (auto ok = ip(in_netns(hub, {"net.ipv4.ip_forward=0"})); !ok) {
    return ok;
  }
  for (const auto& h : hosts_) {
    const std::string ns = host_namespace(run_, h.name);
    const std::string port = fmt::format("p{}", h.index);
    const std::vector<std::vector<std::string>> steps{
        {"netns", "add", ns},
        in_netns(ns, {}),
        {"link", "add", port, "netns", hub, "type", "veth", "peer", "name", "eth0", "netns", ns},
        {"-n", ns, "link", "set", "eth0", "address", host_mac(h.index), "gso_max_size", "1500",
         "gso_max_segs", "1", "up"},
        {"-n", ns, "link", "set", "lo", "up"},
        {"-n", ns, "addr", "add", host_address(h.index) + "/24", "dev", "eth0"},
        {"-n", hub, "link", "set", port, "up"},
    };
    for (const auto& step : steps) {
      if (auto ok = ip(step); !ok) {
        return ok;
      }
    }
    for (const auto& other : hosts_) {
      if (other.index == h.index) {
        continue;
      }
      if (auto ok = ip({"-n", ns, "neigh", "replace", host_address(other.index), "lladdr",
                        host_mac(other.index), "dev", "eth0", "nud", "permanent"});
          !ok) {
        return ok;
      }
    }
  }
  return {};
}

linkemu::SwitchConfig TestHosts::switch_config(const linkemu::LinkParams& link) const {
  linkemu::SwitchConfig config;
  config.seed = crypto::random_u64();
  config.stats_path = (options_.dir / "emulator-stats.json").string();
  config.default_link = link;
  for (const auto& h : hosts_) {
    linkemu::SwitchHost host;
    host.name = h.name;
    host.index = h.index;
    host.port = fmt::format("p{}", h.index);
    config.hosts.push_back(std::move(host));
  }
  return config;
}

Status TestHosts::start_switch(const linkemu::SwitchConfig& config,
                               const std::vector<std::string>& extra_args) {
  if (switch_pid_ > 0 && process_alive(switch_pid_)) {
    return make_error(ErrorCategory::kInvalidArgument, "the switch is already running");
  }
  const fs::path config_path = options_.dir / "emulator.json";
  const fs::path log = options_.dir / "emulator.log";
  std::error_code ec;
  fs::remove(config.stats_path, ec);
  {
    std::ofstream out(config_path, std::ios::trunc);
    out << linkemu::to_json(config) << '\n';
  }
  const auto log_size_before = fs::exists(log, ec) ? fs::file_size(log, ec) : 0;
  std::vector<std::string> argv{
      ip_program(), "netns",  "exec",     hub_namespace(run_), options_.nyxctl.string(),
      "testnet",    "switch", "--config", config_path.string()};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  if (options_.verbose) {
    fmt::print(options_.out, "+ ip netns exec {} {} testnet switch --config {}\n",
               hub_namespace(run_), options_.nyxctl.string(), config_path.string());
  }
  auto pid = spawn_background(argv, log);
  if (!pid) {
    return std::unexpected(pid.error());
  }
  switch_pid_ = *pid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = read_text(log);
    const std::string fresh = text.size() > log_size_before ? text.substr(log_size_before) : "";
    if (fresh.find("linkemu: ready") != std::string::npos) {
      return {};
    }
    if (!process_alive(switch_pid_)) {
      switch_pid_ = -1;
      return make_error(ErrorCategory::kIo, fmt::format("the switch exited: {}", fresh));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  (void)stop_switch();
  return make_error(ErrorCategory::kTimeout, "the switch did not open its ports within 10 s");
}

Result<std::string> TestHosts::stop_switch() {
  if (switch_pid_ <= 0) {
    return make_error(ErrorCategory::kInvalidArgument, "no switch is running");
  }
  stop_process(switch_pid_, std::chrono::seconds(3));
  switch_pid_ = -1;
  const fs::path stats = options_.dir / "emulator-stats.json";
  std::error_code ec;
  if (!fs::exists(stats, ec)) {
    return make_error(ErrorCategory::kNotFound, "the switch wrote no statistics");
  }
  return read_text(stats);
}

Status enter_namespace(const std::string& name) {
  const fs::path path = kNetnsDir / name;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return make_error(ErrorCategory::kIo,
                      fmt::format("open {}: {}", path.string(), std::strerror(err)), err);
  }
  const int rc = ::setns(fd, CLONE_NEWNET);
  const int err = errno;
  ::close(fd);
  if (rc != 0) {
    return make_error(ErrorCategory::kIo, fmt::format("setns: {}", std::strerror(err)), err);
  }
  return {};
}

std::vector<std::string> host_command(const std::string& run, const std::string& host,
                                      const std::vector<std::string>& command) {
  std::vector<std::string> argv{ip_program(), "netns", "exec", host_namespace(run, host)};
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

Status TestHosts::enter(const std::string& name) const {
  return enter_namespace(host_namespace(run_, name));
}

Status TestHosts::route_through(const std::vector<std::string>& path) {
  std::vector<const TestHost*> hops;
  for (const auto& name : path) {
    const auto found = std::find_if(hosts_.begin(), hosts_.end(),
                                    [&name](const TestHost& h) { return h.name == name; });
    if (found == hosts_.end()) {
      return make_error(ErrorCategory::kInvalidArgument,
                        fmt::format("TCP path: no test host '{}'", name));
    }
    hops.push_back(&*found);
  }
  if (hops.size() < 2) {
    return make_error(ErrorCategory::kInvalidArgument, "TCP path: at least two hosts");
  }
  const TestHost& first = *hops.front();
  const TestHost& last = *hops.back();
  for (std::size_t i = 0; i < hops.size(); ++i) {
    const std::string ns = host_namespace(run_, hops[i]->name);
    if (i > 0 && i + 1 < hops.size()) {
      // A forwarding host sends the packet out of the interface it came in
      // on; a redirect would teach the sender to go around it.
      if (auto ok =
              ip({"netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1",
                  "net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.eth0.send_redirects=0"});
          !ok) {
        return ok;
      }
    }
    if (i + 2 < hops.size()) {
      if (auto ok = ip({"-n", ns, "route", "replace", host_address(last.index) + "/32", "via",
                        host_address(hops[i + 1]->index), "dev", "eth0"});
          !ok) {
        return ok;
      }
    }
    if (i >= 2) {
      if (auto ok = ip({"-n", ns, "route", "replace", host_address(first.index) + "/32", "via",
                        host_address(hops[i - 1]->index), "dev", "eth0"});
          !ok) {
        return ok;
      }
    }
  }
  return {};
}

Status TestHosts::release() {
  if (torn_down_) {
    return make_error(ErrorCategory::kInvalidArgument, "the run is already torn down");
  }
  if (switch_pid_ <= 0 || !process_alive(switch_pid_)) {
    return make_error(ErrorCategory::kInvalidArgument, "release: no switch is running");
  }
  if (auto written = write_marker(switch_pid_); !written) {
    return written;
  }
  torn_down_ = true;  // from here on the run belongs to whoever adopts it
  switch_pid_ = -1;
  std::lock_guard lock(g_live_mutex);
  std::erase(g_live, this);
  return {};
}

Status TestHosts::teardown() {
  if (torn_down_) {
    return {};
  }
  torn_down_ = true;
  if (switch_pid_ > 0) {
    stop_process(switch_pid_, std::chrono::seconds(3));
    switch_pid_ = -1;
  }
  std::vector<std::string> names;
  for (const auto& h : hosts_) {
    names.push_back(host_namespace(run_, h.name));
  }
  names.push_back(hub_namespace(run_));
  remove_namespaces(names, options_.verbose, options_.out);
  std::error_code ec;
  fs::remove(kMarkerDir / (run_ + ".json"), ec);
  for (const auto& name : names) {
    if (fs::exists(kNetnsDir / name, ec)) {
      return make_error(ErrorCategory::kIo, fmt::format("namespace {} is still there", name));
    }
  }
  return {};
}

Status gc_test_hosts(bool force, std::FILE* out) {
  std::map<std::string, std::vector<std::string>> runs;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(kNetnsDir, ec)) {
    const std::string name = entry.path().filename().string();
    std::smatch match;
    if (std::regex_match(name, match, kNamespaceName)) {
      runs[match[1].str()].push_back(name);
    }
  }
  for (const auto& entry : fs::directory_iterator(kMarkerDir, ec)) {
    if (entry.path().extension() == ".json") {
      runs.try_emplace(entry.path().stem().string());
    }
  }
  for (const auto& [run, names] : runs) {
    const fs::path marker = kMarkerDir / (run + ".json");
    bool stale = true;
    const auto text = read_text(marker);
    const auto json = nlohmann::json::parse(text, nullptr, false);
    if (!json.is_discarded() && json.is_object() && json.contains("pid") &&
        json["pid"].is_number_integer()) {
      stale = !process_alive(json["pid"].get<pid_t>());
    }
    if (!stale && !force) {
      fmt::print(out, "run {}: in use by pid {}, kept\n", run, json["pid"].get<pid_t>());
      continue;
    }
    fmt::print(out, "run {}: removing {} namespace(s)\n", run, names.size());
    remove_namespaces(names, false, out);
    fs::remove(marker, ec);
  }
  return {};
}

}  // namespace nyx::cli
