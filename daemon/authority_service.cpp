#include "daemon/authority_service.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>

#include <asio/experimental/awaitable_operators.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include "async/with_deadline.hpp"
#include "core/crypto/encoding.hpp"
#include "core/log.hpp"
#include "core/metrics/registry.hpp"
#include "daemon/authority_metrics.hpp"
#include "document/signature_message.hpp"
#include "document/signed_descriptor.hpp"
#include "document/vote.hpp"

namespace nyx::daemon {
namespace {

using document::AuthorityRefusal;
using document::AuthorityRefusalReason;
using document::DirectoryReply;
using document::DirectoryRequestType;
using document::DirectoryStatus;
using document::RefusalReason;

// Rate-limiter entries per lane of uploaders (section 9's bound).
constexpr std::size_t kMaxUploaders = 65'536;

// POST_DESCRIPTOR tokens per second for a group of `relays` relays: 6 per
// period each (section 4.5).
double upload_rate(const document::AuthorityConfig& config, std::size_t relays) {
  return static_cast<double>(document::kPostDescriptorPerPeriod * relays) /
         static_cast<double>(config.period.seconds());
}

metrics::Counter& uploads_busy(metrics::Registry& registry, std::string_view lane) {
  return registry.counter("nyx_authority_uploads_busy_total",
                          "Descriptor uploads answered BUSY, past their group's limit",
                          {{"lane", std::string(lane)}});
}

constexpr std::array<std::string_view, 6> kTypeNames = {"get_consensus",  "post_descriptor",
                                                        "post_vote",      "get_vote",
                                                        "post_signature", "get_signatures"};

std::size_t type_index(DirectoryRequestType type) noexcept {
  return static_cast<std::size_t>(type) - 1;
}

// AuthorityState's reasons as section 4.4 numbers them. The two that the
// table has no row for: a second vote (equivocation) is not allowed; a
// signature over another body does not verify against ours.
RefusalReason wire_reason(AuthorityRefusalReason reason) noexcept {
  switch (reason) {
    case AuthorityRefusalReason::kMalformed:
      return RefusalReason::kMalformed;
    case AuthorityRefusalReason::kNotAllowed:
    case AuthorityRefusalReason::kEquivocation:
    case AuthorityRefusalReason::kKnownEquivocator:
      return RefusalReason::kNotAllowed;
    case AuthorityRefusalReason::kBadSignature:
    case AuthorityRefusalReason::kDifferentConsensus:
      return RefusalReason::kBadSignature;
    case AuthorityRefusalReason::kWrongEpoch:
      return RefusalReason::kWrongEpoch;
    case AuthorityRefusalReason::kClock:
      return RefusalReason::kClock;
    case AuthorityRefusalReason::kStale:
      return RefusalReason::kStale;
    case AuthorityRefusalReason::kLimit:
      return RefusalReason::kLimit;
    case AuthorityRefusalReason::kUnreachable:
      return RefusalReason::kUnreachable;
    case AuthorityRefusalReason::kNotAuthority:
      return RefusalReason::kNotAuthority;
    case AuthorityRefusalReason::kUnknownVoter:
      return RefusalReason::kUnknownVoter;
  }
  return RefusalReason::kMalformed;
}

// A REFUSED message is a str8 of UTF-8 for logs (section 4.4). Ours are
// ASCII, but parser messages may quote what arrived: anything else becomes
// '?', which also keeps the cut at 255 bytes inside the text.
DirectoryReply refused(RefusalReason reason, std::string_view message) {
  std::string text;
  for (const char c : message.substr(0, document::kMaxRefusalMessage)) {
    text.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return DirectoryReply(document::RefusedReply{.reason = reason, .message = std::move(text)});
}

DirectoryReply refused(const AuthorityRefusal& refusal) {
  return refused(wire_reason(refusal.reason), refusal.message);
}

// Section 4.3: types 3 to 6 come only from a configured authority's link.
DirectoryReply not_authority(DirectoryRequestType type) {
  return refused(RefusalReason::kNotAuthority,
                 fmt::format("{} is taken only over a configured authority's link",
                             kTypeNames[type_index(type)]));
}

// How section 11.4 names consensus q in a log line: its valid_after.
std::string utc_of(const document::Period& period, std::uint64_t q) {
  return fmt::format("{:%H:%M} UTC", fmt::gmtime(static_cast<std::time_t>(period.valid_after(q))));
}

}  // namespace

AuthorityService::AuthorityService(asio::any_io_executor executor, document::AuthorityState& state,
                                   AuthorityStore& store, ReachabilityProber& prober,
                                   const Clock& wall, async::TimerService& timers,
                                   metrics::Registry& registry)
    : state_(state),
      store_(store),
      prober_(prober),
      wall_(wall),
      timers_(timers),
      gate_(executor),
      stopping_(executor),
      listed_uploads_(timers.clock(), upload_rate(state.config(), 1),
                      document::kPostDescriptorPerPeriod, kMaxUploaders,
                      std::chrono::seconds(state.config().period.seconds())),
      stranger_uploads_(timers.clock(),
                        upload_rate(state.config(), state.config().max_relays_per_address),
                        document::kPostDescriptorPerPeriod * state.config().max_relays_per_address,
                        kMaxUploaders, std::chrono::seconds(state.config().period.seconds())),
      descriptor_retry_after_(static_cast<std::uint16_t>(std::clamp<std::uint64_t>(
          (state.config().period.seconds() + document::kPostDescriptorPerPeriod - 1) /
              document::kPostDescriptorPerPeriod,
          document::kMinRetryAfterSeconds, document::kMaxRetryAfterSeconds))),
      listed_uploads_busy_(&uploads_busy(registry, "listed")),
      stranger_uploads_busy_(&uploads_busy(registry, "stranger")),
      probes_ok_(&authority_metrics::reachability_checks(registry, "ok")),
      probes_failed_(&authority_metrics::reachability_checks(registry, "failed")),
      equivocations_(&authority_metrics::equivocations(registry)) {}

AuthorityService::~AuthorityService() = default;

std::uint64_t AuthorityService::unix_now() const noexcept {
  const auto now = wall_.now();
  return now.count() < 0 ? 0 : static_cast<std::uint64_t>(now.count() / 1'000'000'000);
}

bool AuthorityService::is_authority_link(const std::optional<transport::PeerKey>& link) const {
  const auto& authorities = state_.config().authorities;
  return link && std::any_of(authorities.begin(), authorities.end(),
                             [&](const auto& a) { return a.link_key == *link; });
}

bool AuthorityService::admit_upload(const transport::PeerKey& link,
                                    const std::optional<asio::ip::address>& address) {
  if (state_.holds_link(link)) {
    if (listed_uploads_.try_acquire(link)) {
      return true;
    }
    listed_uploads_busy_->inc();
    return false;
  }
  if (stranger_uploads_.try_acquire(mix::address_group(address))) {
    return true;
  }
  stranger_uploads_busy_->inc();
  return false;
}

void AuthorityService::stop() {
  gate_.close();
  stopping_.set();
}

asio::awaitable<void> AuthorityService::wait_stopped() { co_await gate_.wait_closed(); }

std::optional<DirectoryReply> AuthorityService::screen(DirectoryRequestType type,
                                                       const DirectoryRequestContext& context) {
  if (type == DirectoryRequestType::kGetConsensus) {
    return std::nullopt;
  }
  std::optional<DirectoryReply> reply;
  if (gate_.closed()) {
    reply = DirectoryReply(document::BusyReply{descriptor_retry_after_});
  } else if (type == DirectoryRequestType::kPostDescriptor) {
    // Without a link there is no key to limit by; answer() refuses it in
    // the order of section 5.1.
    if (context.link_peer && !admit_upload(*context.link_peer, context.link_address)) {
      reply = DirectoryReply(document::BusyReply{descriptor_retry_after_});
    }
  } else if (!is_authority_link(context.link_peer)) {
    reply = not_authority(type);
  }
  return reply;
}

asio::awaitable<DirectoryAnswer> AuthorityService::answer(const document::DirectoryRequest& request,
                                                          const DirectoryRequestContext& context) {
  const DirectoryRequestType type = document::request_type(request);
  if (type == DirectoryRequestType::kGetConsensus) {
    // HeldConsensusService serves it; this service holds no consensus to serve.
    co_return DirectoryReply(document::NotFoundReply{});
  }
  auto holder = gate_.enter();
  if (!holder) {
    co_return DirectoryReply(document::BusyReply{descriptor_retry_after_});
  }
  DirectoryReply reply;
  if (const auto* post = std::get_if<document::PostDescriptorRequest>(&request)) {
    reply = co_await post_descriptor(post->descriptor, context.link_peer, *holder);
    if (holder->gate_closed()) {
      co_return reply;  // stopped while probing: the service may be gone
    }
  } else if (!is_authority_link(context.link_peer)) {
    reply = not_authority(type);
  } else if (const auto* vote = std::get_if<document::PostVoteRequest>(&request)) {
    reply = post_vote(*vote, *context.link_peer);
  } else if (const auto* get = std::get_if<document::GetVoteRequest>(&request)) {
    reply = get_vote(*get);
  } else if (const auto* signature = std::get_if<document::PostSignatureRequest>(&request)) {
    reply = post_signature(*signature, *context.link_peer);
  } else {
    reply = get_signatures(std::get<document::GetSignaturesRequest>(request));
  }
  co_return reply;
}

// --- POST_DESCRIPTOR (section 5.1) ---

asio::awaitable<DirectoryReply> AuthorityService::post_descriptor(
    std::vector<std::uint8_t> bytes, std::optional<transport::PeerKey> link,
    const async::Gate::Holder& holder) {
  if (!link) {
    auto parsed = document::SignedDescriptor::parse_unverified(bytes);  // check 1 first
    co_return parsed ? refused(RefusalReason::kNotAllowed,
                               "not uploaded over a link, so not from the descriptor's link key")
                     : refused(RefusalReason::kMalformed, parsed.error().message);
  }
  auto screened = state_.screen_descriptor(bytes, *link, unix_now());  // checks 1 to 9
  if (!screened) {
    co_return refused(screened.error());
  }
  if (screened->already_held) {
    co_return DirectoryReply(document::DescriptorAcceptedReply{screened->descriptor.epoch});
  }
  std::vector<Probe> targets;
  for (const document::AdvertisedAddress& advertised : screened->addresses()) {
    targets.push_back({advertised, false, {}});
  }
  const std::vector<Probe> probes =
      co_await probe_all(screened->descriptor.link_key, std::move(targets));
  // Stopped while probing: the service may be gone, so nothing of it is
  // touched (a BUSY with the smallest delay goes back, if anything does).
  if (holder.gate_closed()) {
    co_return DirectoryReply(document::BusyReply{document::kMinRetryAfterSeconds});
  }
  std::vector<document::ProbeResult> results;
  for (const Probe& p : probes) {
    results.push_back({p.target.address, p.target.transport, p.reached, p.failure});
    (p.reached ? probes_ok_ : probes_failed_)->inc();
  }
  const std::uint64_t now = unix_now();
  auto admitted = state_.admit_descriptor(*screened, results, now);  // 4, 8, 9 again; 10; 11
  if (!admitted) {
    // An unreachable address is named by AuthorityState as section 4.4 shows
    // it: "udp 198.51.100.7:9340: no handshake in 10 s".
    const AuthorityRefusal& refusal = admitted.error();
    if (refusal.reason == AuthorityRefusalReason::kStale) {
      // The same bytes, uploaded twice at once, were stored by the other
      // upload while this one probed: that is the idempotent OK.
      auto again = state_.screen_descriptor(screened->bytes, *link, now);
      if (again && again->already_held) {
        co_return DirectoryReply(document::DescriptorAcceptedReply{again->descriptor.epoch});
      }
    }
    co_return refused(refusal);
  }
  persist(*admitted);
  log::debug("authority: descriptor of {} accepted for epoch {}",
             crypto::to_short_hex(screened->descriptor.identity_key), *admitted);
  co_return DirectoryReply(document::DescriptorAcceptedReply{*admitted});
}

asio::awaitable<std::vector<AuthorityService::Probe>> AuthorityService::probe_all(
    crypto::X25519PublicKey link_key, std::vector<Probe> targets) {
  using asio::experimental::awaitable_operators::operator&&;
  std::vector<Probe> out;
  if (targets.size() == 1) {
    Probe only = co_await probe_one(link_key, std::move(targets[0]));
    out.push_back(std::move(only));
  } else if (targets.size() == 2) {
    auto both = co_await (probe_one(link_key, std::move(targets[0])) &&
                          probe_one(link_key, std::move(targets[1])));
    out.push_back(std::move(std::get<0>(both)));
    out.push_back(std::move(std::get<1>(both)));
  }
  co_return out;
}

asio::awaitable<AuthorityService::Probe> AuthorityService::probe_one(
    crypto::X25519PublicKey link_key, Probe probe) {
  using asio::experimental::awaitable_operators::operator||;
  const auto outcome = co_await (
      async::with_deadline(prober_.probe(link_key, probe.target), kUploadProbeTimeout, timers_) ||
      stopping_.wait());
  // Nothing of the service is touched from here on: it may be gone.
  if (outcome.index() == 1) {
    probe.failure = "the authority is stopping";
  } else if (const auto& probed = std::get<0>(outcome); !probed) {
    probe.failure = probed.error() == asio::error::timed_out
                        ? fmt::format("no handshake in {} s", kUploadProbeTimeout.count())
                        : probed.error().message();
  } else {
    probe.reached = probed->reached;
    probe.failure = probed->failure;
  }
  co_return probe;
}

// --- votes (section 5.4) ---

void AuthorityService::note_equivocation(Bytes vote) {
  equivocations_->inc();
  if (auto parsed = document::Vote::parse(vote)) {
    log::error("authority: authority {} sent two different votes for {}; both discarded",
               crypto::to_short_hex(parsed->authority_key),
               utc_of(state_.config().period, parsed->period));
  }
}

DirectoryReply AuthorityService::post_vote(const document::PostVoteRequest& request,
                                           const transport::PeerKey& link) {
  const std::uint64_t now = unix_now();
  auto accepted = state_.accept_vote(request.vote, link, now);
  if (!accepted) {
    if (accepted.error().reason == AuthorityRefusalReason::kEquivocation) {
      note_equivocation(request.vote);
      // The held vote is gone: the file must not bring it back.
      persist(state_.schedule().voting_period(now));
    }
    return refused(accepted.error());
  }
  if (*accepted == document::VoteAccepted::kNew) {
    persist(state_.schedule().voting_period(now));  // accept_vote took only that period's
  }
  return DirectoryReply(document::AcceptedReply{});
}

DirectoryReply AuthorityService::get_vote(const document::GetVoteRequest& request) const {
  auto vote = state_.vote_bytes(request.period, request.authority_key);
  if (!vote) {
    return DirectoryReply(document::NotFoundReply{});
  }
  return DirectoryReply(document::VoteReply{std::move(*vote)});
}

// --- signatures (section 5.6) ---

DirectoryReply AuthorityService::post_signature(const document::PostSignatureRequest& request,
                                                const transport::PeerKey& link) {
  const auto message = document::SignatureMessage::parse(request.signature_message);
  const std::uint64_t q = message ? message->period : 0;
  const document::Consensus* own = state_.consensus(q);
  const std::size_t before = own != nullptr ? own->signatures.size() : 0;
  auto accepted = state_.accept_signature(request.signature_message, link, unix_now());
  if (!accepted) {
    if (accepted.error().reason == AuthorityRefusalReason::kDifferentConsensus && message) {
      const auto ours = state_.signature_messages(q);
      const std::string text = fmt::format(
          "authority {} signed a different consensus (digest {}, ours {})",
          crypto::to_short_hex(message->authority_key),
          crypto::to_short_hex(message->consensus_digest),
          ours.empty() ? std::string("none") : crypto::to_short_hex(ours.front().consensus_digest));
      log::warn("authority: {}", text);
      return refused(RefusalReason::kBadSignature, text);
    }
    return refused(accepted.error());
  }
  if (*accepted > before) {
    persist(q);
  }
  return DirectoryReply(document::AcceptedReply{});
}

DirectoryReply AuthorityService::get_signatures(
    const document::GetSignaturesRequest& request) const {
  const auto held = state_.signature_messages(request.period);
  if (held.empty() || held.front().consensus_digest != request.consensus_digest) {
    return DirectoryReply(document::NotFoundReply{});
  }
  document::SignaturesReply reply;
  for (const document::SignatureMessage& m : held) {
    reply.signatures.push_back(m.consensus_signature());
  }
  std::sort(reply.signatures.begin(), reply.signatures.end(),
            [](const auto& a, const auto& b) { return a.authority_key < b.authority_key; });
  return DirectoryReply(std::move(reply));
}

void AuthorityService::persist(std::uint64_t q) {
  if (auto saved = store_.save(state_.snapshot(q)); !saved) {
    log::error("authority: period {} not stored: {}", q, saved.error().message);
  }
}

}  // namespace nyx::daemon
