#include "cli/node_connection.hpp"

#include <filesystem>
#include <vector>

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/text_file.hpp"
#include "support/temp_dir.hpp"

namespace nyx::cli {
namespace {

// A bound Unix socket at `path`, as a running node leaves it.
class SocketFile {
 public:
  explicit SocketFile(const std::filesystem::path& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path.string().copy(address.sun_path, sizeof(address.sun_path) - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  }
  ~SocketFile() { ::close(fd_); }
  SocketFile(const SocketFile&) = delete;
  SocketFile& operator=(const SocketFile&) = delete;

 private:
  int fd_ = -1;
};

TEST(DataDirSearch, VariableThenVarLibNyxThenNyxData) {
  using Paths = std::vector<std::filesystem::path>;
  EXPECT_EQ(data_dir_search(nullptr), (Paths{"/var/lib/nyx", "nyx-data"}));
  EXPECT_EQ(data_dir_search(""), (Paths{"/var/lib/nyx", "nyx-data"}));
  EXPECT_EQ(data_dir_search("/srv/nyx"), (Paths{"/srv/nyx", "/var/lib/nyx", "nyx-data"}));
}

TEST(ResolveControlPaths, TakesTheFirstPlaceSearchedThatHoldsAControlSocket) {
  test::TempDir dir;
  for (const char* name : {"a", "b", "c"}) {
    std::filesystem::create_directory(dir.path() / name);
  }
  // "a" has a cookie but no socket: no node runs there.
  ASSERT_TRUE(write_text_file(dir.path() / "a" / "control.cookie", "x"));
  SocketFile in_b(dir.path() / "b" / "control.sock");
  SocketFile in_c(dir.path() / "c" / "control.sock");
  auto paths = resolve_control_paths({}, {dir.path() / "a", dir.path() / "b", dir.path() / "c"});
  ASSERT_TRUE(paths) << paths.error().message;
  EXPECT_EQ(paths->socket, dir.path() / "b" / "control.sock");
  EXPECT_EQ(paths->cookie, dir.path() / "b" / "control.cookie");
}

TEST(ResolveControlPaths, NoSocketAnywhereIsNotRunningAndNamesEveryPlace) {
  test::TempDir dir;
  const std::vector<std::filesystem::path> search{dir.path() / "env", "/nonexistent/nyx",
                                                  "nyx-data-none"};
  auto paths = resolve_control_paths({}, search);
  ASSERT_FALSE(paths);
  EXPECT_EQ(paths.error().code, ExitCode::kNotRunning);
  for (const auto& place : search) {
    EXPECT_NE(paths.error().message.find((place / "control.sock").string()), std::string::npos)
        << paths.error().message;
  }
}

TEST(ResolveControlPaths, AGivenDataDirIsTheOnlyPlaceLooked) {
  test::TempDir dir;
  SocketFile elsewhere(dir.path() / "control.sock");
  auto paths = resolve_control_paths({"", "/nonexistent/nyx", ""}, {dir.path()});
  ASSERT_TRUE(paths);
  EXPECT_EQ(paths->socket, std::filesystem::path("/nonexistent/nyx/control.sock"));
}

TEST(ResolveControlPaths, SocketWinsAndFindsTheCookieBesideIt) {
  auto paths = resolve_control_paths({"/run/n/c.sock", "/elsewhere", ""});
  ASSERT_TRUE(paths);
  EXPECT_EQ(paths->socket, std::filesystem::path("/run/n/c.sock"));
  EXPECT_EQ(paths->cookie, std::filesystem::path("/elsewhere/control.cookie"));
  paths = resolve_control_paths({"/run/n/c.sock", "", ""});
  ASSERT_TRUE(paths);
  EXPECT_EQ(paths->cookie, std::filesystem::path("/run/n/control.cookie"));
}

TEST(ResolveControlPaths, ReadsTheDataDirOfAConfigRelativeToIt) {
  test::TempDir dir;
  ASSERT_TRUE(write_text_file(dir.path() / "nyxd.toml",
                              "[node]\ndata_dir = \"state\"\nnickname = \"x\"\n[socks]\n"
                              "listen = \"127.0.0.1:1\"\n"));
  auto paths = resolve_control_paths({"", "", dir.path() / "nyxd.toml"});
  ASSERT_TRUE(paths);
  EXPECT_EQ(paths->socket, dir.path() / "state" / "control.sock");
}

TEST(ResolveControlPaths, AnUnreadableConfigIsAUsageError) {
  auto paths = resolve_control_paths({"", "", "/nonexistent/nyxd.toml"});
  ASSERT_FALSE(paths);
  EXPECT_EQ(paths.error().code, ExitCode::kUsage);
}

TEST(OpenControl, NoNodeMeansNotRunningWithHowToStartOne) {
  test::TempDir dir;
  auto client = open_control({dir.path() / "control.sock", dir.path() / "control.cookie"});
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code, ExitCode::kNotRunning);
  EXPECT_NE(client.error().message.find("nyxd --config FILE"), std::string::npos);
  EXPECT_NE(client.error().message.find("nyxctl testnet up"), std::string::npos);
}

TEST(CallFailure, MapsErrorsToExitCodes) {
  EXPECT_EQ(call_failure({ErrorCategory::kClosed, 0, "gone"}).code, ExitCode::kNotRunning);
  EXPECT_EQ(call_failure({ErrorCategory::kPermission, -32002, "bad cookie"}).code,
            ExitCode::kFailed);
  EXPECT_EQ(call_failure({ErrorCategory::kProtocol, -32601, "no such method"}).code,
            ExitCode::kFailed);
}

}  // namespace
}  // namespace nyx::cli
