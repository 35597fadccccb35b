// nyxd as a person runs it: a real process with a generated config and a
// signed directory, reached through its control socket and /metrics.

#include "integration/support/nyxd_process.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <asio.hpp>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/crypto/ed25519.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/key_file.hpp"
#include "core/crypto/x25519.hpp"
#include "core/host_port.hpp"
#include "daemon/control/control_client.hpp"
#include "daemon/control/control_cookie.hpp"
#include "document/directory.hpp"
#include "integration/support/http_get.hpp"
#include "support/file_mode.hpp"
#include "support/temp_dir.hpp"

namespace nyx::test {
namespace {

using namespace std::chrono_literals;

std::uint64_t unix_now() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

class NyxdProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    ASSERT_EQ(::chmod(tmp_.path().c_str(), 0700), 0);
    write_directory(2);
    write_config();
  }

  std::filesystem::path data() const { return tmp_.path() / "data"; }
  std::filesystem::path config() const { return tmp_.path() / "nyxd.toml"; }
  std::filesystem::path directory() const { return tmp_.path() / "directory.bin"; }

  // A directory of `count` made-up relays, signed by the test's authority.
  void write_directory(std::size_t count, const document::NodeDescriptor* self = nullptr) {
    document::Directory dir;
    if (self != nullptr) {
      dir.nodes.push_back(*self);
    }
    dir.valid_after = unix_now() - 60;
    dir.valid_until = unix_now() + 3600;
    for (std::size_t i = 0; i < count; ++i) {
      document::NodeDescriptor node;
      node.identity_key = crypto::Ed25519KeyPair::generate().public_key;
      node.onion_key = crypto::X25519KeyPair::generate().public_key;
      node.link_key = crypto::X25519KeyPair::generate().public_key;
      node.udp_address = "127.0.0.1:" + std::to_string(40000 + i);
      dir.nodes.push_back(node);
    }
    ASSERT_TRUE(dir.sign(authority_).has_value());
    auto bytes = dir.encode();
    ASSERT_TRUE(bytes.has_value());
    std::ofstream(directory(), std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(bytes->data()),
               static_cast<std::streamsize>(bytes->size()));
  }

  // extra: tables appended at the end; metrics: keys added to [metrics].
  // `metrics` and `relay` are lines added to those sections.
  void write_config(const std::string& extra = "", const std::string& metrics = "",
                    const std::string& relay = "") {
    std::ofstream(config(), std::ios::trunc)
        << "[node]\ndata_dir = \"data\"\nnickname = \"itest\"\nroles = [\"relay\"]\n"
        << "[directory]\nfile = \"directory.bin\"\nauthorities = [\""
        << crypto::to_hex(authority_.public_key) << "\"]\n"
        << "[transport]\nudp_listen = \"127.0.0.1:0\"\n"
        << "[relay]\nadvertise_udp = \"127.0.0.1:9340\"\n"
        << relay << "[metrics]\nlisten = \"127.0.0.1:0\"\n"
        << metrics << "[shutdown]\ndrain_deadline = \"2s\"\n"
        << extra;
  }

  // Starts nyxd and waits until its control socket answers.
  void start() {
    node_ = std::make_unique<Process>(NYXD_PATH, std::vector<std::string>{"--config", config()},
                                      tmp_.path() / "nyxd.log");
    ASSERT_TRUE(node_->started());
    auto client = wait_for_control(*node_, data() / "control.sock");
    ASSERT_TRUE(client) << client.error();
  }

  control::ControlClient authenticated() {
    auto client = control::ControlClient::connect(data() / "control.sock");
    EXPECT_TRUE(client.has_value());
    auto cookie = control::ControlCookie::load(data() / "control.cookie");
    EXPECT_TRUE(cookie.has_value());
    auto status = client->authenticate(*cookie);
    EXPECT_TRUE(status.has_value()) << status.error().message;
    return std::move(*client);
  }

  void expect_clean_exit_after(int sig) {
    node_->signal(sig);
    const auto code = node_->wait(10s);
    ASSERT_TRUE(code.has_value()) << "nyxd did not exit:\n" << node_->output();
    EXPECT_EQ(*code, 0) << node_->output();
  }

  TempDir tmp_;
  crypto::Ed25519KeyPair authority_ = crypto::Ed25519KeyPair::generate();
  std::unique_ptr<Process> node_;
};

using nyx::test::mode_of;

TEST_F(NyxdProcess, StartsAnswersNodeInfoAndExitsZeroOnSigterm) {
  start();
  auto client = authenticated();
  auto info = client.call("node.info");
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ((*info)["nickname"], "itest");
  EXPECT_EQ((*info)["link_key"].get<std::string>().size(), 64U);
  EXPECT_EQ((*info)["directory"]["nodes"], 2);
  EXPECT_EQ(mode_of(data()), 0700U);
  for (const char* key : {"identity.key", "link.key", "onion-0.key", "control.cookie"}) {
    EXPECT_EQ(mode_of(data() / key), 0600U) << key;
  }
  auto peers = client.call("peers.list");
  ASSERT_TRUE(peers.has_value()) << peers.error().message;
  EXPECT_EQ(peers->size(), 2U);
  expect_clean_exit_after(SIGTERM);
}

TEST_F(NyxdProcess, KeysSurviveARestart) {
  start();
  auto first = authenticated().call("node.info");
  ASSERT_TRUE(first.has_value());
  expect_clean_exit_after(SIGINT);
  start();
  auto second = authenticated().call("node.info");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ((*first)["identity_key"], (*second)["identity_key"]);
  EXPECT_EQ((*first)["link_key"], (*second)["link_key"]);
  expect_clean_exit_after(SIGTERM);
}

TEST_F(NyxdProcess, RefusesACallWithoutTheCookie) {
  start();
  auto client = control::ControlClient::connect(data() / "control.sock");
  ASSERT_TRUE(client.has_value());
  auto info = client->call("node.info");
  ASSERT_FALSE(info.has_value());
  // A wrong cookie is refused too, and the node keeps serving.
  auto other = control::ControlClient::connect(data() / "control.sock");
  ASSERT_TRUE(other.has_value());
  TempDir elsewhere;
  auto wrong = control::ControlCookie::create(elsewhere.path() / "cookie");
  ASSERT_TRUE(wrong.has_value());
  EXPECT_FALSE(other->authenticate(*wrong).has_value());
  EXPECT_TRUE(authenticated().call("node.info").has_value());
  expect_clean_exit_after(SIGTERM);
}

TEST_F(NyxdProcess, ReloadsAValidDirectoryAndRefusesAnInvalidOne) {
  start();
  auto client = authenticated();
  write_directory(3);
  auto reloaded = client.call("directory.reload");
  ASSERT_TRUE(reloaded.has_value()) << reloaded.error().message;
  EXPECT_EQ((*reloaded)["nodes"], 3);

  std::ofstream(directory(), std::ios::trunc) << "not a directory";
  auto refused = client.call("directory.reload");
  ASSERT_FALSE(refused.has_value());
  auto info = client.call("node.info");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ((*info)["directory"]["nodes"], 3) << "the old directory must stay";

  // Signed by another authority: refused as well.
  authority_ = crypto::Ed25519KeyPair::generate();
  write_directory(5);
  EXPECT_FALSE(client.call("directory.reload").has_value());

  auto stats = client.call("node.stats");
  ASSERT_TRUE(stats.has_value());
  std::int64_t refused_count = 0;
  for (const auto& series : (*stats)["nyx_directory_loads_total"]["series"]) {
    if (series["labels"]["result"] == "refused") {
      refused_count = series["value"].get<std::int64_t>();
    }
  }
  EXPECT_EQ(refused_count, 2);
  expect_clean_exit_after(SIGTERM);
}

TEST_F(NyxdProcess, ReloadsTheDirectoryOnSighup) {
  start();
  auto client = authenticated();
  write_directory(4);
  node_->signal(SIGHUP);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  int nodes = 0;
  while (std::chrono::steady_clock::now() < deadline && nodes != 4) {
    auto info = client.call("node.info");
    ASSERT_TRUE(info.has_value());
    nodes = (*info)["directory"]["nodes"].get<int>();
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(nodes, 4);
  expect_clean_exit_after(SIGTERM);
}

TEST_F(NyxdProcess, UsesTheOnionKeyOfTheEpochItsDescriptorNames) {
  // The node's identity, made before its first start so the directory can list it.
  std::filesystem::create_directory(data());
  ASSERT_EQ(::chmod(data().c_str(), 0700), 0);
  const auto seed = crypto::SecretBytes<32>::random();
  ASSERT_TRUE(crypto::write_key_file(data() / "identity.key", seed.span()).has_value());
  document::NodeDescriptor self;
  self.identity_key = crypto::Ed25519KeyPair::from_seed(seed.span()).public_key;
  self.link_key = crypto::X25519KeyPair::generate().public_key;
  self.udp_address = "127.0.0.1:1";
  self.onion_key_epoch = 5;
  write_directory(1, &self);
  start();
  auto client = authenticated();
  auto info = client.call("node.info");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ((*info)["identity_key"], crypto::to_hex(self.identity_key));
  EXPECT_EQ((*info)["onion_key_epoch"], 5);
  EXPECT_EQ(mode_of(data() / "onion-5.key"), 0600U);
  EXPECT_FALSE(std::filesystem::exists(data() / "onion-0.key"));

  self.onion_key_epoch = 6;
  write_directory(1, &self);
  ASSERT_TRUE(client.call("directory.reload").has_value());
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline &&
         (*client.call("node.info"))["onion_key_epoch"] != 6) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ((*client.call("node.info"))["onion_key_epoch"], 6);
  EXPECT_EQ(mode_of(data() / "onion-6.key"), 0600U);
  expect_clean_exit_after(SIGTERM);
}

TEST_F(NyxdProcess, ServesPrometheusMetrics) {
  start();
  auto info = authenticated().call("node.info");
  ASSERT_TRUE(info.has_value());
  const auto endpoint = (*info)["metrics_listen"].get<std::string>();
  const auto reply = http_get(endpoint, "/metrics");
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 200 OK")) << reply;
  EXPECT_NE(reply.find("\nnyx_directory_nodes 2\n"), std::string::npos) << reply;
  EXPECT_NE(reply.find("\nnyx_relay_cells_received_total "), std::string::npos) << reply;
  EXPECT_NE(reply.find("\nnyx_relay_queued_cells "), std::string::npos) << reply;
  // One labelled family per concept; the unlabelled names they replaced are gone.
  EXPECT_NE(reply.find("\nnyx_relay_cells_dropped_total{reason=\"malformed\"} "), std::string::npos)
      << reply;
  EXPECT_NE(reply.find("\nnyx_relay_creates_total{result=\"rejected\"} "), std::string::npos)
      << reply;
  EXPECT_EQ(reply.find("nyx_relay_dropped_"), std::string::npos) << reply;
  EXPECT_EQ(reply.find("nyx_relay_creates_accepted_total"), std::string::npos) << reply;
  // The transport's own labelled families, not a second, unlabelled copy.
  EXPECT_NE(reply.find("\nnyx_transport_udp_packets_total{dir=\"rx\"} "), std::string::npos)
      << reply;
  EXPECT_NE(reply.find("\nnyx_transport_links_up "), std::string::npos) << reply;
  EXPECT_EQ(reply.find("nyx_transport_udp_packets_received_total"), std::string::npos) << reply;
  // What an operator alerts on: the build, the start, the directory's expiry,
  // the process.
  EXPECT_NE(reply.find("\nnyx_build_info{commit=\""), std::string::npos) << reply;
  EXPECT_NE(reply.find("\nnyx_node_start_time_seconds "), std::string::npos) << reply;
  const auto expiry = reply.find("\nnyx_directory_valid_until_seconds ");
  ASSERT_NE(expiry, std::string::npos) << reply;
  const auto valid_until = std::stoull(reply.substr(expiry + 35));
  EXPECT_GT(valid_until, unix_now() + 3000);  // write_directory: an hour from now
  EXPECT_LE(valid_until, unix_now() + 3600);
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
                           "process_start_time_seconds"}) {
    EXPECT_NE(reply.find(std::string("\n") + name + " "), std::string::npos) << name;
  }
  EXPECT_TRUE(http_get(endpoint, "/").starts_with("HTTP/1.1 404"));
  expect_clean_exit_after(SIGTERM);
}

TEST_F(NyxdProcess, MetricsRefuseAClientOutsideMetricsAllow) {
  write_config("", "allow = [\"192.0.2.0/24\"]\n");
  start();
  auto info = authenticated().call("node.info");
  ASSERT_TRUE(info.has_value());
  const auto endpoint = (*info)["metrics_listen"].get<std::string>();
  const auto reply = http_get(endpoint, "/metrics");
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 403")) << reply;
  EXPECT_EQ(reply.find("nyx_"), std::string::npos) << reply;
  // Counted, as node.stats shows.
  auto stats = authenticated().call("node.stats");
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ((*stats)["nyx_metrics_scrapes_refused_total"]["series"][0]["value"], 1);
  expect_clean_exit_after(SIGTERM);
}

TEST_F(NyxdProcess, ShutsDownOnTheControlCall) {
  start();
  auto reply = authenticated().call("node.shutdown");
  ASSERT_TRUE(reply.has_value()) << reply.error().message;
  const auto code = node_->wait(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << node_->output();
}

TEST_F(NyxdProcess, ConfigReloadAppliesLogSettingsAndNamesTheRest) {
  start();
  auto client = authenticated();
  write_config("[log]\nlevel = \"debug\"\n[mix]\nhops = 4\n[stream]\ncongestion = \"newreno\"\n",
               "", "bandwidth_weight = 7\n");
  auto reply = client.call("config.reload");
  ASSERT_TRUE(reply.has_value()) << reply.error().message;
  EXPECT_EQ((*reply)["applied"], nlohmann::json::array({"log"}));
  EXPECT_EQ((*reply)["restart_required"], nlohmann::json::array({"mix", "stream", "relay"}));
  write_config("[mix]\nhops = 99\n");
  EXPECT_FALSE(client.call("config.reload").has_value());
  expect_clean_exit_after(SIGTERM);
}

TEST_F(NyxdProcess, CheckConfigPrintsEveryErrorAndExitsOne) {
  auto good = run_to_end(NYXD_PATH, {"--check-config", config()}, tmp_.path() / "check.log");
  EXPECT_EQ(good.code, 0) << good.output;
  write_config("[mix]\nhops = 9\nbogus = 1\n");
  auto bad = run_to_end(NYXD_PATH, {"--check-config", config()}, tmp_.path() / "check.log");
  EXPECT_EQ(bad.code, 1) << bad.output;
  EXPECT_NE(bad.output.find("nyxd.toml:"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("mix.hops"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("mix.bogus"), std::string::npos) << bad.output;
  auto version = run_to_end(NYXD_PATH, {"--version"}, tmp_.path() / "check.log");
  EXPECT_EQ(version.code, 0);
  EXPECT_TRUE(version.output.starts_with("nyxd ")) << version.output;
  auto usage = run_to_end(NYXD_PATH, {"--frobnicate"}, tmp_.path() / "check.log");
  EXPECT_EQ(usage.code, 2) << usage.output;
}

TEST_F(NyxdProcess, RefusesAWorldReadableDataDirectory) {
  std::filesystem::create_directory(data());
  ASSERT_EQ(::chmod(data().c_str(), 0755), 0);
  auto run = run_to_end(NYXD_PATH, {"--config", config()}, tmp_.path() / "run.log");
  EXPECT_EQ(run.code, 1) << run.output;
  EXPECT_NE(run.output.find("chmod 700"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(data() / "identity.key"));
}

TEST_F(NyxdProcess, VersionNamesCommitAndBuildType) {
  auto version = run_to_end(NYXD_PATH, {"--version"}, tmp_.path() / "check.log");
  EXPECT_EQ(version.code, 0);
  EXPECT_NE(version.output.find("(commit "), std::string::npos) << version.output;
  EXPECT_NE(version.output.find(", "), std::string::npos) << version.output;
}

TEST_F(NyxdProcess, CheckConfigVerifiesTheDirectoryKeyFilesAndDataDirectory) {
  // Not there yet: said, not refused.
  auto fresh = run_to_end(NYXD_PATH, {"--check-config", config()}, tmp_.path() / "check.log");
  EXPECT_EQ(fresh.code, 0) << fresh.output;
  EXPECT_NE(fresh.output.find("will create it"), std::string::npos) << fresh.output;

  // Signed by another authority than the configured one.
  authority_ = crypto::Ed25519KeyPair::generate();
  write_directory(2);
  std::filesystem::create_directory(data());
  ASSERT_EQ(::chmod(data().c_str(), 0755), 0);
  { std::ofstream(data() / "link.key") << "short"; }
  auto bad = run_to_end(NYXD_PATH, {"--check-config", config()}, tmp_.path() / "check.log");
  EXPECT_EQ(bad.code, 1) << bad.output;
  EXPECT_NE(bad.output.find("directory.bin"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("chmod 700"), std::string::npos) << bad.output;

  // The data directory fixed: the key file is the next problem, by name.
  ASSERT_EQ(::chmod(data().c_str(), 0700), 0);
  ASSERT_EQ(::chmod((data() / "link.key").c_str(), 0644), 0);
  bad = run_to_end(NYXD_PATH, {"--check-config", config()}, tmp_.path() / "check.log");
  EXPECT_EQ(bad.code, 1) << bad.output;
  EXPECT_NE(bad.output.find("link.key"), std::string::npos) << bad.output;
  EXPECT_FALSE(std::filesystem::exists(data() / "identity.key"));
}

TEST_F(NyxdProcess, CheckConfigBindFindsATakenPort) {
  asio::io_context io;
  asio::ip::udp::socket taken(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::ofstream(config(), std::ios::trunc)
      << "[node]\ndata_dir = \"data\"\nroles = [\"relay\"]\n"
      << "[directory]\nfile = \"directory.bin\"\nauthorities = [\""
      << crypto::to_hex(authority_.public_key) << "\"]\n"
      << "[transport]\nudp_listen = \"127.0.0.1:" << taken.local_endpoint().port() << "\"\n"
      << "[relay]\nadvertise_udp = \"127.0.0.1:9340\"\n";
  auto plain = run_to_end(NYXD_PATH, {"--check-config", config()}, tmp_.path() / "check.log");
  EXPECT_EQ(plain.code, 0) << plain.output;
  auto bound =
      run_to_end(NYXD_PATH, {"--check-config", config(), "--bind"}, tmp_.path() / "check.log");
  EXPECT_EQ(bound.code, 1) << bound.output;
  EXPECT_NE(bound.output.find("transport.udp_listen"), std::string::npos) << bound.output;
}

TEST_F(NyxdProcess, GroupAccessOpensSocketCookieAndDataDirToTheGroup) {
  write_config("[control]\ngroup_access = true\n");
  start();
  EXPECT_EQ(mode_of(data()), 0750U);
  EXPECT_EQ(mode_of(data() / "control.sock") & 0777U, 0660U);
  EXPECT_EQ(mode_of(data() / "control.cookie"), 0640U);
  EXPECT_EQ(mode_of(data() / "identity.key"), 0600U);
  auto reply = authenticated().call("node.info");
  EXPECT_TRUE(reply.has_value()) << reply.error().message;
  expect_clean_exit_after(SIGTERM);
}

TEST_F(NyxdProcess, SighupReopensTheLogFileAndReloadsTheConfig) {
  write_config("[log]\nfile = \"nyxd-file.log\"\n");
  start();
  const auto log_file = tmp_.path() / "nyxd-file.log";
  ASSERT_TRUE(std::filesystem::exists(log_file));
  std::filesystem::rename(log_file, tmp_.path() / "nyxd-file.log.1");
  write_config("[log]\nfile = \"nyxd-file.log\"\n[mix]\nhops = 4\n");
  node_->signal(SIGHUP);
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline &&
         text.find("need a restart") == std::string::npos) {
    std::this_thread::sleep_for(20ms);
    std::ifstream in(log_file);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  EXPECT_NE(text.find("SIGHUP"), std::string::npos) << text;
  EXPECT_NE(text.find("\"mix\""), std::string::npos) << text;
  expect_clean_exit_after(SIGTERM);
}

}  // namespace
}  // namespace nyx::test
