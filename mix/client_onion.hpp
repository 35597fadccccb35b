#pragma once
// ClientOnion: the client's side of a circuit's cell crypto
// (docs/protocol.md, "Data cells"): every hop's keys, entry first, with a
// slot schedule per hop for the forward headers and one window on the last
// hop's backward counter. It computes only the inverse of the hop step:
// forward it seals a cell so that each hop's step peels one layer and finds
// its header (CLIENT_SEAL); backward it removes every layer and checks the
// origin's header and zero tail (CLIENT_OPEN).
//
// Owns secrets (the keys, wiped when destroyed); move-only; one owner.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "mix/circuit_crypto.hpp"
#include "mix/hop_keys.hpp"
#include "mix/relay_cell.hpp"
#include "mix/slot_schedule.hpp"
#include "transport/replay_window.hpp"

namespace nyx::mix {

class ClientOnion {
 public:
  // Precondition: 1 … kMaxCellHops hops (as build_create returns).
  explicit ClientOnion(std::vector<HopKeys> hops);

  std::size_t hops() const noexcept { return hops_.size(); }
  // Seals a cell for the last hop under every hop's next slot: RELAY, or
  // DESTROY for the END of a circuit this end closes. Precondition:
  // data.size() <= kMaxRelayData.
  void seal(RelayType type, Bytes data, CellPayload payload,
            CellCommand command = CellCommand::kRelay);
  // A RELAY cell from the last hop, in place: kTampered when a check fails,
  // kReplayed / kTooOld for a counter the window refuses; on kOk `message`
  // points into the payload.
  CellVerdict open(CellPayload payload, RelayMessage& message);

  // The answer to CREATE and the hop that originated it: the last hop's
  // CREATED, or a REFUSED from the hop that refused its onion key.
  struct Answer {
    std::size_t hop = 0;  // entry = 0
    RelayMessage message;
  };
  // Opens a CREATED (docs/protocol.md, "REFUSED"): as originated by hop n-1,
  // then n-2, … 0; the first that opens is the answer, its message pointing
  // into the payload. kTampered when none opens; kMalformed when one opens to
  // a plaintext that is not a message.
  CellVerdict open_created(CellPayload payload, Answer& answer);
  // The reason the END in a DESTROY gives, whichever hop originated it
  // (tried from the last hop back), or kUnknown when none opens to an END.
  DestroyReason open_destroy(CellPayload payload) const;

 private:
  // CLIENT_OPEN as originated by hop `origin`, in place: the origin's
  // counter when every check passes (the plaintext region is then at
  // kHopHeaderSize), nothing otherwise (the payload is then garbage).
  std::optional<std::uint64_t> unwrap(std::size_t origin, CellCommand command,
                                      CellPayload payload) const;

  std::vector<HopKeys> hops_;
  std::vector<SlotSchedule> slots_;
  transport::ReplayWindow backward_window_;
};

}  // namespace nyx::mix
