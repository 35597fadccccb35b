// IndexTable: one map from our local index to a handshake, a half-open
// handshake or a session; indices are fresh, never 0, never reused while in
// use; removing a peer removes everything naming it.

#include "transport/detail/index_table.hpp"

#include <cstdint>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "transport/detail/peer.hpp"

namespace nyx::transport::detail {
namespace {

TEST(IndexTableTest, InsertLookupRemove) {
  IndexTable table;
  Peer peer;
  const std::uint32_t index = table.insert(IndexEntry{.peer = &peer});
  EXPECT_NE(index, 0u);
  ASSERT_NE(table.lookup(index), nullptr);
  EXPECT_EQ(table.lookup(index)->peer, &peer);
  EXPECT_EQ(table.lookup(index)->session, nullptr);
  EXPECT_EQ(table.lookup(index)->half_open, nullptr);
  EXPECT_EQ(table.size(), 1u);

  table.remove(index);
  EXPECT_EQ(table.lookup(index), nullptr);
  EXPECT_EQ(table.size(), 0u);
  table.remove(index);  // removing what is gone is harmless
  EXPECT_EQ(table.size(), 0u);
}

TEST(IndexTableTest, IndicesAreNeverZeroAndNeverInUse) {
  // A generator that repeats itself and offers 0: the table skips both.
  const std::vector<std::uint32_t> draws = {0, 7, 7, 0, 7, 9, 9, 7, 11};
  std::size_t next = 0;
  IndexTable table([&] { return draws[next++ % draws.size()]; });
  Peer peer;
  EXPECT_EQ(table.insert(IndexEntry{.peer = &peer}), 7u);
  EXPECT_EQ(table.insert(IndexEntry{.peer = &peer}), 9u);
  EXPECT_EQ(table.insert(IndexEntry{.peer = &peer}), 11u);
  EXPECT_EQ(table.size(), 3u);
  // Once 9 is free it may be handed out again.
  table.remove(9);
  next = 5;
  EXPECT_EQ(table.insert(IndexEntry{.peer = &peer}), 9u);
}

TEST(IndexTableTest, RandomIndicesAreUnique) {
  IndexTable table;
  Peer peer;
  std::set<std::uint32_t> seen;
  for (int i = 0; i < 10'000; ++i) {
    const std::uint32_t index = table.insert(IndexEntry{.peer = &peer});
    EXPECT_NE(index, 0u);
    EXPECT_TRUE(seen.insert(index).second);
  }
  EXPECT_EQ(table.size(), 10'000u);
}

TEST(IndexTableTest, SetSessionSwapsAHandshakeForItsSession) {
  IndexTable table;
  Peer peer;
  UdpSession session;
  session.peer = &peer;
  const std::uint32_t index = table.insert(IndexEntry{.peer = &peer});
  session.local_index = index;
  table.set_session(index, session);
  const IndexEntry* entry = table.lookup(index);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->peer, &peer);
  EXPECT_EQ(entry->session, &session);
  EXPECT_EQ(entry->half_open, nullptr);
  EXPECT_EQ(table.size(), 1u);
}

TEST(IndexTableTest, RemovingAPeerRemovesItsEntriesOnly) {
  IndexTable table;
  Peer alice;
  Peer bob;
  UdpSession alice_current;
  alice_current.peer = &alice;
  UdpSession alice_previous;
  alice_previous.peer = &alice;
  UdpSession bob_current;
  bob_current.peer = &bob;

  const std::uint32_t alice_handshake = table.insert(IndexEntry{.peer = &alice});
  const std::uint32_t a1 = table.insert(IndexEntry{.peer = &alice});
  alice_current.local_index = a1;
  table.set_session(a1, alice_current);
  const std::uint32_t a2 = table.insert(IndexEntry{.peer = &alice});
  alice_previous.local_index = a2;
  table.set_session(a2, alice_previous);
  const std::uint32_t b1 = table.insert(IndexEntry{.peer = &bob});
  bob_current.local_index = b1;
  table.set_session(b1, bob_current);
  // A half-open handshake names no peer yet.
  const std::uint32_t half_open = table.insert(IndexEntry{});

  table.remove_peer(alice);
  EXPECT_EQ(table.lookup(alice_handshake), nullptr);
  EXPECT_EQ(table.lookup(a1), nullptr);
  EXPECT_EQ(table.lookup(a2), nullptr);
  ASSERT_NE(table.lookup(b1), nullptr);
  EXPECT_EQ(table.lookup(b1)->session, &bob_current);
  EXPECT_NE(table.lookup(half_open), nullptr);
  EXPECT_EQ(table.size(), 2u);
}

// Filing a session under an index the table no longer holds would leave an
// entry naming it after it is gone: a bug (debug builds stop there), and the
// table stays as it was.
TEST(IndexTableDeathTest, SetSessionRefusesAnIndexItDoesNotHold) {
  IndexTable table;
  Peer peer;
  UdpSession session;
  session.peer = &peer;
  const std::uint32_t index = table.insert(IndexEntry{.peer = &peer});
  table.remove(index);
  session.local_index = index;
  EXPECT_DEBUG_DEATH(table.set_session(index, session), "does not hold");
  EXPECT_EQ(table.lookup(index), nullptr);
}

TEST(IndexTableDeathTest, SetSessionRefusesASessionOfAnotherIndex) {
  IndexTable table;
  Peer peer;
  UdpSession session;
  session.peer = &peer;
  const std::uint32_t index = table.insert(IndexEntry{.peer = &peer});
  session.local_index = index + 1;
  EXPECT_DEATH(table.set_session(index, session), "filed under its own index");
}

}  // namespace
}  // namespace nyx::transport::detail
