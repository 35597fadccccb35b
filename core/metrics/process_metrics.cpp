#include "core/metrics/process_metrics.hpp"

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <system_error>

#include <sys/resource.h>
#include <unistd.h>

#include "core/assert.hpp"
#include "core/metrics/registry.hpp"

namespace nyx::metrics {
namespace {

constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();

double cpu_seconds() {
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) != 0) {
    return kUnknown;
  }
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Field `index` (0: total program size, 1: resident set) of /proc/self/statm, in bytes.
double statm_bytes(int index) {
  std::ifstream in("/proc/self/statm");
  double pages[2] = {kUnknown, kUnknown};
  if (!(in >> pages[0] >> pages[1])) {
    return kUnknown;
  }
  return pages[index] * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

double open_fds() {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/self/fd", ec);
  if (ec) {
    return kUnknown;
  }
  double count = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) {
      return kUnknown;
    }
    ++count;
  }
  return count;
}

double max_fds() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return kUnknown;
  }
  return static_cast<double>(limit.rlim_cur);
}

// Unix time the process started: its start in clock ticks after boot
// (/proc/self/stat field 22) plus the boot time (/proc/stat btime).
double start_time_seconds() {
  std::ifstream stat_file("/proc/self/stat");
  const std::string stat((std::istreambuf_iterator<char>(stat_file)),
                         std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces and parentheses: count the
  // fields after its closing parenthesis, which starts at field 3.
  const auto name_end = stat.rfind(')');
  if (name_end == std::string::npos) {
    return kUnknown;
  }
  std::istringstream fields(stat.substr(name_end + 1));
  std::string field;
  for (int i = 3; i < 22 && fields >> field; ++i) {
  }
  double start_ticks = 0;
  if (!(fields >> start_ticks)) {
    return kUnknown;
  }
  std::ifstream boot("/proc/stat");
  std::string key;
  double boot_time = kUnknown;
  while (boot >> key) {
    if (key == "btime") {
      boot >> boot_time;
      break;
    }
    boot.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return boot_time + start_ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

void register_process_metrics(Registry& registry) {
  registry.counter_from("process_cpu_seconds_total",
                        "Total user and system CPU time spent in seconds", cpu_seconds);
  registry.gauge_from("process_resident_memory_bytes", "Resident memory size in bytes",
                      [] { return statm_bytes(1); });
  registry.gauge_from("process_virtual_memory_bytes", "Virtual memory size in bytes",
                      [] { return statm_bytes(0); });
  registry.gauge_from("process_open_fds", "Number of open file descriptors", open_fds);
  registry.gauge_from("process_max_fds", "Maximum number of open file descriptors", max_fds);
  // It does not change: read once.
  const double started = start_time_seconds();
  registry.gauge_from("process_start_time_seconds",
                      "Start time of the process since unix epoch in seconds",
                      [started] { return started; });
  registry.counter_from("nyx_bugs_total",
                        "Broken invariants the process survived (NYX_BUG, release builds)",
                        [] { return static_cast<double>(bug_count()); });
}

}  // namespace nyx::metrics
