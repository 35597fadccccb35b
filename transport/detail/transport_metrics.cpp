#include "transport/detail/transport_metrics.hpp"

#include <cstdint>

#include "core/metrics/registry.hpp"

namespace nyx::transport::detail {

TransportMetrics::TransportMetrics(metrics::Registry& r)
    : fields_({{
          {&TransportCounters::udp_packets_received,
           &r.counter("nyx_transport_udp_packets_total", "UDP datagrams", {{"dir", "rx"}})},
          {&TransportCounters::udp_packets_sent,
           &r.counter("nyx_transport_udp_packets_total", "UDP datagrams", {{"dir", "tx"}})},
          {&TransportCounters::udp_bytes_received,
           &r.counter("nyx_transport_udp_bytes_total", "UDP bytes", {{"dir", "rx"}})},
          {&TransportCounters::udp_bytes_sent,
           &r.counter("nyx_transport_udp_bytes_total", "UDP bytes", {{"dir", "tx"}})},
          {&TransportCounters::udp_batches_received,
           &r.counter("nyx_transport_udp_batches_total", "recvmmsg/sendmmsg batches",
                      {{"dir", "rx"}})},
          {&TransportCounters::udp_batches_sent,
           &r.counter("nyx_transport_udp_batches_total", "recvmmsg/sendmmsg batches",
                      {{"dir", "tx"}})},
          {&TransportCounters::dropped_malformed,
           &r.counter("nyx_transport_drops_total", "datagrams dropped", {{"reason", "malformed"}})},
          {&TransportCounters::dropped_unknown_peer,
           &r.counter("nyx_transport_drops_total", "datagrams dropped",
                      {{"reason", "unknown_peer"}})},
          {&TransportCounters::dropped_replay,
           &r.counter("nyx_transport_drops_total", "datagrams dropped", {{"reason", "replay"}})},
          {&TransportCounters::dropped_rate_limited,
           &r.counter("nyx_transport_drops_total", "datagrams dropped",
                      {{"reason", "rate_limited"}})},
          {&TransportCounters::dropped_queue_full,
           &r.counter("nyx_transport_drops_total", "datagrams dropped",
                      {{"reason", "queue_full"}})},
          {&TransportCounters::handshakes_completed,
           &r.counter("nyx_transport_handshakes_total", "link handshakes",
                      {{"result", "completed"}})},
          {&TransportCounters::handshakes_failed,
           &r.counter("nyx_transport_handshakes_total", "link handshakes", {{"result", "failed"}})},
          {&TransportCounters::rekeys,
           &r.counter("nyx_transport_rekeys_total", "link session rekeys")},
      }}),
      links_up_(r.gauge("nyx_transport_links_up", "Links established now")) {}

void TransportMetrics::update(const TransportCounters& now, std::size_t links_up) {
  fields_.publish(now);
  links_up_.set(static_cast<std::int64_t>(links_up));
}

}  // namespace nyx::transport::detail
