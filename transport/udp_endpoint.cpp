#include "transport/udp_endpoint.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <asio/ip/v6_only.hpp>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

namespace nyx::transport {
namespace {

// The kernel refuses GSO super-packets above 64 segments or 64 KiB.
constexpr std::size_t kMaxGsoSegments = 64;
constexpr std::size_t kMaxGsoBytes = 65000;
constexpr std::size_t kCmsgSpace = CMSG_SPACE(sizeof(std::uint16_t));

asio::ip::udp::endpoint normalise(const asio::ip::udp::endpoint& ep) {
  if (ep.address().is_v6() && ep.address().to_v6().is_v4_mapped()) {
    return {asio::ip::make_address_v4(asio::ip::v4_mapped, ep.address().to_v6()), ep.port()};
  }
  return ep;
}

}  // namespace

struct UdpEndpoint::Ring {
  Ring(const UdpEndpointConfig& c)
      : receive_buffers(c.receive_batch * c.slot_size),
        receive_addrs(c.receive_batch),
        receive_iov(c.receive_batch),
        receive_msgs(c.receive_batch),
        receive_from(c.receive_batch),
        receive_datagrams(c.receive_batch),
        send_buffers(c.send_ring * c.slot_size),
        send_sizes(c.send_ring),
        send_addrs(c.send_ring),
        send_addr_lens(c.send_ring),
        send_iov(c.send_ring),
        send_msgs(c.send_ring),
        send_msg_slots(c.send_ring),
        send_cmsg(c.send_ring) {}

  std::vector<std::uint8_t> receive_buffers;
  std::vector<sockaddr_storage> receive_addrs;
  std::vector<iovec> receive_iov;
  std::vector<mmsghdr> receive_msgs;
  std::vector<asio::ip::udp::endpoint> receive_from;
  std::vector<UdpDatagram> receive_datagrams;

  std::vector<std::uint8_t> send_buffers;
  std::vector<std::size_t> send_sizes;
  std::vector<sockaddr_storage> send_addrs;
  std::vector<socklen_t> send_addr_lens;
  std::vector<iovec> send_iov;
  std::vector<mmsghdr> send_msgs;
  std::vector<std::size_t> send_msg_slots;
  std::vector<std::array<std::uint8_t, kCmsgSpace>> send_cmsg;
};

UdpEndpoint::UdpEndpoint(asio::io_context& io, UdpEndpointConfig config)
    : socket_(io),
      config_(config),
      ring_(std::make_unique<Ring>(config_)),
      gate_(io.get_executor()) {}

UdpEndpoint::~UdpEndpoint() { close(); }

Result<std::unique_ptr<UdpEndpoint>> UdpEndpoint::open(asio::io_context& io,
                                                       UdpEndpointConfig config) {
  if (config.slot_size == 0 || config.receive_batch == 0 || config.send_ring == 0) {
    return make_error(ErrorCategory::kInvalidArgument, "udp endpoint: empty ring");
  }
  std::unique_ptr<UdpEndpoint> ep(new UdpEndpoint(io, config));
  asio::error_code ec;
  ep->socket_.open(config.bind.protocol(), ec);
  if (!ec && config.bind.address().is_v6()) {
    // One socket for IPv6 and IPv4 (as v4-mapped addresses) when bound to ::.
    ep->socket_.set_option(asio::ip::v6_only(!config.bind.address().is_unspecified()), ec);
  }
  if (!ec) {
    ep->socket_.set_option(asio::socket_base::receive_buffer_size(config.receive_buffer), ec);
  }
  if (!ec) {
    ep->socket_.set_option(asio::socket_base::send_buffer_size(config.send_buffer), ec);
  }
  if (!ec) {
    ep->socket_.bind(config.bind, ec);
  }
  if (!ec) {
    ep->socket_.non_blocking(true, ec);
  }
  if (ec) {
    return make_error(ErrorCategory::kIo, "udp endpoint: " + ec.message(), ec.value());
  }
  ep->v6_ = config.bind.address().is_v6();
  if (config.enable_gso) {
    // Probe: the option exists from Linux 4.18; a zero segment size disables
    // it per socket, so setting 0 tells us whether cmsgs will be accepted.
    int zero = 0;
    ep->gso_ =
        ::setsockopt(ep->socket_.native_handle(), SOL_UDP, UDP_SEGMENT, &zero, sizeof zero) == 0;
  }
  return ep;
}

void UdpEndpoint::start(ReceiveHandler handler) {
  handler_ = std::move(handler);
  if (!receiving_) {
    receiving_ = true;
    arm_receive();
  }
}

void UdpEndpoint::arm_receive() {
  auto pass = gate_.enter();
  if (!pass) {
    return;
  }
  socket_.async_wait(asio::socket_base::wait_read,
                     [this, pass = std::move(*pass)](const asio::error_code& ec) {
                       if (ec || pass.gate_closed() || !socket_.is_open()) {
                         return;
                       }
                       receive_batches(config_.max_batches_per_wakeup);
                       if (socket_.is_open()) {
                         arm_receive();
                       }
                     });
}

std::size_t UdpEndpoint::poll_receive() { return receive_batches(config_.max_batches_per_wakeup); }

std::size_t UdpEndpoint::receive_batches(std::size_t max_batches) {
  Ring& r = *ring_;
  std::size_t delivered = 0;
  for (std::size_t batch = 0; batch < max_batches && socket_.is_open(); ++batch) {
    const std::size_t n = config_.receive_batch;
    for (std::size_t i = 0; i < n; ++i) {
      r.receive_iov[i] = {r.receive_buffers.data() + i * config_.slot_size, config_.slot_size};
      msghdr& h = r.receive_msgs[i].msg_hdr;
      h = msghdr{};
      h.msg_name = &r.receive_addrs[i];
      h.msg_namelen = sizeof(sockaddr_storage);
      h.msg_iov = &r.receive_iov[i];
      h.msg_iovlen = 1;
    }
    const int got = ::recvmmsg(socket_.native_handle(), r.receive_msgs.data(),
                               static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
    if (got <= 0) {
      break;  // EAGAIN: drained; other errors (ICMP reports) end this wakeup too
    }
    std::size_t count = 0;
    for (int i = 0; i < got; ++i) {
      const auto idx = static_cast<std::size_t>(i);
      const msghdr& h = r.receive_msgs[idx].msg_hdr;
      if ((h.msg_flags & MSG_TRUNC) != 0) {
        continue;  // larger than any link datagram: not ours
      }
      asio::ip::udp::endpoint from;
      std::memcpy(from.data(), &r.receive_addrs[idx],
                  std::min<std::size_t>(h.msg_namelen, from.capacity()));
      from.resize(h.msg_namelen);
      r.receive_from[count] = normalise(from);
      r.receive_datagrams[count] = UdpDatagram{
          Bytes(r.receive_buffers.data() + idx * config_.slot_size, r.receive_msgs[idx].msg_len),
          &r.receive_from[count]};
      counters_.bytes_received += r.receive_msgs[idx].msg_len;
      ++count;
    }
    counters_.packets_received += count;
    ++counters_.batches_received;
    delivered += count;
    if (handler_ && count > 0) {
      handler_(std::span<const UdpDatagram>(r.receive_datagrams.data(), count));
    }
    if (static_cast<std::size_t>(got) < n) {
      break;  // the socket is drained
    }
  }
  return delivered;
}

MutableBytes UdpEndpoint::prepare_send(const asio::ip::udp::endpoint& to) {
  if (send_count_ == config_.send_ring || !socket_.is_open()) {
    ++counters_.dropped_send_ring_full;
    send_prepared_ = false;
    return {};
  }
  Ring& r = *ring_;
  const std::size_t slot = (send_head_ + send_count_) % config_.send_ring;
  asio::ip::udp::endpoint dest = to;
  if (v6_ && to.address().is_v4()) {
    dest = {asio::ip::make_address_v6(asio::ip::v4_mapped, to.address().to_v4()), to.port()};
  }
  std::memcpy(&r.send_addrs[slot], dest.data(), dest.size());
  r.send_addr_lens[slot] = static_cast<socklen_t>(dest.size());
  send_prepared_ = true;
  return MutableBytes(r.send_buffers.data() + slot * config_.slot_size, config_.slot_size);
}

void UdpEndpoint::commit_send(std::size_t size) {
  if (!send_prepared_) {
    return;
  }
  const std::size_t slot = (send_head_ + send_count_) % config_.send_ring;
  ring_->send_sizes[slot] = std::min(size, config_.slot_size);
  ++send_count_;
  send_prepared_ = false;
}

void UdpEndpoint::flush() {
  if (send_waiting_ || send_count_ == 0 || !socket_.is_open()) {
    return;
  }
  while (send_count_ > 0) {
    if (send_some() == 0) {
      break;
    }
  }
  if (send_count_ > 0 && socket_.is_open()) {
    arm_send();
  }
}

void UdpEndpoint::arm_send() {
  auto pass = gate_.enter();
  if (!pass) {
    return;
  }
  send_waiting_ = true;
  socket_.async_wait(asio::socket_base::wait_write,
                     [this, pass = std::move(*pass)](const asio::error_code& ec) {
                       if (ec || pass.gate_closed()) {
                         return;
                       }
                       send_waiting_ = false;
                       flush();
                     });
}

std::size_t UdpEndpoint::send_some() {
  Ring& r = *ring_;
  // Build one mmsghdr per run of same-destination, same-size datagrams (one
  // per datagram without GSO).
  std::size_t msgs = 0;
  std::size_t i = 0;
  while (i < send_count_) {
    const std::size_t first = (send_head_ + i) % config_.send_ring;
    std::size_t segments = 1;
    if (gso_) {
      while (i + segments < send_count_ && segments < kMaxGsoSegments &&
             (segments + 1) * r.send_sizes[first] <= kMaxGsoBytes) {
        const std::size_t next = (send_head_ + i + segments) % config_.send_ring;
        if (r.send_sizes[next] != r.send_sizes[first] ||
            r.send_addr_lens[next] != r.send_addr_lens[first] ||
            std::memcmp(&r.send_addrs[next], &r.send_addrs[first], r.send_addr_lens[first]) != 0) {
          break;
        }
        ++segments;
      }
    }
    for (std::size_t s = 0; s < segments; ++s) {
      const std::size_t slot = (send_head_ + i + s) % config_.send_ring;
      r.send_iov[i + s] = {r.send_buffers.data() + slot * config_.slot_size, r.send_sizes[slot]};
    }
    msghdr& h = r.send_msgs[msgs].msg_hdr;
    h = msghdr{};
    h.msg_name = &r.send_addrs[first];
    h.msg_namelen = r.send_addr_lens[first];
    h.msg_iov = &r.send_iov[i];
    h.msg_iovlen = segments;
    if (segments > 1) {
      h.msg_control = r.send_cmsg[msgs].data();
      h.msg_controllen = kCmsgSpace;
      cmsghdr* c = CMSG_FIRSTHDR(&h);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
      const auto gso_size = static_cast<std::uint16_t>(r.send_sizes[first]);
      std::memcpy(CMSG_DATA(c), &gso_size, sizeof gso_size);
    }
    r.send_msg_slots[msgs] = segments;
    ++msgs;
    i += segments;
  }
  const int sent = ::sendmmsg(socket_.native_handle(), r.send_msgs.data(),
                              static_cast<unsigned>(msgs), MSG_DONTWAIT);
  if (sent < 0) {
    const int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
      return 0;
    }
    if (gso_ && r.send_msg_slots[0] > 1 && (err == EIO || err == EINVAL || err == EOPNOTSUPP)) {
      gso_ = false;  // the device or kernel cannot segment: plain batches from now on
      return 1;
    }
    // The first message cannot be sent (e.g. an unreachable address): drop it.
    const std::size_t dropped = r.send_msg_slots[0];
    counters_.send_errors += dropped;
    send_head_ = (send_head_ + dropped) % config_.send_ring;
    send_count_ -= dropped;
    return dropped;
  }
  std::size_t slots = 0;
  for (int m = 0; m < sent; ++m) {
    slots += r.send_msg_slots[static_cast<std::size_t>(m)];
  }
  for (std::size_t s = 0; s < slots; ++s) {
    counters_.bytes_sent += r.send_sizes[(send_head_ + s) % config_.send_ring];
  }
  counters_.packets_sent += slots;
  ++counters_.batches_sent;
  send_head_ = (send_head_ + slots) % config_.send_ring;
  send_count_ -= slots;
  return slots;
}

asio::ip::udp::endpoint UdpEndpoint::local_endpoint() const {
  asio::error_code ec;
  auto ep = socket_.local_endpoint(ec);
  return ec ? asio::ip::udp::endpoint{} : ep;
}

void UdpEndpoint::close() {
  gate_.close();
  if (socket_.is_open()) {
    asio::error_code ec;
    socket_.close(ec);
  }
  receiving_ = false;
  send_waiting_ = false;
}

}  // namespace nyx::transport
