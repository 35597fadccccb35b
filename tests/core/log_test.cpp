#include "core/log.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crypto/aead.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/key_file.hpp"
#include "core/crypto/x25519.hpp"
#include "support/temp_dir.hpp"

namespace {

// Counts how often it is formatted, to prove disabled levels format nothing.
struct Counted {
  int* formats;
};

}  // namespace

template <>
struct fmt::formatter<Counted> : fmt::formatter<std::string_view> {
  auto format(const Counted& c, fmt::format_context& ctx) const {
    ++*c.formats;
    return fmt::formatter<std::string_view>::format("counted", ctx);
  }
};

namespace nyx::log {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class LogTest : public ::testing::Test {
 protected:
  void TearDown() override {
    ASSERT_TRUE(init(LogOptions{}));  // back to stderr at info for other tests
  }

  void start(Level level, bool json = false) {
    ASSERT_TRUE(init(LogOptions{.level = level, .file = file_, .json = json}));
  }
  std::string captured() {
    flush();
    std::ifstream in(file_, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  test::TempDir temp_;
  const std::filesystem::path dir_ = temp_.path();
  const std::filesystem::path file_ = dir_ / "nyxd.log";
};

TEST_F(LogTest, OnTheJournalStreamLinesCarryTheirSyslogPriorityAndNoTimestamp) {
  const auto stderr_file = dir_ / "stderr";
  const int saved = ::dup(STDERR_FILENO);
  const int fd = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_GE(::dup2(fd, STDERR_FILENO), 0);
  struct stat st {};
  ASSERT_EQ(::fstat(fd, &st), 0);
  const std::string stream = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  ::setenv("JOURNAL_STREAM", stream.c_str(), 1);
  LogOptions options;
  options.level = Level::kDebug;
  const bool started = init(options).has_value();
  warn("disk nearly full");
  info("up");
  error("bad");
  debug("detail");
  flush();
  ::unsetenv("JOURNAL_STREAM");
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  ::close(fd);
  ASSERT_TRUE(started);
  std::ifstream in(stderr_file);
  std::ostringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(),
            "<4>[warn] disk nearly full\n<6>[info] up\n<3>[error] bad\n<7>[debug] detail\n");

  EXPECT_FALSE(detail::is_journal_stream(nullptr, STDERR_FILENO));
  EXPECT_FALSE(detail::is_journal_stream("8:1234", STDERR_FILENO));
  EXPECT_FALSE(detail::is_journal_stream("journal", STDERR_FILENO));
}

TEST_F(LogTest, LevelFiltersAndDisabledCallsFormatNothing) {
  start(Level::kWarn);
  int formats = 0;
  info("hidden {}", Counted{&formats});
  debug("hidden {}", Counted{&formats});
  EXPECT_EQ(formats, 0);
  EXPECT_FALSE(enabled(Level::kInfo));
  EXPECT_TRUE(enabled(Level::kError));
  warn("shown {} {}", Counted{&formats}, 42);
  error("failed: {}", "bad thing");
  EXPECT_EQ(formats, 1);

  const auto text = captured();
  EXPECT_THAT(text, Not(HasSubstr("hidden")));
  EXPECT_THAT(text, HasSubstr("[warn] shown counted 42\n"));
  EXPECT_THAT(text, HasSubstr("[error] failed: bad thing\n"));
}

TEST_F(LogTest, OffSilencesEverything) {
  start(Level::kOff);
  error("nothing");
  EXPECT_EQ(captured(), "");
}

TEST_F(LogTest, JsonLinesAreOneEscapedObjectPerLine) {
  start(Level::kDebug, /*json=*/true);
  debug("quote \" and newline \n inside");
  info("second");
  const auto text = captured();
  std::istringstream lines(text);
  std::string first;
  std::string second;
  ASSERT_TRUE(std::getline(lines, first));
  ASSERT_TRUE(std::getline(lines, second));
  EXPECT_THAT(first, HasSubstr(R"("level":"debug")"));
  EXPECT_THAT(first, HasSubstr(R"("msg":"quote \" and newline \n inside")"));
  EXPECT_THAT(first,
              ::testing::MatchesRegex(R"(\{.*"ts":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z".*\})"));
  EXPECT_THAT(second, HasSubstr(R"("msg":"second")"));
  std::string rest;
  EXPECT_FALSE(std::getline(lines, rest));
}

TEST_F(LogTest, UnopenableFileIsAnErrorAndKeepsTheOldLogger) {
  start(Level::kInfo);
  const auto not_a_dir = dir_ / "plain-file";
  std::ofstream(not_a_dir) << "x";
  const auto bad = not_a_dir / "x.log";
  const auto status = init(LogOptions{.level = Level::kInfo, .file = bad});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().category, ErrorCategory::kIo);
  EXPECT_THAT(status.error().message, HasSubstr(bad.string()));
  info("still here");
  EXPECT_THAT(captured(), HasSubstr("still here"));
}

TEST(LogLevel, Parses) {
  EXPECT_EQ(parse_level("trace").value(), Level::kTrace);
  EXPECT_EQ(parse_level("warn").value(), Level::kWarn);
  EXPECT_EQ(parse_level("off").value(), Level::kOff);
  EXPECT_FALSE(parse_level("INFO"));
  EXPECT_FALSE(parse_level("verbose"));
}

// The rule of core/log.hpp: log what a node really logs around its keys
// (public keys, and the errors of every crypto call that can fail with a
// secret in hand) at the most verbose level, then search the output for the
// secrets in every encoding.
TEST_F(LogTest, SecretKeyBytesNeverReachTheLog) {
  start(Level::kTrace);
  const auto identity = crypto::Ed25519KeyPair::generate();
  const auto onion = crypto::X25519KeyPair::generate();
  const auto session = crypto::EphemeralSecret<32>::random();

  info("identity {}", crypto::to_hex(identity.public_key));
  info("onion key {}", crypto::to_base64(onion.public_key));

  std::array<std::uint8_t, 32> shared{};
  const std::array<std::uint8_t, 32> low_order{};
  if (auto dh = crypto::x25519(shared, onion.secret.span(), low_order); !dh) {
    warn("handshake failed: {}", dh.error().to_string());
  }
  std::array<std::uint8_t, 12> nonce{};
  std::array<std::uint8_t, 40> sealed{};
  std::array<std::uint8_t, 24> opened{};
  if (auto open = crypto::aead_open(session.span(), nonce, {}, sealed, opened); !open) {
    warn("cell dropped: {}", open.error().to_string());
  }
  const auto key_path = dir_ / "onion.key";
  ASSERT_TRUE(crypto::write_key_file(key_path, onion.secret.span()));
  std::filesystem::permissions(key_path, std::filesystem::perms::group_read,
                               std::filesystem::perm_options::add);
  if (auto loaded = crypto::read_secret_key_file<32>(key_path); !loaded) {
    error("cannot load key: {}", loaded.error().to_string());
  }

  const auto text = captured();
  ASSERT_THAT(text, HasSubstr(crypto::to_hex(identity.public_key)));  // the capture works
  ASSERT_THAT(text, HasSubstr("low-order"));
  ASSERT_THAT(text, HasSubstr("authentication failed"));
  ASSERT_THAT(text, HasSubstr("onion.key"));
  const Bytes secrets[] = {identity.secret.span().first(32), onion.secret.span(), session.span()};
  for (const Bytes secret : secrets) {
    const std::string raw(secret.begin(), secret.end());
    EXPECT_THAT(text, Not(HasSubstr(raw)));
    EXPECT_THAT(text, Not(HasSubstr(crypto::to_hex(secret))));
    EXPECT_THAT(text, Not(HasSubstr(crypto::to_base64(secret))));
  }
}

}  // namespace
}  // namespace nyx::log
