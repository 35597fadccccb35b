#pragma once
// LoopbackChannel: the two ends of an in-process datagram link, for a
// directory request a node makes to itself. A relay that is also an
// authority uploads its descriptor to every authority in
// directory.authorities, itself included; a CREATE_DIR circuit to its own
// link key cannot be built (the link layer has no link to itself), so
// RelayDirectoryCircuits hands the node's own DirectoryServer one end of
// this link and the requester the other. Both then run exactly the code a
// circuit runs: the stream session, the request and reply codecs, the
// server's limits.
//
// Each datagram reaches the other end on a later turn of the executor, as a
// circuit delivers it; while both ends live nothing is lost, reordered or
// refused. Destroying one end closes the link: datagrams still on their
// way are dropped, the other end's sends answer kClosed from then on, and
// its peer-closed handler runs (on a later turn), as a DESTROY tells a
// circuit's owner. Both ends live on one executor's thread.

#include <cstddef>
#include <functional>
#include <memory>
#include <utility>

#include <asio/any_io_executor.hpp>

#include "core/datagram_channel.hpp"

namespace nyx::daemon {

class LoopbackChannel final : public DatagramChannel {
 public:
  // What one end's owner is told when the other end goes.
  using PeerClosedHandler = std::function<void()>;

  static std::pair<std::unique_ptr<LoopbackChannel>, std::unique_ptr<LoopbackChannel>> pair(
      asio::any_io_executor executor, std::size_t max_datagram_size);
  ~LoopbackChannel() override;
  LoopbackChannel(const LoopbackChannel&) = delete;
  LoopbackChannel& operator=(const LoopbackChannel&) = delete;

  std::size_t max_datagram_size() const noexcept override;
  SendOutcome send(Bytes datagram) override;
  void set_receiver(DatagramReceiver* receiver) noexcept override { receiver_ = receiver; }

  // Empty clears it. Not called once this end is destroyed.
  void set_peer_closed_handler(PeerClosedHandler handler) { peer_closed_ = std::move(handler); }

 private:
  struct Link;
  LoopbackChannel(std::shared_ptr<Link> link, int side);

  std::shared_ptr<Link> link_;
  int side_;
  DatagramReceiver* receiver_ = nullptr;
  PeerClosedHandler peer_closed_;
};

}  // namespace nyx::daemon
