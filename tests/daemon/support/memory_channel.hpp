#pragma once
// MemoryChannel: the two ends of an in-memory circuit for daemon tests. Each
// datagram reaches the other end on a later turn of the io_context, as a
// circuit delivers it, or `delay` after it was sent (a path's one-way time);
// closing the link (link()->closed) ends both and drops what is still on its
// way, as a DESTROY does; blocking it (link()->blocked) refuses every send
// with kBlocked, as a full relay queue does, until it is cleared; dropping
// it (link()->dropping) takes every datagram and delivers none, as a lossy
// path does. The link counts what it took and what it refused.

#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include "core/datagram_channel.hpp"

namespace nyx::daemon {

class MemoryChannel final : public DatagramChannel {
 public:
  struct Link {
    MemoryChannel* ends[2] = {nullptr, nullptr};
    bool closed = false;
    bool blocked = false;
    bool dropping = false;
    std::uint64_t taken = 0;    // datagrams answered kSent, dropped ones included
    std::uint64_t refused = 0;  // datagrams answered kBlocked
  };

  static std::pair<std::unique_ptr<MemoryChannel>, std::unique_ptr<MemoryChannel>> pair(
      asio::io_context& io, std::chrono::milliseconds delay = {}) {
    auto link = std::make_shared<Link>();
    auto a = std::unique_ptr<MemoryChannel>(new MemoryChannel(io, link, 0, delay));
    auto b = std::unique_ptr<MemoryChannel>(new MemoryChannel(io, link, 1, delay));
    return {std::move(a), std::move(b)};
  }
  ~MemoryChannel() override { link_->ends[side_] = nullptr; }

  std::size_t max_datagram_size() const noexcept override { return 990; }
  SendOutcome send(Bytes datagram) override {
    if (link_->closed) {
      return SendOutcome::kClosed;
    }
    if (datagram.size() > max_datagram_size()) {
      return SendOutcome::kTooLarge;
    }
    if (link_->blocked) {
      ++link_->refused;
      return SendOutcome::kBlocked;
    }
    ++link_->taken;
    if (link_->dropping) {
      return SendOutcome::kSent;
    }
    auto deliver = [link = link_, to = 1 - side_,
                    bytes = std::vector<std::uint8_t>(datagram.begin(), datagram.end())] {
      if (!link->closed && link->ends[to] != nullptr && link->ends[to]->receiver_ != nullptr) {
        link->ends[to]->receiver_->on_datagram(bytes);
      }
    };
    if (delay_.count() == 0) {
      asio::post(io_, std::move(deliver));
      return SendOutcome::kSent;
    }
    auto timer = std::make_shared<asio::steady_timer>(io_, delay_);
    timer->async_wait(
        [timer, deliver = std::move(deliver)](const std::error_code&) mutable { deliver(); });
    return SendOutcome::kSent;
  }
  void set_receiver(DatagramReceiver* receiver) noexcept override { receiver_ = receiver; }

  const std::shared_ptr<Link>& link() const { return link_; }

 private:
  MemoryChannel(asio::io_context& io, std::shared_ptr<Link> link, int side,
                std::chrono::milliseconds delay)
      : io_(io), link_(std::move(link)), side_(side), delay_(delay) {
    link_->ends[side_] = this;
  }

  asio::io_context& io_;
  std::shared_ptr<Link> link_;
  int side_;
  std::chrono::milliseconds delay_;
  DatagramReceiver* receiver_ = nullptr;
};

}  // namespace nyx::daemon
