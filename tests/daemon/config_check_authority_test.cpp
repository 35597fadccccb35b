// nyxd --check-config with the roles of proposal 0002: an authority must be
// one of the configured entries (its key file and its link key), and a relay
// advertising a private address is warned about.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/crypto/ed25519.hpp"
#include "core/crypto/key_file.hpp"
#include "core/crypto/x25519.hpp"
#include "daemon/config_check.hpp"
#include "support/temp_dir.hpp"

namespace nyx::daemon {
namespace {

bool any_contains(const std::vector<std::string>& lines, std::string_view words) {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& line) {
    return line.find(words) != std::string::npos;
  });
}

class ConfigCheckAuthority : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto seed = crypto::SecretBytes<crypto::kEd25519SeedSize>::random();
    authority_ = crypto::Ed25519KeyPair::from_seed(seed.span()).public_key;
    ASSERT_TRUE(crypto::write_key_file(dir_.path() / "authority.key", seed.span()));
    const auto link = crypto::X25519KeyPair::generate();
    link_ = link.public_key;
    ASSERT_TRUE(crypto::write_key_file(dir_.path() / "link.key", link.secret.span()));
    config_.node.data_dir = dir_.path();
    config_.node.roles = NodeRoles{.authority = true};
    config_.authority.key_file = dir_.path() / "authority.key";
  }

  void list(const crypto::Ed25519PublicKey& key, const crypto::X25519PublicKey& link) {
    config_.directory.authorities.push_back(key);
    config_.directory.authority_entries.push_back(
        {.key = key, .link = link, .address = {"203.0.113.10", 9340}, .tcp_address = {}});
  }

  std::vector<std::string> problems() const { return check_node_files(config_, 0).problems; }

  test::TempDir dir_;
  NodeConfig config_;
  crypto::Ed25519PublicKey authority_{};
  crypto::X25519PublicKey link_{};
};

TEST_F(ConfigCheckAuthority, AnAuthorityListedWithItsLinkKeyPasses) {
  list(crypto::Ed25519KeyPair::generate().public_key, crypto::X25519KeyPair::generate().public_key);
  list(authority_, link_);
  const auto found = problems();
  EXPECT_FALSE(any_contains(found, "directory.authorities")) << ::testing::PrintToString(found);
  EXPECT_FALSE(any_contains(found, "authority.key")) << ::testing::PrintToString(found);
}

TEST_F(ConfigCheckAuthority, AnAuthorityNotListedIsAProblem) {
  list(crypto::Ed25519KeyPair::generate().public_key, link_);
  EXPECT_TRUE(any_contains(problems(), "directory.authorities: no entry has this authority's key"));
  config_.directory.authority_entries.clear();
  list(authority_, crypto::X25519KeyPair::generate().public_key);  // another node's link key
  EXPECT_TRUE(any_contains(problems(), "directory.authorities: no entry has this authority's key"));
}

TEST_F(ConfigCheckAuthority, AMissingKeyFileOrTheV1ListIsAProblem) {
  list(authority_, link_);
  config_.authority.key_file = dir_.path() / "missing.key";
  EXPECT_TRUE(any_contains(problems(), "authority.key_file"));
  config_.directory.authority_entries.clear();
  EXPECT_TRUE(any_contains(problems(), "not the v1 list of keys"));
}

TEST_F(ConfigCheckAuthority, ARelayAdvertisingAPrivateAddressIsWarnedAbout) {
  config_.node.roles = NodeRoles{.relay = true};
  config_.relay.advertise_udp = HostPort{"203.0.113.5", 9340};
  EXPECT_FALSE(any_contains(check_node_files(config_, 0).notes, "relay.advertise_udp"));
  config_.relay.advertise_udp = HostPort{"127.0.0.1", 9340};
  config_.relay.advertise_tcp = HostPort{"10.0.0.5", 443};
  const auto notes = check_node_files(config_, 0).notes;
  EXPECT_TRUE(any_contains(notes, "warning: relay.advertise_udp 127.0.0.1:9340 is not a global"));
  EXPECT_TRUE(any_contains(notes, "warning: relay.advertise_tcp 10.0.0.5:443"));
}

}  // namespace
}  // namespace nyx::daemon
