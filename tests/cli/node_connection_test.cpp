#include "cli/node_connection.hpp"

#include <gtest/gtest.h>

#include "cli/text_file.hpp"
#include "daemon/support/temp_dir.hpp"

namespace nyx::cli {
namespace {

TEST(ResolveControlPaths, DefaultsToNyxDataInTheWorkingDirectory) {
  auto paths = resolve_control_paths({});
  ASSERT_TRUE(paths);
  EXPECT_EQ(paths->socket, std::filesystem::path("nyx-data/control.sock"));
  EXPECT_EQ(paths->cookie, std::filesystem::path("nyx-data/control.cookie"));
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
