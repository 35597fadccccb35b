#include "daemon/cell_shard.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include <asio/ip/address.hpp>
#include <fmt/format.h>

#include "async/spawn.hpp"
#include "core/clock.hpp"
#include "core/crypto/encoding.hpp"
#include "core/host_port.hpp"
#include "core/log.hpp"
#include "daemon/authority_key.hpp"
#include "daemon/authority_role.hpp"
#include "daemon/data_path.hpp"
#include "daemon/directory_requester.hpp"
#include "daemon/directory_server.hpp"
#include "daemon/ip_literal.hpp"
#include "daemon/key_store.hpp"
#include "daemon/link_reachability_prober.hpp"
#include "daemon/replay_store_file.hpp"
#include "document/period.hpp"
#include "mix/link_manager_cell_link.hpp"
#include "mix/memory_replay_store.hpp"
#include "mix/relay.hpp"
#include "transport/link_manager.hpp"

namespace nyx::daemon {
namespace {

constexpr auto kTickInterval = std::chrono::milliseconds(50);

// How long a key takes tags: its held window P + S + O (proposal 0002,
// section 8.3). The v1 directory has one onion key epoch and no period, so
// the stores are sized for the proposal's default network: P = 1 h,
// S = 5 min, O = S + T_setup = 310 s. With mix.replay_rate's default 200/s
// that is C = 842 000 tags, a 32 MiB file per key.
constexpr std::chrono::seconds kReplayHeldWindow{3600 + 300 + 310};
// ReplayStoreFile's largest C.
constexpr double kMaxReplayCapacity = 2147483648.0;

// C = ceil(rho * (P + S + O)), within what a store file can hold (an
// out-of-range rate is the config check's to refuse, not a cast's to wrap).
std::uint64_t replay_capacity(double rate) {
  const double tags = std::ceil(rate * static_cast<double>(kReplayHeldWindow.count()));
  return static_cast<std::uint64_t>(std::clamp(tags, 1.0, kMaxReplayCapacity));
}

Result<transport::LinkConfig> link_config(const NodeConfig& config) {
  transport::LinkConfig links;
  auto udp_ip = ip_literal(config.transport.udp_listen, "transport.udp_listen");
  if (!udp_ip) {
    return std::unexpected(std::move(udp_ip.error()));
  }
  links.udp_listen = {*udp_ip, config.transport.udp_listen.port};
  links.udp_enabled = config.transport.udp_enabled;
  if (config.transport.tcp_listen) {
    auto tcp_ip = ip_literal(*config.transport.tcp_listen, "transport.tcp_listen");
    if (!tcp_ip) {
      return std::unexpected(std::move(tcp_ip.error()));
    }
    links.tcp_listen = asio::ip::tcp::endpoint(*tcp_ip, config.transport.tcp_listen->port);
  }
  links.socket_receive_buffer = config.transport.socket_receive_buffer;
  links.socket_send_buffer = config.transport.socket_send_buffer;
  links.peer_rate_bytes = config.transport.peer_rate;
  // Only the directory's nodes need their link key known; a client shows
  // each entry a key of that link's own (docs/protocol.md, "Handshake").
  links.fresh_initiator_keys = !config.node.roles.relay && !config.node.roles.authority;
  return links;
}

template <class Endpoint>
std::string address_text(const std::optional<Endpoint>& endpoint) {
  return endpoint ? fmt::format("{}:{}", endpoint->address().to_string(), endpoint->port())
                  : std::string();
}

std::string hex(Bytes bytes) { return crypto::to_hex(bytes); }

// The relays of the directory, by link key: CREATE admission limits each by
// name rather than by address.
std::unordered_set<transport::PeerKey, transport::PeerKeyHash> relay_links(
    const document::Directory& directory) {
  std::unordered_set<transport::PeerKey, transport::PeerKeyHash> links;
  for (const auto& node : directory.nodes) {
    if (node.is_relay()) {
      links.insert(node.link_key);
    }
  }
  return links;
}

// What is left until `until`; zero once it passed.
Nanos time_left(std::chrono::steady_clock::time_point until) {
  return std::max<Nanos>(until - std::chrono::steady_clock::now(), Nanos::zero());
}

}  // namespace

CellShard::CellShard(const NodeConfig& config, const DataDir& data_dir, const Clock& clock,
                     const Clock& wall, async::TimerService& timers)
    : config_(config),
      data_dir_(data_dir),
      clock_(clock),
      wall_(wall),
      timers_(timers),
      tick_timer_(io_.get_executor(), timers),
      onion_timer_(io_.get_executor(), timers) {}

CellShard::~CellShard() {
  if (thread_.joinable()) {
    io_.stop();
    thread_.join();
  }
  refuse_calls();  // a shard that never ran leaves its calls queued
  // On this thread, after the loop stopped: the data path and the directory
  // server read from the relay's circuits, the relay sends through the links.
  if (relay_) {
    relay_->set_directory_handler({});
  }
  data_path_.reset();
  authority_.reset();  // before the service it is attached to and the circuits it asks on
  prober_.reset();
  directory_circuits_.reset();  // it answers requests to this node with the server
  directory_server_.reset();
  held_consensus_.reset();
  onion_keys_.reset();  // keeps the relay's ring
  relay_.reset();
  cell_link_.reset();
  if (links_) {
    links_->stop();
  }
  links_.reset();
}

Result<std::unique_ptr<CellShard>> CellShard::create(
    const NodeConfig& config, const DataDir& data_dir, const Clock& clock, const Clock& wall,
    async::TimerService& timers, metrics::Registry& registry,
    const std::shared_ptr<const document::Directory>& directory) {
  std::unique_ptr<CellShard> shard(new CellShard(config, data_dir, clock, wall, timers));
  if (auto status = shard->open(registry, directory); !status) {
    return std::unexpected(std::move(status.error()));
  }
  return shard;
}

Status CellShard::open(metrics::Registry& registry,
                       const std::shared_ptr<const document::Directory>& directory) {
  KeyStore keys(data_dir_);
  auto identity_pair = keys.identity();
  if (!identity_pair) {
    return std::unexpected(std::move(identity_pair.error()));
  }
  identity_ = identity_pair->public_key;
  auto link_pair = keys.link();
  if (!link_pair) {
    return std::unexpected(std::move(link_pair.error()));
  }
  link_key_ = link_pair->public_key;

  auto links = link_config(config_);
  if (!links) {
    return std::unexpected(std::move(links.error()));
  }
  auto created =
      transport::LinkManager::create(io_, clock_, timers_, std::move(*link_pair), *links);
  if (!created) {
    return std::unexpected(std::move(created.error()));
  }
  links_ = std::move(*created);
  links_->publish_metrics(registry);
  udp_local_ = address_text(links_->udp_local_endpoint());
  tcp_local_ = address_text(links_->tcp_local_endpoint());
  cell_link_ = std::make_unique<mix::LinkManagerCellLink>(*links_, io_);

  const bool serves_directory = config_.node.roles.relay || config_.node.roles.authority;
  mix::RelayConfig relay_config;
  relay_config.mean_hop_delay = config_.mix.mix_delay_mean;
  relay_config.create_limits = config_.mix.create_limits;
  relay_config.serves_directory = serves_directory;
  relay_ = std::make_unique<mix::Relay>(clock_, *cell_link_, link_key_, random_, relay_config);
  relay_->onion_keys() =
      mix::OnionKeyRing([this](std::uint64_t epoch, const crypto::X25519PublicKey& public_key) {
        return open_replay_store(epoch, public_key);
      });
  relay_->publish_metrics(registry);
  const bool managed = config_.node.roles.relay && config_.directory.fetches_consensus();
  if (auto status = managed ? manage_onion_keys() : use_onion_epoch(directory.get()); !status) {
    return status;
  }
  cell_link_->attach(*relay_);
  directory_circuits_ = std::make_unique<RelayDirectoryCircuits>(*relay_, *links_);

  auto path = DataPath::create(io_, clock_, timers_, config_, *relay_, random_);
  if (!path) {
    return std::unexpected(std::move(path.error()));
  }
  data_path_ = std::move(*path);
  data_path_->publish_metrics(registry);
  if (serves_directory) {
    open_directory_server(registry);
  }
  if (config_.node.roles.authority) {
    if (auto status = open_authority(registry); !status) {
      return status;
    }
  }
  if (directory) {
    install(*directory);
  }
  socks_local_ = address_text(data_path_->socks_endpoint());
  return {};
}

void CellShard::open_directory_server(metrics::Registry& registry) {
  held_consensus_ = std::make_unique<HeldConsensusService>();
  directory_server_ =
      std::make_unique<DirectoryServer>(io_, clock_, timers_, *held_consensus_,
                                        DirectoryServerOptions{.session = session_config(config_)});
  directory_server_->publish_metrics(registry);
  relay_->set_directory_handler([server = directory_server_.get(),
                                 links = links_.get()](std::unique_ptr<mix::Circuit> circuit) {
    auto address = links->remote_address(circuit->link_peer());
    server->accept(std::move(circuit), std::move(address));
  });
  // A relay that is also an authority uploads its descriptor to itself.
  directory_circuits_->answer_locally(link_key_, *directory_server_);
}

Status CellShard::open_authority(metrics::Registry& registry) {
  prober_ = std::make_unique<LinkReachabilityProber>(timers_);
  auto role = AuthorityRole::create(config_, data_dir_,
                                    {.executor = io_.get_executor(),
                                     .wall = wall_,
                                     .timers = timers_,
                                     .registry = registry,
                                     .circuits = *directory_circuits_,
                                     .held = *held_consensus_,
                                     .prober = *prober_,
                                     .session = session_config(config_)});
  if (!role) {
    return std::unexpected(std::move(role.error()));
  }
  if (auto listed = check_authority_listed(config_, (*role)->authority_key(), link_key_); !listed) {
    return listed;
  }
  authority_ = std::move(*role);
  return {};
}

void CellShard::start() {
  schedule_tick();
  if (onion_keys_) {
    run_onion_keys();
  }
  if (authority_) {
    post([role = authority_.get()] { role->start(); });
  }
  thread_ = std::thread([this] {
    io_.run();
    refuse_calls();  // nothing runs what is still queued
    ran_dry_.set_value();
  });
}

// Makes the onion key of the epoch our descriptor in `directory` names
// current (epoch 0 when we are not listed); the previous key stays usable for
// the overlap.
Status CellShard::use_onion_epoch(const document::Directory* directory) {
  std::uint64_t epoch = 0;
  const document::NodeDescriptor* self = nullptr;
  if (directory != nullptr) {
    for (const auto& node : directory->nodes) {
      if (node.identity_key == identity_) {
        self = &node;
        epoch = node.onion_key_epoch;
      }
    }
  }
  const auto* current = relay_->onion_keys().current();
  if (current == nullptr || current->epoch != epoch) {
    auto onion_pair = KeyStore(data_dir_).onion(epoch);
    if (!onion_pair) {
      return std::unexpected(std::move(onion_pair.error()));
    }
    {
      std::lock_guard lock(onion_mu_);
      onion_key_ = onion_pair->public_key;
      onion_epoch_ = epoch;
    }
    relay_->onion_keys().rotate(epoch, std::move(*onion_pair));
    settle_replay_stores();
  }
  if (self != nullptr && self->onion_key != relay_->onion_keys().current()->key.public_key) {
    log::warn("directory lists another onion key for this node (epoch {}): CREATEs for it fail",
              epoch);
  }
  return {};
}

Status CellShard::manage_onion_keys() {
  auto period =
      document::Period::from_seconds(static_cast<std::uint64_t>(config_.directory.period.count()));
  if (!period) {
    return std::unexpected(std::move(period.error()));
  }
  const auto skew = std::chrono::duration_cast<std::chrono::seconds>(config_.directory.clock_skew);
  auto manager = OnionKeyManager::open(
      data_dir_,
      {.period = *period, .clock_skew_seconds = static_cast<std::uint64_t>(skew.count())},
      relay_->onion_keys(),
      [this](std::uint64_t epoch, const crypto::X25519PublicKey& public_key) {
        return open_replay_store(epoch, public_key);
      },
      wall_.now());
  if (!manager) {
    return std::unexpected(std::move(manager.error()));
  }
  onion_keys_.emplace(std::move(*manager));
  // The keys of epoch(now) are held before the first CREATE can arrive.
  (void)onion_keys_->on_time(wall_.now());
  settle_replay_stores();
  note_current_onion_key();
  return {};
}

void CellShard::run_onion_keys() {
  const Nanos now = wall_.now();
  const Nanos next = onion_keys_->on_time(now);
  settle_replay_stores();
  note_current_onion_key();
  // The timers run on the steady clock: at most u asleep, so a jump of the
  // wall clock is seen within u, as the directory fetcher does.
  const auto unit = std::chrono::duration_cast<Nanos>(config_.directory.period / 12);
  onion_timer_.expires_after(std::clamp<Nanos>(next - now, Nanos::zero(), unit));
  onion_timer_.async_wait([this](const asio::error_code& ec) {
    if (ec || stopping_) {
      return;
    }
    run_onion_keys();
  });
}

void CellShard::note_current_onion_key() {
  const mix::OnionKeyRing::Entry* current = relay_->onion_keys().current();
  if (current == nullptr) {
    return;
  }
  std::lock_guard lock(onion_mu_);
  onion_key_ = current->key.public_key;
  onion_epoch_ = current->epoch;
}

std::optional<OnionKeyManager::PublishedKeys> CellShard::published_onion_keys() const {
  return onion_keys_ ? onion_keys_->published() : std::nullopt;
}

DirectoryCircuitSource& CellShard::directory_circuits() noexcept { return *directory_circuits_; }

// The file is created on the key's first hold (IfMissing::kCreate): with
// one key per directory epoch and no period there is no held window to tell
// a key that is new from one whose file was lost (docs/decisions.md).
std::unique_ptr<mix::ReplayStore> CellShard::open_replay_store(
    std::uint64_t epoch, const crypto::X25519PublicKey& public_key) {
  const std::string name = ReplayStoreFile::file_name(epoch);
  auto store = ReplayStoreFile::open({.path = data_dir_.path() / name,
                                      .epoch = epoch,
                                      .public_key = public_key,
                                      .capacity = replay_capacity(config_.mix.replay_rate),
                                      .if_missing = ReplayStoreFile::IfMissing::kCreate,
                                      .boot_id = read_boot_id()});
  if (!store) {
    // Never an in-memory store instead: its restart would forget the tags.
    // An empty store of no capacity is full, so the key opens CREATEs but
    // takes no fresh one.
    log::error("{}; its onion key takes no fresh CREATE", store.error().message);
    closed_stores_[epoch] = mix::OnionKeyRing::CloseReason::kStoreMissing;
    return std::make_unique<mix::MemoryReplayStore>(0);
  }
  replay_files_.insert(epoch);
  if (const auto reason = (*store)->closed_reason()) {
    if ((*store)->problem().empty()) {
      log::warn("replay store {} is full ({} tags): its onion key takes no fresh CREATE", name,
                (*store)->size());
    } else {
      log::warn("{}", (*store)->problem());  // names the file, never a key
    }
    closed_stores_[epoch] = *reason;
  }
  return std::move(*store);
}

void CellShard::settle_replay_stores() {
  mix::OnionKeyRing& ring = relay_->onion_keys();
  // The ring closes a key whose store is full; a store closed for another
  // reason says which.
  for (const auto& [epoch, reason] : closed_stores_) {
    if (mix::OnionKeyRing::Entry* entry = ring.find(epoch); entry != nullptr) {
      entry->closed = reason;
    }
  }
  closed_stores_.clear();
  // Tags are one-way images of shared secrets, not secrets: an erased key's
  // file is unlinked, not overwritten (proposal 0002, section 7.2).
  for (auto it = replay_files_.begin(); it != replay_files_.end();) {
    if (ring.find(*it) != nullptr) {
      ++it;
      continue;
    }
    const std::string name = ReplayStoreFile::file_name(*it);
    if (auto removed = ReplayStoreFile::remove(data_dir_.path() / name); !removed) {
      log::warn("replay store {}: not removed: {}", name, removed.error().message);
    }
    it = replay_files_.erase(it);
  }
}

Result<nlohmann::json> CellShard::onion_keys_json() {
  if (!onion_keys_) {
    return make_error(ErrorCategory::kInvalidArgument,
                      "this node's onion keys do not rotate: only a relay that fetches the "
                      "consensus has keys per epoch");
  }
  const mix::OnionKeyRing& ring = relay_->onion_keys();
  return nlohmann::json{
      {"epoch", ring.epoch()}, {"held", onion_keys_->ring_epochs()}, {"held_total", ring.size()}};
}

std::pair<crypto::X25519PublicKey, std::uint64_t> CellShard::onion_key() const {
  std::lock_guard lock(onion_mu_);
  return {onion_key_, onion_epoch_};
}

void CellShard::use_directory(std::shared_ptr<const document::Directory> directory) {
  post([this, directory = std::move(directory)] { install(*directory); });
}

void CellShard::hold_consensus(std::uint64_t period, SharedDocument consensus) {
  post([this, period, consensus = std::move(consensus)]() mutable {
    if (held_consensus_) {
      held_consensus_->hold(period, std::move(consensus));
    }
  });
}

void CellShard::install(const document::Directory& directory) {
  if (auto status = cell_link_->add_peers(directory); !status) {
    log::warn("directory: not every peer registered: {}", status.error().message);
  }
  if (!onion_keys_) {
    if (auto status = use_onion_epoch(&directory); !status) {
      log::error("onion key: {}", status.error().message);
    }
  }
  relay_->set_relay_links(relay_links(directory));
  data_path_->use_directory(directory, identity_);
}

void CellShard::schedule_tick() {
  tick_timer_.expires_after(kTickInterval);
  tick_timer_.async_wait([this](const asio::error_code& ec) {
    if (ec || stopping_) {
      return;
    }
    relay_->tick();
    data_path_->maintain();
    relay_->flush();
    links_->flush();
    schedule_tick();
  });
}

void CellShard::shut_down(std::chrono::steady_clock::time_point deadline,
                          std::function<void()> done) {
  post([this, deadline, done = std::move(done)]() mutable {
    async::spawn(io_.get_executor(), drain(deadline, std::move(done)), "shutdown drain");
  });
}

// Waits for the streams to end, then closes everything and waits for what
// was still running to return. Each wait is on the components' gates, so the
// drain ends as soon as the last stream does; the deadline only bounds it.
asio::awaitable<void> CellShard::drain(std::chrono::steady_clock::time_point deadline,
                                       std::function<void()> done) {
  data_path_->stop_accepting();
  const auto ended = co_await async::with_deadline(data_path_->streams_ended(),
                                                   time_left(deadline - kCloseMargin));
  if (!ended && data_path_->active_streams() > 0) {
    log::warn("shutdown: {} streams still open at the drain deadline; closing them",
              data_path_->active_streams());
  }
  close_all();
  const auto closed =
      co_await async::with_deadline(data_path_->streams_ended(), time_left(deadline));
  if (!closed) {
    log::warn("shutdown: streams still ending at the drain deadline");
  }
  work_.reset();  // the loop runs dry from here
  done();
}

void CellShard::close_all() {
  stopping_ = true;
  tick_timer_.cancel();
  onion_timer_.cancel();
  if (authority_) {
    authority_->stop();
  }
  if (directory_server_) {
    directory_server_->stop();
  }
  data_path_->close_all();
  relay_->close_all();
  relay_->flush();
  links_->flush();
  links_->stop();
  refuse_calls();  // nothing left to answer them from
}

void CellShard::stop_now() {
  refuse_calls();
  io_.stop();
}

std::optional<std::uint64_t> CellShard::admit_call(std::function<void()> refuse) {
  std::lock_guard lock(calls_mu_);
  if (calls_closed_) {
    return std::nullopt;
  }
  const std::uint64_t id = next_call_++;
  pending_calls_.emplace(id, std::move(refuse));
  return id;
}

bool CellShard::take_call(std::uint64_t id) {
  std::lock_guard lock(calls_mu_);
  return pending_calls_.erase(id) == 1;
}

void CellShard::refuse_calls() {
  std::map<std::uint64_t, std::function<void()>> refused;
  {
    std::lock_guard lock(calls_mu_);
    calls_closed_ = true;
    refused.swap(pending_calls_);
  }
  // Outside the lock: each posts to its caller's executor.
  for (auto& [id, refuse] : refused) {
    refuse();
  }
}

void CellShard::join(std::chrono::steady_clock::time_point deadline) {
  if (!thread_.joinable()) {
    return;
  }
  // The loop ends on its own once its last completions ran; the stop is
  // only for one that does not by the deadline.
  if (ran_dry_.get_future().wait_until(deadline) != std::future_status::ready) {
    log::warn("shutdown: the cell shard still had work at the drain deadline; stopping it");
    io_.stop();
  }
  thread_.join();
}

std::size_t CellShard::relayed_circuits() const { return relay_->circuit_count(); }

nlohmann::json CellShard::peers_json(const document::Directory* directory) const {
  nlohmann::json peers = nlohmann::json::array();
  if (directory == nullptr) {
    return peers;
  }
  for (const auto& node : directory->nodes) {
    if (node.link_key == link_key_) {
      continue;
    }
    nlohmann::json peer{{"identity_key", hex(node.identity_key)},
                        {"link_key", hex(node.link_key)},
                        {"udp_address", node.udp_address},
                        {"tcp_address", node.tcp_address},
                        {"relay", node.is_relay()},
                        {"exit", node.is_exit()},
                        {"bandwidth_weight", node.bandwidth_weight},
                        {"up", false}};
    if (auto stats = links_->stats(node.link_key)) {
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
}

}  // namespace nyx::daemon
