#include "stream/congestion_controller.hpp"

#include "stream/new_reno.hpp"

namespace nyx::stream {

std::unique_ptr<CongestionController> make_congestion_controller(CongestionAlgorithm algorithm,
                                                                 std::size_t max_datagram_size) {
  switch (algorithm) {
    case CongestionAlgorithm::kNewReno:
      break;
  }
  return std::make_unique<NewReno>(max_datagram_size);
}

}  // namespace nyx::stream
