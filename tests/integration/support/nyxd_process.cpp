#include "integration/support/nyxd_process.hpp"

#include <csignal>
#include <fstream>
#include <iterator>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace nyx::test {

Process::Process(const std::string& program, const std::vector<std::string>& args,
                 std::filesystem::path output)
    : output_(std::move(output)) {
  std::vector<std::string> owned{program};
  owned.insert(owned.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : owned) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    const int fd = ::open(output_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::close(fd);
    }
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
}

Process::~Process() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

void Process::signal(int sig) const {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, sig);
  }
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!status_ && pid_ > 0) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status_;
}

std::string Process::output() const {
  std::ifstream in(output_);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Completed run_to_end(const std::string& program, const std::vector<std::string>& args,
                     const std::filesystem::path& output, std::chrono::milliseconds timeout) {
  Process process(program, args, output);
  Completed result;
  result.code = process.wait(timeout);
  result.output = process.output();
  return result;
}

std::expected<control::ControlClient, std::string> wait_for_control(
    Process& node, const std::filesystem::path& socket, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (node.wait(std::chrono::milliseconds(0))) {
      return std::unexpected("nyxd exited early:\n" + node.output());
    }
    if (std::filesystem::exists(socket)) {
      if (auto client = control::ControlClient::connect(socket, std::chrono::seconds(1))) {
        return std::move(*client);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::unexpected("nyxd did not open its control socket:\n" + node.output());
}

}  // namespace nyx::test
