#include "stream/congestion_controller.hpp"

#include "stream/bbr.hpp"
#include "stream/new_reno.hpp"

namespace nyx::stream {

std::unique_ptr<CongestionController> make_congestion_controller(CongestionAlgorithm algorithm,
                                                                 std::size_t max_datagram_size) {
  switch (algorithm) {
    case CongestionAlgorithm::kBbr:
      return std::make_unique<Bbr>(max_datagram_size);
    case CongestionAlgorithm::kNewReno:
      break;
  }
  return std::make_unique<NewReno>(max_datagram_size);
}

bool parse_congestion_algorithm(std::string_view name, CongestionAlgorithm& out) noexcept {
  if (name == "newreno") {
    out = CongestionAlgorithm::kNewReno;
    return true;
  }
  if (name == "bbr") {
    out = CongestionAlgorithm::kBbr;
    return true;
  }
  return false;
}

std::string_view congestion_algorithm_name(CongestionAlgorithm algorithm) noexcept {
  return algorithm == CongestionAlgorithm::kBbr ? "bbr" : "newreno";
}

}  // namespace nyx::stream
