// A Nyx network that forms from nothing (proposal 0002, section 13.2, "form
// from nothing", on loopback): three authorities, three relays (one of them
// an exit) and a client, each a real nyxd process on 127.0.0.1 with its own
// data directory, and no directory file anywhere. The relays upload their
// descriptors, the authorities vote and sign a consensus every 24 s period,
// every node fetches it, and the client carries an HTTP GET through its SOCKS
// port. Then the network outlives a stopped authority, drops a stopped
// relay within two periods, and with two authorities of three stopped keeps
// the last consensus until it expires, saying so in its log and metrics.

#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "core/clock.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/random.hpp"
#include "daemon/control/control_client.hpp"
#include "document/period.hpp"
#include "integration/support/http_get.hpp"
#include "integration/support/network_fixture.hpp"
#include "integration/support/nyxd_process.hpp"
#include "integration/support/socks_http_get.hpp"
#include "support/temp_dir.hpp"

namespace nyx::test {
namespace {

using namespace std::chrono_literals;
using Duration = std::chrono::steady_clock::duration;

// The shortest period nyxd accepts, and the largest skew it allows with it
// (2·skew + 10 s of circuit setup at most period/2).
constexpr std::chrono::seconds kPeriod{24};
constexpr const char* kPeriodText = "24s";
constexpr const char* kClockSkewText = "1s";
constexpr auto kPollInterval = 500ms;
// The first consensus is the one of the period after next at the latest
// (uploads close 5u = 10 s before a period begins), and a client installs it
// within 5u of its start (section 6.2).
constexpr Duration kFormationBound = 3 * kPeriod;
// A change at t0 (an authority or a relay gone) is in the consensus of the
// period after next at the latest, which the client installs within 5u of
// its start, plus the fetch itself.
constexpr Duration kChangeBound = 2 * kPeriod + 20s;
// With two authorities of three stopped, the newest consensus a client may
// still fetch is the one of the period after the current one (published
// before the stop), valid to the end of the period after that.
constexpr Duration kExpiryBound = 3 * kPeriod + 20s;
// The client builds its first circuits once it holds a consensus.
constexpr Duration kTrafficBound = 30s;
constexpr auto kGetTimeout = 10s;
constexpr auto kStopTimeout = 10s;

constexpr std::size_t kAuthorityCount = 3;
constexpr std::size_t kRelayCount = 3;  // the last one is the exit
constexpr const char* kPayloadName = "payload.bin";
constexpr std::size_t kPayloadSize = 256 * 1024;  // many cells, more than one window

enum class NodeKind { kAuthority, kRelay, kExit, kClient };

// What node.info says of the consensus a node has installed.
struct InstalledConsensus {
  std::uint64_t period = 0;
  std::size_t nodes = 0;
};

struct NetworkNode {
  std::string name;
  NodeKind kind = NodeKind::kClient;
  std::uint16_t port = 0;     // UDP, and TCP for a relay; the client takes any
  std::filesystem::path dir;  // its nyxd.toml and log; the data directory below
  std::unique_ptr<Process> process;
  std::optional<control::ControlClient> control;

  std::filesystem::path data() const { return dir / "data"; }
  std::filesystem::path config() const { return dir / "nyxd.toml"; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
};

const document::Period& network_period() {
  static const document::Period period =
      *document::Period::from_seconds(static_cast<std::uint64_t>(kPeriod.count()));
  return period;
}

std::uint64_t unix_seconds_now() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(SystemClock{}.now()).count());
}

std::uint64_t current_epoch() { return network_period().epoch(unix_seconds_now()); }

// The sum of a node.stats counter's series whose `label` is `value`.
std::uint64_t counter_sum(const nlohmann::json& metric, const std::string& label,
                          const std::string& value) {
  std::uint64_t sum = 0;
  for (const auto& series : metric.value("series", nlohmann::json::array())) {
    if (series["labels"].value(label, "") == value) {
      sum += series["value"].get<std::uint64_t>();
    }
  }
  return sum;
}

// Polls `done` every kPollInterval until it holds or `bound` has passed.
template <typename Condition>
bool eventually(Duration bound, Condition done) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  for (;;) {
    if (done()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::string tail(const std::string& text, std::size_t bytes) {
  return text.size() <= bytes ? text : text.substr(text.size() - bytes);
}

class NyxdNetwork : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    ASSERT_EQ(::chmod(tmp_.path().c_str(), 0700), 0);
    for (std::size_t i = 0; i < authority_count_; ++i) {
      ASSERT_NO_FATAL_FAILURE(add_node("auth" + std::to_string(i + 1), NodeKind::kAuthority));
    }
    for (std::size_t i = 0; i + 1 < kRelayCount; ++i) {
      ASSERT_NO_FATAL_FAILURE(add_node("relay" + std::to_string(i + 1), NodeKind::kRelay));
    }
    ASSERT_NO_FATAL_FAILURE(add_node("exit", NodeKind::kExit));
    ASSERT_NO_FATAL_FAILURE(add_node("client", NodeKind::kClient));
    socks_port_ = ports_.next();
    ASSERT_NE(socks_port_, 0);
    for (auto& node : nodes_) {
      ASSERT_NO_FATAL_FAILURE(write_config(node));
    }
    ASSERT_NO_FATAL_FAILURE(start_origin());
    // Authorities first, so the relays' first uploads find them.
    for (auto& node : nodes_) {
      ASSERT_NO_FATAL_FAILURE(start(node));
    }
  }

  void TearDown() override {
    if (HasFailure()) {
      for (const auto& node : nodes_) {
        if (node.process) {
          std::cerr << "---- " << node.name << " (last lines of its log) ----\n"
                    << tail(node.process->output(), 4000) << "\n";
        }
      }
    }
    for (auto& node : nodes_) {
      if (node.process) {
        node.process->signal(SIGTERM);
      }
    }
    // Whatever does not exit in time is killed by Process's destructor, and
    // the temporary directory goes with tmp_.
    for (auto& node : nodes_) {
      if (node.process) {
        node.process->wait(kStopTimeout);
      }
    }
  }

  NetworkNode& authority(std::size_t i) { return nodes_[i]; }
  NetworkNode& relay(std::size_t i) { return nodes_[authority_count_ + i]; }
  NetworkNode& client() { return nodes_.back(); }

  void add_node(const std::string& name, NodeKind kind) {
    NetworkNode node;
    node.name = name;
    node.kind = kind;
    node.dir = tmp_.path() / name;
    ASSERT_TRUE(std::filesystem::create_directory(node.dir));
    if (kind != NodeKind::kClient) {
      node.port = ports_.next();
      ASSERT_NE(node.port, 0);
    }
    if (kind == NodeKind::kAuthority) {
      // As `nyxctl keygen --authority --out DATA_DIR` makes them.
      auto keys = write_authority_keys(node.data());
      ASSERT_TRUE(keys.has_value()) << keys.error().message;
      authority_lines_ += "  { key = \"" + crypto::to_hex(keys->authority) + "\", link = \"" +
                          crypto::to_hex(keys->link) + "\", address = \"" + node.address() +
                          "\", tcp_address = \"\" },\n";
    }
    nodes_.push_back(std::move(node));
  }

  // Every node's config names every authority, as operators.md says;
  // written once every authority's keys exist.
  void write_config(const NetworkNode& node) {
    std::ostringstream text;
    text << "[node]\ndata_dir = \"data\"\nnickname = \"" << node.name
         << "\"\nroles = " << roles_of(node.kind) << "\nworkers = 1\n\n"
         << "[directory]\nauthorities = [\n"
         << authority_lines_ << "]\nthreshold = 0\nperiod = \"" << kPeriodText
         << "\"\nclock_skew = \"" << kClockSkewText << "\"\n\n"
         << "[transport]\n";
    if (node.kind == NodeKind::kClient) {
      text << "udp_listen = \"127.0.0.1:0\"\n\n[socks]\nlisten = \"127.0.0.1:" << socks_port_
           << "\"\n\n";
    } else {
      text << "udp_listen = \"" << node.address() << "\"\n\n";
    }
    if (node.kind == NodeKind::kRelay || node.kind == NodeKind::kExit) {
      text << "tcp_listen = \"" << node.address() << "\"\n\n"
           << "[relay]\nadvertise_udp = \"" << node.address() << "\"\nadvertise_tcp = \""
           << node.address() << "\"\n\n";
    }
    if (node.kind == NodeKind::kExit) {
      // The origin is on 127.0.0.1: a private address the exit must be allowed.
      text << "[exit]\npolicy = [\"accept 127.0.0.1:*\", \"reject *:*\"]\n"
           << "allow_private = true\nadvertise = [\"accept 127.0.0.1:*\", \"reject *:*\"]\n\n";
    }
    if (node.kind == NodeKind::kAuthority) {
      // Every relay here advertises 127.0.0.1: a private address, and one /32.
      text << "[authority]\nallow_private_addresses = true\nmax_relays_per_address = "
           << kRelayCount << "\n\n";
    }
    // Every node reaches the others from 127.0.0.1: room for all of them in
    // one CREATE bucket, as `nyxctl testnet up` configures.
    text << "[mix]\ncover_rate = 0.0\ncreate_rate_per_address = 1000.0\n"
         << "create_burst_per_address = 2000\n\n"
         << "[shutdown]\ndrain_deadline = \"2s\"\n";
    std::ofstream(node.config(), std::ios::trunc) << text.str();
    auto check = run_to_end(NYXD_PATH, {"--check-config", node.config()}, node.dir / "check.log");
    ASSERT_EQ(check.code, 0) << node.name << ":\n" << check.output << "\n" << text.str();
  }

  static const char* roles_of(NodeKind kind) {
    switch (kind) {
      case NodeKind::kAuthority:
        return "[\"authority\"]";
      case NodeKind::kRelay:
        return "[\"relay\"]";
      case NodeKind::kExit:
        return "[\"relay\", \"exit\"]";
      case NodeKind::kClient:
        return "[\"client\"]";
    }
    return "[]";
  }

  void start_origin() {
    const auto www = tmp_.path() / "www";
    ASSERT_TRUE(std::filesystem::create_directory(www));
    payload_.resize(kPayloadSize);
    crypto::random_bytes({reinterpret_cast<std::uint8_t*>(payload_.data()), payload_.size()});
    std::ofstream(www / kPayloadName, std::ios::binary) << payload_;
    origin_port_ = ports_.next();
    ASSERT_NE(origin_port_, 0);
    origin_ = std::make_unique<Process>(
        "/usr/bin/env",
        std::vector<std::string>{"python3", NYX_ORIGIN_PY, std::to_string(origin_port_), www},
        tmp_.path() / "origin.log");
    ASSERT_TRUE(origin_->started());
    const bool serving = eventually(
        10s, [&] { return origin_status_line(origin_port_).starts_with("HTTP/1.0 200"); });
    ASSERT_TRUE(serving) << "the origin did not serve on " << origin_port_ << ":\n"
                         << origin_->output();
  }

  // The first line of the origin's answer for the payload, asked directly.
  static std::string origin_status_line(std::uint16_t port) {
    const auto reply =
        http_get("127.0.0.1:" + std::to_string(port), std::string("/") + kPayloadName);
    return reply.substr(0, reply.find("\r\n"));
  }

  void start(NetworkNode& node) {
    node.process = std::make_unique<Process>(
        NYXD_PATH, std::vector<std::string>{"--config", node.config()}, node.dir / "nyxd.log");
    ASSERT_TRUE(node.process->started());
    auto up = wait_for_control(*node.process, node.data() / "control.sock");
    ASSERT_TRUE(up.has_value()) << node.name << ": " << up.error();
    auto control = connect_control(node.data());
    ASSERT_TRUE(control.has_value()) << node.name << ": " << control.error().message;
    node.control = std::move(*control);
  }

  void stop(NetworkNode& node) {
    node.control.reset();
    node.process->signal(SIGTERM);
    const auto code = node.process->wait(kStopTimeout);
    ASSERT_TRUE(code.has_value()) << node.name << " did not exit:\n" << node.process->output();
    EXPECT_EQ(*code, 0) << node.name << ":\n" << node.process->output();
  }

  // nullopt while the node holds no consensus (or does not answer).
  static std::optional<InstalledConsensus> installed(NetworkNode& node) {
    if (!node.control) {
      return std::nullopt;
    }
    auto info = node.control->call("node.info");
    if (!info || !info->contains("directory")) {
      return std::nullopt;
    }
    const auto& directory = (*info)["directory"];
    return InstalledConsensus{
        .period = network_period().epoch(directory["valid_after"].get<std::uint64_t>()),
        .nodes = directory["nodes"].get<std::size_t>()};
  }

  // The period every one of `nodes` has installed, when they agree and each
  // lists `relays` relays.
  static std::optional<std::uint64_t> agreed_period(const std::vector<NetworkNode*>& nodes,
                                                    std::size_t relays) {
    std::optional<std::uint64_t> agreed;
    for (auto* node : nodes) {
      const auto consensus = installed(*node);
      if (!consensus || consensus->nodes != relays || (agreed && *agreed != consensus->period)) {
        return std::nullopt;
      }
      agreed = consensus->period;
    }
    return agreed;
  }

  // Each running node's installed consensus, for a failure message.
  std::string describe() {
    std::string text =
        "\ninstalled consensus (period, relays) at epoch " + std::to_string(current_epoch()) + ":";
    for (auto& node : nodes_) {
      if (!node.control) {
        continue;
      }
      const auto consensus = installed(node);
      text +=
          "\n  " + node.name + ": " +
          (consensus ? std::to_string(consensus->period) + ", " + std::to_string(consensus->nodes)
                     : std::string("none"));
    }
    return text;
  }

  // The payload, byte for byte, through the client's SOCKS port.
  ::testing::AssertionResult payload_through_socks(Duration bound) {
    std::string last;
    const bool fetched = eventually(bound, [&] {
      auto reply = socks_http_get("127.0.0.1:" + std::to_string(socks_port_), "127.0.0.1",
                                  origin_port_, std::string("/") + kPayloadName, kGetTimeout);
      if (!reply) {
        last = reply.error();
        return false;
      }
      const auto body = reply->find("\r\n\r\n");
      if (reply->starts_with("HTTP/1.0 200") && body != std::string::npos &&
          reply->compare(body + 4, std::string::npos, payload_) == 0) {
        return true;
      }
      last = "a reply of " + std::to_string(reply->size()) +
             " bytes that is not the payload: " + reply->substr(0, 120);
      return false;
    });
    if (fetched) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "no intact GET through SOCKS: " << last << describe();
  }

  std::size_t authority_count_ = kAuthorityCount;
  TempDir tmp_;
  LoopbackPorts ports_;
  std::string authority_lines_;
  std::vector<NetworkNode> nodes_;  // the authorities, the relays (the exit last), the client
  std::uint16_t socks_port_ = 0;
  std::uint16_t origin_port_ = 0;
  std::string payload_;
  std::unique_ptr<Process> origin_;
};

TEST_F(NyxdNetwork, FormsFromNothingAndOutlivesStoppedAuthoritiesAndARelay) {
  std::vector<NetworkNode*> authorities_and_client{&authority(0), &authority(1), &authority(2),
                                                   &client()};

  // (1) every authority holds a consensus of the three relays, (2) the client
  // the same period.
  ASSERT_TRUE(
      eventually(kFormationBound,
                 [&] { return agreed_period(authorities_and_client, kRelayCount).has_value(); }))
      << "no consensus of " << kRelayCount
      << " relays held by every authority and the client within "
      << std::chrono::duration_cast<std::chrono::seconds>(kFormationBound).count() << " s"
      << describe();

  // (3) a real GET through the client's SOCKS port, byte-exact.
  ASSERT_TRUE(payload_through_socks(kTrafficBound));

  // What a cache that fell behind would serve: the consensus held now,
  // kept for step (4) as it was signed.
  const auto stale_held = installed(client());
  ASSERT_TRUE(stale_held.has_value());
  auto kept = client().control->call("directory.get");
  ASSERT_TRUE(kept.has_value()) << kept.error().message;
  const std::string stale = (*kept)["consensus"].get<std::string>();

  // authority.status tells what an authority did; other nodes refuse it.
  auto status = authority(0).control->call("authority.status");
  ASSERT_TRUE(status.has_value()) << status.error().message;
  ASSERT_TRUE(status->contains("last_published")) << status->dump();
  EXPECT_EQ((*status)["last_published"]["nodes"], kRelayCount) << status->dump();
  EXPECT_GE((*status)["last_published"]["signatures"].get<std::size_t>(), 2u) << status->dump();
  EXPECT_TRUE(status->contains("phase") && status->contains("votes") &&
              status->contains("consensus"))
      << status->dump();
  auto refused = client().control->call("authority.status");
  EXPECT_FALSE(refused.has_value()) << refused->dump();

  // (4) one authority of three stopped: the consensus of the period after
  // next is voted on wholly without it, and still published and fetched.
  ASSERT_NO_FATAL_FAILURE(stop(authority(2)));
  const std::uint64_t without_authority = current_epoch() + 2;
  std::vector<NetworkNode*> still_fetching{&authority(0), &authority(1), &client()};
  ASSERT_TRUE(eventually(kChangeBound,
                         [&] {
                           const auto period = agreed_period(still_fetching, kRelayCount);
                           return period && *period >= without_authority;
                         }))
      << "no consensus of period " << without_authority << " or later with two authorities"
      << describe();
  auto signed_by_two = authority(0).control->call("authority.status");
  ASSERT_TRUE(signed_by_two.has_value()) << signed_by_two.error().message;
  EXPECT_GE((*signed_by_two)["last_published"]["period"].get<std::uint64_t>(), without_authority)
      << signed_by_two->dump();
  EXPECT_EQ((*signed_by_two)["last_published"]["signatures"], 2) << signed_by_two->dump();
  ASSERT_TRUE(payload_through_socks(kTrafficBound));

  // The consensus kept at step (3), still signed and still valid or nearly,
  // offered to a client that holds a newer one: refused as older, counted,
  // and the newer one stays.
  const auto before_offer = installed(client());
  auto offered = client().control->call("directory.offer", {{"consensus", stale}});
  ASSERT_FALSE(offered.has_value()) << offered->dump();
  EXPECT_EQ(offered.error().code, -32010) << offered.error().message;
  EXPECT_NE(offered.error().message.find("older"), std::string::npos) << offered.error().message;
  // The same bytes as a file, as an operator offers a consensus too large
  // for a control message.
  const auto stale_file = tmp_.path() / "stale-consensus.bin";
  {
    auto bytes = crypto::from_base64(stale);
    ASSERT_TRUE(bytes.has_value());
    std::ofstream(stale_file, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes->data()),
               static_cast<std::streamsize>(bytes->size()));
  }
  auto offered_file = client().control->call("directory.offer", {{"file", stale_file.string()}});
  ASSERT_FALSE(offered_file.has_value()) << offered_file->dump();
  EXPECT_NE(offered_file.error().message.find("older"), std::string::npos)
      << offered_file.error().message;
  auto refusals = client().control->call("node.stats");
  ASSERT_TRUE(refusals.has_value()) << refusals.error().message;
  EXPECT_EQ(counter_sum((*refusals)["nyx_directory_refused_total"], "reason", "older"), 2u)
      << (*refusals)["nyx_directory_refused_total"].dump();
  const auto after_offer = installed(client());
  ASSERT_TRUE(before_offer && after_offer);
  // A period boundary may pass meanwhile, never back to the offered one.
  EXPECT_GE(after_offer->period, before_offer->period);
  EXPECT_GT(after_offer->period, stale_held->period);

  // (5) a relay that is not the exit stopped: within two periods the client's
  // consensus, the second one made by two authorities, no longer lists it.
  auto gone_info = relay(0).control->call("node.info");
  ASSERT_TRUE(gone_info.has_value()) << gone_info.error().message;
  const auto gone_identity = (*gone_info)["identity_key"].get<std::string>();
  ASSERT_NO_FATAL_FAILURE(stop(relay(0)));
  ASSERT_TRUE(eventually(kChangeBound,
                         [&] {
                           const auto consensus = installed(client());
                           return consensus && consensus->nodes == kRelayCount - 1;
                         }))
      << "the stopped relay is still listed two periods later" << describe();
  auto peers = client().control->call("peers.list");
  ASSERT_TRUE(peers.has_value()) << peers.error().message;
  EXPECT_EQ(peers->size(), kRelayCount - 1) << peers->dump();
  for (const auto& peer : *peers) {
    EXPECT_NE(peer["identity_key"], gone_identity) << peers->dump();
  }

  // (6) two authorities of three stopped: with a majority threshold no
  // consensus is signed any more. The client keeps the last one it holds
  // to the end of its validity and no further, and says so: in its log
  // (section 6.2's warnings) and in its metrics (the failed fetches, and an
  // end of validity that no longer moves). Two relays are left, too few
  // for a path, so it is the directory that is checked here, not traffic.
  ASSERT_NO_FATAL_FAILURE(stop(authority(1)));
  std::optional<InstalledConsensus> last_valid;
  const bool expired = eventually(kExpiryBound, [&] {
    const auto consensus = installed(client());
    if (consensus && consensus->nodes != 0) {
      last_valid = consensus;
    }
    return consensus && consensus->nodes == 0;
  });
  ASSERT_TRUE(expired) << "the client's consensus did not expire with two authorities stopped"
                       << describe();
  ASSERT_TRUE(last_valid.has_value());
  const std::uint64_t valid_until = network_period().valid_until(last_valid->period);
  EXPECT_GE(unix_seconds_now(), valid_until) << "dropped before it expired";
  const std::string log = client().process->output();
  EXPECT_NE(log.find("no newer one was fetched"), std::string::npos) << tail(log, 4000);
  // Warned when the first fetch attempt after the end ends: back on the
  // bootstrap list, that may be a stopped authority's, which takes the
  // reply timeout (30 s) to give up on.
  EXPECT_TRUE(eventually(30s + kPeriod, [&] {
    return client().process->output().find("directory: no valid consensus") != std::string::npos;
  })) << tail(client().process->output(), 4000);
  auto stats = client().control->call("node.stats");
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  EXPECT_EQ((*stats)["nyx_directory_valid_until_seconds"]["series"][0]["value"], valid_until)
      << (*stats)["nyx_directory_valid_until_seconds"].dump();
  EXPECT_GT(counter_sum((*stats)["nyx_directory_fetches_total"], "result", "failed") +
                counter_sum((*stats)["nyx_directory_fetches_total"], "result", "not_modified"),
            0u)
      << (*stats)["nyx_directory_fetches_total"].dump();
}

// The smallest network an operator may start: one authority (threshold 1,
// a majority of one). It fetches the consensus it published from itself,
// as every node fetches from the authorities: over a loopback channel into
// its own directory server, since no circuit reaches its own link.
class NyxdOneAuthorityNetwork : public NyxdNetwork {
 protected:
  void SetUp() override {
    authority_count_ = 1;
    NyxdNetwork::SetUp();
  }
};

TEST_F(NyxdOneAuthorityNetwork, InstallsItsOwnConsensusAndCarriesTraffic) {
  std::vector<NetworkNode*> authority_and_client{&authority(0), &client()};
  ASSERT_TRUE(
      eventually(kFormationBound,
                 [&] { return agreed_period(authority_and_client, kRelayCount).has_value(); }))
      << "no consensus of " << kRelayCount << " relays installed by the authority and the client"
      << describe();
  ASSERT_TRUE(payload_through_socks(kTrafficBound));
}

}  // namespace
}  // namespace nyx::test
