// nyxctl keygen --authority: the authority key it writes, the
// directory.authorities line it prints (which nyxd's configuration must
// accept as printed), and that it never replaces a key.
#include "cli/keygen_command.hpp"

#include <algorithm>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "cli/node_keys.hpp"
#include "core/config.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/key_file.hpp"
#include "support/file_mode.hpp"
#include "support/temp_dir.hpp"

namespace nyx::cli {
namespace {

using nyx::test::mode_of;

struct KeygenRun {
  int code = -1;
  std::string out;
};

// Runs `nyxctl keygen ARGS...` in this process, capturing what it prints.
KeygenRun keygen(std::vector<std::string> args) {
  CLI::App app;
  KeygenCommand command;
  add_keygen_command(app, command);
  args.insert(args.begin(), "keygen");
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last first
  app.parse(args);
  ::testing::internal::CaptureStdout();
  KeygenRun run;
  run.code = run_keygen_command(command).value_or(-1);
  run.out = ::testing::internal::GetCapturedStdout();
  return run;
}

// The one line of `out` that starts with "{ key" (the pasted entry).
std::string entry_line(const std::string& out) {
  std::smatch match;
  EXPECT_TRUE(std::regex_search(out, match, std::regex(R"(\{ key = [^\n]*)"))) << out;
  return match.empty() ? std::string() : match[0].str();
}

class KeygenAuthority : public ::testing::Test {
 protected:
  std::filesystem::path dir() const { return tmp_.path() / "auth"; }

  test::TempDir tmp_;
};

TEST_F(KeygenAuthority, WritesTheSeedOwnerOnlyBesideTheNodeKeys) {
  const KeygenRun run = keygen({"--out", dir().string(), "--authority"});
  ASSERT_EQ(run.code, 0) << run.out;
  EXPECT_EQ(mode_of(dir()), 0700U);
  for (const char* name : {kAuthorityKeyName, kIdentityKeyName, kLinkKeyName}) {
    EXPECT_EQ(mode_of(dir() / name), 0600U) << name;
    EXPECT_EQ(std::filesystem::file_size(dir() / name), 32U) << name;
  }
  auto pair = load_authority_key(dir() / kAuthorityKeyName);
  ASSERT_TRUE(pair) << pair.error().to_string();
  EXPECT_NE(run.out.find("public key     " + crypto::to_hex(pair->public_key)), std::string::npos)
      << run.out;
}

TEST_F(KeygenAuthority, PrintsTheLineEveryNodesAuthoritiesTake) {
  const KeygenRun run =
      keygen({"--out", dir().string(), "--authority", "--address", "203.0.113.10:9340"});
  ASSERT_EQ(run.code, 0) << run.out;
  auto pair = load_authority_key(dir() / kAuthorityKeyName);
  ASSERT_TRUE(pair);
  auto link = crypto::read_secret_key_file<crypto::kX25519KeySize>(dir() / kLinkKeyName);
  ASSERT_TRUE(link);
  const auto link_public = crypto::X25519KeyPair::from_secret(link->span()).public_key;
  const std::string line = entry_line(run.out);
  EXPECT_EQ(line, "{ key = \"" + crypto::to_hex(pair->public_key) + "\", link = \"" +
                      crypto::to_hex(link_public) +
                      "\", address = \"203.0.113.10:9340\", tcp_address = \"\" },");

  // Pasted into a config as printed, it is read back as this authority.
  auto reader = ConfigReader::from_string("authorities = [\n  " + line + "\n]\n", "nyxd.toml");
  ASSERT_TRUE(reader) << reader.error().to_string();
  ASSERT_EQ(reader->table_count("authorities"), 1U);
  EXPECT_EQ(reader->get_string("authorities[0].key", ""), crypto::to_hex(pair->public_key));
  EXPECT_EQ(reader->get_string("authorities[0].link", ""), crypto::to_hex(link_public));
  EXPECT_EQ(reader->get_host_port("authorities[0].address", {}), (HostPort{"203.0.113.10", 9340}));
  EXPECT_EQ(reader->get_string("authorities[0].tcp_address", "-"), "");
  const auto finished = reader->finish();
  EXPECT_TRUE(finished) << finished.error().message;
}

TEST_F(KeygenAuthority, WithoutAnAddressTheLineCarriesAPlaceholderNoNodeAccepts) {
  const KeygenRun run = keygen({"--out", dir().string(), "--authority"});
  ASSERT_EQ(run.code, 0) << run.out;
  EXPECT_NE(entry_line(run.out).find("address = \"IP:PORT\""), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("Replace IP:PORT"), std::string::npos) << run.out;
}

TEST_F(KeygenAuthority, AnAddressMustBeAnIpLiteralWithAPort) {
  for (const char* bad : {"auth.example.org:9340", "203.0.113.10", "203.0.113.10:0"}) {
    const KeygenRun run = keygen({"--out", dir().string(), "--authority", "--address", bad});
    EXPECT_EQ(run.code, 2) << bad;
    EXPECT_FALSE(std::filesystem::exists(dir() / kAuthorityKeyName)) << bad;
  }
  EXPECT_EQ(
      keygen({"--out", dir().string(), "--authority", "--address", "[2001:db8::1]:9340"}).code, 0);
}

TEST_F(KeygenAuthority, KeepsTheNodeKeysOfARelayBecomingAnAuthority) {
  auto node = generate_node_keys(dir());
  ASSERT_TRUE(node) << node.error().to_string();
  const KeygenRun run = keygen({"--out", dir().string(), "--authority"});
  ASSERT_EQ(run.code, 0) << run.out;
  EXPECT_NE(entry_line(run.out).find("link = \"" + crypto::to_hex(node->link) + "\""),
            std::string::npos)
      << run.out;
}

TEST_F(KeygenAuthority, RefusesToReplaceAnAuthorityKey) {
  ASSERT_EQ(keygen({"--out", dir().string(), "--authority"}).code, 0);
  auto before = load_authority_key(dir() / kAuthorityKeyName);
  ASSERT_TRUE(before);
  const KeygenRun again = keygen({"--out", dir().string(), "--authority"});
  EXPECT_EQ(again.code, 1);
  EXPECT_EQ(again.out, "");
  auto after = load_authority_key(dir() / kAuthorityKeyName);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->public_key, before->public_key);
  EXPECT_EQ(mode_of(dir() / kAuthorityKeyName), 0600U);
}

TEST_F(KeygenAuthority, WithoutTheFlagAddressIsAUsageError) {
  CLI::App app;
  KeygenCommand command;
  add_keygen_command(app, command);
  std::vector<std::string> args{"203.0.113.10:9340", "--address", dir().string(), "--out",
                                "keygen"};
  EXPECT_THROW(app.parse(args), CLI::ParseError);
}

}  // namespace
}  // namespace nyx::cli
