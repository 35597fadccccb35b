#pragma once
// Runs a Relay over the transport: cells the relay sends go to
// LinkManager::send; every batch of cells the LinkManager receives goes to
// Relay::handle_cell and then the relay's queues are flushed into the links;
// a link going down destroys the circuits through it.
//
// Ownership and threading: lives on the LinkManager's shard, next to the
// Relay it serves; construct it before the Relay (which takes it as its
// CellLink), attach() the Relay, and destroy it after the Relay. The
// LinkManager must outlive it. Not thread-safe.

#include "core/error.hpp"
#include "mix/cell_link.hpp"
#include "mix/directory.hpp"
#include "transport/link_manager.hpp"

namespace nyx::mix {

class Relay;

class LinkManagerCellLink final : public CellLink {
 public:
  explicit LinkManagerCellLink(transport::LinkManager& links) noexcept : links_(links) {}
  ~LinkManagerCellLink() override;
  LinkManagerCellLink(const LinkManagerCellLink&) = delete;
  LinkManagerCellLink& operator=(const LinkManagerCellLink&) = delete;

  // True when the cell was sent or queued behind a handshake.
  bool send_cell(const PeerKey& peer, Bytes cell) override;

  // Routes the LinkManager's cells and link events to `relay`.
  void attach(Relay& relay);

  // Tells the LinkManager how to reach every other node of the directory.
  // kParse naming the node's address when one is not "ip:port".
  Status add_peers(const Directory& directory);

 private:
  transport::LinkManager& links_;
};

}  // namespace nyx::mix
