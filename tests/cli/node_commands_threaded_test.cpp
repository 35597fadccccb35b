// The node commands against a scripted control server on a real Unix socket
// (a thread speaking the control protocol's JSON-RPC lines), so the tables,
// --json output, watch and exit codes are checked through the real client.
#include <cerrno>
#include <cstdio>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/peers_command.hpp"
#include "cli/stats_command.hpp"
#include "cli/status_command.hpp"
#include "cli/streams_command.hpp"
#include "daemon/control/control_cookie.hpp"
#include "daemon/control/json_rpc.hpp"
#include "support/temp_dir.hpp"

namespace nyx::cli {
namespace {

using nlohmann::json;

// Serves one connection: auth with the cookie, node.info, peers.list,
// node.stats, and events.subscribe pushing three events.
class ScriptedNode {
 public:
  explicit ScriptedNode(const std::filesystem::path& dir)
      : socket_path_(dir / "control.sock"),
        cookie_(*control::ControlCookie::create(dir / "control.cookie")) {
    listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    socket_path_.string().copy(address.sun_path, sizeof(address.sun_path) - 1);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(listener_, 4), 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedNode() {
    thread_.join();
    ::close(listener_);
  }
  ScriptedNode(const ScriptedNode&) = delete;
  ScriptedNode& operator=(const ScriptedNode&) = delete;

 private:
  // MSG_NOSIGNAL: a watch that has seen the events it asked for hangs up
  // while events are still pushed; that must be EPIPE, not a SIGPIPE that
  // kills the test binary.
  static void send(int fd, const std::string& line) {
    const ssize_t sent = ::send(fd, line.data(), line.size(), MSG_NOSIGNAL);
    EXPECT_TRUE(sent == static_cast<ssize_t>(line.size()) || (sent < 0 && errno == EPIPE));
  }

  static json stats(int sent) {
    return {{"nyx_sent_bytes_total",
             {{"type", "counter"},
              {"help", "sent"},
              {"series", json::array({{{"labels", json::object()}, {"value", sent}}})}}}};
  }

  void serve() {
    const int fd = ::accept(listener_, nullptr, nullptr);
    ASSERT_GE(fd, 0);
    std::string buffer;
    char chunk[4096];
    while (true) {
      const auto newline = buffer.find('\n');
      if (newline == std::string::npos) {
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n <= 0) {
          break;
        }
        buffer.append(chunk, static_cast<std::size_t>(n));
        continue;
      }
      const std::string line = buffer.substr(0, newline);
      buffer.erase(0, newline + 1);
      auto request = control::parse_rpc_request(line);
      ASSERT_TRUE(request);
      const std::string& method = request->method;
      if (method == "auth") {
        if (cookie_.matches_hex(request->params.value("cookie", ""))) {
          send(fd, control::encode_rpc_result(request->id, true));
        } else {
          send(fd, control::encode_rpc_error(request->id, {control::kRpcAuthFailed, "bad cookie"}));
          break;
        }
      } else if (method == "node.info") {
        send(fd, control::encode_rpc_result(request->id,
                                            {{"nickname", "scripted"}, {"uptime_seconds", 3725}}));
      } else if (method == "peers.list") {
        send(fd, control::encode_rpc_result(request->id,
                                            json::array({{{"identity_key", std::string(64, 'b')},
                                                          {"bytes_sent", 3 * 1024 * 1024}}})));
      } else if (method == "node.stats") {
        send(fd, control::encode_rpc_result(request->id, stats(1024)));
      } else if (method == "events.subscribe") {
        send(fd, control::encode_rpc_result(request->id, true));
        for (int i = 0; i < 3; ++i) {
          send(fd, control::encode_rpc_notification("events.update",
                                                    {{"data", stats(1024 * (i + 1))}}));
        }
      } else {
        send(fd, control::encode_rpc_error(request->id,
                                           {control::kRpcMethodNotFound, "method not found"}));
      }
    }
    ::close(fd);
  }

  std::filesystem::path socket_path_;
  control::ControlCookie cookie_;
  int listener_ = -1;
  std::thread thread_;
};

// Captures what a command prints.
class Capture {
 public:
  Capture() : file_(std::tmpfile()) {}
  ~Capture() { std::fclose(file_); }
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  std::FILE* file() { return file_; }
  std::string text() {
    std::fflush(file_);
    std::rewind(file_);
    std::string out;
    char chunk[4096];
    while (const std::size_t n = std::fread(chunk, 1, sizeof chunk, file_)) {
      out.append(chunk, n);
    }
    return out;
  }

 private:
  std::FILE* file_;
};

class NodeCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }
  ControlPaths paths() const {
    return {dir_.path() / "control.sock", dir_.path() / "control.cookie"};
  }

  test::TempDir dir_;
};

TEST_F(NodeCommandsTest, StatusPrintsFieldsOrJson) {
  ScriptedNode node(dir_.path());
  auto client = open_control(paths());
  ASSERT_TRUE(client) << client.error().message;
  Capture table;
  ASSERT_TRUE(show_status(*client, {false, table.file()}));
  EXPECT_EQ(table.text(),
            "FIELD           VALUE\n"
            "nickname        scripted\n"
            "uptime_seconds  1h 02m\n");
  Capture raw;
  ASSERT_TRUE(show_status(*client, {true, raw.file()}));
  EXPECT_EQ(json::parse(raw.text())["uptime_seconds"], 3725);
}

TEST_F(NodeCommandsTest, ListsAreTablesAndUnknownMethodsFail) {
  ScriptedNode node(dir_.path());
  auto client = open_control(paths());
  ASSERT_TRUE(client);
  Capture peers;
  ASSERT_TRUE(show_peers(*client, {false, peers.file()}));
  EXPECT_EQ(peers.text(),
            "IDENTITY KEY      BYTES SENT\n"
            "bbbbbbbbbbbbbbbb    3.00 MiB\n");
  Capture streams;
  auto failed = show_streams(*client, {false, streams.file()});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ExitCode::kFailed);
  EXPECT_NE(failed.error().message.find("method not found"), std::string::npos);
}

TEST_F(NodeCommandsTest, WatchPrintsRatesBetweenEvents) {
  ScriptedNode node(dir_.path());
  auto client = open_control(paths());
  ASSERT_TRUE(client);
  Capture out;
  ASSERT_TRUE(watch_stats(*client, std::chrono::milliseconds(100), {false, out.file()}, 3));
  const std::string text = out.text();
  EXPECT_NE(text.find("every 100 ms"), std::string::npos) << text;
  EXPECT_NE(text.find("3.00 KiB"), std::string::npos) << text;
  EXPECT_NE(text.find("RATE"), std::string::npos) << text;
  // 1 KiB more per 100 ms event.
  EXPECT_NE(text.find("10.0 KiB/s"), std::string::npos) << text;
}

TEST_F(NodeCommandsTest, WatchJsonIsOneObjectPerLine) {
  ScriptedNode node(dir_.path());
  auto client = open_control(paths());
  ASSERT_TRUE(client);
  Capture out;
  ASSERT_TRUE(watch_stats(*client, std::chrono::milliseconds(100), {true, out.file()}, 2));
  const std::string text = out.text();
  const auto newline = text.find('\n');
  ASSERT_NE(newline, std::string::npos);
  EXPECT_EQ(json::parse(text.substr(0, newline))["nyx_sent_bytes_total"]["series"][0]["value"],
            1024);
}

TEST_F(NodeCommandsTest, AWrongCookieIsRefused) {
  ScriptedNode node(dir_.path());
  ASSERT_TRUE(control::ControlCookie::create(dir_.path() / "other.cookie"));
  auto client = open_control({dir_.path() / "control.sock", dir_.path() / "other.cookie"});
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code, ExitCode::kFailed);
  EXPECT_NE(client.error().message.find("refused the control cookie"), std::string::npos)
      << client.error().message;
  auto wrong = open_control({dir_.path() / "control.sock", dir_.path() / "missing.cookie"});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ExitCode::kFailed);
}

}  // namespace
}  // namespace nyx::cli
