#include "cli/linkemu/switch_io.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <vector>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/linkemu/link_model.hpp"
#include "cli/linkemu/switch_stats.hpp"

namespace nyx::linkemu {
namespace {

constexpr std::size_t kSlotSize = 2048;
constexpr std::size_t kSlots = 16384;  // 32 MiB: ~0.4 s of 40 kpps in flight
constexpr std::size_t kBatch = 64;
constexpr int kMaxBatchesPerPort = 8;       // per wake-up, so one port cannot starve the rest
constexpr Nanos kMicroBatch = 20 * kMicro;  // release what is due this soon now
// struct virtio_net_hdr (PACKET_VNET_HDR); <linux/virtio_net.h> does not compile as C++.
constexpr std::size_t kVnetHeader = 10;
constexpr std::size_t kEthHeader = 14;
// TPACKET_V2 RX ring: 4096 frames of 2 KiB (8 MiB), about 100 ms of stall at
// 40 kpps before the first ring drop (proposal §2.4.3).
constexpr unsigned kRingFrameSize = 2048;
constexpr unsigned kRingBlockSize = 1 << 16;
constexpr unsigned kRingBlocks = 128;
constexpr unsigned kRingFrames = kRingBlockSize / kRingFrameSize * kRingBlocks;
// TPACKET_ALIGN(sizeof(tpacket2_hdr)): where the frame's sockaddr_ll starts.
constexpr std::size_t kRingHeader =
    (sizeof(tpacket2_hdr) + TPACKET_ALIGNMENT - 1) & ~std::size_t{TPACKET_ALIGNMENT - 1};
constexpr std::uint8_t kMacPrefix[5] = {0x02, 0x4e, 0x59, 0x00, 0x00};

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_dump = 0;

void on_stop(int) { g_stop = 1; }
void on_dump(int) { g_dump = 1; }

Nanos clock_ns(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<Nanos>(ts.tv_sec) * kSecond + ts.tv_nsec;
}

Error errno_error(const std::string& what) {
  const int err = errno;
  return Error{ErrorCategory::kIo, err, fmt::format("{}: {}", what, std::strerror(err))};
}

struct Port {
  int fd = -1;
  std::vector<LinkModel::PacketId> pending;  // released, not yet sent
  PortStats stats;
};

// Blocks the signals the switch answers, with handlers that set the flags
// above, and returns the mask ppoll waits with: those signals are delivered
// only while it sleeps, so the loop never misses one between its checks.
sigset_t install_signal_handlers() {
  sigset_t blocked;
  sigset_t unblocked;
  sigemptyset(&blocked);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1}) {
    sigaddset(&blocked, sig);
  }
  struct sigaction stop {};
  stop.sa_handler = on_stop;
  struct sigaction dump {};
  dump.sa_handler = on_dump;
  ::sigaction(SIGINT, &stop, nullptr);
  ::sigaction(SIGTERM, &stop, nullptr);
  ::sigaction(SIGHUP, &stop, nullptr);
  ::sigaction(SIGUSR1, &dump, nullptr);
  ::sigprocmask(SIG_BLOCK, &blocked, &unblocked);
  sigdelset(&unblocked, SIGINT);
  sigdelset(&unblocked, SIGTERM);
  sigdelset(&unblocked, SIGHUP);
  sigdelset(&unblocked, SIGUSR1);
  return unblocked;
}

class Switch {
 public:
  Switch(const SwitchConfig& config, const SwitchOptions& options)
      : config_(config),
        options_(options),
        model_(config.hosts.size(), config.seed),
        pool_(kSlots * kSlotSize),
        length_(kSlots) {
    host_of_mac_.fill(-1);
    for (std::size_t i = 0; i < config.hosts.size(); ++i) {
      host_of_mac_[static_cast<std::size_t>(config.hosts[i].index)] = static_cast<int>(i);
      model_.set_host(i, config.hosts[i].params);
      for (std::size_t j = 0; j < config.hosts.size(); ++j) {
        if (i != j) {
          model_.set_link(i, j, config.link(config.hosts[i].index, config.hosts[j].index));
        }
      }
    }
    free_.reserve(kSlots);
    for (std::size_t i = kSlots; i > 0; --i) {
      free_.push_back(static_cast<LinkModel::PacketId>(i - 1));
    }
  }
  ~Switch() {
    if (ring_ != nullptr) {
      ::munmap(ring_, std::size_t{kRingBlockSize} * kRingBlocks);
    }
    if (ring_fd_ >= 0) {
      ::close(ring_fd_);
    }
    for (auto& port : ports_) {
      if (port.fd >= 0) {
        ::close(port.fd);
      }
    }
  }
  Switch(const Switch&) = delete;
  Switch& operator=(const Switch&) = delete;

  Status open_ports() {
    for (std::size_t i = 0; i < config_.hosts.size(); ++i) {
      Port port;
      port.stats.host = i;
      port.stats.name = config_.hosts[i].port;
      const unsigned ifindex = ::if_nametoindex(port.stats.name.c_str());
      if (ifindex == 0) {
        return std::unexpected(errno_error(fmt::format("no interface {}", port.stats.name)));
      }
      // With the ring, a port's socket only transmits: protocol 0 receives nothing.
      const std::uint16_t protocol = options_.ring ? 0 : htons(ETH_P_ALL);
      port.fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
      if (port.fd < 0) {
        return std::unexpected(errno_error("socket(AF_PACKET)"));
      }
      const int one = 1;
      const int buffer = 8 << 20;
      bool ok = ::setsockopt(port.fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) == 0 &&
                ::setsockopt(port.fd, SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof buffer) == 0;
      if (ok && !options_.ring) {
        ok = ::setsockopt(port.fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) == 0 &&
             ::setsockopt(port.fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) == 0 &&
             ::setsockopt(port.fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer) == 0;
      }
      if (!ok) {
        ::close(port.fd);
        return std::unexpected(errno_error(fmt::format("setsockopt on {}", port.stats.name)));
      }
      sockaddr_ll address{};
      address.sll_family = AF_PACKET;
      address.sll_protocol = protocol;
      address.sll_ifindex = static_cast<int>(ifindex);
      if (::bind(port.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(port.fd);
        return std::unexpected(errno_error(fmt::format("bind to {}", port.stats.name)));
      }
      port_of_ifindex_[static_cast<int>(ifindex)] = ports_.size();
      ports_.push_back(std::move(port));
    }
    return options_.ring ? open_ring() : Status{};
  }

  // One unbound socket sees every port of the hub; the kernel writes each
  // frame, its timestamp and its interface into a shared ring slot.
  Status open_ring() {
    ring_fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (ring_fd_ < 0) {
      return std::unexpected(errno_error("socket(AF_PACKET) for the ring"));
    }
    const int version = TPACKET_V2;
    const int one = 1;
    tpacket_req request{};
    request.tp_block_size = kRingBlockSize;
    request.tp_block_nr = kRingBlocks;
    request.tp_frame_size = kRingFrameSize;
    request.tp_frame_nr = kRingFrames;
    // The order matters: the version and the vnet header are fixed once the ring exists.
    if (::setsockopt(ring_fd_, SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0 ||
        ::setsockopt(ring_fd_, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) != 0 ||
        ::setsockopt(ring_fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0 ||
        ::setsockopt(ring_fd_, SOL_PACKET, PACKET_RX_RING, &request, sizeof request) != 0) {
      return std::unexpected(errno_error("TPACKET_V2 ring setup"));
    }
    void* map = ::mmap(nullptr, std::size_t{kRingBlockSize} * kRingBlocks, PROT_READ | PROT_WRITE,
                       MAP_SHARED, ring_fd_, 0);
    if (map == MAP_FAILED) {
      return std::unexpected(errno_error("mmap of the ring"));
    }
    ring_ = static_cast<std::uint8_t*>(map);
    return {};
  }

  Status run(std::FILE* log) {
    const sigset_t unblocked = install_signal_handlers();
    std::vector<pollfd> fds;
    if (options_.ring) {
      fds.push_back(pollfd{ring_fd_, POLLIN, 0});
    } else {
      for (const auto& port : ports_) {
        fds.push_back(pollfd{port.fd, POLLIN, 0});
      }
    }
    started_ = clock_ns(CLOCK_MONOTONIC);
    offset_ = clock_ns(CLOCK_REALTIME) - started_;
    Nanos next_statistics = started_ + kSecond;
    fmt::print(log, "linkemu: ready ({} ports, {})\n", ports_.size(),
               ::sched_getscheduler(0) == SCHED_FIFO ? "SCHED_FIFO" : "SCHED_OTHER");
    std::fflush(log);

    std::vector<LinkModel::Release> released;  // reused, so the loop allocates nothing
    while (g_stop == 0) {
      ++stats_.wakeups;
      Nanos now = clock_ns(CLOCK_MONOTONIC);
      const Nanos offset = clock_ns(CLOCK_REALTIME) - now;
      if (std::abs(offset - offset_) > kMilli) {
        ++stats_.clock_steps;
      }
      offset_ = offset;
      if (options_.ring) {
        receive_ring(now);
      } else {
        for (auto& port : ports_) {
          receive(port, now);
        }
      }
      now = clock_ns(CLOCK_MONOTONIC);
      release_due(now, released);
      bool retry = false;
      for (auto& port : ports_) {
        retry = send(port) || retry;
      }
      if (now >= next_statistics) {
        read_ring_drops();
        next_statistics = now + kSecond;
      }
      if (g_dump != 0) {
        g_dump = 0;
        write_stats();
      }
      // Sleep until the next event, a frame, a signal, or the statistics tick.
      Nanos wake = next_statistics;
      const Nanos next = model_.next_event();
      if (next >= 0) {
        wake = std::min(wake, next);
      }
      if (retry) {
        wake = std::min(wake, now + 50 * kMicro);
      }
      const Nanos wait = std::max<Nanos>(wake - clock_ns(CLOCK_MONOTONIC), 0);
      timespec timeout{static_cast<time_t>(wait / kSecond), static_cast<long>(wait % kSecond)};
      const int ready = ::ppoll(fds.data(), fds.size(), &timeout, &unblocked);
      if (ready < 0 && errno != EINTR) {
        return std::unexpected(errno_error("ppoll"));
      }
    }
    read_ring_drops();
    write_stats();
    fmt::print(log, "linkemu: stopped, {} forwarded\n", stats_.forwarded);
    return {};
  }

 private:
  // Queues on their ports what the model releases by now (and a micro-batch
  // beyond, so frames due together leave in one sendmmsg).
  void release_due(Nanos now, std::vector<LinkModel::Release>& released) {
    released.clear();
    model_.release_due(now + kMicroBatch, released);
    for (const auto& r : released) {
      if (r.dropped) {
        free_.push_back(r.id);
      } else {
        ports_[r.to].pending.push_back(r.id);
        scheduled_[r.id % kSlots] = r.at;
      }
    }
  }

  void receive(Port& port, Nanos now) {
    std::array<mmsghdr, kBatch> messages{};
    std::array<iovec, kBatch> iov{};
    std::array<std::array<char, CMSG_SPACE(sizeof(timespec)) + 64>, kBatch> control{};
    std::array<LinkModel::PacketId, kBatch> ids{};
    for (int batch = 0; batch < kMaxBatchesPerPort; ++batch) {
      std::size_t n = std::min(kBatch, free_.size());
      if (n == 0) {
        // Pool exhausted: read one frame into the scratch slot and drop it.
        std::array<std::byte, kSlotSize> scratch;
        if (::recv(port.fd, scratch.data(), scratch.size(), MSG_DONTWAIT) > 0) {
          ++stats_.pool_drops;
          continue;
        }
        return;
      }
      for (std::size_t i = 0; i < n; ++i) {
        ids[i] = free_[free_.size() - 1 - i];
        iov[i] = iovec{slot(ids[i]), kSlotSize};
        messages[i].msg_hdr = msghdr{};
        messages[i].msg_hdr.msg_iov = &iov[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_control = control[i].data();
        messages[i].msg_hdr.msg_controllen = control[i].size();
      }
      const int got =
          ::recvmmsg(port.fd, messages.data(), static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
      if (got <= 0) {
        return;
      }
      free_.resize(free_.size() - static_cast<std::size_t>(got));
      for (int i = 0; i < got; ++i) {
        ++port.stats.received;
        accept(port, ids[static_cast<std::size_t>(i)], messages[static_cast<std::size_t>(i)], now);
      }
      if (static_cast<std::size_t>(got) < n) {
        return;
      }
    }
  }

  // Drains the ring: every frame is copied into a pool slot and its ring
  // slot handed back at once, so one long-delay frame never blocks the ring.
  void receive_ring(Nanos now) {
    for (unsigned n = 0; n < kRingFrames; ++n) {
      std::uint8_t* frame = ring_ + std::size_t{ring_head_} * kRingFrameSize;
      auto* header = reinterpret_cast<tpacket2_hdr*>(frame);
      const auto status = __atomic_load_n(&header->tp_status, __ATOMIC_ACQUIRE);
      if ((status & TP_STATUS_USER) == 0) {
        return;
      }
      const auto* from = reinterpret_cast<const sockaddr_ll*>(frame + kRingHeader);
      const auto port = port_of_ifindex_.find(from->sll_ifindex);
      if (port == port_of_ifindex_.end()) {
        ++stats_.unknown_destination;  // not one of our ports (lo)
      } else if (free_.empty()) {
        ++stats_.pool_drops;
      } else {
        const LinkModel::PacketId id = free_.back();
        free_.pop_back();
        const std::size_t length = header->tp_snaplen + kVnetHeader;
        const bool truncated = header->tp_snaplen < header->tp_len || length > kSlotSize;
        std::memcpy(slot(id), frame + header->tp_mac - kVnetHeader, std::min(length, kSlotSize));
        const Nanos arrival =
            static_cast<Nanos>(header->tp_sec) * kSecond + header->tp_nsec - offset_;
        ++ports_[port->second].stats.received;
        accept_frame(ports_[port->second], id, length, truncated, arrival, now);
      }
      __atomic_store_n(&header->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
      ring_head_ = (ring_head_ + 1) % kRingFrames;
    }
  }

  void accept(Port& port, LinkModel::PacketId id, const mmsghdr& message, Nanos now) {
    Nanos arrival = now;
    for (cmsghdr* c = CMSG_FIRSTHDR(&message.msg_hdr); c != nullptr;
         c = CMSG_NXTHDR(const_cast<msghdr*>(&message.msg_hdr), c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        timespec ts{};
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        arrival = static_cast<Nanos>(ts.tv_sec) * kSecond + ts.tv_nsec - offset_;
      }
    }
    accept_frame(port, id, message.msg_len, (message.msg_hdr.msg_flags & MSG_TRUNC) != 0, arrival,
                 now);
  }

  // A frame in slot `id` (virtio-net header first), received on `port` at
  // `arrival` (kernel time on the monotonic line).
  void accept_frame(Port& port, LinkModel::PacketId id, std::size_t length, bool truncated,
                    Nanos arrival, Nanos now) {
    const auto* frame = reinterpret_cast<const std::uint8_t*>(slot(id));
    if (truncated || length < kVnetHeader + kEthHeader + 20) {
      ++stats_.truncated;
      free_.push_back(id);
      return;
    }
    const std::uint8_t* eth = frame + kVnetHeader;
    if (eth[12] != 0x08 || eth[13] != 0x00) {
      ++stats_.non_ipv4;
      free_.push_back(id);
      return;
    }
    const int to = std::memcmp(eth, kMacPrefix, sizeof kMacPrefix) == 0 ? host_of_mac_[eth[5]] : -1;
    if (to < 0 || static_cast<std::size_t>(to) == port.stats.host) {
      ++stats_.unknown_destination;
      free_.push_back(id);
      return;
    }
    stats_.ingest_lag.add(now - arrival);
    arrival = std::min(arrival, now);
    length_[id] = static_cast<std::uint32_t>(length);
    const auto ip_bytes = static_cast<std::uint32_t>(length - kVnetHeader - kEthHeader);
    if (model_.submit(id, port.stats.host, static_cast<std::size_t>(to), ip_bytes, arrival) !=
        LinkModel::Verdict::kQueued) {
      free_.push_back(id);
    }
  }

  // Sends what is pending; true when some of it must be retried.
  bool send(Port& port) {
    if (port.pending.empty()) {
      return false;
    }
    std::array<mmsghdr, kBatch> messages{};
    std::array<iovec, kBatch> iov{};
    std::size_t done = 0;
    bool retry = false;
    while (done < port.pending.size()) {
      const std::size_t n = std::min(kBatch, port.pending.size() - done);
      for (std::size_t i = 0; i < n; ++i) {
        const auto id = port.pending[done + i];
        iov[i] = iovec{slot(id), length_[id]};
        messages[i].msg_hdr = msghdr{};
        messages[i].msg_hdr.msg_iov = &iov[i];
        messages[i].msg_hdr.msg_iovlen = 1;
      }
      // Lateness is taken as the batch is handed to the kernel (proposal
      // §2.4.6): the veth transmit then runs the receiving host's stack in this
      // thread, which is the host's time, not the emulator's.
      const Nanos now = clock_ns(CLOCK_MONOTONIC);
      const int sent = ::sendmmsg(port.fd, messages.data(), static_cast<unsigned>(n), 0);
      const std::size_t ok = sent > 0 ? static_cast<std::size_t>(sent) : 0;
      for (std::size_t i = 0; i < ok; ++i) {
        const auto id = port.pending[done + i];
        const Nanos late = now - scheduled_[id];
        stats_.lateness.add(late);
        if (late > kMilli) {
          ++stats_.late_over_1ms;
        }
        free_.push_back(id);
      }
      port.stats.sent += ok;
      stats_.forwarded += ok;
      done += ok;
      if (ok < n) {
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          retry = true;
          break;
        }
        // The frame at `done` was refused (e.g. the peer's backlog is full): drop it.
        ++port.stats.tx_errors;
        free_.push_back(port.pending[done]);
        ++done;
      }
    }
    port.pending.erase(port.pending.begin(),
                       port.pending.begin() + static_cast<std::ptrdiff_t>(done));
    return retry;
  }

  void read_ring_drops() {
    if (ring_fd_ >= 0) {
      tpacket_stats stats{};
      socklen_t size = sizeof stats;
      if (::getsockopt(ring_fd_, SOL_PACKET, PACKET_STATISTICS, &stats, &size) == 0) {
        stats_.ring_drops += stats.tp_drops;
      }
    }
    for (auto& port : ports_) {
      tpacket_stats stats{};
      socklen_t size = sizeof stats;
      if (::getsockopt(port.fd, SOL_PACKET, PACKET_STATISTICS, &stats, &size) == 0) {
        port.stats.ring_drops += stats.tp_drops;  // the call resets the kernel's counters
      }
    }
  }

  void write_stats() {
    std::vector<PortStats> ports;
    ports.reserve(ports_.size());
    for (const auto& port : ports_) {
      ports.push_back(port.stats);
    }
    write_switch_stats(config_, model_, ports, stats_, options_.ring,
                       clock_ns(CLOCK_MONOTONIC) - started_);
  }

  std::byte* slot(LinkModel::PacketId id) { return pool_.data() + std::size_t{id} * kSlotSize; }

  const SwitchConfig& config_;
  SwitchOptions options_;
  LinkModel model_;
  std::vector<std::byte> pool_;
  std::vector<std::uint32_t> length_;
  std::array<Nanos, kSlots> scheduled_{};
  std::vector<LinkModel::PacketId> free_;
  std::array<int, 256> host_of_mac_{};
  std::vector<Port> ports_;
  SwitchStats stats_;
  Nanos started_ = 0;
  Nanos offset_ = 0;
  std::map<int, std::size_t> port_of_ifindex_;
  int ring_fd_ = -1;
  std::uint8_t* ring_ = nullptr;
  unsigned ring_head_ = 0;
};

}  // namespace

Status run_switch(const SwitchConfig& config, const SwitchOptions& options, std::FILE* log) {
  // 1 ns timer slack: ppoll wakes within tens of us instead of ~80 us (proposal §2.1).
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  if (options.realtime) {
    sched_param param{};
    param.sched_priority = 1;
    if (::sched_setscheduler(0, SCHED_FIFO, &param) != 0) {
      fmt::print(log, "linkemu: SCHED_FIFO refused ({}), running as a normal process\n",
                 std::strerror(errno));
    }
  }
  auto sw = std::make_unique<Switch>(config, options);
  if (auto opened = sw->open_ports(); !opened) {
    return opened;
  }
  return sw->run(log);
}

}  // namespace nyx::linkemu
