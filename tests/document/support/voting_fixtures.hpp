#pragma once
// Builders for the voting-directory tests (proposal 0002 sections 3.3 to
// 3.5): real Ed25519 keys for authorities and relays (derived from fixed
// seeds, so failures reproduce), self-signed descriptors for a period,
// signed votes and consensuses, and raw writers that put down any bytes,
// rule-breaking ones included, so a test can build what the encoders refuse.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/crypto/ed25519.hpp"
#include "document/consensus.hpp"
#include "document/relay_entry.hpp"
#include "document/signed_descriptor.hpp"
#include "document/vote.hpp"

namespace nyx::test {

inline constexpr std::uint32_t kPeriodSeconds = 3600;
inline constexpr std::uint64_t kQ = 490'000;  // valid from 2025-11-24T16:00:00Z
inline constexpr std::uint64_t kValidAfter = kQ * kPeriodSeconds;

crypto::Ed25519KeyPair authority_key(int n);
crypto::Ed25519KeyPair relay_identity(int n);

// Relay n's descriptor for `epoch`, signed by its own identity. `variant`
// changes the published time only: another descriptor of the same relay.
document::SignedDescriptor relay_descriptor(int n, std::uint64_t epoch = kQ, int variant = 0);
std::vector<std::uint8_t> descriptor_bytes(int n, std::uint64_t epoch = kQ, int variant = 0);
document::RelayEntry relay_entry(int n, std::uint32_t weight, int variant = 0);

// Authority n's signed vote for kQ listing `entries` (sorted here).
document::Vote signed_vote(int n, std::vector<document::RelayEntry> entries, std::uint64_t q = kQ,
                           std::uint32_t period_seconds = kPeriodSeconds);
// A consensus for q listing `entries` (sorted here), signed by `signers`.
document::Consensus signed_consensus(std::vector<document::RelayEntry> entries,
                                     const std::vector<int>& signers, std::uint64_t q = kQ,
                                     std::uint32_t period_seconds = kPeriodSeconds);
std::vector<std::uint8_t> encoded(const document::Consensus& consensus);
std::vector<std::uint8_t> encoded(const document::Vote& vote);

// One entry as written, whatever it holds; `length` defaults to the
// descriptor's size.
struct RawEntry {
  std::uint32_t weight = 1;
  std::vector<std::uint8_t> descriptor;
  std::optional<std::uint16_t> length;
};

// A vote or consensus written field by field with no validation.
struct RawDocument {
  std::string magic;
  std::uint8_t version = 1;
  std::optional<crypto::Ed25519PublicKey> authority_key;  // votes only
  std::uint32_t period_seconds = kPeriodSeconds;
  std::uint64_t period = kQ;
  std::optional<std::uint16_t> count;  // default: entries.size()
  std::vector<RawEntry> entries;

  static RawDocument vote(int authority = 1);
  static RawDocument consensus();
  std::vector<std::uint8_t> body() const;
};

// body || Sign(key, "nyx-vote-v1", body): a vote whose only fault is what
// the test put in its body.
std::vector<std::uint8_t> vote_signed_by(const std::vector<std::uint8_t>& body,
                                         const crypto::Ed25519KeyPair& key);
// body || sig_count || signatures: each signer's real signature over body,
// sorted by key as a consensus must be.
std::vector<std::uint8_t> consensus_signed_by(const std::vector<std::uint8_t>& body,
                                              const std::vector<int>& signers);

}  // namespace nyx::test
