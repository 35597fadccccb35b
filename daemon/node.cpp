#include "daemon/node.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <asio.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "async/timer_service.hpp"
#include "core/clock.hpp"
#include "core/crypto/encoding.hpp"
#include "core/log.hpp"
#include "core/metrics/process_metrics.hpp"
#include "core/metrics/registry.hpp"
#include "daemon/authority_role.hpp"
#include "daemon/cell_shard.hpp"
#include "daemon/consensus_directory.hpp"
#include "daemon/control/control_server.hpp"
#include "daemon/data_dir.hpp"
#include "daemon/data_path.hpp"
#include "daemon/directory_client.hpp"
#include "daemon/ip_literal.hpp"
#include "daemon/metrics_http.hpp"
#include "document/directory.hpp"
#include "nyx_version.hpp"

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

constexpr auto kShardCallTimeout = std::chrono::seconds(2);

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
  ~Impl() {
    // The directory client goes between the end of the shard's loop and
    // the shard's io_context (see its declaration). run() has joined the
    // loop already; a node that never ran has no loop.
    if (cells) {
      cells->join(std::chrono::steady_clock::now());
    }
    directory_client.reset();
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // ---- start-up (one thread, before run) ----

  Status start_cell_shard() {
    auto created =
        CellShard::create(config, data_dir, SteadyClock::instance(), wall,
                          async::SteadyTimers::instance(), registry, current_directory());
    if (!created) {
      return std::unexpected(std::move(created.error()));
    }
    cells = std::move(*created);
    return {};
  }

  // Without a directory file: the consensus client on the cell shard, which
  // starts with the shard's thread. What it installs is what paths are drawn
  // from; what it holds, every shard serves.
  Status start_directory_client() {
    auto created = DirectoryClient::create(config, data_dir, *cells, wall,
                                           async::SteadyTimers::instance(), registry);
    if (!created) {
      return std::unexpected(std::move(created.error()));
    }
    directory_client = std::move(*created);
    directory_client->set_handlers(
        [this](std::shared_ptr<const document::Consensus> consensus) {
          use_consensus(std::move(consensus));
        },
        [this](std::uint64_t period, SharedDocument encoded) {
          cells->hold_consensus(period, std::move(encoded));
        });
    directory_client->load();
    cells->post([client = directory_client.get()] { client->start(); });
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
          [this] {
            publish_uptime();
            return registry.prometheus_text();
          });
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
    if (config.directory.fetches_consensus()) {
      return make_error(ErrorCategory::kConfig,
                        "no directory.file: the consensus is fetched from the authorities");
    }
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
    directory_accepted.inc();
    auto installed = std::make_shared<const document::Directory>(std::move(*verified));
    log::info("directory loaded: {} nodes, valid until {}", installed->nodes.size(),
              installed->valid_until);
    install_directory(std::move(installed));
    return {};
  }

  // The fetcher installed a consensus (on the cell shard's thread); paths are
  // derived from it on the control thread, which keeps its epoch timer.
  void use_consensus(std::shared_ptr<const document::Consensus> installed) {
    asio::post(control_io, [this, installed = std::move(installed)]() mutable {
      installed_consensus = std::move(installed);
      derive_paths();
    });
  }

  // The installed consensus as paths are drawn from it, with the onion keys
  // of epoch(now): derived again when the epoch changes while it is still
  // installed (stale but valid, it then lists the next keys; section 6.5).
  void derive_paths() {
    const std::uint64_t now = wall_seconds();
    derived_epoch = directory_client->period().epoch(now);
    install_directory(std::make_shared<const document::Directory>(
        consensus_directory(*installed_consensus, directory_client->period(), now)));
    arm_epoch_timer();
  }

  // Wakes at the next epoch's start, and at least every u on the way, so a
  // jump of the wall clock (the timer runs in steady time) is seen within u.
  void arm_epoch_timer() {
    const document::Period& period = directory_client->period();
    const std::uint64_t now = wall_seconds();
    const std::uint64_t until_next = period.start(period.epoch(now) + 1) - now;
    epoch_timer.expires_after(std::chrono::seconds(std::min(until_next, period.unit())));
    epoch_timer.async_wait([this](std::error_code ec) {
      if (ec) {
        return;
      }
      if (directory_client->period().epoch(wall_seconds()) != derived_epoch) {
        derive_paths();
      } else {
        arm_epoch_timer();
      }
    });
  }

  std::uint64_t wall_seconds() const {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(wall.now()).count();
    return seconds > 0 ? static_cast<std::uint64_t>(seconds) : 0;
  }

  // What control calls read, and what the cell shard draws paths from.
  void install_directory(std::shared_ptr<const document::Directory> installed) {
    {
      std::lock_guard lock(directory_mu);
      directory = installed;
    }
    directory_nodes.set(static_cast<std::int64_t>(installed->nodes.size()));
    directory_valid_until.set(static_cast<std::int64_t>(installed->valid_until));
    // The transport lives on the cell shard: hand the peers over there
    // (at start-up the shard is made from the v1 directory instead).
    if (cells) {
      cells->use_directory(std::move(installed));
    }
  }

  // The node's own gauge, brought up to date when someone reads it.
  void publish_uptime() {
    uptime.set(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
            .count());
  }

  // Runs fn on the cell shard; the control coroutine awaits its answer.
  template <class F>
  asio::awaitable<RpcResult> on_cell_shard(F fn) {
    auto answer = co_await cells->call(std::move(fn), kShardCallTimeout);
    if (!answer) {
      co_return std::unexpected(RpcError{kRpcShardBusy, answer.error().message});
    }
    co_return std::move(*answer);
  }

  // ---- control methods (control thread) ----

  json stats_json() {
    publish_uptime();
    return json::parse(registry.json());
  }

  // The names are fixed and distinct; a clash is a bug caught by the tests.
  static void check_added(const Status& status) {
    if (!status) {
      log::error("control: {}", status.error().message);
    }
  }

  void add_methods(control::MethodRegistry& methods) {
    auto add = [&methods](std::string name, control::MethodHandler handler) {
      check_added(methods.add(std::move(name), std::move(handler)));
    };
    auto add_async = [&methods](std::string name, control::AsyncMethodHandler handler) {
      check_added(methods.add_async(std::move(name), std::move(handler)));
    };
    add("node.info", [this](const json&) -> RpcResult { return info_json(); });
    add("node.stats", [this](const json&) -> RpcResult { return stats_json(); });
    add_async("peers.list", [this](json) { return peers_json(); });
    add_async("circuits.list", [this](json) {
      return on_cell_shard([this]() -> RpcResult {
        return cells->data_path().circuits_json(cells->relayed_circuits());
      });
    });
    add_async("streams.list", [this](json) {
      return on_cell_shard([this]() -> RpcResult { return cells->data_path().streams_json(); });
    });
    add_async("circuit.build", [this](json) {
      return on_cell_shard([this] { return rpc_result(cells->data_path().build_circuit()); });
    });
    add_async("circuit.close", [this](json params) {
      return on_cell_shard([this, params = std::move(params)] {
        return rpc_result(cells->data_path().close_circuit(params));
      });
    });
    add_async("circuits.newnym", [this](json) {
      return on_cell_shard([this] { return rpc_result(cells->data_path().newnym()); });
    });
    add_directory_methods(methods);
    add("directory.reload", [this](const json&) -> RpcResult {
      if (config.directory.fetches_consensus()) {
        // Nothing to re-read: the fetcher keeps the consensus on its own
        // schedule. What is installed is the answer, so that `nyxctl reload`
        // works the same on every node.
        auto dir = current_directory();
        if (!dir) {
          return std::unexpected(RpcError{kRpcDirectoryRefused,
                                          "no consensus installed yet: it is fetched from the "
                                          "authorities (see the log's directory lines)"});
        }
        return json{{"nodes", dir->nodes.size()}, {"valid_until", dir->valid_until}};
      }
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

  // The directory's methods and the onion keys', answered on the cell shard.
  void add_directory_methods(control::MethodRegistry& methods) {
    auto add_async = [&methods](std::string name, control::AsyncMethodHandler handler) {
      check_added(methods.add_async(std::move(name), std::move(handler)));
    };
    add_async("authority.status", [this](json) {
      return on_cell_shard([this]() -> RpcResult {
        const AuthorityRole* role = cells->authority();
        if (role == nullptr) {
          return std::unexpected(
              RpcError{control::kRpcInvalidParams, "this node does not run the authority role"});
        }
        return role->status(wall_seconds());
      });
    });
    add_async("directory.get", [this](json) {
      return on_cell_shard([this] {
        return directory_result([](DirectoryClient& client) { return client.consensus_json(); });
      });
    });
    add_async("directory.offer", [this](json params) {
      return on_cell_shard([this, params = std::move(params)] {
        return directory_result(
            [&params](DirectoryClient& client) { return client.offer(params); });
      });
    });
    add_async("onion_keys.list", [this](json) {
      return on_cell_shard([this] { return rpc_result(cells->onion_keys_json()); });
    });
  }

  // directory.get and directory.offer on the shard: -32602 for a caller's
  // mistake or a node that does not fetch the consensus, -32010 (with the
  // reason) for a consensus refused or not held.
  RpcResult directory_result(const std::function<Result<json>(DirectoryClient&)>& call) {
    if (!directory_client) {
      return std::unexpected(RpcError{control::kRpcInvalidParams,
                                      "this node does not fetch the consensus (directory.file)"});
    }
    return rpc_result(call(*directory_client), kRpcDirectoryRefused);
  }

  // An answer from the shard as a control reply: a caller's mistake is
  // invalid params, anything else a refusal (`refused`) that says why.
  static RpcResult rpc_result(Result<json> result, int refused = kRpcCircuitRefused) {
    if (result) {
      return std::move(*result);
    }
    const int code = result.error().category == ErrorCategory::kInvalidArgument
                         ? control::kRpcInvalidParams
                         : refused;
    return std::unexpected(RpcError{code, result.error().message});
  }

  json info_json() {
    json info{{"version", version::kVersion},
              {"nickname", config.node.nickname},
              {"roles", roles_json(config.node.roles)},
              {"pid", ::getpid()},
              {"identity_key", hex(cells->identity())},
              {"link_key", hex(cells->link_key())},
              {"udp_listen", cells->udp_local()},
              {"tcp_listen", cells->tcp_local()},
              {"socks_listen", cells->socks_local()},
              {"cell_shards", 1},
              {"workers", config.resolved_workers()},
              {"data_dir", data_dir.path().string()},
              {"uptime_seconds", std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::steady_clock::now() - started)
                                     .count()}};
    const auto [onion_key, onion_epoch] = cells->onion_key();
    info["onion_key"] = hex(onion_key);
    info["onion_key_epoch"] = onion_epoch;
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

  asio::awaitable<RpcResult> peers_json() {
    return on_cell_shard(
        [this, dir = current_directory()]() -> RpcResult { return cells->peers_json(dir.get()); });
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
        {"stream", fresh->stream == config.stream},
        {"socks", fresh->socks == config.socks},
        {"relay", fresh->relay == config.relay},
        {"exit", fresh->exit == config.exit},
        {"authority", fresh->authority == config.authority},
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
        log::info("SIGHUP: reloading the config{}",
                  config.directory.fetches_consensus() ? "" : " and the directory file");
        if (auto reloaded = reload_config(); !reloaded) {
          log::warn("SIGHUP: config refused, keeping the current one: {}",
                    reloaded.error().message);
        }
        if (!config.directory.fetches_consensus()) {
          (void)load_directory();  // refusals are logged and counted there
        }
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
    // back as soon as its last stream has returned; the deadline bounds it.
    stop_by = std::chrono::steady_clock::now() +
              std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                  config.shutdown.drain_deadline);
    if (directory_client) {
      cells->post([client = directory_client.get()] { client->stop(); });
    }
    cells->shut_down(stop_by, [this] { asio::post(control_io, [this] { finish_shutdown(); }); });
    drain_timer.expires_at(stop_by);
    drain_timer.async_wait([this](std::error_code ec) {
      if (!ec) {
        log::warn("shutdown: the drain deadline passed; stopping the cell shard");
        cells->stop_now();
        finish_shutdown();
      }
    });
  }

  void finish_shutdown() {
    if (finished) {
      return;
    }
    finished = true;
    drain_timer.cancel();
    epoch_timer.cancel();
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

  asio::io_context control_io{1};
  asio::steady_timer drain_timer;
  asio::steady_timer epoch_timer{control_io};  // derive_paths() at each epoch
  asio::signal_set signals;

  // Unix time: the directory's periods and onion epochs.
  const Clock& wall = SystemClock::instance();
  // Its timers and gates live on the shard's io_context: ~Impl destroys it
  // after the shard's loop has ended and before that io_context goes.
  // Coroutine frames the io_context may still hold find its gates closed.
  std::unique_ptr<DirectoryClient> directory_client;
  std::unique_ptr<CellShard> cells;
  // Control thread only: the consensus installed, and the epoch whose onion
  // keys the directory derived from it lists.
  std::shared_ptr<const document::Consensus> installed_consensus;
  std::uint64_t derived_epoch = 0;

  // Control thread only.
  std::unique_ptr<control::ControlServer> control_server;
  std::unique_ptr<MetricsHttpServer> metrics_server;
  std::atomic<bool> shutting_down{false};
  bool finished = false;
  // The drain deadline, set when the shutdown begins; nothing waits past it.
  std::chrono::steady_clock::time_point stop_by{};

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
  const bool fetches = impl->config.directory.fetches_consensus();
  if (!fetches) {
    if (auto status = impl->load_directory(); !status) {
      return std::unexpected(std::move(status.error()));
    }
  }
  if (auto status = impl->start_cell_shard(); !status) {
    return std::unexpected(std::move(status.error()));
  }
  if (fetches) {
    if (auto status = impl->start_directory_client(); !status) {
      return std::unexpected(std::move(status.error()));
    }
  }
  if (auto status = impl->start_control(); !status) {
    return std::unexpected(std::move(status.error()));
  }
  const auto directory = impl->current_directory();
  // Without a file the directory comes from the fetcher, logged as it goes.
  log::info("node '{}' up: link key {}, udp {}, {}", impl->config.node.nickname,
            hex(impl->cells->link_key()), impl->cells->udp_local(),
            directory ? fmt::format("{} directory nodes", directory->nodes.size())
                      : std::string("fetching the consensus from the authorities"));
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Node::~Node() = default;

void Node::run() {
  Impl& impl = *impl_;
  impl.cells->start();
  impl.wait_signal();
  impl.control_io.run();
  // The cell shard let go of its work guard when it finished shutting down:
  // its loop runs the last completions (aborted socket reads, timers) and
  // ends, so that nothing is torn down from inside the io_context's
  // destructor; it is stopped only if it has not by the drain deadline.
  impl.cells->join(impl.stop_by);
  log::info("node stopped");
  log::flush();
}

void Node::request_shutdown() {
  asio::post(impl_->control_io, [impl = impl_.get()] { impl->begin_shutdown(); });
}

Status Node::reload_directory() { return impl_->load_directory(); }

}  // namespace nyx::daemon
