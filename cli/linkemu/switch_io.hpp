#pragma once
// The link emulator's I/O shell ("the switch"): frames of every hub port (the
// hub-side veth ends of the test hosts) are read from one TPACKET_V2 RX ring
// (or, with ring = false, with recvmmsg on one socket per port) with their
// kernel receive timestamps, fed to the LinkModel at the time the sender's
// kernel handed them over, and sent on the destination's port (one AF_PACKET
// socket per port) with sendmmsg when the model releases them.
// PACKET_VNET_HDR on every socket carries the veth's partial-checksum state
// through the switch. Only IPv4 frames to a known host MAC
// (02:4e:59:00:00:KK) are forwarded; everything else is dropped and counted.
//
// Single-threaded; runs in the calling process's network namespace (the hub)
// until SIGINT or SIGTERM. SIGUSR1 writes the statistics file now; it is also
// written at exit. Prints "linkemu: ready" on stdout once its ports are open.

#include <cstdio>

#include "cli/linkemu/switch_config.hpp"
#include "core/error.hpp"

namespace nyx::linkemu {

struct SwitchOptions {
  // SCHED_FIFO priority 1, so builds on the other core cannot delay wake-ups.
  bool realtime = true;
  // Receive through one TPACKET_V2 RX ring for all ports (kernel timestamps
  // in the frame, no syscall per batch); false: recvmmsg on a socket per port
  // with SO_TIMESTAMPNS.
  bool ring = true;
};

Status run_switch(const SwitchConfig& config, const SwitchOptions& options, std::FILE* log);

}  // namespace nyx::linkemu
