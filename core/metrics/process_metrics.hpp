#pragma once
// The process metrics every Prometheus client library exports, under the
// same names, so that the usual dashboards and alerts work on a node:
// process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds and
// process_start_time_seconds; and Nyx's own process-wide nyx_bugs_total
// (core/assert.hpp's NYX_BUG failures survived).
//
// Read at scrape time (Registry::*_from) from getrusage, getrlimit and
// /proc/self (Linux); a value that cannot be read is NaN rather than a
// made-up number. Thread-safe: every read is a system call or a file read.
namespace nyx::metrics {

class Registry;

void register_process_metrics(Registry& registry);

}  // namespace nyx::metrics
