#include "mix/guard_set.hpp"

#include <map>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "mix/support/memory_network.hpp"
#include "mix/support/test_nodes.hpp"

namespace nyx::mix {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using testing::make_test_node_at;
using testing::SeededRandom;

constexpr Nanos kStart = seconds{1'700'000'000};
constexpr auto kDay = hours{24};

// 30 relays, each in a /16 of its own.
std::vector<document::NodeDescriptor> consensus() {
  std::vector<document::NodeDescriptor> nodes;
  for (int i = 0; i < 30; ++i) {
    nodes.push_back(make_test_node_at(i, fmt::format("203.{}.0.1", i), i % 5 == 0).descriptor);
  }
  return nodes;
}

std::vector<crypto::Ed25519PublicKey> primaries(const GuardSet& guards) {
  std::vector<crypto::Ed25519PublicKey> out;
  for (const GuardStatus& status : guards.status()) {
    if (status.primary) {
      out.push_back(status.entry.identity);
    }
  }
  return out;
}

TEST(GuardSet, EveryCircuitStartsAtTheFirstUsablePrimary) {
  const auto nodes = consensus();
  SeededRandom random(1);
  GuardSet guards(random);
  EXPECT_TRUE(guards.update(nodes, kStart));
  const auto primary = primaries(guards);
  ASSERT_EQ(primary.size(), kPrimaryGuards);
  EXPECT_EQ(guards.state().guards.size(), kPrimaryGuards);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(*guards.choose(kStart + seconds{i}), primary[0]);
  }
  EXPECT_EQ(guards.usable(kStart), primary);
  ASSERT_NE(guards.listed(primary[0]), nullptr);
  EXPECT_EQ(guards.listed(primary[0])->identity_key, primary[0]);
  // A later consensus with the same relays changes nothing.
  EXPECT_FALSE(guards.update(nodes, kStart + hours{1}));
  EXPECT_EQ(primaries(guards), primary);
}

TEST(GuardSet, SampledGuardsNeverConflict) {
  auto nodes = consensus();
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].family = fmt::format("family-{}", i % 2);  // two families in all
  }
  SeededRandom random(2);
  GuardSet guards(random);
  guards.update(nodes, kStart);
  // Only one guard per family fits, so only two are ever sampled.
  EXPECT_EQ(guards.state().guards.size(), 2u);
  const auto sample = guards.state().guards;
  EXPECT_NE(guards.listed(sample[0].identity)->family, guards.listed(sample[1].identity)->family);
}

TEST(GuardSet, SurvivesARestartWithTheSamePrimaries) {
  const auto nodes = consensus();
  SeededRandom random(3);
  GuardSet before(random);
  before.update(nodes, kStart);
  const std::string saved = before.state().to_text();

  auto restored = GuardState::from_text(saved);
  ASSERT_TRUE(restored.has_value()) << restored.error().to_string();
  EXPECT_EQ(*restored, before.state());
  SeededRandom other_random(99);  // a restart draws other numbers
  GuardSet after(other_random, {}, *restored);
  EXPECT_FALSE(after.update(nodes, kStart + hours{5}));
  EXPECT_EQ(primaries(after), primaries(before));
  EXPECT_EQ(*after.choose(kStart + hours{5}), *before.choose(kStart));
  EXPECT_EQ(after.state().to_text(), saved);
}

TEST(GuardSet, GuardsExpireAfterTheirLifetime) {
  const auto nodes = consensus();
  SeededRandom random(4);
  GuardSet guards(random);
  guards.update(nodes, kStart);
  const auto first = guards.state().guards;
  std::int64_t last_expiry = 0;
  for (const GuardEntry& entry : first) {
    const std::int64_t lifetime = entry.expires - entry.added;
    EXPECT_GE(lifetime, kGuardLifetime.count() * 9 / 10);
    EXPECT_LE(lifetime, kGuardLifetime.count() * 11 / 10);
    last_expiry = std::max(last_expiry, entry.expires);
  }
  EXPECT_FALSE(
      guards.update(nodes, Nanos{seconds{first[0].added + kGuardLifetime.count() * 8 / 10}}));
  EXPECT_TRUE(guards.update(nodes, Nanos{seconds{last_expiry}}));
  for (const GuardEntry& entry : guards.state().guards) {
    EXPECT_EQ(entry.added, last_expiry);  // every old guard went; new ones came
  }
  EXPECT_EQ(guards.state().guards.size(), kPrimaryGuards);
}

TEST(GuardSet, UnlistedGuardsAreRemovedAfterTwentyDays) {
  auto nodes = consensus();
  SeededRandom random(5);
  GuardSet guards(random);
  guards.update(nodes, kStart);
  const crypto::Ed25519PublicKey gone = *guards.choose(kStart);
  std::erase_if(nodes, [&](const auto& node) { return node.identity_key == gone; });

  ASSERT_TRUE(guards.update(nodes, kStart + hours{1}));
  EXPECT_NE(*guards.choose(kStart + hours{1}), gone);
  EXPECT_EQ(primaries(guards).size(), kPrimaryGuards);  // a new guard was sampled
  EXPECT_EQ(guards.state().guards.size(), kPrimaryGuards + 1);
  EXPECT_EQ(guards.state().guards[0].identity, gone);
  EXPECT_EQ(guards.state().guards[0].unlisted_since, (kStart + hours{1}) / seconds{1});

  EXPECT_FALSE(guards.update(nodes, kStart + hours{1} + 19 * kDay));
  EXPECT_EQ(guards.state().guards[0].identity, gone);
  EXPECT_TRUE(guards.update(nodes, kStart + hours{1} + 20 * kDay));
  EXPECT_NE(guards.state().guards[0].identity, gone);
  EXPECT_EQ(guards.state().guards.size(), kPrimaryGuards);
}

TEST(GuardSet, AGuardListedAgainIsPrimaryAgain) {
  auto nodes = consensus();
  SeededRandom random(6);
  GuardSet guards(random);
  guards.update(nodes, kStart);
  const crypto::Ed25519PublicKey first = *guards.choose(kStart);
  auto without = nodes;
  std::erase_if(without, [&](const auto& node) { return node.identity_key == first; });
  guards.update(without, kStart + hours{1});
  EXPECT_NE(*guards.choose(kStart + hours{1}), first);
  EXPECT_TRUE(guards.update(nodes, kStart + hours{2}));  // unlisted_since back to 0
  EXPECT_EQ(*guards.choose(kStart + hours{2}), first);
  EXPECT_EQ(guards.state().guards[0].unlisted_since, 0);
}

TEST(GuardSet, DownGuardsBackOffAndComeBack) {
  const auto nodes = consensus();
  SeededRandom random(7);
  GuardSet guards(random);
  guards.update(nodes, kStart);
  const auto primary = primaries(guards);
  Nanos now = kStart;
  EXPECT_FALSE(guards.mark_failed(primary[0], now));
  EXPECT_FALSE(guards.mark_failed(primary[0], now));
  EXPECT_EQ(*guards.choose(now), primary[0]);  // two failures are not yet down
  guards.mark_failed(primary[0], now);
  EXPECT_EQ(*guards.choose(now), primary[1]);
  const Nanos retry = guards.status()[0].unreachable_until;
  EXPECT_GE(retry - now, seconds{30});
  EXPECT_LE(retry - now, seconds{90});
  EXPECT_EQ(*guards.choose(retry - seconds{1}), primary[1]);
  EXPECT_EQ(*guards.choose(retry), primary[0]);  // back to the first primary
  guards.mark_succeeded(primary[0]);
  guards.mark_failed(primary[0], retry);  // a success cleared the count
  EXPECT_EQ(*guards.choose(retry), primary[0]);
}

TEST(GuardSet, DownGuardsBackOffAndTheSampleStaysBounded) {
  const auto nodes = consensus();
  SeededRandom random(8);
  GuardSet guards(random);
  guards.update(nodes, kStart);
  Nanos now = kStart;
  // Every guard fails every time it is tried, for a week.
  std::map<crypto::Ed25519PublicKey, Nanos> last_delay;
  while (now < kStart + 7 * kDay) {
    auto chosen = guards.choose(now);
    if (!chosen) {
      Nanos next = now + 7 * kDay;
      for (const GuardStatus& status : guards.status()) {
        next = std::min(next, status.unreachable_until);
      }
      now = std::max(next, now + seconds{1});
      continue;
    }
    for (int i = 0; i < 3; ++i) {
      guards.mark_failed(*chosen, now);
    }
    for (const GuardStatus& status : guards.status()) {
      if (status.entry.identity == *chosen) {
        const Nanos delay = status.unreachable_until - now;
        EXPECT_GE(delay, status.primary ? Nanos{seconds{30}} : Nanos{seconds{600}});
        EXPECT_LE(delay, status.primary ? Nanos{hours{6}} : Nanos{hours{36}});
      }
    }
    EXPECT_LE(guards.state().guards.size(), kMaxGuardSample);
  }
  EXPECT_EQ(guards.state().guards.size(), kMaxGuardSample);  // 20 entries, not all 30
}

TEST(GuardSet, ABackOffGrowsWithRepeatedFailures) {
  const auto nodes = consensus();
  SeededRandom random(9);
  GuardSet guards(random);
  guards.update(nodes, kStart);
  const auto first = primaries(guards)[0];
  Nanos now = kStart;
  Nanos longest{0};
  for (int round = 0; round < 40; ++round) {
    for (int i = 0; i < 3; ++i) {
      guards.mark_failed(first, now);
    }
    const Nanos until = guards.status()[0].unreachable_until;
    longest = std::max(longest, until - now);
    EXPECT_LE(until - now, Nanos{hours{6}});
    now = until;
  }
  EXPECT_GT(longest, Nanos{hours{1}});  // not stuck at the base
}

TEST(GuardState, RefusesMalformedLines) {
  const std::string id(64, 'a');
  const std::string good = "nyx-guards-v1\nguard " + id + " 100 200 0\n";
  ASSERT_TRUE(GuardState::from_text(good).has_value());
  EXPECT_TRUE(GuardState::from_text("nyx-guards-v1\n").has_value());
  const std::vector<std::string> bad = {
      "",
      "nyx-guards-v1",                                                  // no line end
      "nyx-guards-v2\n",                                                // unknown header
      "nyx-guards-v1\nguard " + id + " 100 200 0",                      // last line unterminated
      "nyx-guards-v1\nguard " + id + " 100 200\n",                      // a field missing
      "nyx-guards-v1\nguard " + id + " 100 200 0 7\n",                  // a field too many
      "nyx-guards-v1\nguard " + id + "  100 200 0\n",                   // a doubled space
      "nyx-guards-v1\nguard " + id + " 100 200 0 \n",                   // a trailing space
      "nyx-guards-v1\nguard " + id + " 100 200 0\r\n",                  // a CR
      "nyx-guards-v1\nguard " + id + " 0100 200 0\n",                   // a leading zero
      "nyx-guards-v1\nguard " + id + " -100 200 0\n",                   // a sign
      "nyx-guards-v1\nguard " + id + " 200 100 0\n",                    // expires before added
      "nyx-guards-v1\nguard " + id + " 99999999999999999999 1 0\n",     // overflow
      "nyx-guards-v1\nguard " + std::string(64, 'A') + " 100 200 0\n",  // upper case
      "nyx-guards-v1\nguard " + std::string(62, 'a') + " 100 200 0\n",  // short key
      "nyx-guards-v1\nguard " + std::string(64, 'g') + " 100 200 0\n",  // not hex
      "nyx-guards-v1\nguards " + id + " 100 200 0\n",                   // wrong keyword
      "nyx-guards-v1\n\n",                                              // blank line
      good + "guard " + id + " 100 200 0\n",                            // duplicate
  };
  for (const std::string& text : bad) {
    auto parsed = GuardState::from_text(text);
    ASSERT_FALSE(parsed.has_value()) << text;
    EXPECT_EQ(parsed.error().category, ErrorCategory::kParse);
  }
  auto duplicate = GuardState::from_text(good + "guard " + id + " 100 200 0\n");
  EXPECT_NE(duplicate.error().message.find("line 3"), std::string::npos);
}

TEST(GuardState, RefusesMoreGuardsThanTheSampleHolds) {
  std::string text = "nyx-guards-v1\n";
  for (std::size_t i = 0; i < kMaxGuardSample; ++i) {
    text += fmt::format("guard {:064x} 100 200 0\n", i);
  }
  ASSERT_TRUE(GuardState::from_text(text).has_value());
  text += fmt::format("guard {:064x} 100 200 0\n", kMaxGuardSample);
  EXPECT_FALSE(GuardState::from_text(text).has_value());
}

}  // namespace
}  // namespace nyx::mix
