#pragma once
// IndexTable: the one map from a local index — the 32-bit number a peer
// writes as receiver index in every UDP link message (docs/protocol.md,
// "Links (transport)") — to what it names: an initiator handshake of ours
// (its peer), a responder handshake awaiting message 3 (the half-open
// state), or a session's keys (and its peer). An initiator's index names its
// handshake, then its session; a responder's names its half-open state, then
// its session (as wireguard-go's IndexTable swaps a handshake for a keypair).
//
// It hands out the indices: random, never 0, never one in use. It points at
// what the LinkManager owns and owns nothing. One per LinkManager; not
// thread-safe.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <unordered_map>

namespace nyx::transport::detail {

struct HalfOpen;
struct Peer;
struct UdpSession;

struct IndexEntry {
  Peer* peer = nullptr;           // the initiator handshake's or the session's peer
  HalfOpen* half_open = nullptr;  // a responder handshake before message 3
  UdpSession* session = nullptr;  // established keys
};

class IndexTable {
 public:
  using RandomIndex = std::function<std::uint32_t()>;

  // Draws indices from the system CSPRNG.
  IndexTable();
  // Draws from `random` (tests make collisions happen).
  explicit IndexTable(RandomIndex random);

  // Adds `entry` under a fresh index and returns the index.
  std::uint32_t insert(IndexEntry entry);
  // What `index` names, or nullptr. Valid until the table next changes.
  const IndexEntry* lookup(std::uint32_t index) const;
  // `index` now names `session` (and its peer): a handshake completed.
  void set_session(std::uint32_t index, UdpSession& session);
  void remove(std::uint32_t index);
  // Removes every entry naming `peer`: its handshake and its sessions.
  void remove_peer(const Peer& peer);

  std::size_t size() const noexcept { return entries_.size(); }

 private:
  RandomIndex random_;
  std::unordered_map<std::uint32_t, IndexEntry> entries_;
};

}  // namespace nyx::transport::detail
