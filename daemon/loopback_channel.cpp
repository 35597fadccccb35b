#include "daemon/loopback_channel.hpp"

#include <cstdint>
#include <vector>

#include <asio/post.hpp>

namespace nyx::daemon {

// Shared by both ends and by every delivery still queued, so a delivery
// that runs after an end went finds it gone rather than dangling.
struct LoopbackChannel::Link {
  asio::any_io_executor executor;
  std::size_t max_datagram_size = 0;
  LoopbackChannel* ends[2] = {nullptr, nullptr};
  bool closed = false;
};

std::pair<std::unique_ptr<LoopbackChannel>, std::unique_ptr<LoopbackChannel>> LoopbackChannel::pair(
    asio::any_io_executor executor, std::size_t max_datagram_size) {
  auto link = std::make_shared<Link>();
  link->executor = std::move(executor);
  link->max_datagram_size = max_datagram_size;
  return {std::unique_ptr<LoopbackChannel>(new LoopbackChannel(link, 0)),
          std::unique_ptr<LoopbackChannel>(new LoopbackChannel(link, 1))};
}

LoopbackChannel::LoopbackChannel(std::shared_ptr<Link> link, int side)
    : link_(std::move(link)), side_(side) {
  link_->ends[side_] = this;
}

LoopbackChannel::~LoopbackChannel() {
  link_->ends[side_] = nullptr;
  if (link_->closed) {
    return;
  }
  link_->closed = true;
  asio::post(link_->executor, [link = link_, peer = 1 - side_] {
    LoopbackChannel* end = link->ends[peer];
    if (end == nullptr || !end->peer_closed_) {
      return;
    }
    // A copy: the handler may destroy the end that holds it.
    const PeerClosedHandler handler = end->peer_closed_;
    handler();
  });
}

std::size_t LoopbackChannel::max_datagram_size() const noexcept { return link_->max_datagram_size; }

SendOutcome LoopbackChannel::send(Bytes datagram) {
  if (link_->closed) {
    return SendOutcome::kClosed;
  }
  if (datagram.size() > link_->max_datagram_size) {
    return SendOutcome::kTooLarge;
  }
  asio::post(link_->executor,
             [link = link_, to = 1 - side_,
              bytes = std::vector<std::uint8_t>(datagram.begin(), datagram.end())] {
               LoopbackChannel* end = link->ends[to];
               if (!link->closed && end != nullptr && end->receiver_ != nullptr) {
                 end->receiver_->on_datagram(bytes);
               }
             });
  return SendOutcome::kSent;
}

}  // namespace nyx::daemon
