#include "daemon/key_store.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/crypto/ed25519.hpp"
#include "support/file_mode.hpp"
#include "support/temp_dir.hpp"

namespace nyx::daemon {
namespace {

using nyx::test::mode_of;

class KeyStoreTest : public ::testing::Test {
 protected:
  KeyStore store() {
    auto dir = DataDir::open(tmp_.path() / "data");
    EXPECT_TRUE(dir.has_value());
    return KeyStore(std::move(*dir));
  }
  std::filesystem::path data() const { return tmp_.path() / "data"; }

  test::TempDir tmp_;
};

TEST_F(KeyStoreTest, GeneratesKeysOnFirstUseAsFiles0600) {
  KeyStore keys = store();
  ASSERT_TRUE(keys.identity().has_value());
  ASSERT_TRUE(keys.link().has_value());
  ASSERT_TRUE(keys.onion(3).has_value());
  for (const char* name : {"identity.key", "link.key", "onion-3.key"}) {
    EXPECT_EQ(mode_of(data() / name), 0600U) << name;
    EXPECT_EQ(std::filesystem::file_size(data() / name), 32U) << name;
  }
}

TEST_F(KeyStoreTest, LoadsTheSameKeysAfterwards) {
  auto identity = store().identity();
  auto link = store().link();
  auto onion = store().onion(0);
  ASSERT_TRUE(identity && link && onion);
  EXPECT_EQ(store().identity()->public_key, identity->public_key);
  EXPECT_EQ(store().link()->public_key, link->public_key);
  EXPECT_EQ(store().onion(0)->public_key, onion->public_key);
  EXPECT_NE(store().onion(1)->public_key, onion->public_key);
  EXPECT_NE(link->public_key, onion->public_key);
  // The identity signs what its public key verifies.
  const std::uint8_t message[] = {1, 2, 3};
  const auto signature = identity->sign(message);
  EXPECT_TRUE(crypto::ed25519_verify(identity->public_key, message, signature));
}

TEST_F(KeyStoreTest, RefusesAKeyOthersCanRead) {
  KeyStore keys = store();
  ASSERT_TRUE(keys.link().has_value());
  ASSERT_EQ(::chmod((data() / "link.key").c_str(), 0644), 0);
  auto link = keys.link();
  ASSERT_FALSE(link.has_value());
  EXPECT_NE(link.error().message.find("link.key"), std::string::npos) << link.error().message;
}

TEST_F(KeyStoreTest, RefusesATruncatedKeyInsteadOfReplacingIt) {
  KeyStore keys = store();
  ASSERT_TRUE(keys.identity().has_value());
  std::filesystem::resize_file(data() / "identity.key", 16);
  EXPECT_FALSE(keys.identity().has_value());
  EXPECT_EQ(std::filesystem::file_size(data() / "identity.key"), 16U);
}

}  // namespace
}  // namespace nyx::daemon
