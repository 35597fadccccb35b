#pragma once
// A child process for integration tests: nyxd (or anything) started with
// fork/exec, its stdout and stderr in a file, signalled and reaped with a
// deadline. The destructor kills a child still running, so a failed test
// leaves no process behind.

#include <chrono>
#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "daemon/control/control_client.hpp"

namespace nyx::test {

class Process {
 public:
  // Starts `program` with `args`; output (both streams) goes to `output`.
  Process(const std::string& program, const std::vector<std::string>& args,
          std::filesystem::path output);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  bool started() const noexcept { return pid_ > 0; }
  pid_t pid() const noexcept { return pid_; }
  void signal(int sig) const;
  // The exit code once the process exited within `timeout` (-signal when a
  // signal ended it); nullopt when it is still running.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // Everything it printed so far.
  std::string output() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::filesystem::path output_;
};

// Runs a program to its end (at most `timeout`) and returns its exit code
// and output.
struct Completed {
  std::optional<int> code;
  std::string output;
};
Completed run_to_end(const std::string& program, const std::vector<std::string>& args,
                     const std::filesystem::path& output,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Waits until `node` (a nyxd) answers on its control socket `socket`: a
// connected client, or why not (it exited, or did not answer within
// `timeout`) with its output.
std::expected<control::ControlClient, std::string> wait_for_control(
    Process& node, const std::filesystem::path& socket,
    std::chrono::milliseconds timeout = std::chrono::seconds(15));

}  // namespace nyx::test
