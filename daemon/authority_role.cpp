#include "daemon/authority_role.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/crypto/encoding.hpp"
#include "core/log.hpp"
#include "daemon/authority_key.hpp"
#include "daemon/descriptor_publisher.hpp"
#include "document/authority_schedule.hpp"
#include "document/period.hpp"

namespace nyx::daemon {
namespace {

using document::AuthorityStep;

// The state's configuration from the [directory] and [authority] sections.
document::AuthorityConfig authority_role_config(const NodeConfig& config,
                                                const document::Period& period) {
  const auto skew = std::chrono::duration_cast<std::chrono::seconds>(config.directory.clock_skew);
  document::AuthorityConfig out{
      .period = period,
      .clock_skew = static_cast<std::uint64_t>(skew.count()),
      .authorities = {},
      .threshold = config.directory.threshold,
      .max_relays = config.authority.max_relays,
      .max_relays_per_address = config.authority.max_relays_per_address,
      .max_bandwidth_weight = config.authority.max_bandwidth_weight,
      .allow_private_addresses = config.authority.allow_private_addresses,
  };
  for (const NodeConfig::DirectoryAuthority& entry : config.directory.authority_entries) {
    out.authorities.push_back({.authority_key = entry.key, .link_key = entry.link});
  }
  return out;
}

// Every configured authority but `own`, with where its requests go.
Result<std::vector<AuthorityPeer>> authority_role_peers(const NodeConfig& config,
                                                        const crypto::Ed25519PublicKey& own) {
  auto sources = authority_sources(config);
  if (!sources) {
    return std::unexpected(std::move(sources.error()));
  }
  const auto& entries = config.directory.authority_entries;
  std::vector<AuthorityPeer> peers;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].key != own) {
      peers.push_back({.authority_key = entries[i].key, .source = std::move((*sources)[i])});
    }
  }
  return peers;
}

// authority.status lists authorities by their full key in hex.
template <class Keys, class KeyOf>
nlohmann::json authority_role_key_list(const Keys& items, KeyOf key_of) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& item : items) {
    out.push_back(crypto::to_hex(key_of(item)));
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<AuthorityRole>> AuthorityRole::create(const NodeConfig& config,
                                                             const DataDir& data_dir,
                                                             AuthorityRoleParts parts) {
  auto key = read_authority_key(config.authority.key_file);
  if (!key) {
    return make_error(key.error().category,
                      fmt::format("authority.key_file: {} (make it with nyxctl keygen --authority)",
                                  key.error().message));
  }
  const crypto::Ed25519PublicKey public_key = key->public_key;
  auto period =
      document::Period::from_seconds(static_cast<std::uint64_t>(config.directory.period.count()));
  if (!period) {
    return std::unexpected(std::move(period.error()));
  }
  auto state =
      document::AuthorityState::make(authority_role_config(config, *period), std::move(*key));
  if (!state) {
    return std::unexpected(std::move(state.error()));
  }
  auto store = AuthorityStore::open(data_dir.path(), period->seconds(), public_key);
  if (!store) {
    return std::unexpected(std::move(store.error()));
  }
  // Section 5.7: a period that cannot be restored refuses the start, since
  // voting again for it could be equivocation.
  if (auto restored = store->restore(*state); !restored) {
    return std::unexpected(std::move(restored.error()));
  }
  auto peers = authority_role_peers(config, public_key);
  if (!peers) {
    return std::unexpected(std::move(peers.error()));
  }
  return std::unique_ptr<AuthorityRole>(new AuthorityRole(
      public_key, std::move(*state), std::move(*store), parts, std::move(*peers)));
}

AuthorityRole::AuthorityRole(const crypto::Ed25519PublicKey& authority_key,
                             document::AuthorityState state, AuthorityStore store,
                             AuthorityRoleParts& parts, std::vector<AuthorityPeer> peers)
    : held_(parts.held),
      authority_key_(authority_key),
      state_(std::move(state)),
      store_(std::move(store)),
      // The requester's clock is its timers' own (steady); only the driver
      // and the service read Unix time.
      requester_(parts.executor, parts.timers.clock(), parts.timers, parts.circuits,
                 DirectoryRequesterOptions{.session = parts.session}),
      service_(parts.executor, state_, store_, parts.prober, parts.wall, parts.timers,
               parts.registry),
      driver_(parts.executor, parts.wall, parts.timers, state_, requester_, parts.prober,
              std::move(peers)) {
  driver_.set_save_handler([this](std::uint64_t q) { save(q); });
  driver_.set_prune_handler([this](std::uint64_t keep_from) {
    if (auto pruned = store_.prune_before(keep_from); !pruned) {
      log::warn("authority: stored periods below {} not removed: {}", keep_from,
                pruned.error().message);
    }
  });
  driver_.set_publish_handler(
      [this](std::uint64_t q, SharedDocument consensus) { held_.hold(q, std::move(consensus)); });
  // Two series are the service's too (authority_metrics.hpp): the registry
  // gives back the objects the service's constructor registered.
  driver_.publish_metrics(parts.registry);
  held_.attach_authority(&service_);
}

AuthorityRole::~AuthorityRole() { held_.attach_authority(nullptr); }

void AuthorityRole::start() { driver_.start(); }

void AuthorityRole::stop() {
  driver_.stop();
  service_.stop();
}

asio::awaitable<void> AuthorityRole::wait_stopped() {
  co_await driver_.wait_stopped();
  co_await service_.wait_stopped();
}

void AuthorityRole::save(std::uint64_t q) {
  if (auto saved = store_.save(state_.snapshot(q)); !saved) {
    log::warn("authority: period {} not stored: {}", q, saved.error().message);
  }
}

const document::Consensus* AuthorityRole::signed_consensus(std::uint64_t q) const {
  const document::Consensus* own = state_.consensus(q);
  return own != nullptr && own->signatures.size() >= state_.threshold() ? own : nullptr;
}

nlohmann::json AuthorityRole::status(std::uint64_t now_unix) const {
  const document::AuthoritySchedule& schedule = state_.schedule();
  const std::uint64_t voting = schedule.voting_period(now_unix);
  const auto passed = [&](AuthorityStep step, std::uint64_t q) {
    return now_unix >= schedule.at(step, q);
  };

  std::uint64_t q = voting;
  std::string_view phase = "sweep";
  if (passed(AuthorityStep::kInstall, voting)) {
    q = voting + 1;
    phase = "uploads";
  } else if (passed(AuthorityStep::kPublish, voting)) {
    phase = "published";
  } else if (passed(AuthorityStep::kCompute, voting)) {
    phase = "signatures";
  } else if (passed(AuthorityStep::kVote, voting)) {
    phase = "votes";
  }

  const std::vector<document::Vote> votes = state_.votes(q);
  std::optional<std::size_t> reachable;
  for (const document::Vote& vote : votes) {
    if (vote.authority_key == authority_key_) {
      reachable = vote.entries.size();
    }
  }
  nlohmann::json signatures = nlohmann::json::array();
  if (const document::Consensus* own = state_.consensus(q)) {
    signatures = authority_role_key_list(
        own->signatures, [](const document::ConsensusSignature& s) { return s.authority_key; });
  }

  // The state keeps periods from voting − 2 on (AuthorityState::prune).
  std::optional<nlohmann::json> last_published;
  const std::uint64_t oldest = voting >= 2 ? voting - 2 : 0;
  for (std::uint64_t p = voting;; --p) {
    const document::Consensus* published = signed_consensus(p);
    if (published != nullptr && passed(AuthorityStep::kPublish, p)) {
      last_published = {{"period", p},
                        {"nodes", published->entries.size()},
                        {"signatures", published->signatures.size()}};
      break;
    }
    if (p == oldest) {
      break;
    }
  }

  const std::uint64_t computed =
      passed(AuthorityStep::kCompute, voting) || voting == 0 ? voting : voting - 1;
  std::string_view result = "too_few_votes";
  if (state_.consensus(computed) != nullptr) {
    if (!passed(AuthorityStep::kPublish, computed)) {
      result = "signing";
    } else {
      result = signed_consensus(computed) != nullptr ? "published" : "too_few_signatures";
    }
  }

  nlohmann::json status = {
      {"period", q},
      {"phase", phase},
      {"descriptors", state_.sweep_targets(q).size()},
      {"votes",
       authority_role_key_list(votes, [](const document::Vote& v) { return v.authority_key; })},
      {"signatures", signatures},
      {"consensus", {{"period", computed}, {"result", result}}},
  };
  if (reachable) {
    status["reachable"] = *reachable;
  }
  if (last_published) {
    status["last_published"] = std::move(*last_published);
  }
  return status;
}

}  // namespace nyx::daemon
