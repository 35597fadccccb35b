#pragma once
// Runs a Relay over the transport: cells the relay sends go to
// LinkManager::send; every batch of cells the LinkManager receives goes to
// Relay::handle_cell; whenever cells wait in the relay's queues, a flush is
// posted to the io_context, one flush budget per event-loop turn until they
// are gone (so queues drain fairly between receiving and sending); a link
// going down destroys the circuits through it.
//
// Ownership and threading: lives on the LinkManager's shard, next to the
// Relay it serves; construct it before the Relay (which takes it as its
// CellLink), attach() the Relay, and destroy it after the Relay. The
// LinkManager must outlive it. Not thread-safe.

#include <memory>

#include "core/error.hpp"
#include "document/directory.hpp"
#include "mix/cell_link.hpp"
#include "transport/link_manager.hpp"

namespace nyx::mix {

class Relay;

class LinkManagerCellLink final : public CellLink {
 public:
  // `io` runs the LinkManager's handlers.
  LinkManagerCellLink(transport::LinkManager& links, asio::io_context& io)
      : links_(links), io_(io) {}
  ~LinkManagerCellLink() override;
  LinkManagerCellLink(const LinkManagerCellLink&) = delete;
  LinkManagerCellLink& operator=(const LinkManagerCellLink&) = delete;

  // True when the cell was sent or queued behind a handshake.
  bool send_cell(const PeerKey& peer, Bytes cell) override;
  std::optional<PeerKey> local_key(const PeerKey& peer) const override {
    return links_.local_key(peer);
  }
  // Where the peer's link comes from, as the transport saw it.
  std::optional<asio::ip::address> peer_address(const PeerKey& peer) const override {
    return links_.remote_address(peer);
  }

  // Routes the LinkManager's cells and link events to `relay`, and flushes
  // its queues.
  void attach(Relay& relay);

  // Tells the LinkManager how to reach every other node of the directory.
  // kParse naming the node's address when one is not "ip:port".
  Status add_peers(const document::Directory& directory);

 private:
  void request_flush();

  transport::LinkManager& links_;
  asio::io_context& io_;
  Relay* relay_ = nullptr;
  bool flush_posted_ = false;
  // Posted flushes check it: one may still be queued when this is destroyed.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace nyx::mix
