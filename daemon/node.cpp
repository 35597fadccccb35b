#include "daemon/node.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <future>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <asio.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "core/clock.hpp"
#include "core/crypto/encoding.hpp"
#include "core/log.hpp"
#include "core/metrics/process_metrics.hpp"
#include "core/metrics/registry.hpp"
#include "daemon/control/control_server.hpp"
#include "daemon/data_dir.hpp"
#include "daemon/data_path.hpp"
#include "daemon/key_store.hpp"
#include "daemon/metrics_http.hpp"
#include "document/directory.hpp"
#include "mix/link_manager_cell_link.hpp"
#include "mix/path_selector.hpp"
#include "mix/relay.hpp"
#include "nyx_version.hpp"
#include "transport/link_manager.hpp"

namespace nyx::daemon {
namespace {

using control::RpcError;
using control::RpcResult;
using nlohmann::json;

// Control-protocol errors of the node's own methods (docs/nyxd.md).
constexpr int kRpcDirectoryRefused = -32010;
constexpr int kRpcConfigRefused = -32011;
constexpr int kRpcShardBusy = -32012;
constexpr int kRpcCircuitRefused = -32013;

constexpr auto kTickInterval = std::chrono::milliseconds(50);
constexpr auto kShardCallTimeout = std::chrono::seconds(2);
// The cell shard stops draining streams this long before the drain deadline,
// so that closing circuits still fits inside it.
constexpr auto kDrainMargin = std::chrono::milliseconds(500);
// How long the cell shard may take to run dry after its shutdown.
constexpr auto kCellRunDry = std::chrono::milliseconds(400);

Result<asio::ip::address> ip_literal(const HostPort& address, std::string_view key) {
  std::error_code ec;
  auto ip = asio::ip::make_address(address.host, ec);
  if (ec) {
    return make_error(ErrorCategory::kConfig,
                      fmt::format("{}: '{}' is not an IP address", key, address.host));
  }
  return ip;
}

std::string hex(Bytes bytes) { return crypto::to_hex(bytes); }

std::uint64_t unix_now() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

Result<std::vector<std::uint8_t>> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(ErrorCategory::kIo, fmt::format("cannot read {}", path.string()));
  }
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  return bytes;
}

json roles_json(const NodeRoles& roles) {
  json out = json::array();
  if (roles.client) {
    out.push_back("client");
  }
  if (roles.relay) {
    out.push_back("relay");
  }
  if (roles.exit) {
    out.push_back("exit");
  }
  return out;
}

}  // namespace

struct Node::Impl {
  Impl(NodeConfig cfg, std::filesystem::path file, DataDir dir)
      : config(std::move(cfg)),
        config_file(std::move(file)),
        data_dir(std::move(dir)),
        tick_timer(cell_io),
        drain_check(cell_io),
        drain_timer(control_io),
        signals(control_io, SIGTERM, SIGINT, SIGHUP),
        directory_accepted(registry.counter("nyx_directory_loads_total",
                                            "Directory files verified and installed",
                                            {{"result", "accepted"}})),
        directory_refused(registry.counter("nyx_directory_loads_total",
                                           "Directory files verified and installed",
                                           {{"result", "refused"}})),
        directory_nodes(registry.gauge("nyx_directory_nodes", "Nodes in the current directory")),
        directory_valid_until(registry.gauge("nyx_directory_valid_until_seconds",
                                             "Unix time the current directory expires")),
        uptime(registry.gauge("nyx_node_uptime_seconds", "Seconds since the node started")),
        scrapes_refused(registry.counter("nyx_metrics_scrapes_refused_total",
                                         "Connections to /metrics refused by metrics.allow")) {
    registry
        .gauge("nyx_build_info", "Always 1; the labels say which build runs",
               {{"version", version::kVersion}, {"commit", version::kGitCommit}})
        .set(1);
    registry.gauge("nyx_node_start_time_seconds", "Unix time the node started")
        .set(static_cast<std::int64_t>(unix_now()));
    metrics::register_process_metrics(registry);
  }

  // ---- start-up (one thread, before run) ----

  Status start_cell_shard() {
    KeyStore keys(data_dir);
    auto identity_pair = keys.identity();
    if (!identity_pair) {
      return std::unexpected(std::move(identity_pair.error()));
    }
    identity = identity_pair->public_key;
    auto link_pair = keys.link();
    if (!link_pair) {
      return std::unexpected(std::move(link_pair.error()));
    }
    link_key = link_pair->public_key;

    transport::LinkConfig link_config;
    auto udp_ip = ip_literal(config.transport.udp_listen, "transport.udp_listen");
    if (!udp_ip) {
      return std::unexpected(std::move(udp_ip.error()));
    }
    link_config.udp_listen = {*udp_ip, config.transport.udp_listen.port};
    link_config.udp_enabled = config.transport.udp_enabled;
    if (config.transport.tcp_listen) {
      auto tcp_ip = ip_literal(*config.transport.tcp_listen, "transport.tcp_listen");
      if (!tcp_ip) {
        return std::unexpected(std::move(tcp_ip.error()));
      }
      link_config.tcp_listen = asio::ip::tcp::endpoint(*tcp_ip, config.transport.tcp_listen->port);
    }
    link_config.socket_receive_buffer = config.transport.socket_receive_buffer;
    link_config.socket_send_buffer = config.transport.socket_send_buffer;
    link_config.peer_rate_bytes = config.transport.peer_rate;
    auto created = transport::LinkManager::create(cell_io, SteadyClock::instance(),
                                                  std::move(*link_pair), link_config);
    if (!created) {
      return std::unexpected(std::move(created.error()));
    }
    links = std::move(*created);
    links->publish_metrics(registry);
    cell_link = std::make_unique<mix::LinkManagerCellLink>(*links, cell_io);

    mix::RelayConfig relay_config;
    relay_config.mean_hop_delay = config.mix.mix_delay_mean;
    relay = std::make_unique<mix::Relay>(SteadyClock::instance(), *cell_link, link_key, random,
                                         relay_config);
    relay->publish_metrics(registry);

    if (auto status = use_onion_epoch(current_directory().get()); !status) {
      return status;
    }
    cell_link->attach(*relay);

    auto path = DataPath::create(cell_io, config, *relay, random);
    if (!path) {
      return std::unexpected(std::move(path.error()));
    }
    data_path = std::move(*path);
    data_path->publish_metrics(registry);
    if (auto dir = current_directory()) {
      data_path->use_directory(*dir, identity);
    }
    if (auto socks = data_path->socks_endpoint()) {
      socks_local = fmt::format("{}:{}", socks->address().to_string(), socks->port());
    }
    return {};
  }

  // Start-up, then the cell shard: makes the onion key of the epoch our
  // descriptor in `dir` names current (epoch 0 when we are not listed); the
  // previous key stays usable for the overlap.
  Status use_onion_epoch(const document::Directory* dir) {
    std::uint64_t epoch = 0;
    const document::NodeDescriptor* self = nullptr;
    if (dir != nullptr) {
      for (const auto& node : dir->nodes) {
        if (node.identity_key == identity) {
          self = &node;
          epoch = node.onion_key_epoch;
        }
      }
    }
    const auto* current = relay->onion_keys().current();
    if (current == nullptr || current->epoch != epoch) {
      auto onion_pair = KeyStore(data_dir).onion(epoch);
      if (!onion_pair) {
        return std::unexpected(std::move(onion_pair.error()));
      }
      {
        std::lock_guard lock(published_mu);
        onion_key = onion_pair->public_key;
        onion_epoch = epoch;
      }
      relay->onion_keys().rotate(epoch, std::move(*onion_pair));
    }
    if (self != nullptr && self->onion_key != relay->onion_keys().current()->key.public_key) {
      log::warn("directory lists another onion key for this node (epoch {}): CREATEs for it fail",
                epoch);
    }
    return {};
  }

  Status start_control() {
    if (config.control.enabled) {
      auto cookie =
          control::ControlCookie::create(data_dir.control_cookie(), config.control.group_access);
      if (!cookie) {
        return std::unexpected(std::move(cookie.error()));
      }
      control::MethodRegistry methods;
      add_methods(methods);
      control_server = std::make_unique<control::ControlServer>(
          control_io,
          control::ControlServerOptions{.socket_path = data_dir.control_socket(),
                                        .group_access = config.control.group_access},
          std::move(*cookie), std::move(methods), [this] { return stats_json(); });
      if (auto status = control_server->start(); !status) {
        return status;
      }
    }
    if (config.metrics.listen) {
      auto ip = ip_literal(*config.metrics.listen, "metrics.listen");
      if (!ip) {
        return std::unexpected(std::move(ip.error()));
      }
      auto allow = MetricsAllowList::parse(config.metrics.allow);
      if (!allow) {
        return make_error(ErrorCategory::kConfig,
                          fmt::format("metrics.allow: {}", allow.error().message));
      }
      metrics_server = std::make_unique<MetricsHttpServer>(
          control_io,
          MetricsHttpOptions{.listen = {*ip, config.metrics.listen->port},
                             .allow = std::move(*allow),
                             .refused = &scrapes_refused},
          [this] { return registry.prometheus_text(); });
      if (auto status = metrics_server->start(); !status) {
        return status;
      }
    }
    return {};
  }

  // ---- the directory (any thread) ----

  std::shared_ptr<const document::Directory> current_directory() {
    std::lock_guard lock(directory_mu);
    return directory;
  }

  Status load_directory() {
    auto bytes = read_file(config.directory.file);
    Result<document::Directory> verified =
        bytes ? document::verify_directory(*bytes,
                                           {.authorities = config.directory.authorities,
                                            .threshold = config.directory.threshold},
                                           unix_now())
              : Result<document::Directory>(std::unexpected(bytes.error()));
    if (!verified) {
      directory_refused.inc();
      log::warn("directory {} refused, keeping the current one: {}", config.directory.file.string(),
                verified.error().message);
      return std::unexpected(std::move(verified.error()));
    }
    auto installed = std::make_shared<const document::Directory>(std::move(*verified));
    {
      std::lock_guard lock(directory_mu);
      directory = installed;
    }
    directory_accepted.inc();
    directory_nodes.set(static_cast<std::int64_t>(installed->nodes.size()));
    directory_valid_until.set(static_cast<std::int64_t>(installed->valid_until));
    log::info("directory loaded: {} nodes, valid until {}", installed->nodes.size(),
              installed->valid_until);
    // The transport lives on the cell shard: hand the peers over there.
    asio::post(cell_io, [this, installed] { register_peers(*installed); });
    return {};
  }

  // Cell shard.
  void register_peers(const document::Directory& dir) {
    if (!cell_link) {
      return;
    }
    if (auto status = cell_link->add_peers(dir); !status) {
      log::warn("directory: not every peer registered: {}", status.error().message);
    }
    if (auto status = use_onion_epoch(&dir); !status) {
      log::error("onion key: {}", status.error().message);
    }
    data_path->use_directory(dir, identity);
  }

  // ---- the cell shard ----

  void schedule_tick() {
    tick_timer.expires_after(kTickInterval);
    tick_timer.async_wait([this](std::error_code ec) {
      if (ec || stopping_cells) {
        return;
      }
      relay->tick();
      data_path->maintain();
      relay->flush();
      links->flush();
      publish_metrics();
      schedule_tick();
    });
  }

  // Cell shard: the node's own gauge (the relay and the transport keep
  // theirs up to date in their own ticks).
  void publish_metrics() {
    uptime.set(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
            .count());
  }

  // Runs fn on the cell shard and waits (bounded) for its answer.
  template <class F>
  RpcResult on_cell_shard(F fn) {
    auto task = std::make_shared<std::packaged_task<RpcResult()>>(std::move(fn));
    auto answer = task->get_future();
    asio::post(cell_io, [task] { (*task)(); });
    if (answer.wait_for(kShardCallTimeout) != std::future_status::ready) {
      return std::unexpected(RpcError{kRpcShardBusy, "the cell shard did not answer in time"});
    }
    return answer.get();
  }

  // ---- control methods (control thread) ----

  json stats_json() { return json::parse(registry.json()); }

  void add_methods(control::MethodRegistry& methods) {
    auto add = [&methods](std::string name, control::MethodHandler handler) {
      // The names are fixed and distinct; a clash is a bug caught by the tests.
      if (auto status = methods.add(std::move(name), std::move(handler)); !status) {
        log::error("control: {}", status.error().message);
      }
    };
    add("node.info", [this](const json&) -> RpcResult { return info_json(); });
    add("node.stats", [this](const json&) -> RpcResult { return stats_json(); });
    add("peers.list", [this](const json&) { return peers_json(); });
    add("circuits.list", [this](const json&) {
      return on_cell_shard([this] { return data_path->circuits_json(relay->circuit_count()); });
    });
    add("streams.list", [this](const json&) {
      return on_cell_shard([this] { return data_path->streams_json(); });
    });
    add("circuit.build", [this](const json&) {
      return on_cell_shard([this] { return rpc_result(data_path->build_circuit()); });
    });
    add("circuit.close", [this](const json& params) {
      return on_cell_shard([this, params] { return rpc_result(data_path->close_circuit(params)); });
    });
    add("circuits.newnym", [this](const json&) {
      return on_cell_shard([this] { return rpc_result(data_path->newnym()); });
    });
    add("directory.reload", [this](const json&) -> RpcResult {
      if (auto status = load_directory(); !status) {
        return std::unexpected(RpcError{kRpcDirectoryRefused, status.error().message});
      }
      auto dir = current_directory();
      return json{{"nodes", dir->nodes.size()}, {"valid_until", dir->valid_until}};
    });
    add("config.reload", [this](const json&) { return reload_config(); });
    add("node.shutdown", [this](const json&) -> RpcResult {
      // After this reply has been queued, so the caller sees it.
      asio::post(control_io, [this] { begin_shutdown(); });
      return json{{"shutting_down", true}};
    });
  }

  // A data-path answer as a control reply: a caller's mistake is invalid
  // params, anything else a refusal that says why.
  static RpcResult rpc_result(Result<json> result) {
    if (result) {
      return std::move(*result);
    }
    const int code = result.error().category == ErrorCategory::kInvalidArgument
                         ? control::kRpcInvalidParams
                         : kRpcCircuitRefused;
    return std::unexpected(RpcError{code, result.error().message});
  }

  json info_json() {
    json info{{"version", version::kVersion},
              {"nickname", config.node.nickname},
              {"roles", roles_json(config.node.roles)},
              {"pid", ::getpid()},
              {"identity_key", hex(identity)},
              {"link_key", hex(link_key)},
              {"udp_listen", udp_local},
              {"tcp_listen", tcp_local},
              {"socks_listen", socks_local},
              {"cell_shards", 1},
              {"workers", config.resolved_workers()},
              {"data_dir", data_dir.path().string()},
              {"uptime_seconds", std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::steady_clock::now() - started)
                                     .count()}};
    {
      std::lock_guard lock(published_mu);
      info["onion_key"] = hex(onion_key);
      info["onion_key_epoch"] = onion_epoch;
    }
    if (metrics_server) {
      const auto endpoint = metrics_server->local_endpoint();
      info["metrics_listen"] =
          fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
    }
    if (auto dir = current_directory()) {
      info["directory"] = {{"nodes", dir->nodes.size()},
                           {"valid_after", dir->valid_after},
                           {"valid_until", dir->valid_until}};
    }
    return info;
  }

  RpcResult peers_json() {
    auto dir = current_directory();
    return on_cell_shard([this, dir] {
      json peers = json::array();
      if (!dir || !links) {
        return peers;
      }
      for (const auto& node : dir->nodes) {
        if (node.link_key == link_key) {
          continue;
        }
        json peer{{"identity_key", hex(node.identity_key)},
                  {"link_key", hex(node.link_key)},
                  {"udp_address", node.udp_address},
                  {"tcp_address", node.tcp_address},
                  {"relay", node.is_relay()},
                  {"exit", node.is_exit()},
                  {"bandwidth_weight", node.bandwidth_weight},
                  {"up", false}};
        if (auto stats = links->stats(node.link_key)) {
          peer["up"] = stats->up;
          peer["link"] = stats->kind == transport::LinkKind::kUdp ? "udp" : "tcp";
          peer["cells_sent"] = stats->cells_sent;
          peer["cells_received"] = stats->cells_received;
          peer["bytes_sent"] = stats->bytes_sent;
          peer["bytes_received"] = stats->bytes_received;
        }
        peers.push_back(std::move(peer));
      }
      return peers;
    });
  }

  // Log settings apply at once; everything else is reported as needing a
  // restart (the components take it at construction).
  RpcResult reload_config() {
    auto fresh = load_node_config(config_file);
    if (!fresh) {
      return std::unexpected(RpcError{kRpcConfigRefused, fresh.error().message});
    }
    json applied = json::array();
    json restart = json::array();
    if (!(fresh->log == config.log)) {
      if (auto status = log::init(
              {.level = fresh->log.level, .file = fresh->log.file, .json = fresh->log.json});
          !status) {
        return std::unexpected(RpcError{kRpcConfigRefused, status.error().message});
      }
      config.log = fresh->log;
      applied.push_back("log");
    }
    const std::pair<const char*, bool> sections[] = {
        {"node", fresh->node == config.node},
        {"directory", fresh->directory == config.directory},
        {"transport", fresh->transport == config.transport},
        {"mix", fresh->mix == config.mix},
        {"socks", fresh->socks == config.socks},
        {"exit", fresh->exit == config.exit},
        {"control", fresh->control == config.control},
        {"metrics", fresh->metrics == config.metrics},
        {"shutdown", fresh->shutdown == config.shutdown}};
    for (const auto& [name, same] : sections) {
      if (!same) {
        restart.push_back(name);
      }
    }
    log::info("config reloaded; applied: {}, need a restart: {}", applied.dump(), restart.dump());
    return json{{"applied", applied}, {"restart_required", restart}};
  }

  // ---- lifecycle (control thread) ----

  void wait_signal() {
    signals.async_wait([this](std::error_code ec, int signal) {
      if (ec) {
        return;
      }
      if (signal == SIGHUP) {
        // logrotate moved the file away: write to a new one by the old name.
        if (auto reopened = log::reopen(); !reopened) {
          log::warn("SIGHUP: keeping the old log file: {}", reopened.error().message);
        }
        log::info("SIGHUP: reloading the config and the directory");
        if (auto reloaded = reload_config(); !reloaded) {
          log::warn("SIGHUP: config refused, keeping the current one: {}",
                    reloaded.error().message);
        }
        (void)load_directory();  // refusals are logged and counted there
        // Whoever sent the signal reads the outcome now.
        log::flush();
      } else if (shutting_down) {
        log::warn("second signal: exiting now");
        log::flush();
        std::_Exit(kExitForced);
      } else {
        begin_shutdown();
      }
      wait_signal();
    });
  }

  void begin_shutdown() {
    if (shutting_down.exchange(true)) {
      return;
    }
    log::info("shutting down: draining for up to {} ms",
              std::chrono::duration_cast<std::chrono::milliseconds>(config.shutdown.drain_deadline)
                  .count());
    // Stop accepting: nothing new reaches the node from here on.
    if (metrics_server) {
      metrics_server->stop();
    }
    // The cell shard takes no new SOCKS clients, lets running streams end
    // (until shortly before the deadline), then destroys its circuits
    // (DESTROY to every neighbour), flushes, closes its sockets and reports
    // back; the deadline bounds it.
    const auto drain_until =
        std::chrono::steady_clock::now() +
        std::max<std::chrono::nanoseconds>(config.shutdown.drain_deadline - kDrainMargin, {});
    asio::post(cell_io, [this, drain_until] {
      data_path->stop_accepting();
      drain_streams(drain_until);
    });
    drain_timer.expires_after(config.shutdown.drain_deadline);
    drain_timer.async_wait([this](std::error_code ec) {
      if (!ec) {
        log::warn("shutdown: the drain deadline passed; stopping the cell shard");
        cell_io.stop();
        finish_shutdown();
      }
    });
  }

  // Cell shard: waits for the streams to end, then closes everything.
  void drain_streams(std::chrono::steady_clock::time_point until) {
    if (data_path->active_streams() > 0 && std::chrono::steady_clock::now() < until) {
      drain_check.expires_after(kTickInterval);
      drain_check.async_wait([this, until](std::error_code ec) {
        if (!ec) {
          drain_streams(until);
        }
      });
      return;
    }
    if (data_path->active_streams() > 0) {
      log::warn("shutdown: {} streams still open at the drain deadline; closing them",
                data_path->active_streams());
    }
    stopping_cells = true;
    tick_timer.cancel();
    data_path->close_all();
    relay->close_all();
    relay->flush();
    links->flush();
    links->stop();
    cell_work.reset();
    asio::post(control_io, [this] { finish_shutdown(); });
  }

  void finish_shutdown() {
    if (finished) {
      return;
    }
    finished = true;
    drain_timer.cancel();
    std::error_code ignored;
    signals.cancel(ignored);
    if (control_server) {
      control_server->stop();
    }
    control_io.stop();
  }

  NodeConfig config;
  std::filesystem::path config_file;
  DataDir data_dir;
  // Declared early so that it outlives everything that holds its metrics.
  metrics::Registry registry;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  asio::io_context cell_io{1};
  asio::io_context control_io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> cell_work{
      asio::make_work_guard(cell_io)};
  asio::steady_timer tick_timer;
  asio::steady_timer drain_check;  // cell shard
  asio::steady_timer drain_timer;
  asio::signal_set signals;

  crypto::Ed25519PublicKey identity{};
  transport::PeerKey link_key{};
  std::mutex published_mu;  // guards onion_key and onion_epoch (set by the cell shard)
  crypto::X25519PublicKey onion_key{};
  std::uint64_t onion_epoch = 0;
  std::string udp_local;
  std::string tcp_local;
  std::string socks_local;  // empty without the client role

  // Cell shard only (after start-up).
  mix::CryptoRandomSource random;
  std::unique_ptr<transport::LinkManager> links;
  std::unique_ptr<mix::LinkManagerCellLink> cell_link;
  std::unique_ptr<mix::Relay> relay;
  std::unique_ptr<DataPath> data_path;
  bool stopping_cells = false;

  // Control thread only.
  std::unique_ptr<control::ControlServer> control_server;
  std::unique_ptr<MetricsHttpServer> metrics_server;
  std::atomic<bool> shutting_down{false};
  bool finished = false;

  std::mutex directory_mu;  // guards `directory` (read per control call, written per reload)
  std::shared_ptr<const document::Directory> directory;

  metrics::Counter& directory_accepted;
  metrics::Counter& directory_refused;
  metrics::Gauge& directory_nodes;
  metrics::Gauge& directory_valid_until;
  metrics::Gauge& uptime;
  metrics::Counter& scrapes_refused;
};

Result<std::unique_ptr<Node>> Node::create(NodeConfig config, std::filesystem::path config_file) {
  auto dir = DataDir::open(config.node.data_dir, config.control.group_access);
  if (!dir) {
    return std::unexpected(std::move(dir.error()));
  }
  auto impl = std::make_unique<Impl>(std::move(config), std::move(config_file), std::move(*dir));
  if (auto status = impl->load_directory(); !status) {
    return std::unexpected(std::move(status.error()));
  }
  if (auto status = impl->start_cell_shard(); !status) {
    return std::unexpected(std::move(status.error()));
  }
  if (auto udp = impl->links->udp_local_endpoint()) {
    impl->udp_local = fmt::format("{}:{}", udp->address().to_string(), udp->port());
  }
  if (auto tcp = impl->links->tcp_local_endpoint()) {
    impl->tcp_local = fmt::format("{}:{}", tcp->address().to_string(), tcp->port());
  }
  if (auto status = impl->start_control(); !status) {
    return std::unexpected(std::move(status.error()));
  }
  log::info("node '{}' up: link key {}, udp {}, {} directory nodes", impl->config.node.nickname,
            hex(impl->link_key), impl->udp_local, impl->current_directory()->nodes.size());
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Node::~Node() {
  // The cell shard's objects go first, on this thread, after both loops
  // stopped; the data path reads from the relay's circuits.
  impl_->data_path.reset();
  impl_->relay.reset();
  impl_->cell_link.reset();
  if (impl_->links) {
    impl_->links->stop();
  }
  impl_->links.reset();
}

void Node::run() {
  Impl& impl = *impl_;
  impl.schedule_tick();
  std::promise<void> cell_ran_dry;
  auto cell_done = cell_ran_dry.get_future();
  std::thread cell_thread([&impl, &cell_ran_dry] {
    impl.cell_io.run();
    cell_ran_dry.set_value();
  });
  impl.wait_signal();
  impl.control_io.run();
  // The cell shard let go of its work guard when it finished shutting down:
  // let the streams' last completions run (aborted socket reads, the SOCKS
  // clients' coroutines), so that no stream is torn down from inside the
  // io_context's destructor; stop it only if it does not run dry in time.
  if (cell_done.wait_for(kCellRunDry) != std::future_status::ready) {
    impl.cell_io.stop();
  }
  cell_thread.join();
  log::info("node stopped");
  log::flush();
}

void Node::request_shutdown() {
  asio::post(impl_->control_io, [impl = impl_.get()] { impl->begin_shutdown(); });
}

Status Node::reload_directory() { return impl_->load_directory(); }

}  // namespace nyx::daemon
