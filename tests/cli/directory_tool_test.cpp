// nyxctl keygen, descriptor files and nyxctl directory sign|verify through the
// CLI's own logic, on files in a temporary directory.
#include "cli/directory_tool.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "cli/descriptor_file.hpp"
#include "cli/node_keys.hpp"
#include "cli/table.hpp"
#include "cli/text_file.hpp"
#include "core/crypto/encoding.hpp"
#include "support/file_mode.hpp"
#include "support/temp_dir.hpp"

namespace nyx::cli {
namespace {

constexpr std::uint64_t kNow = 1'800'000'000;

using nyx::test::mode_of;

class DirectoryToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    auto authority = generate_authority_key(dir_.path() / "authority.key");
    ASSERT_TRUE(authority) << authority.error().to_string();
    authority_public_ = *authority;
  }

  // A node's keys and its descriptor file, as keygen plus an operator make it.
  std::filesystem::path make_node(const std::string& name, const std::string& udp, bool exit) {
    auto keys = generate_node_keys(dir_.path() / name);
    EXPECT_TRUE(keys) << keys.error().to_string();
    document::NodeDescriptor descriptor;
    descriptor.identity_key = keys->identity;
    descriptor.link_key = keys->link;
    descriptor.onion_key = keys->onion;
    descriptor.udp_address = udp;
    descriptor.roles = exit ? (document::kRoleRelay | document::kRoleExit) : document::kRoleRelay;
    if (exit) {
      descriptor.exit_rules = *document::AdvertisedExitRules::parse({"accept *:80", "reject *:*"});
    }
    const auto file = dir_.path() / name / "descriptor.toml";
    EXPECT_TRUE(write_descriptor_file(file, descriptor));
    return file;
  }

  // The same node's descriptor signed with its identity key, published at
  // `published`, as `nyxctl keygen --sign-descriptor` makes it.
  std::filesystem::path make_signed_node(const std::string& name, const std::string& udp, bool exit,
                                         std::uint64_t published = kNow) {
    auto source = read_descriptor_file(make_node(name, udp, exit));
    EXPECT_TRUE(source) << source.error().to_string();
    auto signed_descriptor = sign_descriptor(*source, dir_.path() / name, published);
    EXPECT_TRUE(signed_descriptor) << signed_descriptor.error().to_string();
    const auto file = dir_.path() / name / kSignedDescriptorName;
    EXPECT_TRUE(write_signed_descriptor_file(file, *signed_descriptor));
    return file;
  }

  SignOptions sign_options() {
    SignOptions options;
    options.authority_keys = {dir_.path() / "authority.key"};
    options.descriptors = {make_signed_node("n1", "127.0.0.1:9101", false),
                           make_signed_node("n2", "127.0.0.1:9102", true)};
    options.valid_for = std::chrono::hours(1);
    options.out = dir_.path() / "directory.bin";
    options.now = kNow;
    return options;
  }

  document::DirectoryTrust trust() const { return {{authority_public_}, 1}; }

  test::TempDir dir_;
  crypto::Ed25519PublicKey authority_public_{};
};

TEST_F(DirectoryToolTest, KeygenWritesPrivateFilesNodeLoads) {
  auto keys = generate_node_keys(dir_.path() / "node");
  ASSERT_TRUE(keys) << keys.error().to_string();
  EXPECT_EQ(mode_of(dir_.path() / "node"), 0700u);
  for (const char* name : {"identity.key", "link.key", "onion-0.key"}) {
    EXPECT_EQ(mode_of(dir_.path() / "node" / name), 0600u) << name;
    EXPECT_EQ(std::filesystem::file_size(dir_.path() / "node" / name), 32u) << name;
  }
  document::NodeDescriptor descriptor;
  descriptor.identity_key = keys->identity;
  EXPECT_EQ(keys->node_id(), descriptor.node_id());
}

TEST_F(DirectoryToolTest, KeygenNeverReplacesKeys) {
  ASSERT_TRUE(generate_node_keys(dir_.path() / "node"));
  auto again = generate_node_keys(dir_.path() / "node");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().category, ErrorCategory::kInvalidArgument);
  EXPECT_NE(again.error().message.find("identity.key"), std::string::npos);
  EXPECT_FALSE(generate_authority_key(dir_.path() / "authority.key"));
}

TEST_F(DirectoryToolTest, KeygenRefusesAnOpenDirectory) {
  const auto open_dir = dir_.path() / "open";
  std::filesystem::create_directory(open_dir);
  ::chmod(open_dir.c_str(), 0755);
  auto keys = generate_node_keys(open_dir);
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().category, ErrorCategory::kPermission);
}

TEST_F(DirectoryToolTest, DescriptorFileRoundTrips) {
  const auto file = make_node("n1", "127.0.0.1:9101", true);
  auto read = read_descriptor_file(file);
  ASSERT_TRUE(read) << read.error().to_string();
  EXPECT_EQ(read->udp_address, "127.0.0.1:9101");
  EXPECT_TRUE(read->is_exit());
  EXPECT_EQ(read->exit_rules.to_text(), (std::vector<std::string>{"accept *:80", "reject *:*"}));
  EXPECT_EQ(descriptor_to_toml(*read), descriptor_to_toml(*read_descriptor_file(file)));
}

TEST_F(DirectoryToolTest, DescriptorFileErrorsNameLineAndKey) {
  const auto file = dir_.path() / "bad.toml";
  ASSERT_TRUE(write_text_file(file,
                              "identity_key = \"abcd\"\n"
                              "link_key = \"" +
                                  std::string(64, '0') +
                                  "\"\n"
                                  "udp_address = \"nowhere\"\n"
                                  "roles = [\"bridge\"]\n"
                                  "colour = \"blue\"\n"));
  auto read = read_descriptor_file(file);
  ASSERT_FALSE(read);
  const std::string& message = read.error().message;
  EXPECT_NE(message.find("bad.toml:1:"), std::string::npos) << message;
  EXPECT_NE(message.find("'identity_key': expected 64 hex digits"), std::string::npos) << message;
  EXPECT_NE(message.find("'onion_key'"), std::string::npos) << message;
  EXPECT_NE(message.find("'udp_address'"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown role 'bridge'"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown key 'colour'"), std::string::npos) << message;
}

TEST_F(DirectoryToolTest, DescriptorAddressErrorsSayWhatIsWrong) {
  const auto file = dir_.path() / "addresses.toml";
  ASSERT_TRUE(write_text_file(file,
                              "udp_address = \"::1:9101\"\n"
                              "tcp_address = \"127.0.0.1:0\"\n"));
  auto read = read_descriptor_file(file);
  ASSERT_FALSE(read);
  const std::string& message = read.error().message;
  EXPECT_NE(message.find("addresses.toml:1:15: key 'udp_address': an IPv6 address needs brackets"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("key 'tcp_address': a node address needs a port from 1 to 65535, got "
                         "\"127.0.0.1:0\""),
            std::string::npos)
      << message;
}

TEST_F(DirectoryToolTest, SignedDirectoryVerifies) {
  const SignOptions options = sign_options();
  auto signed_dir = sign_directory_files(options);
  ASSERT_TRUE(signed_dir) << signed_dir.error().to_string();
  EXPECT_EQ(signed_dir->valid_after, kNow);
  EXPECT_EQ(signed_dir->valid_until, kNow + 3600);

  auto verified = verify_directory_file(options.out, trust(), kNow + 10);
  ASSERT_TRUE(verified) << verified.error().to_string();
  ASSERT_EQ(verified->nodes.size(), 2u);
  EXPECT_EQ(verified->nodes[1].udp_address, "127.0.0.1:9102");
  const std::string summary = describe_directory(*verified, kNow + 10);
  EXPECT_NE(summary.find("2 node(s), 1 signature(s)"), std::string::npos) << summary;
  EXPECT_NE(summary.find("relay,exit"), std::string::npos) << summary;
}

TEST_F(DirectoryToolTest, VerifySaysExpiredAndNotYetValid) {
  const SignOptions options = sign_options();
  ASSERT_TRUE(sign_directory_files(options));
  auto expired = verify_directory_file(options.out, trust(), kNow + 3600);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code, static_cast<int>(document::DirectoryErrc::kExpired));
  EXPECT_NE(expired.error().message.find("expired at " + format_utc(kNow + 3600)),
            std::string::npos)
      << expired.error().message;
  auto early = verify_directory_file(options.out, trust(), kNow - 1);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, static_cast<int>(document::DirectoryErrc::kNotYetValid));
}

TEST_F(DirectoryToolTest, VerifyNamesTheSignersOfAnUnknownKey) {
  const SignOptions options = sign_options();
  ASSERT_TRUE(sign_directory_files(options));
  auto other = crypto::Ed25519KeyPair::generate();
  auto result = verify_directory_file(options.out, {{other.public_key}, 1}, kNow);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, static_cast<int>(document::DirectoryErrc::kUnknownKey));
  EXPECT_NE(result.error().message.find(crypto::to_hex(authority_public_)), std::string::npos)
      << result.error().message;
}

TEST_F(DirectoryToolTest, VerifyCatchesATamperedDirectory) {
  const SignOptions options = sign_options();
  ASSERT_TRUE(sign_directory_files(options));
  // Flip one bit of a signed byte (writing a fixed 'X' left the file
  // unchanged whenever that byte of a random key already was one).
  std::fstream file(options.out, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(30);
  const int byte = file.get();
  ASSERT_NE(byte, EOF);
  file.seekp(30);
  file.put(static_cast<char>(byte ^ 0x01));
  file.close();
  auto result = verify_directory_file(options.out, trust(), kNow);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, static_cast<int>(document::DirectoryErrc::kBadSignature));
  EXPECT_NE(result.error().message.find("bad signature"), std::string::npos);
}

TEST_F(DirectoryToolTest, VerifyRefusesAFileThatIsNoDirectory) {
  ASSERT_TRUE(write_text_file(dir_.path() / "junk.bin", "not a directory"));
  auto result = verify_directory_file(dir_.path() / "junk.bin", trust(), kNow);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().category, ErrorCategory::kParse);
  EXPECT_FALSE(verify_directory_file(dir_.path() / "missing.bin", trust(), kNow));
}

TEST_F(DirectoryToolTest, SignRefusesDuplicateNodesAndEmptyValidity) {
  SignOptions options = sign_options();
  options.descriptors.push_back(options.descriptors.front());
  auto duplicate = sign_directory_files(options);
  ASSERT_FALSE(duplicate);
  EXPECT_NE(duplicate.error().message.find("two descriptors"), std::string::npos);
  options = SignOptions{options.authority_keys,
                        {options.descriptors.front()},
                        std::chrono::seconds(0),
                        options.out,
                        kNow};
  EXPECT_FALSE(sign_directory_files(options));
  EXPECT_FALSE(std::filesystem::exists(options.out));
}

TEST_F(DirectoryToolTest, TwoAuthoritiesMeetAThresholdOfTwo) {
  ASSERT_TRUE(generate_authority_key(dir_.path() / "second.key"));
  SignOptions options = sign_options();
  auto one = sign_directory_files(options);
  ASSERT_TRUE(one);
  auto second = load_authority_key(dir_.path() / "second.key");
  ASSERT_TRUE(second);
  const document::DirectoryTrust both{{authority_public_, second->public_key}, 2};
  auto below = verify_directory_file(options.out, both, kNow);
  ASSERT_FALSE(below);
  EXPECT_EQ(below.error().code, static_cast<int>(document::DirectoryErrc::kBelowThreshold));

  options.authority_keys.push_back(dir_.path() / "second.key");
  options.descriptors.clear();
  options.descriptors = {dir_.path() / "n1" / kSignedDescriptorName,
                         dir_.path() / "n2" / kSignedDescriptorName};
  ASSERT_TRUE(sign_directory_files(options));
  EXPECT_TRUE(verify_directory_file(options.out, both, kNow));
}

TEST_F(DirectoryToolTest, SignRefusesUnsignedAndMisSignedDescriptors) {
  SignOptions options = sign_options();
  options.descriptors = {dir_.path() / "n1" / "descriptor.toml"};  // the unsigned source
  auto unsigned_source = sign_directory_files(options);
  ASSERT_FALSE(unsigned_source);
  EXPECT_NE(unsigned_source.error().message.find("--sign-descriptor"), std::string::npos)
      << unsigned_source.error().message;

  // n2's signature on n1's descriptor: not signed by the identity it names.
  const auto n1 = dir_.path() / "n1" / kSignedDescriptorName;
  auto n1_bytes = read_signed_descriptor_file(n1)->encode();
  auto n2_bytes = read_signed_descriptor_file(dir_.path() / "n2" / kSignedDescriptorName)->encode();
  std::copy(n2_bytes->end() - 64, n2_bytes->end(), n1_bytes->end() - 64);
  ASSERT_TRUE(write_text_file(
      n1, std::string_view(reinterpret_cast<const char*>(n1_bytes->data()), n1_bytes->size())));
  options.descriptors = {n1};
  auto mis_signed = sign_directory_files(options);
  ASSERT_FALSE(mis_signed);
  EXPECT_EQ(mis_signed.error().code, static_cast<int>(document::DescriptorErrc::kBadSignature));
  EXPECT_NE(mis_signed.error().message.find("bad descriptor signature"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(options.out));

  options.descriptors = {
      make_signed_node("n3", "127.0.0.1:9103", false, kNow + kDescriptorClockSkew + 1)};
  auto from_the_future = sign_directory_files(options);
  ASSERT_FALSE(from_the_future);
  EXPECT_EQ(from_the_future.error().code, static_cast<int>(document::DescriptorErrc::kClock));
}

TEST_F(DirectoryToolTest, SignDescriptorUsesTheDataDirectorysKeys) {
  make_signed_node("n1", "127.0.0.1:9101", false);
  EXPECT_EQ(mode_of(dir_.path() / "n1" / "onion-1.key"), 0600u);  // the next epoch's key
  auto descriptor = read_signed_descriptor_file(dir_.path() / "n1" / kSignedDescriptorName);
  ASSERT_TRUE(descriptor) << descriptor.error().to_string();
  EXPECT_EQ(descriptor->epoch, 0u);
  EXPECT_EQ(descriptor->published, kNow);
  EXPECT_NE(descriptor->next_onion_key, descriptor->onion_key);

  auto source = read_descriptor_file(dir_.path() / "n1" / "descriptor.toml");
  ASSERT_TRUE(source);
  const std::uint8_t held = source->link_key[0];
  source->link_key[0] = static_cast<std::uint8_t>(held ^ 1u);  // a key this node does not hold
  auto wrong_key = sign_descriptor(*source, dir_.path() / "n1", kNow);
  ASSERT_FALSE(wrong_key);
  EXPECT_NE(wrong_key.error().message.find("link_key"), std::string::npos);
  source->link_key[0] = held;
  source->udp_address = "relay.example.org:9101";  // names are not allowed
  auto named = sign_descriptor(*source, dir_.path() / "n1", kNow);
  ASSERT_FALSE(named);
  EXPECT_NE(named.error().message.find("udp_address"), std::string::npos);
  EXPECT_FALSE(sign_descriptor(*source, dir_.path() / "n2", kNow));  // no keys there
}

TEST(ParseAuthorityKey, WantsSixtyFourHexDigits) {
  EXPECT_TRUE(parse_authority_key(std::string(64, 'a')));
  EXPECT_FALSE(parse_authority_key(std::string(63, 'a')));
  EXPECT_FALSE(parse_authority_key("zz"));
}

}  // namespace
}  // namespace nyx::cli
