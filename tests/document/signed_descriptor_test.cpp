// Self-signed descriptors (proposal 0002 section 3.2): round trip and
// canonical re-encoding, every flipped bit refused, another identity's
// signature refused, each malformed field refused with its name.
#include "document/signed_descriptor.hpp"

#include <array>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "core/crypto/x25519.hpp"
#include "document/support/fuzz_seed_check.hpp"

namespace nyx::document {
namespace {

constexpr std::uint64_t kNow = 1'800'000'000;
constexpr std::uint64_t kEpoch = 500'000;

crypto::Ed25519KeyPair identity(std::uint8_t n = 1) {
  std::array<std::uint8_t, 32> seed{};
  seed[0] = 0x1D;
  seed[1] = n;
  return crypto::Ed25519KeyPair::from_seed(seed);
}

crypto::X25519PublicKey x25519_public(std::uint8_t n) {
  std::array<std::uint8_t, 32> secret{};
  secret[1] = n;  // not byte 0: clamping clears its low three bits, making 2, 3 and 4 one key
  return crypto::X25519KeyPair::from_secret(secret).public_key;
}

// A relay (one IPv4 address, no family, no rules: the smallest descriptor),
// or an exit with an IPv6 TCP address, a family and rules.
SignedDescriptor sample(bool exit = false) {
  SignedDescriptor d;
  d.identity_key = identity().public_key;
  d.published = kNow;
  d.epoch = kEpoch;
  d.onion_key = x25519_public(2);
  d.next_onion_key = x25519_public(3);
  d.link_key = x25519_public(4);
  d.udp_address = *NodeAddress::from_text("198.51.100.7:9340");
  d.bandwidth_weight = 100;
  if (exit) {
    d.tcp_address = *NodeAddress::from_text("[2001:db8::7]:9341");
    d.roles = kRolesRelayExit;
    d.family = "example.org";
    d.exit_rules = *AdvertisedExitRules::parse({"reject *:25", "accept *:*"});
  }
  EXPECT_TRUE(d.sign(identity()).has_value());
  return d;
}

std::vector<std::uint8_t> encoded(const SignedDescriptor& d) { return *d.encode(); }

// The unsigned bytes written field by field, with no validation, so a test
// can write what the real encoder refuses to.
struct Raw {
  std::uint8_t version = 2;
  crypto::Ed25519PublicKey identity_key = identity().public_key;
  std::uint64_t published = kNow;
  std::uint64_t epoch = kEpoch;
  crypto::X25519PublicKey onion = x25519_public(2);
  crypto::X25519PublicKey next_onion = x25519_public(3);
  crypto::X25519PublicKey link = x25519_public(4);
  std::vector<std::uint8_t> udp = {4, 198, 51, 100, 7, 0x24, 0x7c};  // proposal 0002's example
  std::vector<std::uint8_t> tcp = {0};
  std::uint8_t roles = 0x01;
  std::uint32_t weight = 100;
  std::string family;
  std::optional<std::uint8_t> rule_count;  // default: rules.size()
  std::vector<std::string> rules;

  std::vector<std::uint8_t> body() const {
    std::vector<std::uint8_t> out{version};
    auto be = [&out](std::uint64_t v, int n) {
      for (int i = n - 1; i >= 0; --i) {
        out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
      }
    };
    auto str8 = [&out](const std::string& s) {
      out.push_back(static_cast<std::uint8_t>(s.size()));
      out.insert(out.end(), s.begin(), s.end());
    };
    out.insert(out.end(), identity_key.begin(), identity_key.end());
    be(published, 8);
    be(epoch, 8);
    for (const auto* key : {&onion, &next_onion, &link}) {
      out.insert(out.end(), key->begin(), key->end());
    }
    out.insert(out.end(), udp.begin(), udp.end());
    out.insert(out.end(), tcp.begin(), tcp.end());
    out.push_back(roles);
    be(weight, 4);
    str8(family);
    out.push_back(rule_count.value_or(static_cast<std::uint8_t>(rules.size())));
    for (const auto& rule : rules) {
      str8(rule);
    }
    return out;
  }
};

// body || Sign(key, context, body): a correct signature over whatever the
// body holds, so the only thing wrong is what the test put there.
std::vector<std::uint8_t> signed_with(std::vector<std::uint8_t> body,
                                      const crypto::Ed25519KeyPair& key,
                                      std::string_view context = kDescriptorSignatureContext) {
  std::vector<std::uint8_t> message(context.begin(), context.end());
  message.insert(message.end(), body.begin(), body.end());
  const auto signature = key.sign(message);
  body.insert(body.end(), signature.begin(), signature.end());
  return body;
}

int code_of(const Result<SignedDescriptor>& r) { return r ? 0 : r.error().code; }

// Parses `bytes` and expects a refusal as malformed that names `field`.
void expect_malformed(const std::vector<std::uint8_t>& bytes, const std::string& field) {
  auto parsed = SignedDescriptor::parse_and_verify(bytes);
  ASSERT_FALSE(parsed) << "accepted; expected a refusal naming " << field;
  EXPECT_EQ(parsed.error().code, static_cast<int>(DescriptorErrc::kMalformed));
  EXPECT_EQ(parsed.error().category, ErrorCategory::kParse);
  EXPECT_NE(parsed.error().message.find("descriptor: " + field + ":"), std::string::npos)
      << parsed.error().message;
}

void expect_malformed(const Raw& raw, const std::string& field) {
  expect_malformed(signed_with(raw.body(), identity()), field);
}

TEST(SignedDescriptor, RoundTripIsCanonical) {
  for (bool exit : {false, true}) {
    const SignedDescriptor d = sample(exit);
    const auto bytes = encoded(d);
    auto parsed = SignedDescriptor::parse_and_verify(bytes);
    ASSERT_TRUE(parsed) << parsed.error().to_string();
    EXPECT_EQ(parsed->identity_key, d.identity_key);
    EXPECT_EQ(parsed->published, kNow);
    EXPECT_EQ(parsed->epoch, kEpoch);
    EXPECT_EQ(parsed->onion_key, d.onion_key);
    EXPECT_EQ(parsed->next_onion_key, d.next_onion_key);
    EXPECT_EQ(parsed->link_key, d.link_key);
    EXPECT_EQ(parsed->udp_address, d.udp_address);
    EXPECT_EQ(parsed->tcp_address, d.tcp_address);
    EXPECT_EQ(parsed->roles, d.roles);
    EXPECT_EQ(parsed->family, d.family);
    EXPECT_EQ(parsed->exit_rules.to_text(), d.exit_rules.to_text());
    EXPECT_EQ(encoded(*parsed), bytes);  // parse then re-encode: the same bytes
  }
}

TEST(SignedDescriptor, LayoutIsTheDocumentedOne) {
  // An encoder written from docs/protocol.md alone gives the same bytes.
  EXPECT_EQ(*sample().encode_unsigned(), Raw{}.body());
  EXPECT_EQ(encoded(sample()), signed_with(Raw{}.body(), identity()));
  EXPECT_EQ(encoded(sample()).size(), kMinSignedDescriptor);  // the smallest there is
}

TEST(SignedDescriptor, EveryFlippedBitIsRefused) {
  const auto good = encoded(sample(true));
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      auto bad = good;
      bad[i] = static_cast<std::uint8_t>(bad[i] ^ (1u << bit));
      EXPECT_FALSE(SignedDescriptor::parse_and_verify(bad)) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(SignedDescriptor, AnotherIdentitysSignatureIsRefused) {
  // Names identity 1, signed by identity 2: well-formed, but not self-signed.
  auto parsed = SignedDescriptor::parse_and_verify(signed_with(Raw{}.body(), identity(2)));
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, static_cast<int>(DescriptorErrc::kBadSignature));
  EXPECT_EQ(parsed.error().category, ErrorCategory::kCrypto);
  EXPECT_NE(parsed.error().message.find("bad descriptor signature"), std::string::npos);

  // Naming identity 2 and keeping identity 1's signature is refused as well.
  Raw renamed;
  renamed.identity_key = identity(2).public_key;
  auto body = renamed.body();
  auto stolen = encoded(sample());
  body.insert(body.end(), stolen.end() - 64, stolen.end());
  EXPECT_EQ(code_of(SignedDescriptor::parse_and_verify(body)),
            static_cast<int>(DescriptorErrc::kBadSignature));
}

TEST(SignedDescriptor, SignRefusesAKeyThatIsNotTheNamedIdentity) {
  SignedDescriptor d = sample();
  const auto before = d.signature;
  auto status = d.sign(identity(2));
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().category, ErrorCategory::kInvalidArgument);
  EXPECT_EQ(d.signature, before);
}

TEST(SignedDescriptor, OtherContextsDoNotVerify) {
  for (std::string_view context : {"nyx-vote-v1", "nyx-consensus-v1", "nyx-directory-v1", ""}) {
    EXPECT_EQ(
        code_of(SignedDescriptor::parse_and_verify(signed_with(Raw{}.body(), identity(), context))),
        static_cast<int>(DescriptorErrc::kBadSignature))
        << context;
  }
}

TEST(SignedDescriptor, ChangedFieldAfterSigningIsRefused) {
  SignedDescriptor d = sample();
  d.bandwidth_weight = 1'000'000;  // a relay cannot be made to boast after it signed
  EXPECT_EQ(code_of(SignedDescriptor::parse_and_verify(encoded(d))),
            static_cast<int>(DescriptorErrc::kBadSignature));
}

TEST(SignedDescriptor, MalformedHeaderFields) {
  Raw raw;
  raw.version = 1;
  expect_malformed(raw, "version");
  raw = Raw{};
  raw.next_onion = raw.onion;
  expect_malformed(raw, "next_onion_key");
  auto long_body = Raw{}.body();
  long_body.resize(kMaxSignedDescriptor);  // signed, but longer than allowed
  expect_malformed(signed_with(long_body, identity()), "length");
  auto short_bytes = encoded(sample());
  short_bytes.pop_back();
  expect_malformed(short_bytes, "length");
  auto trailing = encoded(sample());
  trailing.push_back(0);
  expect_malformed(trailing, "signature");
}

TEST(SignedDescriptor, MalformedAddresses) {
  const std::vector<std::pair<std::vector<std::uint8_t>, std::string>> bad_udp = {
      {{5, 1, 2, 3, 4, 0, 1}, "unknown kind"},
      {{4, 198, 51, 100, 7, 0, 0}, "port 0"},
      {{6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 7, 0x24, 0x7c}, "mapped"},
      {{0}, "both none"},
  };
  for (const auto& [udp, why] : bad_udp) {
    Raw raw;
    raw.udp = udp;
    raw.family = "example.org";  // both none is 6 bytes short of 224: pad to reach the rule
    SCOPED_TRACE(why);
    expect_malformed(raw, "udp_address");
  }
  Raw raw;
  raw.tcp = {4, 198, 51, 100, 7, 0, 0};
  expect_malformed(raw, "tcp_address");
  raw.tcp = {9};
  expect_malformed(raw, "tcp_address");
}

TEST(SignedDescriptor, MalformedRolesWeightAndFamily) {
  for (std::uint8_t roles : std::initializer_list<std::uint8_t>{0x00, 0x02, 0x07, 0x81}) {
    Raw raw;
    raw.roles = roles;
    expect_malformed(raw, "roles");
  }
  Raw raw;
  raw.weight = 0;
  expect_malformed(raw, "bandwidth_weight");
  for (const std::string& family :
       std::vector<std::string>{"Example.org", "exa mple", "fam_ily", std::string(65, 'a')}) {
    raw = Raw{};
    raw.family = family;
    expect_malformed(raw, "family");
  }
}

TEST(SignedDescriptor, MalformedExitRules) {
  auto exit_with = [](std::vector<std::string> rules) {
    Raw raw;
    raw.roles = 0x03;
    raw.rules = std::move(rules);
    return raw;
  };
  expect_malformed(exit_with({"accept *:1-65535"}), "exit_rules");  // canonical: "accept *:*"
  expect_malformed(exit_with({"allow *:*"}), "exit_rules");         // does not parse
  expect_malformed(exit_with({"reject *:25"}), "exit_rules");       // accepts nothing
  expect_malformed(exit_with({"accept " + std::string(60, 'a') + ".org:443"}), "exit_rules");
  Raw relay;
  relay.rules = {"accept *:*"};  // rules on a relay that is not an exit
  expect_malformed(relay, "exit_rules");
  expect_malformed(exit_with(std::vector<std::string>(65, "accept *:*")), "rule_count");
  Raw counted = exit_with({"accept *:*"});
  counted.rule_count = 2;  // announces a rule the bytes do not hold: eats into the signature
  EXPECT_EQ(code_of(SignedDescriptor::parse_and_verify(signed_with(counted.body(), identity()))),
            static_cast<int>(DescriptorErrc::kMalformed));
}

TEST(SignedDescriptor, EncoderRefusesWhatTheParserWould) {
  SignedDescriptor d = sample();
  d.family = "Not Lower";
  auto encoded_bad = d.encode();
  ASSERT_FALSE(encoded_bad);
  EXPECT_EQ(encoded_bad.error().category, ErrorCategory::kInvalidArgument);
  EXPECT_NE(encoded_bad.error().message.find("family"), std::string::npos);
  EXPECT_FALSE(d.sign(identity()));
  d = sample();
  d.udp_address = {};
  EXPECT_FALSE(d.encode());
  d = sample(true);
  // 64 rules of 64 bytes are each allowed, but together over 4096 bytes.
  const std::string longest = "accept " + std::string(49, 'a') + ".org:443";
  ASSERT_EQ(longest.size(), kMaxDescriptorRuleText);
  d.exit_rules = *AdvertisedExitRules::parse(std::vector<std::string>(64, longest));
  auto too_long = d.encode();
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.error().message.find("length"), std::string::npos);
  d.exit_rules = *AdvertisedExitRules::parse(std::vector<std::string>(50, longest));
  EXPECT_TRUE(d.encode());
}

TEST(SignedDescriptor, PublishedMustFallInTheWindow) {
  const SignedDescriptor d = sample();
  constexpr std::uint64_t kPeriod = 3600;
  constexpr std::uint64_t kSkew = 300;
  EXPECT_TRUE(check_published(d, kNow, kPeriod, kSkew));
  EXPECT_TRUE(check_published(d, kNow - kSkew, kPeriod, kSkew));
  EXPECT_TRUE(check_published(d, kNow + kPeriod, kPeriod, kSkew));
  auto ahead = check_published(d, kNow - kSkew - 1, kPeriod, kSkew);
  ASSERT_FALSE(ahead);
  EXPECT_EQ(ahead.error().code, static_cast<int>(DescriptorErrc::kClock));
  EXPECT_NE(ahead.error().message.find("ahead"), std::string::npos);
  EXPECT_FALSE(check_published(d, kNow + kPeriod + 1, kPeriod, kSkew));
  EXPECT_TRUE(check_published(d, 5, kPeriod, kNow));  // no underflow near 0
}

TEST(SignedDescriptor, ListingCarriesTheDirectoryFields) {
  const NodeDescriptor node = sample(true).listing();
  EXPECT_EQ(node.identity_key, identity().public_key);
  EXPECT_EQ(node.onion_key_epoch, kEpoch);
  EXPECT_EQ(node.udp_address, "198.51.100.7:9340");
  EXPECT_EQ(node.tcp_address, "[2001:db8::7]:9341");
  EXPECT_TRUE(node.is_exit());
  EXPECT_EQ(node.node_id(), sample().node_id());
}

TEST(NodeAddress, TextAndBytes) {
  auto v4 = NodeAddress::from_text("198.51.100.7:9340");
  ASSERT_TRUE(v4);
  std::vector<std::uint8_t> out;
  v4->encode(out);
  EXPECT_EQ(out, (std::vector<std::uint8_t>{4, 0xc6, 0x33, 0x64, 0x07, 0x24, 0x7c}));
  EXPECT_EQ(v4->to_text(), "198.51.100.7:9340");
  auto v6 = NodeAddress::from_text("[2001:0db8:0::7]:1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->to_text(), "[2001:db8::7]:1");
  EXPECT_TRUE(NodeAddress::from_text("")->is_none());
  EXPECT_FALSE(NodeAddress::from_text("relay.example.org:9340"));
  EXPECT_FALSE(NodeAddress::from_text("198.51.100.7:0"));
  EXPECT_FALSE(NodeAddress::from_text("[::ffff:198.51.100.7]:9340"));
}

// The fuzz seeds (tests/fuzz/corpus/document_descriptor) stay what their
// names say: valid_* parse and re-encode to themselves, bad_* are refused.
TEST(SignedDescriptor, FuzzSeedsAreWhatTheirNamesSay) {
  test::check_fuzz_seeds(
      "document_descriptor",
      [](const std::vector<std::uint8_t>& bytes) -> std::optional<std::vector<std::uint8_t>> {
        auto parsed = SignedDescriptor::parse_and_verify(bytes);
        if (!parsed) {
          return std::nullopt;
        }
        return encoded(*parsed);
      },
      3, 0);
}

}  // namespace
}  // namespace nyx::document
