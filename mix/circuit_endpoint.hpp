#pragma once
// The seam between a Relay and the ends of circuits it carries (the client's
// end, the last hop's end), one interface each way:
// - CircuitCarrier, what an end needs from the relay: send a sealed cell on
//   its link, destroy the circuit, let go of it. The relay implements it.
// - CircuitEndpoint, what the relay needs from an end: open a cell end to
//   end and deliver it, hear that the circuit opened or closed, send its
//   cover cells. Circuit implements it.
// An end names its circuit by the link side its cells leave on, never by a
// pointer into the relay's table. End-to-end crypto lives in the end; the
// middle hops' layer and the queues live in the relay.
//
// Both sides run on the relay's thread.

#include <cstddef>
#include <cstdint>

#include "core/clock.hpp"
#include "core/datagram_channel.hpp"
#include "mix/cell.hpp"
#include "mix/client_onion.hpp"
#include "mix/link_circuit.hpp"
#include "mix/path_selector.hpp"

namespace nyx::mix {

class CircuitCarrier {
 public:
  virtual ~CircuitCarrier() = default;
  // Queues a sealed RELAY cell on the circuit's link `out` (its header's id
  // is written there). kBlocked when a queue bound refused it, kClosed when
  // the circuit is gone.
  virtual SendOutcome send_cell(const LinkCircuit& out, Cell& cell) = 0;
  // Destroys the circuit (DESTROY to its neighbours); the end hears
  // on_closed.
  virtual void destroy_circuit(const LinkCircuit& out, DestroyReason reason) = 0;
  // The end is going away: destroys the circuit without calling it back.
  virtual void release_circuit(const LinkCircuit& out) = 0;
};

class CircuitEndpoint {
 public:
  virtual ~CircuitEndpoint() = default;
  enum class Received : std::uint8_t {
    kData,        // delivered to the receiver
    kCover,       // a cover cell, dropped here
    kTampered,    // the end-to-end check failed
    kReplayed,    // seen before (or older than the window): dropped
    kMalformed,   // it verified but its plaintext is not a message
    kUnexpected,  // a CREATED, REFUSED or END where a data cell belongs
  };

  // What a CREATED says, once the origin has found the hop that sealed it
  // (proposal 0002, section 8.5).
  struct Created {
    enum class Kind : std::uint8_t {
      kOpen,      // the last hop's CREATED: the circuit is open
      kRefused,   // hop `hop` refused its onion key (REFUSED, key closed)
      kTampered,  // no hop's key opens it
      kProtocol,  // a hop's key opens it, but it says something else
    };
    Kind kind = Kind::kTampered;
    std::size_t hop = 0;  // kRefused: the refusing hop, entry = 0
  };

  // The origin: opens a CREATED in place and says what it is. No side
  // effects: the carrier acts on the answer.
  virtual Created check_created(CellPayload payload) = 0;
  // Opens a RELAY cell end to end in place and delivers what it carries.
  // The receiver may close or destroy the end before this returns.
  virtual Received on_relay_cell(CellPayload payload) = 0;
  // Seals, into a DESTROY's payload, the END that tells the other end why
  // this one closes the circuit (docs/protocol.md, "DESTROY and END").
  virtual void seal_end(DestroyReason reason, CellPayload payload) = 0;
  // The reason the END in a DESTROY received from the neighbour gives, or
  // kUnknown when it is not one this end can read.
  virtual DestroyReason read_end(CellPayload payload) = 0;
  // The circuit opened (the origin's CREATED verified).
  virtual void on_open() = 0;
  // The origin's setup starts again, still building: a hop refused its onion
  // key, and the carrier rebuilt the same path on `out` with that hop's next
  // key, whose keys are `onion` (proposal 0002, section 8.5).
  virtual void on_rebuilt(LinkCircuit out, ClientOnion onion) = 0;
  // The circuit is gone from the carrier; the end's state handler hears it.
  virtual void on_closed(DestroyReason reason) = 0;
  // The carrier itself is going away: closed, without callbacks.
  virtual void on_detached() = 0;
  // Sends the cover cells due by `now` (the circuit is open).
  virtual void on_tick(Nanos now, RandomSource& random) = 0;
};

}  // namespace nyx::mix
