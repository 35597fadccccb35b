#include "daemon/data_path.hpp"

#include <chrono>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/crypto/encoding.hpp"
#include "core/log.hpp"
#include "core/metrics/registry.hpp"
#include "daemon/circuit_manager.hpp"
#include "daemon/exit_address_policy.hpp"
#include "daemon/exit_connector.hpp"
#include "daemon/own_addresses.hpp"
#include "daemon/socks5_server.hpp"
#include "daemon/socks_bridge.hpp"

namespace nyx::daemon {
namespace {

using nlohmann::json;

const char* state_name(mix::Circuit::State state) {
  switch (state) {
    case mix::Circuit::State::kBuilding:
      return "building";
    case mix::Circuit::State::kOpen:
      return "open";
    case mix::Circuit::State::kClosed:
      return "closed";
  }
  return "closed";
}

std::int64_t milliseconds(Nanos duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

// [exit]'s rules, and the exit's own addresses unless exit.reject_own_addresses
// is off (proposal 0004, section 8.1).
Result<ExitAddressPolicy> exit_policy_of(const NodeConfig& config) {
  std::string rules;
  for (const auto& rule : config.exit.policy) {
    rules += rule;
    rules += '\n';
  }
  std::set<IpAddress> own;
  if (config.exit.reject_own_addresses) {
    auto found = own_addresses(config);
    if (!found) {
      return std::unexpected(std::move(found.error()));
    }
    own = std::move(*found);
  }
  return ExitAddressPolicy::parse(rules, {.allow_private = config.exit.allow_private}, own);
}

}  // namespace

stream::SessionConfig session_config(const NodeConfig& config) {
  stream::SessionConfig session;
  session.max_concurrent_streams = config.mix.max_streams_per_circuit;
  // Each end runs its own controller for what it sends (the exit: downloads).
  session.congestion = config.stream.congestion;
  return session;
}

DataPath::DataPath(const Clock& clock) : clock_(clock) {}

DataPath::~DataPath() {
  // The server hands clients to the bridge, the bridge takes circuits from
  // the manager, whose sessions the streams hold: torn down in that order.
  if (socks_) {
    socks_->stop();
  }
  socks_.reset();
  bridge_.reset();
  circuits_.reset();
  exit_.reset();
}

Result<std::unique_ptr<DataPath>> DataPath::create(asio::io_context& io, const Clock& clock,
                                                   async::TimerService& timers,
                                                   const NodeConfig& config, mix::Relay& relay,
                                                   mix::RandomSource& random) {
  std::unique_ptr<DataPath> path(new DataPath(clock));
  if (config.node.roles.exit) {
    auto policy = exit_policy_of(config);
    if (!policy) {
      return std::unexpected(std::move(policy.error()));
    }
    path->exit_policy_ = std::make_unique<ExitAddressPolicy>(std::move(*policy));
    path->exit_ =
        std::make_unique<ExitConnector>(io, clock, timers, *path->exit_policy_,
                                        ExitConnectorOptions{.session = session_config(config)});
    relay.set_terminal_handler([exit = path->exit_.get()](std::unique_ptr<mix::Circuit> circuit) {
      exit->accept(std::move(circuit));
    });
  }
  if (config.node.roles.client) {
    CircuitManagerOptions options{
        .pool = {.prebuilt = config.mix.prebuilt_circuits,
                 .hops = config.mix.hops,
                 .max_age = config.mix.max_circuit_age,
                 .max_streams = static_cast<std::uint32_t>(config.mix.max_streams_per_circuit),
                 .subnets = config.mix.distinct_subnets ? mix::SubnetRule::kEnforce
                                                        : mix::SubnetRule::kIgnore},
        // Inside the SOCKS server's 30 s, leaving time for the exit's answer.
        .acquire_timeout = std::chrono::seconds(20),
        .cover_rate = config.mix.cover_rate,
        .session = session_config(config)};
    path->circuits_ = std::make_unique<CircuitManager>(io, clock, timers, relay, random, options);
    path->bridge_ = std::make_unique<SocksBridge>(*path->circuits_);
    std::error_code ec;
    const auto ip = asio::ip::make_address(config.socks.listen.host, ec);
    if (ec) {
      return make_error(
          ErrorCategory::kConfig,
          fmt::format("socks.listen: '{}' is not an IP address", config.socks.listen.host));
    }
    path->socks_ = std::make_unique<Socks5Server>(
        io,
        Socks5ServerOptions{
            .listen = {ip, config.socks.listen.port},
            .max_clients = config.socks.max_clients,
            .handshake_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
                config.socks.handshake_timeout),
            .optimistic_reply = config.socks.optimistic_reply},
        *path->bridge_);
    if (auto started = path->socks_->start(); !started) {
      return std::unexpected(Error{started.error().category, started.error().code,
                                   fmt::format("socks.listen {}:{}: {}", config.socks.listen.host,
                                               config.socks.listen.port, started.error().message)});
    }
    if (config.socks.allow_remote_clients) {
      log::warn(
          "SOCKS listener on {} accepts any host that can reach it (an open proxy); "
          "socks.allow_remote_clients is set",
          config.socks.listen.to_string());
    }
  }
  return path;
}

void DataPath::use_directory(const document::Directory& directory,
                             const crypto::Ed25519PublicKey& self) {
  if (!circuits_) {
    return;
  }
  std::vector<document::NodeDescriptor> others;
  for (const auto& node : directory.nodes) {
    if (node.identity_key != self) {
      others.push_back(node);
    }
  }
  circuits_->set_nodes(std::move(others));
}

void DataPath::maintain() {
  if (circuits_) {
    circuits_->maintain();
  }
  if (client_streams_ != nullptr) {
    client_streams_->set(static_cast<std::int64_t>(circuits_->stream_count()));
  }
  if (exit_streams_ != nullptr) {
    exit_streams_->set(static_cast<std::int64_t>(exit_->stream_count()));
  }
}

void DataPath::publish_metrics(metrics::Registry& registry) {
  constexpr std::string_view kStreamsHelp = "Streams open now, by side (client or exit)";
  if (circuits_) {
    circuits_->publish_metrics(registry);
    socks_->publish_metrics(registry);
    client_streams_ = &registry.gauge("nyx_streams_open", kStreamsHelp, {{"side", "client"}});
  }
  if (exit_) {
    exit_->publish_metrics(registry);
    exit_streams_ = &registry.gauge("nyx_streams_open", kStreamsHelp, {{"side", "exit"}});
  }
}

void DataPath::stop_accepting() {
  if (socks_) {
    socks_->stop();
  }
  if (exit_) {
    exit_->stop_accepting();
  }
}

asio::awaitable<void> DataPath::streams_ended() {
  if (socks_) {
    co_await socks_->relays_ended();
  }
  if (exit_) {
    co_await exit_->streams_ended();
  }
}

std::size_t DataPath::active_streams() const {
  std::size_t count = exit_ ? exit_->stream_count() : 0;
  if (circuits_) {
    count += circuits_->stream_count();
  }
  return count;
}

void DataPath::close_all() {
  stop_accepting();
  if (circuits_) {
    circuits_->close_all();
  }
  if (exit_) {
    exit_->stop();
  }
}

std::optional<asio::ip::tcp::endpoint> DataPath::socks_endpoint() const {
  if (!socks_) {
    return std::nullopt;
  }
  return socks_->local_endpoint();
}

json DataPath::circuits_json(std::size_t relayed) const {
  json list = json::array();
  if (circuits_) {
    for (const ClientCircuitInfo& info : circuits_->circuits()) {
      json hops = json::array();
      for (const auto& hop : info.hops) {
        hops.push_back(crypto::to_hex(hop));
      }
      json entry{{"id", info.id},
                 {"state", state_name(info.state)},
                 {"age_ms", milliseconds(info.age)},
                 {"streams_open", info.streams_open},
                 {"streams_total", info.streams_total},
                 {"retired", info.retired},
                 {"isolation", info.isolated ? "isolated" : "default"},
                 {"hops", std::move(hops)}};
      if (info.setup_time) {
        entry["setup_ms"] = static_cast<double>(info.setup_time->count()) / 1e6;
      }
      list.push_back(std::move(entry));
    }
  }
  return json{{"relayed", relayed}, {"circuits", std::move(list)}};
}

json DataPath::streams_json() const {
  json list = json::array();
  if (circuits_) {
    const Nanos now = clock_.now();
    for (const ClientStreamInfo& info : circuits_->streams()) {
      list.push_back({{"id", info.id},
                      {"circuit", info.circuit},
                      {"age_ms", milliseconds(now - info.traffic.started)},
                      {"bytes_up", info.traffic.bytes_up},
                      {"bytes_down", info.traffic.bytes_down}});
    }
  }
  return list;
}

Result<json> DataPath::build_circuit() {
  if (!circuits_) {
    return make_error(ErrorCategory::kInvalidArgument, "this node has no client role");
  }
  auto id = circuits_->build();
  if (!id) {
    return std::unexpected(std::move(id.error()));
  }
  return json{{"id", *id}};
}

Result<json> DataPath::close_circuit(const json& params) {
  if (!circuits_) {
    return make_error(ErrorCategory::kInvalidArgument, "this node has no client role");
  }
  if (!params.is_object() || !params.contains("id") || !params["id"].is_number_unsigned()) {
    return make_error(ErrorCategory::kInvalidArgument, "params.id: a circuit id is required");
  }
  if (auto closed = circuits_->close(params["id"].get<std::uint64_t>()); !closed) {
    return std::unexpected(std::move(closed.error()));
  }
  return json{{"closed", true}};
}

Result<json> DataPath::newnym() {
  if (!circuits_) {
    return make_error(ErrorCategory::kInvalidArgument, "this node has no client role");
  }
  return json{{"retired", circuits_->newnym()}};
}

}  // namespace nyx::daemon
