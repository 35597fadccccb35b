// The WAN testnet's link emulator on real network namespaces (root only;
// ctest labels "netns" and "root"): two test hosts, client (10.77.0.1) and
// origin (10.77.0.2), joined through `nyxctl testnet switch` in the hub
// namespace. Measures what the emulator was told to do: the round trip of a
// 20 ms one-way link, 10 % random loss, a TCP bulk transfer through a
// 50 Mbit/s access shaper, 200 Mbit/s of 1056-byte datagrams (through the
// TPACKET_V2 ring and through recvmmsg), and jitter with reordering. The
// timing cases also require the emulator's own verdict (no ring drops,
// release lateness within bounds): a run in which it fell behind is run
// again (three attempts), then fails and says so; the 200 Mbit/s cases judge
// capacity (see there). Exits 77 (skipped) when not root.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/testnet_hosts.hpp"

namespace nyx::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using linkemu::kMilli;

constexpr int kClient = 1;
constexpr int kOrigin = 2;

sockaddr_in address_of(int host, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, host_address(host).c_str(), &a.sin_addr);
  return a;
}

void set_timeout(int fd, std::chrono::milliseconds timeout) {
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

class LinkEmulatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    (void)gc_test_hosts(false, stdout);
    dir_ = fs::temp_directory_path() / fmt::format("nyx-linkemu-test-{}", ::getpid());
    TestHostsOptions options;
    options.dir = dir_;
    options.nyxctl = NYXCTL_PATH;
    auto made = TestHosts::create({{"client", kClient}, {"origin", kOrigin}}, options);
    if (!made) {
      setup_error_ = made.error().to_string();
      return;
    }
    hosts_ = std::move(*made);
  }

  static void TearDownTestSuite() {
    hosts_.reset();  // removes the namespaces, also after a failed test
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void SetUp() override { ASSERT_NE(hosts_, nullptr) << setup_error_; }

  void TearDown() override {
    (void)hosts_->stop_switch();  // no-op when the test already stopped it
  }

  // Runs `body` on a thread inside host `name`'s network namespace.
  static std::thread on_host(const std::string& name, std::function<void()> body) {
    return std::thread([name, body = std::move(body)] {
      auto entered = hosts_->enter(name);
      ASSERT_TRUE(entered) << entered.error().to_string();
      body();
    });
  }

  // Stops the switch and returns its statistics; prints its verdict line.
  static nlohmann::json stop_and_report(const std::string& label) {
    auto text = hosts_->stop_switch();
    EXPECT_TRUE(text) << text.error().to_string();
    if (!text) {
      return {};
    }
    auto stats = nlohmann::json::parse(*text);
    const auto& late = stats["lateness_us"];
    fmt::print(
        "[linkemu] {}: emulator {} ({}; lateness p50 {} us, p99 {} us, max {} us; forwarded {}, "
        "loss drops {}, queue drops {}, ring drops {}, non-IPv4 {}, cpu {:.1f} %)\n",
        label, stats["verdict"]["ok"].get<bool>() ? "ok" : "BEHIND", stats["io"].get<std::string>(),
        late["p50"].get<long>(), late["p99"].get<long>(), late["max"].get<long>(),
        stats["forwarded"].get<long>(), stats["loss_drops"].get<long>(),
        stats["queue_drops"].get<long>(), stats["ring_drops"].get<long>(),
        stats["non_ipv4"].get<long>(), stats["cpu_pct"].get<double>());
    return stats;
  }

  // Runs `measure` (start the switch, measure, return its statistics, check
  // nothing yet) and then `check`. When the emulator fell behind, which on a
  // shared 2-core VM with a PREEMPT_NONE kernel happens when other work holds
  // the CPU in the kernel, the case runs again, up to three times in all
  // (proposal §2.4.6; a local run needed a second attempt in one case of six);
  // if it falls behind every time the case fails and says so instead of
  // blaming the link.
  static void run_case(const std::string& label,
                       const std::function<void(nlohmann::json&)>& measure,
                       const std::function<void(const nlohmann::json&)>& check) {
    static constexpr int kAttempts = 3;
    for (int attempt = 1;; ++attempt) {
      nlohmann::json stats;
      measure(stats);
      if (::testing::Test::HasFatalFailure() || stats.is_null()) {
        return;
      }
      const bool ok = stats["verdict"]["ok"].get<bool>();
      if (!ok && attempt < kAttempts) {
        fmt::print("[linkemu] {}: the emulator fell behind ({}), running the case again\n", label,
                   stats["verdict"]["reasons"].dump());
        continue;
      }
      EXPECT_TRUE(ok) << "the emulator fell behind, results are not attributable: "
                      << stats["verdict"]["reasons"].dump();
      check(stats);
      return;
    }
  }

  // 200 Mbit/s of 1056-byte datagrams through the switch receiving with `io`.
  static void keeps_up_with_200_mbit(const std::string& io);

  static inline std::unique_ptr<TestHosts> hosts_;
  static inline std::string setup_error_;
  static inline fs::path dir_;
};

// A UDP echo on the origin, a client that sends one probe at a time and
// waits for it: the round trip is twice the one-way delay.
TEST_F(LinkEmulatorTest, RoundTripIsTwiceTheOneWayDelay) {
  std::vector<double> rtts_ms;
  auto measure = [&rtts_ms](nlohmann::json& stats) {
    rtts_ms.clear();
    linkemu::LinkParams link;
    link.delay = 20 * kMilli;
    ASSERT_TRUE(hosts_->start_switch(hosts_->switch_config(link)));
    std::atomic<bool> done{false};
    auto echo = on_host("origin", [&done] {
      const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
      const auto self = address_of(kOrigin, 9000);
      ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&self), sizeof self), 0);
      set_timeout(fd, std::chrono::milliseconds(100));
      char buffer[64];
      while (!done) {
        sockaddr_in from{};
        socklen_t length = sizeof from;
        const auto n =
            ::recvfrom(fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &length);
        if (n > 0) {
          ::sendto(fd, buffer, static_cast<std::size_t>(n), 0,
                   reinterpret_cast<const sockaddr*>(&from), length);
        }
      }
      ::close(fd);
    });
    auto client = on_host("client", [&rtts_ms] {
      const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
      const auto origin = address_of(kOrigin, 9000);
      ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&origin), sizeof origin), 0);
      set_timeout(fd, std::chrono::milliseconds(500));
      for (std::uint32_t seq = 0; seq < 30; ++seq) {
        const auto sent = Clock::now();
        ::send(fd, &seq, sizeof seq, 0);
        std::uint32_t echoed = ~seq;
        while (::recv(fd, &echoed, sizeof echoed, 0) > 0 && echoed != seq) {
        }
        if (echoed == seq) {
          rtts_ms.push_back(seconds_since(sent) * 1e3);
        }
      }
      ::close(fd);
    });
    client.join();
    done = true;
    echo.join();
    stats = stop_and_report("delay 20 ms");
  };
  run_case("delay 20 ms", measure, [&rtts_ms](const nlohmann::json&) {
    ASSERT_GE(rtts_ms.size(), 28u) << "probes lost on a link without loss";
    std::sort(rtts_ms.begin(), rtts_ms.end());
    const double median = rtts_ms[rtts_ms.size() / 2];
    fmt::print(
        "[linkemu] delay 20 ms one way: UDP round trip median {:.2f} ms, min {:.2f}, "
        "max {:.2f} ({} probes)\n",
        median, rtts_ms.front(), rtts_ms.back(), rtts_ms.size());
    EXPECT_NEAR(median, 40.0, 5.0);
    EXPECT_GE(rtts_ms.front(), 39.5);  // never faster than the configured delay
  });
}

// 10 % loss one way: what arrives, and what the switch counted, are within
// 5 standard deviations of the binomial expectation, and add up exactly.
TEST_F(LinkEmulatorTest, RandomLossIsWithinBinomialBounds) {
  static constexpr int kPackets = 4000;
  std::atomic<int> received{0};
  auto measure = [&received](nlohmann::json& stats) {
    received = 0;
    auto config = hosts_->switch_config(linkemu::LinkParams{.delay = 10 * kMilli});
    linkemu::SwitchLink lossy;
    lossy.from = kClient;
    lossy.to = kOrigin;
    lossy.params = config.default_link;
    lossy.params.loss = 0.10;
    config.links.push_back(lossy);
    ASSERT_TRUE(hosts_->start_switch(config));
    std::atomic<bool> ready{false};
    auto sink = on_host("origin", [&ready, &received] {
      const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
      const int buffer = 4 << 20;
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
      const auto self = address_of(kOrigin, 9002);
      ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&self), sizeof self), 0);
      set_timeout(fd, std::chrono::milliseconds(500));
      ready = true;
      char data[256];
      while (::recv(fd, data, sizeof data, 0) > 0) {
        ++received;
      }
      ::close(fd);
    });
    while (!ready) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    auto source = on_host("client", [] {
      const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
      const auto origin = address_of(kOrigin, 9002);
      ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&origin), sizeof origin), 0);
      char data[200] = {};
      for (int i = 0; i < kPackets; ++i) {
        ::send(fd, data, sizeof data, 0);
        if (i % 50 == 49) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));  // ~40 kpps at most
        }
      }
      ::close(fd);
    });
    source.join();
    sink.join();
    stats = stop_and_report("loss 10 %");
  };
  run_case("loss 10 %", measure, [&received](const nlohmann::json& stats) {
    const double expected = kPackets * 0.10;
    const double sigma = std::sqrt(kPackets * 0.10 * 0.90);
    const int lost = kPackets - received.load();
    const auto counted = stats["loss_drops"].get<int>();
    fmt::print(
        "[linkemu] loss 10 %: {} of {} datagrams lost ({:.2f} %), switch counted {} "
        "(expected {:.0f} +- {:.0f} at 5 sigma)\n",
        lost, kPackets, 100.0 * lost / kPackets, counted, expected, 5 * sigma);
    EXPECT_NEAR(lost, expected, 5 * sigma);
    EXPECT_EQ(counted, lost) << "datagrams disappeared outside the loss model";
  });
}

// TCP through the client's 50 Mbit/s access shaper (50 ms queue), 10 ms one
// way: the goodput is 80-100 % of the rate (TCP/IP headers take 3.5 %).
TEST_F(LinkEmulatorTest, TcpBulkTransferGetsTheShapedRate) {
  static constexpr std::uint64_t kRate = 50'000'000;
  static constexpr std::size_t kBytes = 16 << 20;
  std::size_t got = 0;
  double seconds = 0;
  auto measure = [&got, &seconds](nlohmann::json& stats) {
    got = 0;
    seconds = 0;
    auto config = hosts_->switch_config(linkemu::LinkParams{.delay = 10 * kMilli});
    config.hosts[0].params.up.rate_bps = kRate;
    config.hosts[0].params.down.rate_bps = kRate;
    ASSERT_TRUE(hosts_->start_switch(config));
    std::atomic<bool> listening{false};
    auto sink = on_host("origin", [&listening, &got, &seconds] {
      const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
      const int one = 1;
      ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      const auto self = address_of(kOrigin, 9001);
      ASSERT_EQ(::bind(listener, reinterpret_cast<const sockaddr*>(&self), sizeof self), 0);
      ASSERT_EQ(::listen(listener, 1), 0);
      listening = true;
      const int fd = ::accept(listener, nullptr, nullptr);
      ASSERT_GE(fd, 0);
      set_timeout(fd, std::chrono::seconds(5));
      std::vector<char> buffer(1 << 16);
      Clock::time_point first;
      for (;;) {
        const auto n = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (n <= 0) {
          break;
        }
        if (got == 0) {
          first = Clock::now();
        }
        got += static_cast<std::size_t>(n);
      }
      seconds = seconds_since(first);
      ::close(fd);
      ::close(listener);
    });
    while (!listening) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    auto source = on_host("client", [] {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      const auto origin = address_of(kOrigin, 9001);
      ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&origin), sizeof origin), 0);
      std::vector<char> data(1 << 16, 'x');
      std::size_t sent = 0;
      while (sent < kBytes) {
        const auto n = ::send(fd, data.data(), std::min(data.size(), kBytes - sent), 0);
        if (n <= 0) {
          break;
        }
        sent += static_cast<std::size_t>(n);
      }
      ::close(fd);
    });
    source.join();
    sink.join();
    stats = stop_and_report("rate 50 Mbit/s");
  };
  run_case("rate 50 Mbit/s", measure, [&got, &seconds](const nlohmann::json& stats) {
    ASSERT_EQ(got, kBytes);
    const double goodput = static_cast<double>(got) / seconds;
    const double share = goodput * 8 / static_cast<double>(kRate);
    fmt::print(
        "[linkemu] rate 50 Mbit/s, 10 ms one way: TCP moved {} MiB in {:.2f} s = "
        "{:.2f} MB/s = {:.1f} % of the rate (shaper queue drops {}, max queue {} bytes)\n",
        got >> 20, seconds, goodput / 1e6, 100 * share,
        stats["hosts"][0]["up"]["queue_drops"].get<long>(),
        stats["hosts"][0]["up"]["max_queue_bytes"].get<long>());
    EXPECT_GE(share, 0.80);
    EXPECT_LE(share, 1.00);
  });
}

// The floor: 200 Mbit/s of 1056-byte datagrams (1084-byte IP
// packets, 23 kpps) through a 10 ms link for one second. This case judges
// capacity, not scheduling jitter: every datagram delivered, no ring, queue
// or transmit drop, and no release later than the verdict's hard bound
// (20 ms). An emulator that cannot sustain the rate builds a backlog that
// grows past that bound within the second. The verdict's p99 rule (here
// 500 us) measures how often the shared 2-core VM preempted the switch; it
// is printed and judged in bench-wan, where it makes a cell unattributable,
// but it is not this test's question (the CI machine put p99 at 2.8-3.3 ms
// with nothing dropped and everything on time within 6 ms).
void LinkEmulatorTest::keeps_up_with_200_mbit(const std::string& io) {
  static constexpr double kRate = 200e6;
  static constexpr std::size_t kPayload = 1056;
  static constexpr std::size_t kBatch = 16;
  static constexpr auto kSeconds = 1.0;
  std::atomic<long> received{0};
  long sent = 0;
  double elapsed = 0;
  auto measure = [&received, &sent, &elapsed, &io](nlohmann::json& stats) {
    received = 0;
    sent = 0;
    ASSERT_TRUE(hosts_->start_switch(
        hosts_->switch_config(linkemu::LinkParams{.delay = 10 * kMilli}), {"--io", io}));
    const auto interval = std::chrono::duration<double>(kBatch * (kPayload + 28) * 8 / kRate);
    std::atomic<bool> ready{false};
    auto sink = on_host("origin", [&ready, &received] {
      const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
      const int buffer = 16 << 20;
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
      const auto self = address_of(kOrigin, 9003);
      ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&self), sizeof self), 0);
      set_timeout(fd, std::chrono::milliseconds(500));
      ready = true;
      std::vector<char> data(2048);
      while (::recv(fd, data.data(), data.size(), 0) > 0) {
        ++received;
      }
      ::close(fd);
    });
    while (!ready) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    auto source = on_host("client", [&sent, &elapsed, interval] {
      const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
      const int buffer = 16 << 20;
      ::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof buffer);
      const auto origin = address_of(kOrigin, 9003);
      ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&origin), sizeof origin), 0);
      std::vector<char> data(kPayload, 'x');
      std::array<iovec, kBatch> iov{};
      std::array<mmsghdr, kBatch> messages{};
      for (std::size_t i = 0; i < kBatch; ++i) {
        iov[i] = iovec{data.data(), data.size()};
        messages[i].msg_hdr.msg_iov = &iov[i];
        messages[i].msg_hdr.msg_iovlen = 1;
      }
      const auto start = Clock::now();
      auto next = start;
      while (seconds_since(start) < kSeconds) {
        const int n = ::sendmmsg(fd, messages.data(), kBatch, 0);
        sent += n > 0 ? n : 0;
        next += std::chrono::duration_cast<Clock::duration>(interval);
        std::this_thread::sleep_until(next);
      }
      elapsed = seconds_since(start);
      ::close(fd);
    });
    source.join();
    sink.join();
    stats = stop_and_report("200 Mbit/s of 1056-byte datagrams, " + io);
  };
  nlohmann::json stats;
  measure(stats);
  if (::testing::Test::HasFatalFailure() || stats.is_null()) {
    return;
  }
  {
    const double offered = static_cast<double>(sent) * (kPayload + 28) * 8 / elapsed / 1e6;
    fmt::print(
        "[linkemu] 200 Mbit/s of 1056-byte datagrams, {}: offered {:.1f} Mbit/s ({:.1f} "
        "kpps), delivered {} of {} ({:.3f} %), in flight at the end {}\n",
        io, offered, static_cast<double>(sent) / elapsed / 1e3, received.load(), sent,
        100.0 * static_cast<double>(received.load()) / static_cast<double>(sent),
        stats["in_flight"].get<long>());
    // A sender starved by other work on the machine offers less; the emulator
    // is judged by its verdict and by delivering all of what was offered.
    EXPECT_GE(offered, 150.0) << "the sender could not offer the rate";
    EXPECT_EQ(received.load(), sent);
    EXPECT_EQ(stats["ring_drops"].get<long>(), 0);
    EXPECT_EQ(stats["queue_drops"].get<long>(), 0);
    EXPECT_EQ(stats["pool_drops"].get<long>(), 0);
    EXPECT_EQ(stats["tx_errors"].get<long>(), 0);
    EXPECT_LE(stats["lateness_us"]["max"].get<long>(), 20000)
        << "a release more than 20 ms late: the emulator did not keep up with the rate";
  }
}

TEST_F(LinkEmulatorTest, KeepsUpWith200MbitOf1056ByteDatagrams) { keeps_up_with_200_mbit("ring"); }

// The same through the fallback receive path (recvmmsg on a socket per port).
TEST_F(LinkEmulatorTest, KeepsUpWith200MbitThroughRecvmmsg) { keeps_up_with_200_mbit("recvmmsg"); }

// Jitter and reordering one way: one-way delays (sender's clock in the
// datagram, kernel receive time at the origin, both CLOCK_REALTIME) spread
// with about the configured deviation, and the datagrams that arrive after a
// later one are the ones the reorder draw held back.
TEST_F(LinkEmulatorTest, JitterSpreadsTheDelayAndReorderHoldsPacketsBack) {
  static constexpr int kPackets = 2000;
  struct Probe {
    std::uint32_t seq;
    std::int64_t sent_ns;
  };
  std::vector<std::pair<std::uint32_t, double>> arrivals;  // seq, one-way ms
  auto measure = [&arrivals](nlohmann::json& stats) {
    arrivals.clear();
    auto config = hosts_->switch_config(linkemu::LinkParams{.delay = 20 * kMilli});
    linkemu::SwitchLink link;
    link.from = kClient;
    link.to = kOrigin;
    link.params = linkemu::LinkParams{.delay = 20 * kMilli,
                                      .jitter = 2 * kMilli,
                                      .jitter_tau = 20 * kMilli,
                                      .reorder = 0.02,
                                      .reorder_gap = 5 * kMilli};
    config.links.push_back(link);
    ASSERT_TRUE(hosts_->start_switch(config));
    std::atomic<bool> ready{false};
    auto sink = on_host("origin", [&ready, &arrivals] {
      const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
      const int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
      const auto self = address_of(kOrigin, 9004);
      ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&self), sizeof self), 0);
      set_timeout(fd, std::chrono::milliseconds(500));
      ready = true;
      for (;;) {
        Probe probe{};
        iovec iov{&probe, sizeof probe};
        alignas(cmsghdr) char control[64];
        msghdr message{};
        message.msg_iov = &iov;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        if (::recvmsg(fd, &message, 0) <= 0) {
          break;
        }
        for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
          if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            timespec ts{};
            std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
            const std::int64_t at = ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
            arrivals.emplace_back(probe.seq, static_cast<double>(at - probe.sent_ns) / 1e6);
          }
        }
      }
      ::close(fd);
    });
    while (!ready) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    auto source = on_host("client", [] {
      const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
      const auto origin = address_of(kOrigin, 9004);
      ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&origin), sizeof origin), 0);
      auto next = Clock::now();
      for (std::uint32_t seq = 0; seq < kPackets; ++seq) {
        timespec now{};
        ::clock_gettime(CLOCK_REALTIME, &now);
        const Probe probe{seq, now.tv_sec * 1'000'000'000LL + now.tv_nsec};
        ::send(fd, &probe, sizeof probe, 0);
        next += std::chrono::microseconds(500);
        std::this_thread::sleep_until(next);
      }
      ::close(fd);
    });
    source.join();
    sink.join();
    stats = stop_and_report("jitter 2 ms, reorder 2 %");
  };
  run_case("jitter and reorder", measure, [&arrivals](const nlohmann::json& stats) {
    ASSERT_EQ(arrivals.size(), static_cast<std::size_t>(kPackets));
    std::uint32_t highest = 0;
    int late = 0;
    double sum = 0;
    double squares = 0;
    int in_order = 0;
    for (const auto& [seq, one_way_ms] : arrivals) {
      if (seq < highest) {
        ++late;
        continue;
      }
      highest = seq;
      sum += one_way_ms;
      squares += one_way_ms * one_way_ms;
      ++in_order;
    }
    const double mean = sum / in_order;
    const double sd = std::sqrt(squares / in_order - mean * mean);
    long held = 0;
    for (const auto& link : stats["links"]) {
      if (link["from"] == "client") {
        held = link["reordered"].get<long>();
      }
    }
    const double sigma = std::sqrt(kPackets * 0.02 * 0.98);
    fmt::print(
        "[linkemu] jitter 2 ms, reorder 2 % (5 ms gap), 20 ms one way: one-way delay "
        "mean {:.2f} ms, sd {:.2f} ms; {} of {} arrived after a later datagram, switch "
        "held back {} (expected {:.0f} +- {:.0f} at 5 sigma)\n",
        mean, sd, late, kPackets, held, kPackets * 0.02, 5 * sigma);
    EXPECT_NEAR(mean, 20.0, 1.5);
    EXPECT_GE(sd, 1.0);
    EXPECT_LE(sd, 3.0);
    EXPECT_NEAR(late, kPackets * 0.02, 5 * sigma);
    // Every datagram seen late was one the switch held back; a held one is
    // not seen late when the datagram after it was held too (2000 * 0.02^2,
    // under one expected per run) or it was the last.
    EXPECT_LE(late, held);
    EXPECT_GE(late + 3, held);
  });
}

}  // namespace
}  // namespace nyx::cli

int main(int argc, char** argv) {
  if (::geteuid() != 0) {
    std::printf("linkemu_netns_test: skipped, needs root (network namespaces, raw sockets)\n");
    return 77;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
