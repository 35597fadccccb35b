// The half of AuthorityDriver that talks to the other authorities: POST_VOTE
// and GET_VOTE (sections 5.3 and 5.4), POST_SIGNATURE and GET_SIGNATURES
// (section 5.6), and the bounded, retried requests under them. The timeline
// and what it computes are in authority_driver.cpp.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <asio/experimental/awaitable_operators.hpp>

#include "async/with_deadline.hpp"
#include "core/crypto/encoding.hpp"
#include "core/log.hpp"
#include "core/metrics/counter.hpp"
#include "daemon/authority_driver.hpp"
#include "daemon/authority_driver_detail.hpp"

namespace nyx::daemon {
namespace {

using asio::experimental::awaitable_operators::operator||;
using authority_detail::duration_text;
using authority_detail::side_by_side;
using authority_detail::utc;
using document::AuthorityStep;

bool contains(const std::vector<crypto::Ed25519PublicKey>& keys,
              const crypto::Ed25519PublicKey& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

}  // namespace

// --- sections 5.3 and 5.4: votes ---------------------------------------------------

asio::awaitable<void> AuthorityDriver::push_vote(std::uint64_t q, std::vector<std::uint8_t> vote,
                                                 VoteSummary summary, async::Gate::Holder holder) {
  const document::DirectoryRequest request = document::PostVoteRequest{.vote = std::move(vote)};
  const std::uint64_t deadline = schedule().at(AuthorityStep::kCompute, q);
  std::vector<std::uint8_t> delivered(peers_.size(), 0);
  std::vector<asio::awaitable<void>> pushes;
  for (std::size_t peer = 0; peer < peers_.size(); ++peer) {
    pushes.push_back(deliver_to(peer, request, deadline, "vote", holder, delivered[peer]));
  }
  co_await side_by_side(pushes);
  if (holder.gate_closed()) {
    co_return;
  }
  const auto sent = static_cast<std::size_t>(std::count(delivered.begin(), delivered.end(), 1));
  counters_.votes_delivered += sent;
  log::info("authority: vote for {} sent to {}/{} authorities: {} relays ({} new, {} unreachable)",
            utc(schedule().at(AuthorityStep::kInstall, q)), sent, peers_.size(), summary.relays,
            summary.fresh, summary.unreachable);
}

asio::awaitable<void> AuthorityDriver::pull_votes(std::uint64_t q, async::Gate::Holder holder) {
  // Copied: the keys must outlive the pulls, which run in this frame's time.
  const std::vector<crypto::Ed25519PublicKey> missing = state_.missing_votes(q);
  std::vector<asio::awaitable<void>> pulls;
  for (const crypto::Ed25519PublicKey& voter : missing) {
    pulls.push_back(pull_vote(q, voter, holder));
  }
  co_await side_by_side(pulls);
}

asio::awaitable<void> AuthorityDriver::pull_vote(std::uint64_t q,
                                                 const crypto::Ed25519PublicKey& voter,
                                                 const async::Gate::Holder& holder) {
  // Votes are self-authenticating: its author first, then anyone.
  std::vector<std::size_t> order;
  const std::optional<std::size_t> author = peer_of(voter);
  if (author) {
    order.push_back(*author);
  }
  for (std::size_t peer = 0; peer < peers_.size(); ++peer) {
    if (peer != author) {
      order.push_back(peer);
    }
  }
  const document::DirectoryRequest request =
      document::GetVoteRequest{.period = q, .authority_key = voter};
  const std::uint64_t deadline = schedule().at(AuthorityStep::kCompute, q);
  for (std::uint32_t attempt = 0;; ++attempt) {
    for (const std::size_t peer : order) {
      if (!contains(state_.missing_votes(q), voter)) {
        co_return;  // it came meanwhile (POST_VOTE, or another pull)
      }
      auto reply = co_await ask(peer, request, deadline);
      if (holder.gate_closed()) {
        co_return;
      }
      const auto* got = reply ? std::get_if<document::VoteReply>(&*reply) : nullptr;
      if (got == nullptr) {
        if (!reply) {
          ++counters_.requests_failed;
        }
        continue;  // NOT_FOUND, BUSY, REFUSED or no answer: another may have it
      }
      auto accepted = state_.accept_vote(got->vote, peers_[peer].source.link_key, unix_now());
      if (accepted) {
        if (*accepted == document::VoteAccepted::kNew) {
          ++counters_.votes_pulled;
          save(q);
        }
        co_return;
      }
      const auto reason = accepted.error().reason;
      if (reason == document::AuthorityRefusalReason::kEquivocation) {
        if (metrics_) {
          metrics_->equivocations.inc();
        }
        log::error("authority: authority {} sent two different votes for {}; both discarded",
                   crypto::to_short_hex(voter), utc(schedule().at(AuthorityStep::kInstall, q)));
        co_return;
      }
      if (reason == document::AuthorityRefusalReason::kKnownEquivocator) {
        co_return;
      }
      log::warn("authority: the vote of {} served by authority {} was refused: {}",
                crypto::to_short_hex(voter), crypto::to_short_hex(peers_[peer].authority_key),
                accepted.error().message);
    }
    const std::uint64_t retry_at = unix_now() + schedule().push_retry_delay(attempt);
    if (retry_at >= deadline) {
      co_return;
    }
    if (!co_await sleep_until(retry_at, holder)) {
      co_return;
    }
  }
}

// --- section 5.6: signatures -------------------------------------------------------

asio::awaitable<void> AuthorityDriver::push_signature(std::uint64_t q,
                                                      document::SignatureMessage message,
                                                      async::Gate::Holder holder) {
  const auto encoded = message.encode();
  if (!encoded) {
    log::error("authority: cannot encode the signature for consensus {}: {}", q,
               encoded.error().message);
    co_return;
  }
  const document::DirectoryRequest request =
      document::PostSignatureRequest{.signature_message = *encoded};
  const std::uint64_t deadline = schedule().at(AuthorityStep::kPublish, q);
  std::vector<std::uint8_t> delivered(peers_.size(), 0);
  std::vector<asio::awaitable<void>> pushes;
  for (std::size_t peer = 0; peer < peers_.size(); ++peer) {
    pushes.push_back(deliver_to(peer, request, deadline, "signature", holder, delivered[peer]));
  }
  co_await side_by_side(pushes);
  if (holder.gate_closed()) {
    co_return;
  }
  counters_.signatures_delivered +=
      static_cast<std::uint64_t>(std::count(delivered.begin(), delivered.end(), 1));
}

asio::awaitable<void> AuthorityDriver::pull_signatures(std::uint64_t q,
                                                       async::Gate::Holder holder) {
  const document::Consensus* own = state_.consensus(q);
  if (own == nullptr) {
    co_return;  // nothing computed: nothing to collect signatures on
  }
  const auto digest = own->digest();
  if (!digest) {
    co_return;
  }
  const std::vector<crypto::Ed25519PublicKey> missing = state_.missing_signatures(q);
  std::vector<asio::awaitable<void>> pulls;
  for (std::size_t peer = 0; peer < peers_.size(); ++peer) {
    if (contains(missing, peers_[peer].authority_key)) {
      pulls.push_back(pull_signatures_from(q, peer, *digest, holder));
    }
  }
  co_await side_by_side(pulls);
}

asio::awaitable<void> AuthorityDriver::pull_signatures_from(std::uint64_t q, std::size_t peer,
                                                            const document::ConsensusDigest& digest,
                                                            const async::Gate::Holder& holder) {
  const document::DirectoryRequest request =
      document::GetSignaturesRequest{.period = q, .consensus_digest = digest};
  const std::uint64_t deadline = schedule().at(AuthorityStep::kPublish, q);
  for (std::uint32_t attempt = 0;; ++attempt) {
    if (!contains(state_.missing_signatures(q), peers_[peer].authority_key)) {
      co_return;  // it came meanwhile
    }
    auto reply = co_await ask(peer, request, deadline);
    if (holder.gate_closed()) {
      co_return;
    }
    if (const auto* got = reply ? std::get_if<document::SignaturesReply>(&*reply) : nullptr) {
      // Whatever it holds on our digest, the signatures of third parties included.
      const std::vector<crypto::Ed25519PublicKey> missing = state_.missing_signatures(q);
      for (const document::ConsensusSignature& signature : got->signatures) {
        if (!contains(missing, signature.authority_key)) {
          continue;
        }
        const document::SignatureMessage message{state_.config().period.seconds(), q, digest,
                                                 signature.authority_key, signature.signature};
        const auto encoded = message.encode();
        if (!encoded) {
          continue;
        }
        auto accepted = state_.accept_signature(*encoded, peers_[peer].source.link_key, unix_now());
        if (accepted) {
          ++counters_.signatures_pulled;
          save(q);
        } else {
          log::warn("authority: a signature by {} served by authority {} was refused: {}",
                    crypto::to_short_hex(signature.authority_key),
                    crypto::to_short_hex(peers_[peer].authority_key), accepted.error().message);
        }
      }
    } else if (!reply) {
      ++counters_.requests_failed;
    }
    if (!contains(state_.missing_signatures(q), peers_[peer].authority_key)) {
      co_return;
    }
    const std::uint64_t retry_at = unix_now() + schedule().push_retry_delay(attempt);
    if (retry_at >= deadline) {
      co_return;
    }
    if (!co_await sleep_until(retry_at, holder)) {
      co_return;
    }
  }
}

// --- requests ----------------------------------------------------------------------

asio::awaitable<void> AuthorityDriver::deliver_to(std::size_t peer,
                                                  const document::DirectoryRequest& request,
                                                  std::uint64_t deadline, std::string_view what,
                                                  const async::Gate::Holder& holder,
                                                  std::uint8_t& delivered) {
  // `request`, `holder` and `delivered` live in the caller's frame, which
  // waits for this one.
  const bool ok = co_await deliver(peer, request, deadline, what, holder);
  delivered = ok ? 1 : 0;
}

asio::awaitable<bool> AuthorityDriver::deliver(std::size_t peer,
                                               const document::DirectoryRequest& request,
                                               std::uint64_t deadline, std::string_view what,
                                               const async::Gate::Holder& holder) {
  for (std::uint32_t attempt = 0;; ++attempt) {
    auto reply = co_await ask(peer, request, deadline);
    if (holder.gate_closed()) {
      co_return false;
    }
    const std::string name = crypto::to_short_hex(peers_[peer].authority_key);
    std::uint64_t retry_after = 0;
    if (!reply) {
      ++counters_.requests_failed;
      log::debug("authority: {} to authority {}: {}", what, name, reply.error().to_string());
    } else if (std::holds_alternative<document::AcceptedReply>(*reply)) {
      co_return true;
    } else if (const auto* busy = std::get_if<document::BusyReply>(&*reply)) {
      retry_after = busy->retry_after_seconds;
    } else if (const auto* refused = std::get_if<document::RefusedReply>(&*reply)) {
      // The peer's message is escaped: its bytes come from the network.
      if (refused->reason != document::RefusalReason::kWrongEpoch) {
        log::warn("authority: authority {} refused the {} ({}): {:?}", name, what,
                  document::to_string(refused->reason), refused->message);
        co_return false;
      }
      // Its clock, or its computation, is a moment behind: its window opens soon.
      log::debug("authority: authority {} is not ready for the {}: {:?}", name, what,
                 refused->message);
    } else {
      log::warn("authority: authority {} answered the {} with another kind of reply", name, what);
      co_return false;
    }
    const std::uint64_t retry_at =
        unix_now() + std::max(schedule().push_retry_delay(attempt), retry_after);
    if (retry_at >= deadline) {
      log::debug("authority: {} to authority {}: its window closes before the next try", what,
                 name);
      co_return false;
    }
    if (!co_await sleep_until(retry_at, holder)) {
      co_return false;
    }
  }
}

asio::awaitable<Result<document::DirectoryReply>> AuthorityDriver::ask(
    std::size_t peer, const document::DirectoryRequest& request, std::uint64_t deadline) {
  const Nanos left = std::chrono::seconds(deadline) - wall_.now();
  const Nanos limit = std::min(left, requester_.options().timeout);
  if (limit <= Nanos::zero()) {
    co_return make_error(ErrorCategory::kTimeout, "its window has closed");
  }
  // A copy in this frame: the request may outlive the driver by a moment after stop().
  const document::DirectorySource source = peers_[peer].source;
  auto raced =
      co_await (async::with_deadline(requester_.request(source, request), limit, timers_) ||
                stopping_.wait());
  if (raced.index() == 1) {
    co_return make_error(ErrorCategory::kClosed, "stopped");
  }
  auto& outcome = std::get<0>(raced);
  if (!outcome) {
    co_return make_error(ErrorCategory::kTimeout, "no reply in " + duration_text(limit));
  }
  co_return std::move(*outcome);
}

}  // namespace nyx::daemon
