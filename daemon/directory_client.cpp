#include "daemon/directory_client.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/crypto/encoding.hpp"
#include "daemon/cell_shard.hpp"
#include "daemon/data_path.hpp"
#include "daemon/key_store.hpp"
#include "document/node_address.hpp"
#include "document/verify_consensus.hpp"

namespace nyx::daemon {
namespace {

// directory.fallbacks as bootstrap sources (section 6.1).
Result<std::vector<document::DirectorySource>> fallback_sources(const NodeConfig& config) {
  std::vector<document::DirectorySource> out;
  for (const NodeConfig::Fallback& fallback : config.directory.fallbacks) {
    auto address = document::NodeAddress::from_text(fallback.address.to_string());
    if (!address) {
      return make_error(
          ErrorCategory::kConfig,
          fmt::format("directory.fallbacks.address: not an IP literal with a port: {}",
                      address.error().message));
    }
    out.push_back({.kind = document::DirectorySource::Kind::kFallback,
                   .link_key = fallback.link,
                   .udp_address = *address,
                   .tcp_address = {}});
  }
  return out;
}

Result<document::ConsensusTracker::Config> tracker_config(
    const NodeConfig& config, const document::Period& period,
    std::vector<document::DirectorySource> authorities, const CellShard& shard) {
  const auto skew = std::chrono::duration_cast<std::chrono::seconds>(config.directory.clock_skew);
  auto trust =
      document::ConsensusTrust::make(config.directory.authorities, config.directory.threshold,
                                     period, static_cast<std::uint64_t>(skew.count()));
  if (!trust) {
    return std::unexpected(std::move(trust.error()));
  }
  auto fallbacks = fallback_sources(config);
  if (!fallbacks) {
    return std::unexpected(std::move(fallbacks.error()));
  }
  // Section 6.2: a node that serves the consensus fetches early, from the
  // authorities; a client later, from the relays.
  const bool cache = config.node.roles.relay || config.node.roles.authority;
  return document::ConsensusTracker::Config{
      .trust = std::move(*trust),
      .role = cache ? document::DirectoryRole::kCache : document::DirectoryRole::kClient,
      .authorities = std::move(authorities),
      .fallbacks = std::move(*fallbacks),
      .own_link_key = shard.link_key()};
}

}  // namespace

DirectoryClient::DirectoryClient(document::Period period,
                                 document::ConsensusTracker::Config tracker)
    : period_(period), tracker_(std::move(tracker), random_) {}

DirectoryClient::~DirectoryClient() = default;

Result<std::unique_ptr<DirectoryClient>> DirectoryClient::create(
    const NodeConfig& config, const DataDir& data_dir, CellShard& shard, const Clock& wall,
    async::TimerService& timers, metrics::Registry& registry) {
  auto period =
      document::Period::from_seconds(static_cast<std::uint64_t>(config.directory.period.count()));
  if (!period) {
    return std::unexpected(std::move(period.error()));
  }
  auto authorities = authority_sources(config);
  if (!authorities) {
    return std::unexpected(std::move(authorities.error()));
  }
  auto tracker = tracker_config(config, *period, *authorities, shard);
  if (!tracker) {
    return std::unexpected(std::move(tracker.error()));
  }
  std::unique_ptr<DirectoryClient> client(new DirectoryClient(*period, std::move(*tracker)));
  client->requester_ = std::make_unique<DirectoryRequester>(
      shard.executor(), wall, timers, shard.directory_circuits(),
      DirectoryRequesterOptions{.session = session_config(config)});
  client->fetcher_ =
      std::make_unique<DirectoryFetcher>(shard.executor(), wall, timers, client->tracker_,
                                         *client->requester_, *period, data_dir.path());
  client->fetcher_->publish_metrics(registry);
  if (!config.node.roles.relay) {
    return client;
  }
  auto content = descriptor_content(config, shard.link_key());
  if (!content) {
    return std::unexpected(std::move(content.error()));
  }
  auto identity = KeyStore(data_dir).identity();
  if (!identity) {
    return std::unexpected(std::move(identity.error()));
  }
  client->identity_.emplace(std::move(*identity));
  client->publisher_ = std::make_unique<DescriptorPublisher>(
      shard.executor(), wall, timers, *client->requester_, *period, std::move(*content),
      *client->identity_, [&shard] { return shard.published_onion_keys(); },
      std::move(*authorities), client->random_);
  client->publisher_->publish_metrics(registry);
  return client;
}

void DirectoryClient::set_handlers(DirectoryFetcher::InstallHandler on_install,
                                   DirectoryFetcher::HeldHandler on_held) {
  fetcher_->set_install_handler(std::move(on_install));
  fetcher_->set_held_handler(std::move(on_held));
}

void DirectoryClient::load() { (void)fetcher_->load(); }

void DirectoryClient::start() {
  fetcher_->start();
  if (publisher_) {
    publisher_->start();
  }
}

void DirectoryClient::stop() {
  fetcher_->stop();
  if (publisher_) {
    publisher_->stop();
  }
}

Result<nlohmann::json> DirectoryClient::consensus_json() const {
  const std::vector<std::uint8_t>* bytes = fetcher_->installed_bytes();
  if (bytes == nullptr) {
    return make_error(ErrorCategory::kNotFound, "no consensus installed yet");
  }
  return nlohmann::json{{"consensus", crypto::to_base64(*bytes)}};
}

namespace {

// directory.offer's consensus: base64 in the params (what fits in a control
// message, 64 KiB), or a file the node reads (any size a consensus may be).
Result<std::vector<std::uint8_t>> offered_bytes(const nlohmann::json& params) {
  const auto text = params.is_object() ? params.find("consensus") : params.end();
  const auto file = params.is_object() ? params.find("file") : params.end();
  if (text != params.end() && text->is_string()) {
    auto bytes = crypto::from_base64(text->get<std::string>());
    if (!bytes) {
      return make_error(ErrorCategory::kInvalidArgument, "consensus: not base64");
    }
    return bytes;
  }
  if (file != params.end() && file->is_string()) {
    auto bytes = read_consensus_file(file->get<std::string>());
    if (!bytes) {
      return std::unexpected(bytes.error());
    }
    if (!*bytes) {
      return make_error(ErrorCategory::kInvalidArgument,
                        fmt::format("file {}: no such file", file->get<std::string>()));
    }
    return std::move(**bytes);
  }
  return make_error(ErrorCategory::kInvalidArgument,
                    "directory.offer takes {\"consensus\": base64} or {\"file\": path}");
}

}  // namespace

Result<nlohmann::json> DirectoryClient::offer(const nlohmann::json& params) {
  auto bytes = offered_bytes(params);
  if (!bytes) {
    return std::unexpected(bytes.error());
  }
  const document::FetchOutcome outcome = fetcher_->offer(*bytes);
  switch (outcome.kind) {
    case document::FetchOutcome::Kind::kInstalled:
      return nlohmann::json{{"result", "installed"}};
    case document::FetchOutcome::Kind::kPending:
      return nlohmann::json{{"result", "pending"}};
    case document::FetchOutcome::Kind::kNotModified:
      return nlohmann::json{{"result", "already_held"}};
    case document::FetchOutcome::Kind::kConsensusRefused:
    case document::FetchOutcome::Kind::kNotFound:
    case document::FetchOutcome::Kind::kBusy:
    case document::FetchOutcome::Kind::kServerRefused:
    case document::FetchOutcome::Kind::kFailed:
      break;
  }
  return make_error(ErrorCategory::kPermission,
                    outcome.refusal ? outcome.refusal->error.message : "refused");
}

}  // namespace nyx::daemon
