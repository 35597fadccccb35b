#include "cli/process.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace nyx::cli {
namespace {

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& arg : argv) {
    out.push_back(const_cast<char*>(arg.c_str()));
  }
  out.push_back(nullptr);
  return out;
}

bool is_executable(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

// RAII for posix_spawn's attribute and file-action objects.
class SpawnSetup {
 public:
  SpawnSetup() {
    ::posix_spawn_file_actions_init(&actions_);
    ::posix_spawnattr_init(&attributes_);
    // A child starts with no signal blocked and the default dispositions,
    // whatever this process blocks (the test-host code blocks SIGINT, SIGTERM
    // and SIGHUP for its watcher thread; a nyxd inheriting that mask would
    // never see the SIGTERM that stops it).
    sigset_t none;
    sigemptyset(&none);
    ::posix_spawnattr_setsigmask(&attributes_, &none);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) {
      sigaddset(&defaults, sig);
    }
    ::posix_spawnattr_setsigdefault(&attributes_, &defaults);
    flags_ = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    ::posix_spawnattr_setflags(&attributes_, flags_);
  }
  // Only stdin, stdout and stderr reach the child: a long-lived daemon that
  // inherited, say, the build lock a wrapper (`flock LOCK nyxctl ...`) holds
  // open would keep it locked for as long as the testnet runs.
  void close_inherited_fds() { ::posix_spawn_file_actions_addclosefrom_np(&actions_, 3); }
  ~SpawnSetup() {
    ::posix_spawn_file_actions_destroy(&actions_);
    ::posix_spawnattr_destroy(&attributes_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  posix_spawn_file_actions_t* actions() { return &actions_; }
  posix_spawnattr_t* attributes() { return &attributes_; }
  void add_flags(short flags) {
    flags_ = static_cast<short>(flags_ | flags);
    ::posix_spawnattr_setflags(&attributes_, flags_);
  }

 private:
  posix_spawn_file_actions_t actions_{};
  posix_spawnattr_t attributes_{};
  short flags_ = 0;
};

Result<pid_t> spawn(const std::vector<std::string>& argv, SpawnSetup& setup) {
  pid_t pid = 0;
  auto args = c_argv(argv);
  const int err = ::posix_spawn(&pid, argv.front().c_str(), setup.actions(), setup.attributes(),
                                args.data(), environ);
  if (err != 0) {
    return make_error(ErrorCategory::kIo,
                      fmt::format("cannot start {}: {}", argv.front(), std::strerror(err)), err);
  }
  return pid;
}

}  // namespace

Result<std::filesystem::path> find_program(const std::string& name) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // Installed side by side, or in a build tree (build/cli/nyxctl, build/daemon/nyxd).
    for (const auto& candidate :
         {self.parent_path() / name, self.parent_path().parent_path() / "daemon" / name}) {
      if (is_executable(candidate)) {
        return candidate;
      }
    }
  }
  const char* path = std::getenv("PATH");
  std::string_view rest = path != nullptr ? path : "";
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const std::string_view dir = rest.substr(0, colon);
    if (!dir.empty() && is_executable(std::filesystem::path(dir) / name)) {
      return std::filesystem::path(dir) / name;
    }
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  }
  return make_error(ErrorCategory::kNotFound,
                    fmt::format("cannot find {} next to nyxctl ({}) or on PATH", name,
                                ec ? "unknown" : self.parent_path().string()));
}

Result<int> run_program(const std::vector<std::string>& argv) {
  SpawnSetup setup;
  auto pid = spawn(argv, setup);
  if (!pid) {
    return std::unexpected(std::move(pid.error()));
  }
  int status = 0;
  while (::waitpid(*pid, &status, 0) < 0) {
    if (errno != EINTR) {
      const int err = errno;
      return make_error(ErrorCategory::kIo, fmt::format("waitpid: {}", std::strerror(err)), err);
    }
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return WEXITSTATUS(status);
}

Result<pid_t> spawn_background(const std::vector<std::string>& argv,
                               const std::filesystem::path& log) {
  SpawnSetup setup;
  ::posix_spawn_file_actions_addopen(setup.actions(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(setup.actions(), STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0600);
  ::posix_spawn_file_actions_adddup2(setup.actions(), STDOUT_FILENO, STDERR_FILENO);
  setup.add_flags(POSIX_SPAWN_SETSID);
  setup.close_inherited_fds();
  return spawn(argv, setup);
}

bool process_alive(pid_t pid) {
  if (pid <= 0) {
    return false;
  }
  int status = 0;
  // Our own exited child stays a zombie (kill() succeeds on it) until reaped.
  if (::waitpid(pid, &status, WNOHANG) == pid) {
    return false;
  }
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

bool stop_process(pid_t pid, std::chrono::milliseconds grace) {
  if (!process_alive(pid)) {
    return true;
  }
  ::kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_alive(pid)) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, SIGKILL);
  for (int i = 0; i < 40 && process_alive(pid); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

}  // namespace nyx::cli
