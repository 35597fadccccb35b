// AuthorityStore (proposal 0002 section 5.7) on a real directory: an
// authority that voted and computed its consensus is written to disk, a
// fresh AuthorityState reads it back and carries on with the same vote and
// the same body; a damaged file, another authority's, another network's,
// or one holding a document that no longer verifies is refused with an
// error naming it. Real signed descriptors and votes throughout, at
// P = 24 s.
#include "daemon/authority_store.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "daemon/authority_snapshot_file.hpp"
#include "document/authority_state.hpp"
#include "document/support/authority_timeline.hpp"
#include "document/support/fuzz_seed_check.hpp"
#include "document/support/voting_fixtures.hpp"
#include "support/file_mode.hpp"
#include "support/temp_dir.hpp"

namespace nyx::daemon {
namespace {

using namespace test::authority_timeline;

using document::AuthorityState;

document::AuthorityConfig config(std::uint32_t period_seconds = kP) {
  document::AuthorityConfig c{.period = *document::Period::from_seconds(period_seconds),
                              .clock_skew = 1,
                              .authorities = {}};
  for (int n = 1; n <= 3; ++n) {
    c.authorities.push_back({test::authority_key(n).public_key, authority_link(n)});
  }
  return c;
}

AuthorityState authority(int n) { return *AuthorityState::make(config(), test::authority_key(n)); }

// Relay n's descriptor for kQ, signed at kUploadAt.
document::SignedDescriptor relay(int n) {
  document::SignedDescriptor d = test::relay_descriptor(n, kQ);
  d.published = kUploadAt;
  EXPECT_TRUE(d.sign(test::relay_identity(n)));
  return d;
}

// Authority 1 after a period up to its consensus: relays 1 and 2 accepted
// and swept, its vote made, authority 2's vote taken, the consensus computed.
AuthorityState voted_and_computed() {
  AuthorityState a = authority(1);
  for (int n = 1; n <= 2; ++n) {
    const document::SignedDescriptor d = relay(n);
    const auto bytes = *d.encode();
    auto screened = a.screen_descriptor(bytes, d.link_key, kUploadAt);
    EXPECT_TRUE(screened);
    const std::vector<document::ProbeResult> reached = {
        {d.udp_address, document::LinkTransport::kUdp, true, ""}};
    EXPECT_TRUE(a.admit_descriptor(*screened, reached, kUploadAt));
    a.record_sweep(kQ, d.node_id(), reached);
  }
  EXPECT_TRUE(a.make_vote(kQ, kVoteAt));
  const auto vote2 = test::encoded(
      test::signed_vote(2, {*document::RelayEntry::from_descriptor(50, relay(1))}, kQ, kP));
  EXPECT_TRUE(a.accept_vote(vote2, authority_link(2), kVoteAt));
  EXPECT_TRUE(a.compute(kQ, kComputeAt));
  return a;
}

AuthorityStore open_store(const std::filesystem::path& dir, int authority_number = 1,
                          std::uint32_t period_seconds = kP) {
  auto store =
      AuthorityStore::open(dir, period_seconds, test::authority_key(authority_number).public_key);
  EXPECT_TRUE(store) << store.error().to_string();
  return std::move(*store);
}

std::vector<std::uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

TEST(AuthorityStore, ARestartRestoresThePeriodAndPushesTheSameVote) {
  test::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  AuthorityState before = voted_and_computed();
  const auto own_vote = before.vote_bytes(kQ, test::authority_key(1).public_key);
  ASSERT_TRUE(own_vote);
  {
    AuthorityStore store = open_store(dir.path());
    ASSERT_TRUE(store.save(before.snapshot(kQ)));
    EXPECT_EQ(test::mode_of(store.directory()), 0700u);
    EXPECT_EQ(test::mode_of(store.file_for(kQ)), 0600u);
  }
  // Only the period file: no temporary left behind.
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path() / "authority")) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"period-70000000.bin"});

  AuthorityState after = authority(1);
  const AuthorityStore reopened = open_store(dir.path());
  ASSERT_TRUE(reopened.restore(after));
  // The descriptors, both votes and the consensus are back.
  EXPECT_NE(after.descriptor(kQ, relay(1).node_id()), nullptr);
  EXPECT_NE(after.descriptor(kQ, relay(2).node_id()), nullptr);
  EXPECT_EQ(after.votes(kQ).size(), 2u);
  ASSERT_NE(after.consensus(kQ), nullptr);
  EXPECT_EQ(*after.consensus(kQ)->encode(), *before.consensus(kQ)->encode());
  // The vote is not made again, even later in the vote window and although
  // the sweep was not restored: the stored one is pushed again.
  auto again = after.make_vote(kQ, kVoteAt + 1);
  ASSERT_TRUE(again);
  EXPECT_EQ(test::encoded(*again), *own_vote);
  // An upload of relay 1's same bytes is still the idempotent OK.
  const auto bytes = *relay(1).encode();
  auto same = after.screen_descriptor(bytes, relay(1).link_key, kSweepAt - 1);
  ASSERT_TRUE(same);
  EXPECT_TRUE(same->already_held);
}

TEST(AuthorityStore, ADamagedFileIsRefusedNamingIt) {
  test::TempDir dir;
  AuthorityStore store = open_store(dir.path());
  ASSERT_TRUE(store.save(voted_and_computed().snapshot(kQ)));
  auto bytes = read_file(store.file_for(kQ));
  bytes[bytes.size() / 2] ^= 0x01;
  write_file(store.file_for(kQ), bytes);
  AuthorityState after = authority(1);
  auto restored = store.restore(after);
  ASSERT_FALSE(restored);
  EXPECT_NE(restored.error().message.find(store.file_for(kQ).string()), std::string::npos)
      << restored.error().message;
  EXPECT_NE(restored.error().message.find("damaged"), std::string::npos)
      << restored.error().message;
  EXPECT_TRUE(after.votes(kQ).empty());

  // Cut short: refused too, never read as an empty period.
  write_file(store.file_for(kQ), std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 40));
  auto truncated = store.load();
  ASSERT_FALSE(truncated);
  EXPECT_NE(truncated.error().message.find(store.file_for(kQ).string()), std::string::npos);
}

TEST(AuthorityStore, AnotherAuthoritysOrAnotherNetworksFileIsRefused) {
  test::TempDir dir;
  AuthorityState other = authority(2);
  // Authority 2's state, written by its own store into authority 1's directory.
  AuthorityStore theirs = open_store(dir.path(), 2);
  ASSERT_TRUE(theirs.save(other.snapshot(kQ)));
  auto foreign = open_store(dir.path(), 1).load();
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().category, ErrorCategory::kConfig);
  EXPECT_NE(foreign.error().message.find("period-70000000.bin"), std::string::npos);
  EXPECT_NE(foreign.error().message.find("belongs to authority"), std::string::npos)
      << foreign.error().message;

  test::TempDir dir2;
  ASSERT_TRUE(open_store(dir2.path(), 1, 3600).save(authority(1).snapshot(kQ)));
  auto other_period = open_store(dir2.path(), 1, kP).load();
  ASSERT_FALSE(other_period);
  EXPECT_NE(other_period.error().message.find("period of 3600 s"), std::string::npos)
      << other_period.error().message;
}

TEST(AuthorityStore, AFileUnderAnotherPeriodsNameIsRefused) {
  test::TempDir dir;
  AuthorityStore store = open_store(dir.path());
  ASSERT_TRUE(store.save(voted_and_computed().snapshot(kQ)));
  std::filesystem::rename(store.file_for(kQ), store.file_for(kQ + 1));
  auto loaded = store.load();
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("its name says 70000001"), std::string::npos)
      << loaded.error().message;
}

TEST(AuthorityStore, AStoredVoteThatNoLongerVerifiesIsRefusedNamingTheFile) {
  test::TempDir dir;
  AuthorityStore store = open_store(dir.path());
  document::AuthoritySnapshot snapshot = voted_and_computed().snapshot(kQ);
  ASSERT_FALSE(snapshot.votes.empty());
  snapshot.votes.back().back() ^= 0x01;  // the signature's last byte; the checksum is right
  ASSERT_TRUE(store.save(snapshot));
  AuthorityState after = authority(1);
  auto restored = store.restore(after);
  ASSERT_FALSE(restored);
  EXPECT_NE(restored.error().message.find(store.file_for(kQ).string()), std::string::npos);
  EXPECT_NE(restored.error().message.find("does not verify"), std::string::npos)
      << restored.error().message;
}

TEST(AuthorityStore, PruneRemovesOldPeriodsAndOpenRemovesUnfinishedSaves) {
  test::TempDir dir;
  AuthorityStore store = open_store(dir.path());
  for (std::uint64_t q = kQ - 3; q <= kQ; ++q) {
    ASSERT_TRUE(store.save(authority(1).snapshot(q)));
  }
  ASSERT_TRUE(store.prune_before(kQ - 1));
  auto left = store.load();
  ASSERT_TRUE(left);
  ASSERT_EQ(left->size(), 2u);
  EXPECT_EQ(left->front().q, kQ - 1);
  EXPECT_EQ(left->back().q, kQ);

  const auto leftover = store.directory() / "period-70000000.bin.tmp-00000000deadbeef";
  write_file(leftover, {1, 2, 3});
  const AuthorityStore reopened = open_store(dir.path());
  EXPECT_FALSE(std::filesystem::exists(leftover));
  EXPECT_TRUE(reopened.load());
}

TEST(AuthoritySnapshotFile, OneEncodingAndEveryPrefixRefused) {
  AuthoritySnapshotFile file{kP, test::authority_key(1).public_key,
                             voted_and_computed().snapshot(kQ)};
  auto bytes = encode_authority_snapshot(file);
  ASSERT_TRUE(bytes) << bytes.error().to_string();
  auto decoded = decode_authority_snapshot(*bytes);
  ASSERT_TRUE(decoded) << decoded.error().to_string();
  EXPECT_EQ(decoded->snapshot.descriptors, file.snapshot.descriptors);
  EXPECT_EQ(decoded->snapshot.votes, file.snapshot.votes);
  EXPECT_EQ(decoded->snapshot.consensus, file.snapshot.consensus);
  EXPECT_EQ(*encode_authority_snapshot(*decoded), *bytes);
  for (std::size_t n = 0; n < bytes->size(); n += 7) {
    EXPECT_FALSE(decode_authority_snapshot(Bytes(*bytes).first(n))) << n;
  }
  // A descriptor outside its bounds is never written.
  file.snapshot.descriptors.front().resize(10);
  EXPECT_FALSE(encode_authority_snapshot(file));
}

TEST(AuthoritySnapshotFile, FuzzSeedsAreWhatTheirNamesSay) {
  test::check_fuzz_seeds(
      "daemon_authority_snapshot",
      [](const std::vector<std::uint8_t>& bytes) -> std::optional<std::vector<std::uint8_t>> {
        auto decoded = decode_authority_snapshot(bytes);
        if (!decoded) {
          return std::nullopt;
        }
        auto again = encode_authority_snapshot(*decoded);
        return again ? std::optional(*again) : std::nullopt;
      },
      2, 1);
}

}  // namespace
}  // namespace nyx::daemon
