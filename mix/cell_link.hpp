#pragma once
// The mix layer's narrow view of the transport: send one cell to a
// neighbour named by its static X25519 link key. The relay logic talks only
// to this, so it runs unchanged over the in-memory network of the tests and
// over the transport's LinkManager (mix/link_manager_cell_link.hpp).
//
// Implementations are called from the relay's thread only.

#include <optional>

#include <asio/ip/address.hpp>

#include "core/bytes.hpp"
#include "transport/peer_key.hpp"

namespace nyx::mix {

// Neighbours are named as the transport names them.
using transport::PeerKey;
using transport::PeerKeyHash;

class CellLink {
 public:
  virtual ~CellLink() = default;
  // Hands one kCellSize cell to the link towards `peer`. False when the link
  // dropped it (the link counts its own drops).
  virtual bool send_cell(const PeerKey& peer, Bytes cell) = 0;
  // The remote address of the link to `peer`, which CREATE admission groups
  // unlisted neighbours by. Links that know none say so, and all such
  // neighbours share one group (a flooder's fresh link keys must not each
  // bring a fresh bucket).
  virtual std::optional<asio::ip::address> peer_address(const PeerKey& peer) const {
    (void)peer;
    return std::nullopt;
  }
  // The static key this node shows `peer` on the link, when it is not the
  // relay's own (a client's links each have their own key,
  // transport::LinkConfig::fresh_initiator_keys): the two ends of a link
  // pick circuit-id sides by comparing the keys the link actually carries.
  virtual std::optional<PeerKey> local_key(const PeerKey& peer) const {
    (void)peer;
    return std::nullopt;
  }
};

}  // namespace nyx::mix
