#include "cli/linkemu/switch_io.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <vector>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/linkemu/link_model.hpp"

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

// Log-linear histogram of durations: 10 us steps below 1 ms, 100 us below
// 10 ms, 1 ms below 100 ms, then one overflow bucket.
class Histogram {
 public:
  void add(Nanos value) {
    const Nanos us = std::max<Nanos>(value, 0) / kMicro;
    std::size_t bucket = 0;
    if (us < 1000) {
      bucket = static_cast<std::size_t>(us / 10);
    } else if (us < 10000) {
      bucket = 100 + static_cast<std::size_t>((us - 1000) / 100);
    } else if (us < 100000) {
      bucket = 190 + static_cast<std::size_t>((us - 10000) / 1000);
    } else {
      bucket = kBuckets - 1;
    }
    ++counts_[bucket];
    ++total_;
    max_ = std::max(max_, value);
  }
  // Upper bound of the bucket holding quantile q, in microseconds.
  std::int64_t quantile_us(double q) const {
    if (total_ == 0) {
      return 0;
    }
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < kBuckets; ++b) {
      seen += counts_[b];
      if (seen >= rank) {
        return std::min(upper_us(b), max_ / kMicro);
      }
    }
    return max_ / kMicro;
  }
  std::int64_t max_us() const { return max_ / kMicro; }
  std::uint64_t total() const { return total_; }

 private:
  static constexpr std::size_t kBuckets = 281;
  static std::int64_t upper_us(std::size_t b) {
    if (b < 100) {
      return static_cast<std::int64_t>(b + 1) * 10;
    }
    if (b < 190) {
      return 1000 + static_cast<std::int64_t>(b - 99) * 100;
    }
    if (b < 280) {
      return 10000 + static_cast<std::int64_t>(b - 189) * 1000;
    }
    return std::numeric_limits<std::int64_t>::max();
  }
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t total_ = 0;
  Nanos max_ = 0;
};

struct Port {
  int fd = -1;
  std::size_t host = 0;  // model index
  std::string name;
  std::vector<LinkModel::PacketId> pending;  // released, not yet sent
  std::uint64_t received = 0;
  std::uint64_t sent = 0;
  std::uint64_t ring_drops = 0;  // PACKET_STATISTICS tp_drops: socket buffer overflow
  std::uint64_t tx_errors = 0;
};

struct Counters {
  std::uint64_t forwarded = 0;
  std::uint64_t non_ipv4 = 0;
  std::uint64_t unknown_destination = 0;
  std::uint64_t truncated = 0;
  std::uint64_t pool_drops = 0;
  std::uint64_t clock_steps = 0;
  std::uint64_t late_over_1ms = 0;
  std::uint64_t wakeups = 0;
};

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
      port.host = i;
      port.name = config_.hosts[i].port;
      const unsigned ifindex = ::if_nametoindex(port.name.c_str());
      if (ifindex == 0) {
        return std::unexpected(errno_error(fmt::format("no interface {}", port.name)));
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
        return std::unexpected(errno_error(fmt::format("setsockopt on {}", port.name)));
      }
      sockaddr_ll address{};
      address.sll_family = AF_PACKET;
      address.sll_protocol = protocol;
      address.sll_ifindex = static_cast<int>(ifindex);
      if (::bind(port.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(port.fd);
        return std::unexpected(errno_error(fmt::format("bind to {}", port.name)));
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

    std::vector<LinkModel::Release> released;
    while (g_stop == 0) {
      ++counters_.wakeups;
      Nanos now = clock_ns(CLOCK_MONOTONIC);
      const Nanos offset = clock_ns(CLOCK_REALTIME) - now;
      if (std::abs(offset - offset_) > kMilli) {
        ++counters_.clock_steps;
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
    fmt::print(log, "linkemu: stopped, {} forwarded\n", counters_.forwarded);
    return {};
  }

 private:
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
          ++counters_.pool_drops;
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
        ++port.received;
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
        ++counters_.unknown_destination;  // not one of our ports (lo)
      } else if (free_.empty()) {
        ++counters_.pool_drops;
      } else {
        const LinkModel::PacketId id = free_.back();
        free_.pop_back();
        const std::size_t length = header->tp_snaplen + kVnetHeader;
        const bool truncated = header->tp_snaplen < header->tp_len || length > kSlotSize;
        std::memcpy(slot(id), frame + header->tp_mac - kVnetHeader, std::min(length, kSlotSize));
        const Nanos arrival =
            static_cast<Nanos>(header->tp_sec) * kSecond + header->tp_nsec - offset_;
        ++ports_[port->second].received;
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
      ++counters_.truncated;
      free_.push_back(id);
      return;
    }
    const std::uint8_t* eth = frame + kVnetHeader;
    if (eth[12] != 0x08 || eth[13] != 0x00) {
      ++counters_.non_ipv4;
      free_.push_back(id);
      return;
    }
    const int to = std::memcmp(eth, kMacPrefix, sizeof kMacPrefix) == 0 ? host_of_mac_[eth[5]] : -1;
    if (to < 0 || static_cast<std::size_t>(to) == port.host) {
      ++counters_.unknown_destination;
      free_.push_back(id);
      return;
    }
    ingest_lag_.add(now - arrival);
    arrival = std::min(arrival, now);
    length_[id] = static_cast<std::uint32_t>(length);
    const auto ip_bytes = static_cast<std::uint32_t>(length - kVnetHeader - kEthHeader);
    if (model_.submit(id, port.host, static_cast<std::size_t>(to), ip_bytes, arrival) !=
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
        lateness_.add(late);
        if (late > kMilli) {
          ++counters_.late_over_1ms;
        }
        free_.push_back(id);
      }
      port.sent += ok;
      counters_.forwarded += ok;
      done += ok;
      if (ok < n) {
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          retry = true;
          break;
        }
        // The frame at `done` was refused (e.g. the peer's backlog is full): drop it.
        ++port.tx_errors;
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
        ring_drops_ += stats.tp_drops;
      }
    }
    for (auto& port : ports_) {
      tpacket_stats stats{};
      socklen_t size = sizeof stats;
      if (::getsockopt(port.fd, SOL_PACKET, PACKET_STATISTICS, &stats, &size) == 0) {
        port.ring_drops += stats.tp_drops;  // the call resets the kernel's counters
      }
    }
  }

  void write_stats() {
    using nlohmann::json;
    const auto& hosts = config_.hosts;
    std::uint64_t ring_drops = ring_drops_;
    std::uint64_t tx_errors = 0;
    json ports = json::array();
    for (const auto& port : ports_) {
      ring_drops += port.ring_drops;
      tx_errors += port.tx_errors;
      ports.push_back({{"port", port.name},
                       {"host", hosts[port.host].name},
                       {"received", port.received},
                       {"sent", port.sent},
                       {"ring_drops", port.ring_drops},
                       {"tx_errors", port.tx_errors}});
    }
    json links = json::array();
    Nanos smallest_delay = 0;
    std::uint64_t loss_drops = 0;
    std::uint64_t queue_drops = 0;
    for (std::size_t i = 0; i < hosts.size(); ++i) {
      for (std::size_t j = 0; j < hosts.size(); ++j) {
        if (i == j) {
          continue;
        }
        const auto& params = model_.link(i, j);
        if (params.delay > 0 && (smallest_delay == 0 || params.delay < smallest_delay)) {
          smallest_delay = params.delay;
        }
        const auto& c = model_.link_counters(i, j);
        loss_drops += c.loss_drops;
        if (c.packets == 0) {
          continue;
        }
        links.push_back({{"from", hosts[i].name},
                         {"to", hosts[j].name},
                         {"packets", c.packets},
                         {"bytes", c.bytes},
                         {"loss_drops", c.loss_drops},
                         {"reordered", c.reordered}});
      }
    }
    json host_stats = json::array();
    for (std::size_t i = 0; i < hosts.size(); ++i) {
      auto shaper = [](const ShaperCounters& c) {
        return json{{"packets", c.packets},
                    {"bytes", c.bytes},
                    {"queue_drops", c.queue_drops},
                    {"max_queue_bytes", c.max_backlog_bytes}};
      };
      queue_drops += model_.up_counters(i).queue_drops + model_.down_counters(i).queue_drops;
      host_stats.push_back({{"host", hosts[i].name},
                            {"up", shaper(model_.up_counters(i))},
                            {"down", shaper(model_.down_counters(i))}});
    }
    // docs/proposals/0003 §2.4.6: the run's results are attributable only if
    // the emulator kept up.
    std::vector<std::string> reasons;
    const std::int64_t p99 = lateness_.quantile_us(0.99);
    const std::int64_t p999 = lateness_.quantile_us(0.999);
    std::int64_t p99_limit = 1000;
    if (smallest_delay > 0) {
      p99_limit = std::min<std::int64_t>(p99_limit, smallest_delay / kMicro / 20);
    }
    p99_limit = std::max<std::int64_t>(p99_limit, 100);
    if (ring_drops > 0) {
      reasons.push_back(fmt::format("{} ring drops", ring_drops));
    }
    if (tx_errors > 0) {
      reasons.push_back(fmt::format("{} transmit errors", tx_errors));
    }
    if (counters_.pool_drops > 0) {
      reasons.push_back(fmt::format("{} pool drops", counters_.pool_drops));
    }
    if (counters_.clock_steps > 0) {
      reasons.push_back(fmt::format("{} clock steps", counters_.clock_steps));
    }
    if (p99 > p99_limit) {
      reasons.push_back(fmt::format("p99 lateness {} us > {} us", p99, p99_limit));
    }
    if (p999 > 5000) {
      reasons.push_back(fmt::format("p99.9 lateness {} us > 5 ms", p999));
    }
    if (lateness_.max_us() > 20000) {
      reasons.push_back(fmt::format("max lateness {} us > 20 ms", lateness_.max_us()));
    }
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const double cpu_s = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    const double wall_s =
        static_cast<double>(clock_ns(CLOCK_MONOTONIC) - started_) / static_cast<double>(kSecond);
    json stats{{"verdict", {{"ok", reasons.empty()}, {"reasons", reasons}}},
               {"io", options_.ring ? "TPACKET_V2 ring" : "recvmmsg+SO_TIMESTAMPNS per port"},
               {"lateness_us",
                {{"p50", lateness_.quantile_us(0.5)},
                 {"p99", p99},
                 {"p999", p999},
                 {"max", lateness_.max_us()},
                 {"count", lateness_.total()}}},
               {"ingest_lag_us",
                {{"p50", ingest_lag_.quantile_us(0.5)},
                 {"p99", ingest_lag_.quantile_us(0.99)},
                 {"max", ingest_lag_.max_us()}}},
               {"forwarded", counters_.forwarded},
               {"loss_drops", loss_drops},
               {"queue_drops", queue_drops},
               {"late_over_1ms", counters_.late_over_1ms},
               {"ring_drops", ring_drops},
               {"tx_errors", tx_errors},
               {"pool_drops", counters_.pool_drops},
               {"non_ipv4", counters_.non_ipv4},
               {"unknown_destination", counters_.unknown_destination},
               {"truncated", counters_.truncated},
               {"clock_steps", counters_.clock_steps},
               {"in_flight", model_.in_flight()},
               {"wakeups", counters_.wakeups},
               {"cpu_pct", wall_s > 0 ? 100.0 * cpu_s / wall_s : 0.0},
               {"ports", std::move(ports)},
               {"links", std::move(links)},
               {"hosts", std::move(host_stats)}};
    if (config_.stats_path.empty()) {
      return;
    }
    const std::string temporary = config_.stats_path + ".tmp";
    {
      std::ofstream out(temporary, std::ios::trunc);
      out << stats.dump(2) << '\n';
    }
    std::error_code ec;
    std::filesystem::rename(temporary, config_.stats_path, ec);
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
  Counters counters_;
  Histogram lateness_;
  Histogram ingest_lag_;
  Nanos started_ = 0;
  Nanos offset_ = 0;
  std::map<int, std::size_t> port_of_ifindex_;
  int ring_fd_ = -1;
  std::uint8_t* ring_ = nullptr;
  unsigned ring_head_ = 0;
  std::uint64_t ring_drops_ = 0;
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
