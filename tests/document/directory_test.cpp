#include "document/directory.hpp"

#include <array>
#include <string>

#include <gtest/gtest.h>

#include "core/crypto/x25519.hpp"

namespace nyx::document {
namespace {

// Node `index` with keys derived from the index; an exit accepting all but
// port 25 when `exit` is set. Only the public halves matter to a document.
NodeDescriptor make_descriptor(int index, bool exit = false, std::string family = {}) {
  auto seed = [index](std::uint8_t purpose) {
    std::array<std::uint8_t, 32> s{};
    s[0] = purpose;
    s[1] = static_cast<std::uint8_t>(index);
    return s;
  };
  NodeDescriptor d;
  d.identity_key = crypto::Ed25519KeyPair::from_seed(seed(1)).public_key;
  d.onion_key = crypto::X25519KeyPair::from_secret(seed(2)).public_key;
  d.onion_key_epoch = 7;
  d.link_key = crypto::X25519KeyPair::from_secret(seed(3)).public_key;
  d.udp_address = "127.0.0.1:" + std::to_string(40000 + index);
  d.tcp_address = "127.0.0.1:" + std::to_string(41000 + index);
  d.roles = static_cast<std::uint8_t>(kRoleRelay | (exit ? kRoleExit : 0));
  d.bandwidth_weight = 100;
  d.family = std::move(family);
  if (exit) {
    d.exit_rules = *AdvertisedExitRules::parse({"reject *:25", "accept *:*"});
  }
  return d;
}

crypto::Ed25519KeyPair authority(std::uint8_t n) {
  std::array<std::uint8_t, 32> seed{};
  seed[0] = 0xA0;
  seed[1] = n;
  return crypto::Ed25519KeyPair::from_seed(seed);
}

Directory sample_directory() {
  Directory dir;
  dir.valid_after = 1000;
  dir.valid_until = 2000;
  for (int i = 0; i < 4; ++i) {
    dir.nodes.push_back(make_descriptor(i, i == 3, i == 1 ? "fam" : ""));
  }
  return dir;
}

std::vector<std::uint8_t> signed_by(std::initializer_list<std::uint8_t> authorities) {
  Directory dir = sample_directory();
  for (std::uint8_t a : authorities) {
    EXPECT_TRUE(dir.sign(authority(a)).has_value());
  }
  return *dir.encode();
}

DirectoryTrust trust(std::initializer_list<std::uint8_t> authorities, std::size_t threshold = 1) {
  DirectoryTrust t;
  for (std::uint8_t a : authorities) {
    t.authorities.push_back(authority(a).public_key);
  }
  t.threshold = threshold;
  return t;
}

int code_of(const Result<Directory>& r) { return r.has_value() ? 0 : r.error().code; }

TEST(Directory, SignedValidDirectoryIsAccepted) {
  auto dir = verify_directory(signed_by({1}), trust({1}), 1500);
  ASSERT_TRUE(dir.has_value()) << dir.error().to_string();
  ASSERT_EQ(dir->nodes.size(), 4u);
  const NodeDescriptor& exit = dir->nodes[3];
  NodeDescriptor expected = make_descriptor(3, true);
  EXPECT_EQ(exit.identity_key, expected.identity_key);
  EXPECT_EQ(exit.onion_key, expected.onion_key);
  EXPECT_EQ(exit.link_key, expected.link_key);
  EXPECT_EQ(exit.onion_key_epoch, 7u);
  EXPECT_EQ(exit.udp_address, expected.udp_address);
  EXPECT_EQ(exit.tcp_address, expected.tcp_address);
  EXPECT_TRUE(exit.is_exit());
  EXPECT_EQ(exit.exit_rules.to_text(), expected.exit_rules.to_text());
  EXPECT_EQ(dir->nodes[1].family, "fam");
  EXPECT_NE(dir->find(expected.node_id()), nullptr);
}

TEST(Directory, EncodingIsCanonical) {
  auto bytes = signed_by({1, 2});
  auto parsed = Directory::parse(bytes);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed->encode(), bytes);
}

TEST(Directory, BadSignatureIsRefused) {
  auto bytes = signed_by({1});
  bytes[bytes.size() - 5] ^= 0x01;  // inside the signature
  EXPECT_EQ(code_of(verify_directory(bytes, trust({1}), 1500)),
            static_cast<int>(DirectoryErrc::kBadSignature));
}

TEST(Directory, AlteredBodyBreaksTheSignature) {
  auto bytes = signed_by({1});
  bytes[14] ^= 0x01;  // the low byte of valid_after
  EXPECT_EQ(code_of(verify_directory(bytes, trust({1}), 1500)),
            static_cast<int>(DirectoryErrc::kBadSignature));
}

TEST(Directory, ExpiredAndNotYetValidAreRefused) {
  auto bytes = signed_by({1});
  auto late = verify_directory(bytes, trust({1}), 2000);
  EXPECT_EQ(code_of(late), static_cast<int>(DirectoryErrc::kExpired));
  EXPECT_EQ(late.error().category, ErrorCategory::kTimeout);
  EXPECT_EQ(code_of(verify_directory(bytes, trust({1}), 999)),
            static_cast<int>(DirectoryErrc::kNotYetValid));
  EXPECT_TRUE(verify_directory(bytes, trust({1}), 1000).has_value());
  EXPECT_TRUE(verify_directory(bytes, trust({1}), 1999).has_value());
}

TEST(Directory, UnknownKeyIsRefused) {
  auto r = verify_directory(signed_by({9}), trust({1, 2}), 1500);
  EXPECT_EQ(code_of(r), static_cast<int>(DirectoryErrc::kUnknownKey));
  EXPECT_EQ(r.error().category, ErrorCategory::kPermission);
}

TEST(Directory, ThresholdCountsDistinctConfiguredAuthorities) {
  EXPECT_EQ(code_of(verify_directory(signed_by({1, 9}), trust({1, 2}, 2), 1500)),
            static_cast<int>(DirectoryErrc::kBelowThreshold));
  EXPECT_EQ(code_of(verify_directory(signed_by({1, 1}), trust({1, 2}, 2), 1500)),
            static_cast<int>(DirectoryErrc::kBelowThreshold));
  EXPECT_TRUE(verify_directory(signed_by({2, 9, 1}), trust({1, 2}, 2), 1500).has_value());
}

TEST(Directory, MalformedIsRefused) {
  auto bytes = signed_by({1});
  for (std::size_t cut : {std::size_t{0}, std::size_t{5}, std::size_t{40}, bytes.size() - 1}) {
    auto r = verify_directory(std::span(bytes).first(cut), trust({1}), 1500);
    EXPECT_EQ(code_of(r), static_cast<int>(DirectoryErrc::kMalformed)) << cut;
    EXPECT_EQ(r.error().category, ErrorCategory::kParse);
  }
  auto trailing = bytes;
  trailing.push_back(0);
  EXPECT_EQ(code_of(verify_directory(trailing, trust({1}), 1500)),
            static_cast<int>(DirectoryErrc::kMalformed));
}

TEST(Directory, NodeListedTwiceIsMalformed) {
  Directory dir = sample_directory();
  dir.nodes.push_back(dir.nodes[0]);
  ASSERT_TRUE(dir.sign(authority(1)).has_value());
  EXPECT_EQ(code_of(Directory::parse(*dir.encode())), static_cast<int>(DirectoryErrc::kMalformed));
}

}  // namespace
}  // namespace nyx::document
