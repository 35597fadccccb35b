// AuthorityService (proposal 0002 sections 4.3 to 4.5, 5.1, 5.4, 5.6): the
// requests of relays and authorities, as real bytes. Each request is
// encoded and decoded with the directory stream codec, screened and
// answered by the service of a real AuthorityState (P = 24 s, simulated
// time), and the reply encoded: the tests compare those bytes. Three
// authorities run a whole period through their services (uploads, votes,
// GET_VOTE, signatures, GET_SIGNATURES) and publish one consensus; the
// first then restarts from its store and serves the same bytes. Every
// refusal reason an authority gives is produced by a real descriptor,
// vote or signature message. The reachability probes are scripted: reached,
// refused, or silent until the 10 s deadline of section 5.1.
#include "daemon/authority_service.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "async/manual_timers.hpp"
#include "core/clock.hpp"
#include "core/crypto/encoding.hpp"
#include "core/metrics/registry.hpp"
#include "daemon/authority_store.hpp"
#include "daemon/support/scripted_prober.hpp"
#include "document/authority_state.hpp"
#include "document/directory_reply.hpp"
#include "document/directory_request.hpp"
#include "document/signature_message.hpp"
#include "document/support/authority_timeline.hpp"
#include "document/support/voting_fixtures.hpp"
#include "document/verify_consensus.hpp"
#include "support/run_until.hpp"
#include "support/temp_dir.hpp"

namespace nyx::daemon {
namespace {

using namespace test::authority_timeline;

using namespace std::chrono_literals;
using document::AuthorityState;
using document::DirectoryReply;
using document::DirectoryRequest;
using document::RefusalReason;
using document::SignedDescriptor;

const crypto::X25519PublicKey kStrangerLink = test::authority_timeline::stranger_link();

document::AuthorityConfig config() {
  document::AuthorityConfig c{
      .period = *document::Period::from_seconds(kP), .clock_skew = 1, .authorities = {}};
  for (int n = 1; n <= 3; ++n) {
    c.authorities.push_back({test::authority_key(n).public_key, authority_link(n)});
  }
  return c;
}

// Relay n's descriptor for epoch q, signed at `published`; with a TCP
// address too when `tcp` (port 9341 on the UDP address's IP, or the UDP
// address itself when `same_address`).
SignedDescriptor relay(int n, std::uint64_t published = kUploadAt, std::uint64_t q = kQ,
                       bool tcp = false, bool same_address = false) {
  SignedDescriptor d = test::relay_descriptor(n, q);
  d.published = published;
  if (tcp) {
    d.tcp_address = d.udp_address;
    if (!same_address) {
      d.tcp_address.port = 9341;
    }
  }
  EXPECT_TRUE(d.sign(test::relay_identity(n)));
  return d;
}

std::vector<std::uint8_t> bytes_of(const SignedDescriptor& d) { return *d.encode(); }

// Where authority n (1-based) sits in a vector of them.
std::size_t index(int n) { return static_cast<std::size_t>(n - 1); }

// One authority: its state, store (in its own directory) and service.
struct Authority {
  Authority(asio::io_context& io, ManualClock& clock, async::ManualTimers& timers, int n,
            const document::AuthorityConfig& c = config())
      : prober(timers),
        state(*AuthorityState::make(c, test::authority_key(n))),
        store(*AuthorityStore::open(dir.path(), kP, test::authority_key(n).public_key)),
        service(io.get_executor(), state, store, prober, clock, timers, registry) {}

  std::uint64_t counter(std::string_view name, const metrics::Labels& labels = {}) {
    return registry.counter(name, "", labels).value();
  }

  test::TempDir dir;
  metrics::Registry registry;
  ScriptedProber prober;
  AuthorityState state;
  AuthorityStore store;
  AuthorityService service;
};

// A request and its reply, as bytes on the stream.
struct Exchange {
  std::vector<std::uint8_t> bytes;  // the encoded reply
  DirectoryReply reply;
};

std::vector<std::uint8_t> refused_bytes(RefusalReason reason, std::string_view message) {
  std::vector<std::uint8_t> out = {1, 3, static_cast<std::uint8_t>(reason),
                                   static_cast<std::uint8_t>(message.size())};
  out.insert(out.end(), message.begin(), message.end());
  return out;
}

// The first three bytes of a REFUSED reply: version, status, reason.
std::vector<std::uint8_t> head(const Exchange& e) {
  return {e.bytes.begin(), e.bytes.begin() + std::min<std::ptrdiff_t>(3, std::ssize(e.bytes))};
}
std::vector<std::uint8_t> refusal(RefusalReason reason) {
  return {1, 3, static_cast<std::uint8_t>(reason)};
}

std::vector<std::uint8_t> accepted_epoch(std::uint64_t epoch) {
  std::vector<std::uint8_t> out = {1, 0};
  for (int i = 7; i >= 0; --i) {
    out.push_back(static_cast<std::uint8_t>(epoch >> (8 * i)));
  }
  return out;
}
const std::vector<std::uint8_t> kAccepted = {1, 0};
const std::vector<std::uint8_t> kNotFound = {1, 2};

class AuthorityServiceTest : public ::testing::Test {
 protected:
  void at(std::uint64_t unix_seconds) { clock_.set(std::chrono::seconds(unix_seconds)); }

  std::unique_ptr<Authority> authority(int n, const document::AuthorityConfig& c = config()) {
    return std::make_unique<Authority>(io_, clock_, timers_, n, c);
  }

  // The request as bytes, read back as the server reads them, screened and
  // answered; the reply as bytes.
  Exchange ask(Authority& a, const DirectoryRequest& request,
               std::optional<crypto::X25519PublicKey> link,
               std::optional<asio::ip::address> from = std::nullopt) {
    const auto type = document::request_type(request);
    auto wire = document::encode_directory_request(request);
    EXPECT_TRUE(wire);
    auto decoded =
        document::decode_directory_request_at_fin(wire.value_or(std::vector<std::uint8_t>{}));
    EXPECT_TRUE(decoded);
    if (!decoded) {
      return {};
    }
    const DirectoryRequestContext context{.link_peer = link, .link_address = from};
    std::optional<DirectoryAnswer> answer;
    if (auto screened = a.service.screen(type, context)) {
      answer = DirectoryAnswer(std::move(*screened));
    } else {
      asio::co_spawn(io_, a.service.answer(*decoded, context),
                     [&](std::exception_ptr e, DirectoryAnswer result) {
                       EXPECT_FALSE(e);
                       answer = std::move(result);
                     });
      EXPECT_TRUE(test::run_until(io_, timers_, [&] { return answer.has_value(); }));
    }
    if (!answer || !std::holds_alternative<DirectoryReply>(*answer)) {
      ADD_FAILURE() << "no reply";
      return {};
    }
    const DirectoryReply& reply = std::get<DirectoryReply>(*answer);
    auto bytes = document::encode_directory_reply(type, reply);
    EXPECT_TRUE(bytes) << (bytes ? "" : bytes.error().to_string());
    return {bytes.value_or(std::vector<std::uint8_t>{}), reply};
  }

  Exchange upload(Authority& a, const SignedDescriptor& d,
                  std::optional<asio::ip::address> from = std::nullopt) {
    return ask(a, document::PostDescriptorRequest{bytes_of(d)}, d.link_key, from);
  }
  Exchange post_vote(Authority& to, const std::vector<std::uint8_t>& vote, int from) {
    return ask(to, document::PostVoteRequest{vote}, authority_link(from));
  }
  Exchange post_signature(Authority& to, const document::SignatureMessage& message, int from) {
    return ask(to, document::PostSignatureRequest{*message.encode()}, authority_link(from));
  }

  asio::io_context io_;
  ManualClock clock_{std::chrono::seconds(kUploadAt)};
  async::ManualTimers timers_{io_, clock_};
};

TEST_F(AuthorityServiceTest, ThreeAuthoritiesRunAPeriodThroughTheirServicesAndOneRestarts) {
  std::vector<std::unique_ptr<Authority>> up;
  for (int n = 1; n <= 3; ++n) {
    up.push_back(authority(n));
  }
  // Relays 1 to 3 upload to every authority; relay 3 does not answer
  // authority 1's probe of its TCP address, so only 2 and 3 hold it.
  up[0]->prober.silent_ports = {9341};
  for (auto& a : up) {
    for (int r = 1; r <= 3; ++r) {
      const SignedDescriptor d = relay(r, kUploadAt, kQ, r == 3);
      const Exchange e = upload(*a, d);
      if (a.get() == up[0].get() && r == 3) {
        EXPECT_EQ(e.bytes, refused_bytes(RefusalReason::kUnreachable,
                                         fmt::format("tcp {}: no handshake in 10 s",
                                                     d.tcp_address.to_text())));
      } else {
        EXPECT_EQ(e.bytes, accepted_epoch(kQ)) << "relay " << r;
      }
    }
  }
  EXPECT_EQ(up[0]->prober.cancelled(), 1);
  EXPECT_EQ(up[0]->counter("nyx_authority_reachability_checks_total", {{"result", "ok"}}), 3u);
  EXPECT_EQ(up[0]->counter("nyx_authority_reachability_checks_total", {{"result", "failed"}}), 1u);
  // Each probe used the descriptor's own link key, one per address.
  EXPECT_EQ(up[1]->prober.probes().size(), 4u);
  EXPECT_EQ(up[1]->prober.probes()[0].link_key, relay(1).link_key);

  // The sweep is the driver's: here every held descriptor is reached.
  at(kSweepAt);
  for (auto& a : up) {
    for (const auto& target : a->state.sweep_targets(kQ)) {
      std::vector<document::ProbeResult> probes;
      for (const auto& advertised : target.addresses) {
        probes.push_back({advertised.address, advertised.transport, true, ""});
      }
      a->state.record_sweep(kQ, target.node_id, probes);
    }
  }

  // Votes: made by each (the driver), pushed to the others as POST_VOTE.
  at(kVoteAt);
  std::vector<std::vector<std::uint8_t>> votes;
  for (auto& a : up) {
    votes.push_back(test::encoded(*a->state.make_vote(kQ, kVoteAt)));
  }
  for (int from = 1; from <= 3; ++from) {
    for (int to = 1; to <= 3; ++to) {
      if (from != to && !(from == 3 && to == 1)) {
        EXPECT_EQ(post_vote(*up[index(to)], votes[index(from)], from).bytes, kAccepted);
      }
    }
  }
  // Authority 1 missed 3's vote, and pulls it from 2 (GET_VOTE): votes are
  // self-authenticating, so who serves one does not matter.
  const auto pulled = ask(*up[1], document::GetVoteRequest{kQ, test::authority_key(3).public_key},
                          authority_link(1));
  ASSERT_TRUE(std::holds_alternative<document::VoteReply>(pulled.reply));
  EXPECT_EQ(std::get<document::VoteReply>(pulled.reply).vote, votes[2]);
  EXPECT_EQ(post_vote(*up[0], votes[2], 2).bytes, kAccepted);
  EXPECT_EQ(post_vote(*up[0], votes[2], 3).bytes, kAccepted);  // again: harmless
  EXPECT_EQ(up[0]->state.votes(kQ).size(), 3u);

  // Signatures: computed by each (the driver), pushed as POST_SIGNATURE.
  at(kComputeAt);
  std::vector<document::SignatureMessage> signatures;
  for (auto& a : up) {
    signatures.push_back(*a->state.compute(kQ, kComputeAt));
  }
  for (int from = 1; from <= 3; ++from) {
    for (int to = 1; to <= 3; ++to) {
      if (from != to) {
        EXPECT_EQ(post_signature(*up[index(to)], signatures[index(from)], from).bytes, kAccepted);
      }
    }
  }
  // GET_SIGNATURES for the common digest: all three, sorted by key.
  const auto got = ask(*up[1], document::GetSignaturesRequest{kQ, signatures[0].consensus_digest},
                       authority_link(1));
  ASSERT_TRUE(std::holds_alternative<document::SignaturesReply>(got.reply));
  const auto& held = std::get<document::SignaturesReply>(got.reply).signatures;
  ASSERT_EQ(held.size(), 3u);
  EXPECT_LT(held[0].authority_key, held[1].authority_key);
  EXPECT_LT(held[1].authority_key, held[2].authority_key);
  EXPECT_EQ(got.bytes.size(), 2u + 1u + 3u * 96u);
  // For another digest there is nothing.
  EXPECT_EQ(ask(*up[1], document::GetSignaturesRequest{kQ, {}}, authority_link(1)).bytes,
            kNotFound);

  // Publication: one consensus, byte for byte, signed by all three.
  at(kPublishAt);
  const auto published = up[0]->state.publishable(kQ, kPublishAt);
  ASSERT_TRUE(published) << published.error().to_string();
  for (auto& a : up) {
    EXPECT_EQ(*a->state.publishable(kQ, kPublishAt), *published);
  }
  std::vector<crypto::Ed25519PublicKey> keys;
  for (int n = 1; n <= 3; ++n) {
    keys.push_back(test::authority_key(n).public_key);
  }
  const auto trust = *document::ConsensusTrust::make(keys, 0, config().period, 1);
  auto verified = document::verify_consensus(*published, trust, std::nullopt, kPublishAt);
  ASSERT_TRUE(verified) << verified.error().error.message;
  EXPECT_EQ(verified->valid_signatures, 3u);
  std::set<document::NodeId> listed;
  for (const auto& entry : verified->consensus.entries) {
    listed.insert(entry.node_id());
  }
  EXPECT_EQ(listed, (std::set<document::NodeId>{relay(1).node_id(), relay(2).node_id(),
                                                relay(3).node_id()}));

  // Authority 1 restarts: its store gives back the period, the signatures
  // the service stored included, and it serves the same bytes.
  auto restarted = *AuthorityState::make(config(), test::authority_key(1));
  const auto store = AuthorityStore::open(up[0]->dir.path(), kP, test::authority_key(1).public_key);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->restore(restarted));
  auto served = restarted.publishable(kQ, kPublishAt);
  ASSERT_TRUE(served) << served.error().to_string();
  EXPECT_EQ(*served, *published);
  EXPECT_EQ(test::encoded(*restarted.make_vote(kQ, kVoteAt + 1)), votes[0]);
}

TEST_F(AuthorityServiceTest, EveryDescriptorRefusalComesFromRealBytes) {
  auto a = authority(1);
  const SignedDescriptor d = relay(1);
  auto bytes = bytes_of(d);
  // 1 malformed: version 3.
  auto bad_version = bytes;
  bad_version[0] = 3;
  EXPECT_EQ(head(ask(*a, document::PostDescriptorRequest{bad_version}, d.link_key)),
            refusal(RefusalReason::kMalformed));
  // 6 not_allowed: over another link than the descriptor's own.
  EXPECT_EQ(head(ask(*a, document::PostDescriptorRequest{bytes}, kStrangerLink)),
            refusal(RefusalReason::kNotAllowed));
  // ... and with no link at all.
  EXPECT_EQ(head(ask(*a, document::PostDescriptorRequest{bytes}, std::nullopt)),
            refusal(RefusalReason::kNotAllowed));
  // 2 bad_signature. (Each case from its own relay: six uploads per period
  // from one link key, section 4.5.)
  const auto relay2 = bytes_of(relay(2));
  auto forged = relay2;
  forged.back() ^= 1;
  EXPECT_EQ(head(ask(*a, document::PostDescriptorRequest{forged}, relay(2).link_key)),
            refusal(RefusalReason::kBadSignature));
  // 3 wrong_epoch, naming the open epoch last (the relay reads it there).
  EXPECT_EQ(upload(*a, relay(3, kUploadAt, kQ + 1)).bytes,
            refused_bytes(RefusalReason::kWrongEpoch,
                          "descriptor for epoch 70000001, this authority accepts 70000000"));
  // 10 clock: published beyond now + S.
  EXPECT_EQ(head(upload(*a, relay(4, kUploadAt + 2))), refusal(RefusalReason::kClock));
  // 5 unreachable: the UDP handshake refused.
  a->prober.script = {ScriptedProber::Answer::kRefused};
  EXPECT_EQ(upload(*a, relay(6)).bytes, refused_bytes(RefusalReason::kUnreachable,
                                                      fmt::format("udp {}: handshake refused",
                                                                  relay(6).udp_address.to_text())));
  // UDP and TCP on one address: the failure of either refuses it.
  a->prober.clear_probes();
  a->prober.script = {ScriptedProber::Answer::kReached, ScriptedProber::Answer::kRefused};
  const SignedDescriptor shared = relay(7, kUploadAt, kQ, true, true);
  EXPECT_EQ(head(upload(*a, shared)), refusal(RefusalReason::kUnreachable));
  EXPECT_EQ(a->prober.probes().size(), 2u);
  EXPECT_EQ(a->state.descriptor(kQ, shared.node_id()), nullptr);
  // Accepted, then 4 stale: an older descriptor of the same relay.
  a->prober.script.clear();
  a->prober.clear_probes();
  EXPECT_EQ(upload(*a, d).bytes, accepted_epoch(kQ));
  EXPECT_EQ(upload(*a, d).bytes, accepted_epoch(kQ));  // the same bytes: OK at once
  EXPECT_EQ(a->prober.probes().size(), 1u);            // without probing again
  at(kUploadAt + 5);
  EXPECT_EQ(head(upload(*a, relay(1, kUploadAt - 1))), refusal(RefusalReason::kStale));
  // Stored before the OK: the file holds relay 1.
  auto stored = a->store.load();
  ASSERT_TRUE(stored);
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ(stored->front().descriptors, std::vector<std::vector<std::uint8_t>>{bytes});
}

TEST_F(AuthorityServiceTest, UdpAndTcpOnOneAddressAreEachProbedOverTheirOwnTransport) {
  auto a = authority(1);
  // TCP refused, UDP reached: the TCP address is named.
  const SignedDescriptor refused_tcp = relay(1, kUploadAt, kQ, true, true);
  a->prober.answer(refused_tcp.link_key, document::LinkTransport::kTcp,
                   ScriptedProber::Answer::kRefused);
  EXPECT_EQ(
      upload(*a, refused_tcp).bytes,
      refused_bytes(RefusalReason::kUnreachable,
                    fmt::format("tcp {}: handshake refused", refused_tcp.tcp_address.to_text())));
  ASSERT_EQ(a->prober.probes().size(), 2u);
  EXPECT_EQ(a->prober.probes()[0].transport, document::LinkTransport::kUdp);
  EXPECT_EQ(a->prober.probes()[1].transport, document::LinkTransport::kTcp);
  EXPECT_EQ(a->prober.probes()[0].address, a->prober.probes()[1].address);
  EXPECT_EQ(a->state.descriptor(kQ, refused_tcp.node_id()), nullptr);
  // The other way round: UDP refused, TCP reached.
  const SignedDescriptor refused_udp = relay(2, kUploadAt, kQ, true, true);
  a->prober.answer(refused_udp.link_key, document::LinkTransport::kUdp,
                   ScriptedProber::Answer::kRefused);
  EXPECT_EQ(
      upload(*a, refused_udp).bytes,
      refused_bytes(RefusalReason::kUnreachable,
                    fmt::format("udp {}: handshake refused", refused_udp.udp_address.to_text())));
  // Both reached: accepted.
  const SignedDescriptor both = relay(3, kUploadAt, kQ, true, true);
  EXPECT_EQ(upload(*a, both).bytes, accepted_epoch(kQ));
  // TCP silent until the deadline, UDP reached.
  const SignedDescriptor silent_tcp = relay(4, kUploadAt, kQ, true, true);
  a->prober.answer(silent_tcp.link_key, document::LinkTransport::kTcp,
                   ScriptedProber::Answer::kSilent);
  EXPECT_EQ(
      upload(*a, silent_tcp).bytes,
      refused_bytes(RefusalReason::kUnreachable,
                    fmt::format("tcp {}: no handshake in 10 s", silent_tcp.tcp_address.to_text())));
  EXPECT_EQ(a->prober.cancelled(), 1);
  EXPECT_EQ(a->state.descriptor(kQ, silent_tcp.node_id()), nullptr);
  EXPECT_EQ(a->counter("nyx_authority_reachability_checks_total", {{"result", "failed"}}), 3u);
  EXPECT_EQ(a->counter("nyx_authority_reachability_checks_total", {{"result", "ok"}}), 5u);
}

TEST_F(AuthorityServiceTest, TheRelayLimitAndTheUploadRate) {
  auto c = config();
  c.max_relays = 1;
  auto a = authority(1, c);
  EXPECT_EQ(upload(*a, relay(1)).bytes, accepted_epoch(kQ));
  // 7 limit.
  EXPECT_EQ(head(upload(*a, relay(2))), refusal(RefusalReason::kLimit));
  // Relay 1 is held now, so its link key has a bucket of its own: six
  // uploads per period (section 4.5), then BUSY for P/6 = 4 s, found on the
  // header alone.
  const SignedDescriptor d = relay(1);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(upload(*a, d).bytes, accepted_epoch(kQ)) << i;
  }
  EXPECT_EQ(upload(*a, d).bytes, (std::vector<std::uint8_t>{1, 4, 0, 4}));
  EXPECT_EQ(a->counter("nyx_authority_uploads_busy_total", {{"lane", "listed"}}), 1u);
  at(kUploadAt + 4);
  EXPECT_EQ(upload(*a, d).bytes, accepted_epoch(kQ));
}

// The attacker of section 4.5: one host, a fresh link key per upload. Its
// address group has 6 uploads per period for each relay one address may
// list (max_relays_per_address = 2 here, so 12); the 13th is BUSY whatever
// key it comes with, and neither another host nor a relay already held is
// touched by it.
TEST_F(AuthorityServiceTest, FreshLinkKeysFromOneHostShareOneUploadBudget) {
  auto a = authority(1);
  const auto flooder = asio::ip::make_address("203.0.113.7");
  EXPECT_EQ(upload(*a, relay(1), asio::ip::make_address("192.0.2.1")).bytes, accepted_epoch(kQ));
  for (int n = 2; n <= 13; ++n) {
    EXPECT_EQ(upload(*a, relay(n), flooder).bytes, accepted_epoch(kQ)) << n;
  }
  EXPECT_EQ(upload(*a, relay(14), flooder).bytes, (std::vector<std::uint8_t>{1, 4, 0, 4}));
  // An IPv4-mapped address is the same host.
  EXPECT_EQ(upload(*a, relay(15), asio::ip::make_address("::ffff:203.0.113.7")).bytes,
            (std::vector<std::uint8_t>{1, 4, 0, 4}));
  EXPECT_EQ(a->counter("nyx_authority_uploads_busy_total", {{"lane", "stranger"}}), 2u);
  // Another host, and a relay held before the flood even when it uploads
  // from the flooded address (its bucket is its link key's).
  EXPECT_EQ(upload(*a, relay(16), asio::ip::make_address("203.0.113.8")).bytes, accepted_epoch(kQ));
  EXPECT_EQ(upload(*a, relay(1), flooder).bytes, accepted_epoch(kQ));
  // The group's bucket refills at 12 per period: one token after P/12.
  at(kUploadAt + kP / 12);
  EXPECT_EQ(upload(*a, relay(14), flooder).bytes, accepted_epoch(kQ));
}

// The attack that sank per-upload probe caps: strangers, each from an
// address of its own, fill every entry of the strangers' table with a
// bucket that still owes tokens. A new stranger is then BUSY, and a relay
// already held still uploads: its bucket is not in that table.
TEST_F(AuthorityServiceTest, AFullStrangersTableLeavesHeldRelaysTheirUploads) {
  auto a = authority(1);
  EXPECT_EQ(upload(*a, relay(1)).bytes, accepted_epoch(kQ));
  // Relay 1's first upload, from no address, took one of the 65 536
  // entries (the group of links whose address is unknown).
  std::size_t admitted = 0;
  for (std::uint32_t i = 0; i < 65'535; ++i) {
    const DirectoryRequestContext stranger{
        .link_peer = kStrangerLink,
        .link_address = asio::ip::address_v4(0x0A000000u + i)};  // 10.0.0.0/16
    if (!a->service.screen(document::DirectoryRequestType::kPostDescriptor, stranger)) {
      ++admitted;
    }
  }
  EXPECT_EQ(admitted, 65'535u);
  const DirectoryRequestContext late{.link_peer = kStrangerLink,
                                     .link_address = asio::ip::make_address("10.1.0.0")};
  const auto refused = a->service.screen(document::DirectoryRequestType::kPostDescriptor, late);
  ASSERT_TRUE(refused.has_value());
  EXPECT_TRUE(std::holds_alternative<document::BusyReply>(*refused));
  EXPECT_EQ(upload(*a, relay(1), asio::ip::make_address("10.1.0.1")).bytes, accepted_epoch(kQ));
}

TEST_F(AuthorityServiceTest, EveryVoteRefusalComesFromRealBytes) {
  auto a = authority(1);
  at(kVoteAt);
  const auto vote2 = test::encoded(test::signed_vote(2, {}, kQ, kP));
  // 8 not_authority: on the header alone, before the vote is read.
  EXPECT_EQ(a->service.screen(document::DirectoryRequestType::kPostVote,
                              DirectoryRequestContext{.link_peer = kStrangerLink}),
            std::optional<DirectoryReply>(document::RefusedReply{
                RefusalReason::kNotAuthority,
                "post_vote is taken only over a configured authority's link"}));
  EXPECT_EQ(ask(*a, document::PostVoteRequest{vote2}, kStrangerLink).bytes,
            refused_bytes(RefusalReason::kNotAuthority,
                          "post_vote is taken only over a configured authority's link"));
  for (const auto type :
       {document::DirectoryRequestType::kGetVote, document::DirectoryRequestType::kPostSignature,
        document::DirectoryRequestType::kGetSignatures}) {
    auto screened = a->service.screen(type, DirectoryRequestContext{});
    ASSERT_TRUE(screened);
    EXPECT_EQ(std::get<document::RefusedReply>(*screened).reason, RefusalReason::kNotAuthority);
  }
  // 1 malformed: the smallest vote's size, but not a vote.
  EXPECT_EQ(head(post_vote(*a, std::vector<std::uint8_t>(document::kMinVote, 0x4e), 2)),
            refusal(RefusalReason::kMalformed));
  // 9 unknown_voter: signed by a key that is not configured.
  EXPECT_EQ(head(post_vote(*a, test::encoded(test::signed_vote(9, {}, kQ, kP)), 2)),
            refusal(RefusalReason::kUnknownVoter));
  // 3 wrong_epoch: for the next period, and after the vote deadline.
  EXPECT_EQ(head(post_vote(*a, test::encoded(test::signed_vote(2, {}, kQ + 1, kP)), 2)),
            refusal(RefusalReason::kWrongEpoch));
  at(kComputeAt);
  EXPECT_EQ(head(post_vote(*a, vote2, 2)), refusal(RefusalReason::kWrongEpoch));
  at(kVoteAt);
  // 2 bad_signature.
  auto forged = vote2;
  forged.back() ^= 1;
  EXPECT_EQ(head(post_vote(*a, forged, 2)), refusal(RefusalReason::kBadSignature));
  // Accepted and stored; GET_VOTE serves it.
  EXPECT_EQ(post_vote(*a, vote2, 2).bytes, kAccepted);
  ASSERT_TRUE(a->store.load());
  EXPECT_EQ(a->store.load()->front().votes, std::vector<std::vector<std::uint8_t>>{vote2});
  const auto got =
      ask(*a, document::GetVoteRequest{kQ, test::authority_key(2).public_key}, authority_link(3));
  ASSERT_TRUE(std::holds_alternative<document::VoteReply>(got.reply));
  EXPECT_EQ(std::get<document::VoteReply>(got.reply).vote, vote2);
  // 6 not_allowed: a second, different vote by authority 2 is equivocation;
  // both go, it is counted once, and the file no longer holds either.
  auto other = test::signed_vote(2, {*document::RelayEntry::from_descriptor(7, relay(1))}, kQ, kP);
  EXPECT_EQ(head(post_vote(*a, test::encoded(other), 2)), refusal(RefusalReason::kNotAllowed));
  EXPECT_EQ(head(post_vote(*a, vote2, 2)), refusal(RefusalReason::kNotAllowed));
  EXPECT_EQ(a->counter("nyx_authority_equivocations_total"), 1u);
  EXPECT_TRUE(a->store.load()->front().votes.empty());
  EXPECT_EQ(
      ask(*a, document::GetVoteRequest{kQ, test::authority_key(2).public_key}, authority_link(3))
          .bytes,
      kNotFound);
}

TEST_F(AuthorityServiceTest, EverySignatureRefusalComesFromRealBytes) {
  auto a = authority(1);
  auto b = authority(2);
  at(kVoteAt);
  const auto vote1 = test::encoded(*a->state.make_vote(kQ, kVoteAt));
  const auto vote2 = test::encoded(*b->state.make_vote(kQ, kVoteAt));
  ASSERT_EQ(post_vote(*a, vote2, 2).bytes, kAccepted);
  ASSERT_EQ(post_vote(*b, vote1, 1).bytes, kAccepted);
  // 3 wrong_epoch: before a consensus is computed here.
  at(kComputeAt);
  const auto from_b = *b->state.compute(kQ, kComputeAt);
  EXPECT_EQ(head(post_signature(*a, from_b, 2)), refusal(RefusalReason::kWrongEpoch));
  const auto own = *a->state.compute(kQ, kComputeAt);
  // 1 malformed: 147 bytes that are not a signature message.
  EXPECT_EQ(head(ask(*a, document::PostSignatureRequest{}, authority_link(2))),
            refusal(RefusalReason::kMalformed));
  // 9 unknown_voter: a signature by a key that is not configured.
  const auto stranger =
      *document::SignatureMessage::make(*a->state.consensus(kQ), test::authority_key(9));
  EXPECT_EQ(head(post_signature(*a, stranger, 2)), refusal(RefusalReason::kUnknownVoter));
  // 2 bad_signature: a signature over another body than ours, named with
  // both digests.
  document::Consensus empty;
  empty.period_seconds = kP;
  empty.period = kQ;
  empty.entries.push_back(*document::RelayEntry::from_descriptor(1, relay(5)));
  const auto different = *document::SignatureMessage::make(empty, test::authority_key(3));
  EXPECT_EQ(
      post_signature(*a, different, 3).bytes,
      refused_bytes(RefusalReason::kBadSignature,
                    fmt::format("authority {} signed a different consensus (digest {}, "
                                "ours {})",
                                crypto::to_hex(test::authority_key(3).public_key).substr(0, 8),
                                crypto::to_hex(different.consensus_digest).substr(0, 8),
                                crypto::to_hex(own.consensus_digest).substr(0, 8))));
  // ... and one that does not verify.
  auto forged = from_b;
  forged.signature[0] ^= 1;
  EXPECT_EQ(head(post_signature(*a, forged, 2)), refusal(RefusalReason::kBadSignature));
  // Accepted, and stored with the consensus.
  EXPECT_EQ(post_signature(*a, from_b, 2).bytes, kAccepted);
  auto stored = a->store.load();
  ASSERT_TRUE(stored);
  ASSERT_TRUE(stored->front().consensus);
  EXPECT_EQ(*stored->front().consensus, *a->state.consensus(kQ)->encode());
  EXPECT_EQ(a->state.consensus(kQ)->signatures.size(), 2u);
  // 3 wrong_epoch: at T no signature is taken any more.
  at(kT);
  EXPECT_EQ(head(post_signature(*a, from_b, 2)), refusal(RefusalReason::kWrongEpoch));
}

TEST_F(AuthorityServiceTest, StopCancelsTheProbesInFlightAndRefusesWhatComesAfter) {
  auto a = authority(1);
  a->prober.fallback = ScriptedProber::Answer::kSilent;
  const SignedDescriptor d = relay(1);
  const DirectoryRequest request = document::PostDescriptorRequest{bytes_of(d)};
  const DirectoryRequestContext context{.link_peer = d.link_key};
  std::optional<DirectoryAnswer> answer;
  asio::co_spawn(io_, a->service.answer(request, context),
                 [&](std::exception_ptr e, DirectoryAnswer result) {
                   EXPECT_FALSE(e);
                   answer = std::move(result);
                 });
  test::poll_ready(io_);
  ASSERT_EQ(a->prober.probes().size(), 1u);
  ASSERT_FALSE(answer);
  a->service.stop();
  test::poll_ready(io_);  // no simulated time passes: the stop ends the probe
  ASSERT_TRUE(answer);
  EXPECT_TRUE(std::holds_alternative<document::BusyReply>(std::get<DirectoryReply>(*answer)));
  EXPECT_EQ(a->prober.cancelled(), 1);
  EXPECT_EQ(a->state.descriptor(kQ, d.node_id()), nullptr);
  bool stopped = false;
  asio::co_spawn(io_, a->service.wait_stopped(), [&](std::exception_ptr) { stopped = true; });
  test::poll_ready(io_);
  EXPECT_TRUE(stopped);
  auto screened = a->service.screen(document::DirectoryRequestType::kPostVote, context);
  ASSERT_TRUE(screened);
  EXPECT_TRUE(std::holds_alternative<document::BusyReply>(*screened));
}

}  // namespace
}  // namespace nyx::daemon
