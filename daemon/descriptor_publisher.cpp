#include "daemon/descriptor_publisher.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <string_view>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "async/spawn.hpp"
#include "async/timer.hpp"
#include "core/log.hpp"
#include "core/metrics/registry.hpp"
#include "document/directory_reply.hpp"
#include "document/directory_request.hpp"

namespace nyx::daemon {
namespace {

constexpr std::string_view kUploadsName = "nyx_relay_descriptor_uploads_total";
constexpr std::string_view kUploadsHelp = "Descriptor uploads, by the authority's answer";

Result<document::NodeAddress> address_of(const HostPort& host_port, std::string_view key) {
  auto address = document::NodeAddress::from_text(host_port.to_string());
  if (!address) {
    return make_error(ErrorCategory::kConfig, fmt::format("{}: not an IP literal with a port: {}",
                                                          key, address.error().message));
  }
  return address;
}

// The open epoch a REFUSED wrong_epoch names: the last number in its
// message ("descriptor for epoch 7, this authority accepts 8").
std::optional<std::uint64_t> named_epoch(std::string_view message) {
  std::size_t end = message.size();
  while (end > 0 && (message[end - 1] < '0' || message[end - 1] > '9')) {
    --end;
  }
  std::size_t begin = end;
  while (begin > 0 && message[begin - 1] >= '0' && message[begin - 1] <= '9') {
    --begin;
  }
  std::uint64_t value = 0;
  if (begin == end ||
      std::from_chars(message.data() + begin, message.data() + end, value).ec != std::errc{}) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

Result<DescriptorContent> descriptor_content(const NodeConfig& config,
                                             const crypto::X25519PublicKey& link_key) {
  DescriptorContent content;
  content.link_key = link_key;
  if (!config.relay.advertise_udp) {
    return make_error(ErrorCategory::kConfig, "relay.advertise_udp: required to publish");
  }
  auto udp = address_of(*config.relay.advertise_udp, "relay.advertise_udp");
  if (!udp) {
    return std::unexpected(std::move(udp.error()));
  }
  content.udp_address = *udp;
  if (config.relay.advertise_tcp) {
    auto tcp = address_of(*config.relay.advertise_tcp, "relay.advertise_tcp");
    if (!tcp) {
      return std::unexpected(std::move(tcp.error()));
    }
    content.tcp_address = *tcp;
  }
  content.bandwidth_weight = config.relay.bandwidth_weight;
  content.family = config.relay.family;
  content.exit = config.node.roles.exit;
  if (content.exit) {
    auto rules = document::AdvertisedExitRules::parse(config.exit.advertise);
    if (!rules) {
      return make_error(ErrorCategory::kConfig, "exit.advertise: " + rules.error().message);
    }
    content.exit_rules = std::move(*rules);
  }
  return content;
}

Result<document::SignedDescriptor> build_descriptor(const DescriptorContent& content,
                                                    const crypto::Ed25519KeyPair& identity,
                                                    const OnionKeyManager::PublishedKeys& keys,
                                                    std::uint64_t now) {
  document::SignedDescriptor descriptor;
  descriptor.identity_key = identity.public_key;
  descriptor.published = now;
  descriptor.epoch = keys.epoch;
  descriptor.onion_key = keys.onion_key;
  descriptor.next_onion_key = keys.next_onion_key;
  descriptor.link_key = content.link_key;
  descriptor.udp_address = content.udp_address;
  descriptor.tcp_address = content.tcp_address;
  descriptor.roles = content.exit ? document::kRolesRelayExit : document::kRolesRelay;
  descriptor.bandwidth_weight = content.bandwidth_weight;
  descriptor.family = content.family;
  if (content.exit) {
    descriptor.exit_rules = content.exit_rules;
  }
  if (auto signed_ok = descriptor.sign(identity); !signed_ok) {
    return std::unexpected(std::move(signed_ok.error()));
  }
  return descriptor;
}

Result<std::vector<document::DirectorySource>> authority_sources(const NodeConfig& config) {
  std::vector<document::DirectorySource> out;
  for (const NodeConfig::DirectoryAuthority& entry : config.directory.authority_entries) {
    document::DirectorySource source;
    source.kind = document::DirectorySource::Kind::kAuthority;
    source.link_key = entry.link;
    auto udp = address_of(entry.address, "directory.authorities.address");
    if (!udp) {
      return std::unexpected(std::move(udp.error()));
    }
    source.udp_address = *udp;
    if (entry.tcp_address) {
      auto tcp = address_of(*entry.tcp_address, "directory.authorities.tcp_address");
      if (!tcp) {
        return std::unexpected(std::move(tcp.error()));
      }
      source.tcp_address = *tcp;
    }
    out.push_back(std::move(source));
  }
  return out;
}

DescriptorPublisher::DescriptorPublisher(asio::any_io_executor executor, const Clock& wall,
                                         async::TimerService& timers, DirectoryRequester& requester,
                                         document::Period period, DescriptorContent content,
                                         const crypto::Ed25519KeyPair& identity, KeySource keys,
                                         std::vector<document::DirectorySource> authorities,
                                         mix::RandomSource& random)
    : executor_(std::move(executor)),
      wall_(wall),
      timers_(timers),
      requester_(requester),
      schedule_(period),
      content_(std::move(content)),
      identity_(identity),
      keys_(std::move(keys)),
      authorities_(std::move(authorities)),
      random_(random),
      gate_(executor_),
      uploads_(authorities_.size()) {}

DescriptorPublisher::~DescriptorPublisher() { stop(); }

void DescriptorPublisher::publish_metrics(metrics::Registry& registry) {
  registry_ = &registry;
  for (std::string_view result : {"accepted", "refused", "unreachable", "failed"}) {
    (void)registry.counter(kUploadsName, kUploadsHelp, {{"result", std::string(result)}});
  }
}

void DescriptorPublisher::count(std::string_view result) {
  if (registry_ != nullptr) {
    registry_->counter(kUploadsName, kUploadsHelp, {{"result", std::string(result)}}).inc();
  }
}

std::uint64_t DescriptorPublisher::unix_now() const noexcept {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(wall_.now()).count();
  return seconds > 0 ? static_cast<std::uint64_t>(seconds) : 0;
}

void DescriptorPublisher::start() {
  for (std::size_t index = 0; index < authorities_.size(); ++index) {
    auto holder = gate_.enter();
    if (!holder) {
      return;
    }
    auto& cancel = *cancels_.emplace_back(std::make_unique<asio::cancellation_signal>());
    async::spawn(executor_, run(index, std::move(*holder)), "relay: descriptor upload",
                 cancel.slot());
  }
}

void DescriptorPublisher::stop() {
  if (gate_.closed()) {
    return;
  }
  gate_.close();
  for (auto& cancel : cancels_) {
    cancel->emit(asio::cancellation_type::terminal);
  }
}

asio::awaitable<void> DescriptorPublisher::wait_stopped() { co_await gate_.wait_closed(); }

asio::awaitable<bool> DescriptorPublisher::sleep_until(std::uint64_t at) {
  const std::uint64_t now = unix_now();
  if (at <= now) {
    co_return true;
  }
  async::Timer timer(executor_, timers_);
  timer.expires_after(std::chrono::seconds(at) - wall_.now());
  co_return !co_await timer.wait();
}

asio::awaitable<void> DescriptorPublisher::run(std::size_t index, async::Gate::Holder holder) {
  // At start: at once, for target(now).
  std::uint64_t epoch = schedule_.relay_target(unix_now());
  std::uint64_t start_at = unix_now();
  while (!holder.gate_closed()) {
    // One co_await per statement: GCC 12 miscompiles one inside `||`.
    const bool slept = co_await sleep_until(start_at);
    if (!slept || holder.gate_closed()) {
      co_return;
    }
    // The retries of section 5.0 for this epoch, until its deadline. Each
    // waits at least a second, so the loop ends by the deadline.
    for (std::uint32_t attempt = 0;; ++attempt) {
      const Attempt result = co_await upload(index, epoch, holder);
      if (holder.gate_closed()) {
        co_return;
      }
      if (!result.retry) {
        break;
      }
      if (result.epoch) {
        epoch = *result.epoch;
      }
      const std::uint64_t delay =
          std::max(schedule_.relay_retry_delay(attempt), result.retry_after);
      const std::uint64_t retry_at = unix_now() + delay;
      if (retry_at >= schedule_.relay_upload_deadline(epoch)) {
        log::warn("relay: authority #{}: no acceptance for epoch {} before its deadline", index + 1,
                  epoch);
        break;
      }
      const bool waited = co_await sleep_until(retry_at);
      if (!waited || holder.gate_closed()) {
        co_return;
      }
    }
    // The next epoch, at a random time in the first 3u of its window. An
    // attempt that ran past the deadline (or a clock that jumped) finds that
    // window open already, and uploads at once rather than skip the epoch.
    const std::uint64_t next = std::max(epoch + 1, schedule_.relay_target(unix_now()));
    start_at = schedule_.relay_upload_time(next, random_.uniform(3 * schedule_.period().unit()));
    epoch = next;
  }
}

Result<std::vector<std::uint8_t>> DescriptorPublisher::descriptor_for(
    const OnionKeyManager::PublishedKeys& keys, std::uint64_t now) {
  if (signed_keys_ == keys) {
    return signed_bytes_;
  }
  auto descriptor = build_descriptor(content_, identity_, keys, now);
  if (!descriptor) {
    return std::unexpected(std::move(descriptor.error()));
  }
  auto bytes = descriptor->encode();
  if (!bytes) {
    return std::unexpected(std::move(bytes.error()));
  }
  signed_keys_ = keys;
  signed_bytes_ = *bytes;
  return bytes;
}

asio::awaitable<DescriptorPublisher::Attempt> DescriptorPublisher::upload(
    std::size_t index, std::uint64_t epoch, const async::Gate::Holder& holder) {
  AuthorityUploads& record = uploads_[index];
  const std::uint64_t now = unix_now();
  const auto keys = keys_();
  if (!keys || keys->epoch != epoch) {
    // The key source has not moved to this epoch yet (its on_time is due, or
    // this clock has not reached an authority's open epoch), or holds no key
    // for it: try again shortly.
    log::debug("relay: no onion keys for epoch {} yet", epoch);
    co_return Attempt::again();
  }
  auto bytes = descriptor_for(*keys, now);
  if (!bytes) {
    log::error("relay: cannot build the descriptor for epoch {}: {}", epoch, bytes.error().message);
    co_return Attempt::done();
  }
  ++record.attempts;
  record.last_attempt = now;
  // A named request: GCC 12 destroys a temporary in a co_await's operands twice.
  const document::DirectoryRequest request =
      document::PostDescriptorRequest{.descriptor = std::move(*bytes)};
  auto reply = co_await requester_.request(authorities_[index], request);
  if (holder.gate_closed()) {
    co_return Attempt::done();  // stopped, perhaps destroyed: touch nothing of it
  }
  if (!reply) {
    ++record.failed;
    count("failed");
    log::info("relay: authority #{}: upload for epoch {} failed: {}", index + 1, epoch,
              reply.error().to_string());
    co_return Attempt::again();
  }
  if (const auto* ok = std::get_if<document::DescriptorAcceptedReply>(&*reply)) {
    ++record.accepted;
    record.accepted_epoch = ok->epoch;
    count("accepted");
    log::info("relay: descriptor for epoch {} accepted by authority #{}", ok->epoch, index + 1);
    co_return Attempt::done();
  }
  if (const auto* busy = std::get_if<document::BusyReply>(&*reply)) {
    ++record.failed;
    count("failed");
    log::info("relay: authority #{} is busy (retry after {} s)", index + 1,
              busy->retry_after_seconds);
    co_return Attempt::again(std::nullopt, busy->retry_after_seconds);
  }
  if (const auto* refused = std::get_if<document::RefusedReply>(&*reply)) {
    ++record.refused;
    const bool unreachable = refused->reason == document::RefusalReason::kUnreachable;
    count(unreachable ? "unreachable" : "refused");
    // The message is the authority's, about this relay's own descriptor;
    // escaped, since its bytes come from the network.
    log::warn("relay: authority #{} refused the descriptor for epoch {}: {}: {:?}", index + 1,
              epoch, document::to_string(refused->reason), refused->message);
    if (refused->reason == document::RefusalReason::kWrongEpoch) {
      const std::uint64_t now_after = unix_now();
      const auto open = named_epoch(refused->message);
      if (open && schedule_.relay_follows_open_epoch(*open, now_after)) {
        // The clocks straddle a deadline. An authority ahead takes its open
        // epoch only; one behind opens `epoch` within the skew.
        co_return Attempt::again(*open > epoch ? std::optional(*open) : std::nullopt);
      }
      log::warn("relay: authority #{} accepts another epoch than this clock's {}: check NTP",
                index + 1, schedule_.relay_target(now_after));
    }
    co_return Attempt::done();
  }
  ++record.failed;
  count("failed");
  log::warn("relay: authority #{}: an answer of another kind to an upload", index + 1);
  co_return Attempt::done();
}

}  // namespace nyx::daemon
