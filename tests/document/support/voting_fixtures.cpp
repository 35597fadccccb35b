#include "document/support/voting_fixtures.hpp"

#include <algorithm>
#include <array>

#include <gtest/gtest.h>

#include "core/crypto/x25519.hpp"

namespace nyx::test {
namespace {

crypto::Ed25519KeyPair key_from(std::uint8_t kind, int n) {
  std::array<std::uint8_t, 32> seed{};
  seed[0] = kind;
  seed[1] = static_cast<std::uint8_t>(n);
  seed[2] = static_cast<std::uint8_t>(n >> 8);
  return crypto::Ed25519KeyPair::from_seed(seed);
}

crypto::X25519PublicKey onion_key(int n, std::uint64_t epoch) {
  std::array<std::uint8_t, 32> secret{};
  secret[1] = static_cast<std::uint8_t>(n);
  secret[2] = static_cast<std::uint8_t>(n >> 8);
  secret[3] = static_cast<std::uint8_t>(epoch);
  secret[4] = static_cast<std::uint8_t>(epoch >> 8);
  secret[5] = 0x0E;
  return crypto::X25519KeyPair::from_secret(secret).public_key;
}

void sort_by_node_id(std::vector<document::RelayEntry>& entries) {
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.node_id() < b.node_id(); });
}

void append_be(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
}

std::vector<std::uint8_t> with_context(std::string_view context,
                                       const std::vector<std::uint8_t>& body) {
  std::vector<std::uint8_t> message(context.begin(), context.end());
  message.insert(message.end(), body.begin(), body.end());
  return message;
}

}  // namespace

crypto::Ed25519KeyPair authority_key(int n) { return key_from(0xA0, n); }
crypto::Ed25519KeyPair relay_identity(int n) { return key_from(0x2E, n); }

document::SignedDescriptor relay_descriptor(int n, std::uint64_t epoch, int variant) {
  document::SignedDescriptor d;
  d.identity_key = relay_identity(n).public_key;
  d.published = epoch * kPeriodSeconds - 4000 + static_cast<std::uint64_t>(variant);
  d.epoch = epoch;
  d.onion_key = onion_key(n, epoch);
  d.next_onion_key = onion_key(n, epoch + 1);
  d.link_key = onion_key(n, 0xFFFF);
  d.udp_address.kind = document::NodeAddress::Kind::kIpv4;
  d.udp_address.ip = {198, 51, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
  d.udp_address.port = 9340;
  d.bandwidth_weight = 100;
  EXPECT_TRUE(d.sign(relay_identity(n)));
  return d;
}

std::vector<std::uint8_t> descriptor_bytes(int n, std::uint64_t epoch, int variant) {
  return *relay_descriptor(n, epoch, variant).encode();
}

document::RelayEntry relay_entry(int n, std::uint32_t weight, int variant) {
  return *document::RelayEntry::from_descriptor(weight, relay_descriptor(n, kQ, variant));
}

document::Vote signed_vote(int n, std::vector<document::RelayEntry> entries, std::uint64_t q,
                           std::uint32_t period_seconds) {
  document::Vote vote;
  vote.authority_key = authority_key(n).public_key;
  vote.period_seconds = period_seconds;
  vote.period = q;
  sort_by_node_id(entries);
  vote.entries = std::move(entries);
  EXPECT_TRUE(vote.sign(authority_key(n)));
  return vote;
}

document::Consensus signed_consensus(std::vector<document::RelayEntry> entries,
                                     const std::vector<int>& signers, std::uint64_t q,
                                     std::uint32_t period_seconds) {
  document::Consensus consensus;
  consensus.period_seconds = period_seconds;
  consensus.period = q;
  sort_by_node_id(entries);
  consensus.entries = std::move(entries);
  for (int signer : signers) {
    EXPECT_TRUE(consensus.sign(authority_key(signer)));
  }
  return consensus;
}

std::vector<std::uint8_t> encoded(const document::Consensus& consensus) {
  auto bytes = consensus.encode();
  EXPECT_TRUE(bytes) << bytes.error().to_string();
  return bytes.value_or(std::vector<std::uint8_t>{});
}

std::vector<std::uint8_t> encoded(const document::Vote& vote) {
  auto bytes = vote.encode();
  EXPECT_TRUE(bytes) << bytes.error().to_string();
  return bytes.value_or(std::vector<std::uint8_t>{});
}

RawDocument RawDocument::vote(int authority) {
  RawDocument raw;
  raw.magic = "NYXVOT";
  raw.authority_key = test::authority_key(authority).public_key;
  return raw;
}

RawDocument RawDocument::consensus() {
  RawDocument raw;
  raw.magic = "NYXCNS";
  return raw;
}

std::vector<std::uint8_t> RawDocument::body() const {
  std::vector<std::uint8_t> out(magic.begin(), magic.end());
  out.push_back(version);
  if (authority_key) {
    out.insert(out.end(), authority_key->begin(), authority_key->end());
  }
  append_be(out, period_seconds, 4);
  append_be(out, period, 8);
  append_be(out, count.value_or(static_cast<std::uint16_t>(entries.size())), 2);
  for (const RawEntry& entry : entries) {
    append_be(out, entry.weight, 4);
    append_be(out, entry.length.value_or(static_cast<std::uint16_t>(entry.descriptor.size())), 2);
    out.insert(out.end(), entry.descriptor.begin(), entry.descriptor.end());
  }
  return out;
}

std::vector<std::uint8_t> vote_signed_by(const std::vector<std::uint8_t>& body,
                                         const crypto::Ed25519KeyPair& key) {
  const auto signature = key.sign(with_context(document::kVoteSignatureContext, body));
  std::vector<std::uint8_t> out = body;
  out.insert(out.end(), signature.begin(), signature.end());
  return out;
}

std::vector<std::uint8_t> consensus_signed_by(const std::vector<std::uint8_t>& body,
                                              const std::vector<int>& signers) {
  std::vector<crypto::Ed25519KeyPair> keys;
  for (int signer : signers) {
    keys.push_back(authority_key(signer));
  }
  std::sort(keys.begin(), keys.end(),
            [](const auto& a, const auto& b) { return a.public_key < b.public_key; });
  std::vector<std::uint8_t> out = body;
  out.push_back(static_cast<std::uint8_t>(keys.size()));
  for (const auto& key : keys) {
    const auto signature = key.sign(with_context(document::kConsensusSignatureContext, body));
    out.insert(out.end(), key.public_key.begin(), key.public_key.end());
    out.insert(out.end(), signature.begin(), signature.end());
  }
  return out;
}

}  // namespace nyx::test
