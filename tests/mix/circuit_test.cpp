// A circuit's end on its own, against a fake carrier: the seam
// (mix/circuit_endpoint.hpp) is all it needs from a relay.
#include "mix/circuit.hpp"

#include <array>
#include <chrono>
#include <vector>

#include <gtest/gtest.h>

#include "core/crypto/random.hpp"
#include "core/crypto/random_pool.hpp"
#include "mix/support/cell_checks.hpp"
#include "mix/support/memory_network.hpp"

namespace nyx::mix {
namespace {

class FakeCarrier final : public CircuitCarrier {
 public:
  SendOutcome send_cell(const LinkCircuit& out, Cell& cell) override {
    EXPECT_EQ(out, expected_out);
    sent.push_back(cell);
    return full ? SendOutcome::kBlocked : SendOutcome::kSent;
  }
  void destroy_circuit(const LinkCircuit&, DestroyReason reason) override {
    destroyed.push_back(reason);
  }
  void release_circuit(const LinkCircuit&) override { ++released; }

  LinkCircuit expected_out{PeerKey{}, 42};
  bool full = false;
  std::vector<Cell> sent;
  std::vector<DestroyReason> destroyed;
  int released = 0;
};

using Collect = testing::DatagramCollector;

CellPayload payload_of(Cell& cell) { return cell_payload(cell).subspan<0, kCellPayloadSize>(); }

// A backward hop's fresh random bytes, as a relay draws them per cell.
std::array<std::uint8_t, kHopHeaderSize> fresh_r() {
  std::array<std::uint8_t, kHopHeaderSize> r;
  crypto::pooled_random_bytes(r);
  return r;
}

// A last hop's end and the client's keys for it (a one-hop circuit).
struct OneHop {
  OneHop() {
    crypto::random_bytes(secret);
    std::vector<HopKeys> hops;
    hops.push_back(HopKeys::derive(secret));
    client = std::make_unique<ClientOnion>(std::move(hops));
    end = std::make_unique<Circuit>(carrier, carrier.expected_out,
                                    TerminalCrypto(HopKeys::derive(secret)), Circuit::State::kOpen);
  }
  std::array<std::uint8_t, 32> secret{};
  FakeCarrier carrier;
  std::unique_ptr<ClientOnion> client;
  std::unique_ptr<Circuit> end;
};

// The client's end of a two-hop circuit, still building, and the hops' keys.
struct TwoHopOrigin {
  TwoHopOrigin() { end = make_end(carrier.expected_out, relays); }

  std::unique_ptr<Circuit> make_end(LinkCircuit out, std::vector<HopKeys>& hop_keys) {
    return std::make_unique<Circuit>(carrier, out, ClientOnion(fresh_keys(hop_keys)),
                                     Circuit::State::kBuilding);
  }
  // Two hops' keys into `hop_keys`; the client's copies returned.
  static std::vector<HopKeys> fresh_keys(std::vector<HopKeys>& hop_keys) {
    hop_keys.clear();
    std::vector<HopKeys> mine;
    for (int i = 0; i < 2; ++i) {
      std::array<std::uint8_t, 32> secret;
      crypto::random_bytes(secret);
      hop_keys.push_back(HopKeys::derive(secret));
      mine.push_back(HopKeys::derive(secret));
    }
    return mine;
  }
  // What hop `from` originates (a CREATED is its backward cell 0), as the
  // client receives it after the hops before it.
  Cell answer(std::size_t from, RelayType type, Bytes data,
              CellCommand command = CellCommand::kCreated, std::uint64_t counter = 0) {
    Cell cell{};
    originate(relays[from].backward, command, counter, type, data, fresh_r(), payload_of(cell));
    for (std::size_t i = from; i-- > 0;) {
      relay_backward(relays[i].backward, command, fresh_r(), payload_of(cell));
    }
    return cell;
  }

  FakeCarrier carrier;
  std::vector<HopKeys> relays;
  std::unique_ptr<Circuit> end;
};

TEST(CircuitEnd, TheOriginTellsWhatACreatedSays) {
  using Kind = CircuitEndpoint::Created::Kind;
  TwoHopOrigin origin;
  CircuitEndpoint& endpoint = *origin.end;
  const std::uint8_t closed[] = {static_cast<std::uint8_t>(RefusedReason::kKeyClosed)};
  const std::uint8_t unknown_reason[] = {2};
  Cell cell = origin.answer(1, RelayType::kCreated, {});
  EXPECT_EQ(endpoint.check_created(payload_of(cell)).kind, Kind::kOpen);
  cell = origin.answer(0, RelayType::kRefused, closed);
  const CircuitEndpoint::Created refused = endpoint.check_created(payload_of(cell));
  EXPECT_EQ(refused.kind, Kind::kRefused);
  EXPECT_EQ(refused.hop, 0u);
  cell = origin.answer(1, RelayType::kRefused, closed);
  EXPECT_EQ(endpoint.check_created(payload_of(cell)).hop, 1u);
  // Only the last hop opens the circuit; REFUSED says one thing only.
  cell = origin.answer(0, RelayType::kCreated, {});
  EXPECT_EQ(endpoint.check_created(payload_of(cell)).kind, Kind::kProtocol);
  cell = origin.answer(1, RelayType::kRefused, unknown_reason);
  EXPECT_EQ(endpoint.check_created(payload_of(cell)).kind, Kind::kProtocol);
  cell = origin.answer(1, RelayType::kData, closed);
  EXPECT_EQ(endpoint.check_created(payload_of(cell)).kind, Kind::kProtocol);
  cell = origin.answer(1, RelayType::kCreated, {});
  cell[kCellHeaderSize + kHopHeaderSize + 20] ^= 0x01;
  EXPECT_EQ(endpoint.check_created(payload_of(cell)).kind, Kind::kTampered);
  EXPECT_EQ(origin.end->state(), Circuit::State::kBuilding);  // it only says
}

TEST(CircuitEnd, ARefusedOutsideACreatedIsAProtocolViolation) {
  const std::uint8_t closed[] = {static_cast<std::uint8_t>(RefusedReason::kKeyClosed)};
  TwoHopOrigin origin;
  CircuitEndpoint& client = *origin.end;
  client.on_open();
  Cell cell = origin.answer(1, RelayType::kRefused, closed, CellCommand::kRelay, 1);
  EXPECT_EQ(client.on_relay_cell(payload_of(cell)), CircuitEndpoint::Received::kUnexpected);

  OneHop hop;  // and at the last hop's end
  CircuitEndpoint& exit = *hop.end;
  hop.client->seal(RelayType::kRefused, closed, payload_of(cell));
  EXPECT_EQ(exit.on_relay_cell(payload_of(cell)), CircuitEndpoint::Received::kUnexpected);
}

TEST(CircuitEnd, ARebuiltOriginUsesItsNewLinkCircuitAndKeys) {
  TwoHopOrigin origin;
  std::vector<HopKeys> second;
  const LinkCircuit retry_out{PeerKey{}, 43};
  CircuitEndpoint& endpoint = *origin.end;
  endpoint.on_rebuilt(retry_out, ClientOnion(TwoHopOrigin::fresh_keys(second)));
  origin.carrier.expected_out = retry_out;
  endpoint.on_open();
  const std::uint8_t x[] = {'x'};
  ASSERT_EQ(origin.end->send(x), SendOutcome::kSent);
  ASSERT_EQ(origin.carrier.sent.size(), 1u);
  CellPayload payload = payload_of(origin.carrier.sent[0]);
  SlotWindow entry_window;
  ASSERT_EQ(relay_forward(second[0].forward, CellCommand::kRelay, entry_window, payload),
            CellVerdict::kOk);
  TerminalCrypto last(std::move(second[1]));
  RelayMessage opened;
  ASSERT_EQ(last.open(CellCommand::kRelay, payload, opened), CellVerdict::kOk);
  EXPECT_EQ(opened.data.size(), 1u);
}

TEST(CircuitEnd, SealsDataForTheOtherEndAndOpensWhatComesBack) {
  OneHop hop;
  const std::uint8_t hello[] = {'h', 'i'};
  ASSERT_EQ(hop.end->send(hello), SendOutcome::kSent);
  ASSERT_EQ(hop.carrier.sent.size(), 1u);
  RelayMessage opened;
  ASSERT_EQ(hop.client->open(payload_of(hop.carrier.sent[0]), opened), CellVerdict::kOk);
  EXPECT_EQ(opened.type, RelayType::kData);
  EXPECT_EQ(std::vector<std::uint8_t>(opened.data.begin(), opened.data.end()),
            (std::vector<std::uint8_t>{'h', 'i'}));

  Collect rx;
  hop.end->set_receiver(&rx);
  Cell cell{};
  hop.client->seal(RelayType::kData, hello, payload_of(cell));
  CircuitEndpoint& endpoint = *hop.end;
  EXPECT_EQ(endpoint.on_relay_cell(payload_of(cell)), CircuitEndpoint::Received::kData);
  ASSERT_EQ(rx.got.size(), 1u);
  hop.client->seal(RelayType::kDrop, {}, payload_of(cell));
  EXPECT_EQ(endpoint.on_relay_cell(payload_of(cell)), CircuitEndpoint::Received::kCover);
  EXPECT_EQ(hop.end->cover_cells_received(), 1u);
  hop.client->seal(RelayType::kData, hello, payload_of(cell));
  cell[kCellHeaderSize + 100] ^= 1;
  EXPECT_EQ(endpoint.on_relay_cell(payload_of(cell)), CircuitEndpoint::Received::kTampered);
  EXPECT_EQ(rx.got.size(), 1u);
}

// A copy of a cell the end already opened is dropped, whichever way it
// travels; the end stays open and delivers the datagram once.
TEST(CircuitEnd, AReplayedCellIsDroppedAtEitherEnd) {
  OneHop hop;
  Collect at_last_hop;
  hop.end->set_receiver(&at_last_hop);
  CircuitEndpoint& last_hop = *hop.end;
  const std::uint8_t hello[] = {'h', 'i'};
  Cell forward{};
  hop.client->seal(RelayType::kData, hello, payload_of(forward));
  Cell again = forward;
  EXPECT_EQ(last_hop.on_relay_cell(payload_of(forward)), CircuitEndpoint::Received::kData);
  EXPECT_EQ(last_hop.on_relay_cell(payload_of(again)), CircuitEndpoint::Received::kReplayed);
  EXPECT_EQ(at_last_hop.got.size(), 1u);

  TwoHopOrigin origin;
  Collect at_client;
  origin.end->set_receiver(&at_client);
  CircuitEndpoint& client = *origin.end;
  client.on_open();
  Cell backward = origin.answer(1, RelayType::kData, hello, CellCommand::kRelay, 1);
  again = backward;
  EXPECT_EQ(client.on_relay_cell(payload_of(backward)), CircuitEndpoint::Received::kData);
  EXPECT_EQ(client.on_relay_cell(payload_of(again)), CircuitEndpoint::Received::kReplayed);
  EXPECT_EQ(at_client.got.size(), 1u);
  EXPECT_EQ(origin.end->state(), Circuit::State::kOpen);
}

TEST(CircuitEnd, SendsItsCoverCellsThroughTheCarrier) {
  OneHop hop;
  testing::SeededRandom random(1);
  hop.end->set_cover_rate(1000);
  CircuitEndpoint& endpoint = *hop.end;
  const Nanos start{std::chrono::seconds(1)};
  endpoint.on_tick(start, random);
  endpoint.on_tick(start + std::chrono::seconds(1), random);
  EXPECT_NEAR(static_cast<double>(hop.carrier.sent.size()), 1000.0, 150.0);
  for (Cell& cell : hop.carrier.sent) {
    RelayMessage opened;
    ASSERT_EQ(hop.client->open(payload_of(cell), opened), CellVerdict::kOk);
    EXPECT_EQ(opened.type, RelayType::kDrop);
  }
}

TEST(CircuitEnd, AFullQueueIsBackpressureToTheSender) {
  OneHop hop;
  hop.carrier.full = true;
  const std::uint8_t x[] = {'x'};
  EXPECT_EQ(hop.end->send(x), SendOutcome::kBlocked);
  hop.carrier.full = false;
  EXPECT_EQ(hop.end->send(x), SendOutcome::kSent);
}

TEST(CircuitEnd, AnOversizeDatagramIsTooLargeAndNeverReachesTheCarrier) {
  OneHop hop;
  const std::vector<std::uint8_t> too_big(hop.end->max_datagram_size() + 1);
  EXPECT_EQ(hop.end->send(too_big), SendOutcome::kTooLarge);
  EXPECT_TRUE(hop.carrier.sent.empty());
}

TEST(CircuitEnd, CloseAsksTheCarrierAndClosedStopsSending) {
  OneHop hop;
  std::vector<Circuit::State> states;
  hop.end->set_state_handler([&](Circuit::State s) { states.push_back(s); });
  hop.end->close();
  ASSERT_EQ(hop.carrier.destroyed.size(), 1u);
  EXPECT_EQ(hop.carrier.destroyed[0], DestroyReason::kRequested);
  CircuitEndpoint& endpoint = *hop.end;
  endpoint.on_closed(DestroyReason::kRequested);  // as the carrier answers
  EXPECT_EQ(states, (std::vector<Circuit::State>{Circuit::State::kClosed}));
  const std::uint8_t x[] = {'x'};
  EXPECT_EQ(hop.end->send(x), SendOutcome::kClosed);
  hop.end.reset();
  EXPECT_EQ(hop.carrier.released, 0);  // already gone from the carrier
}

TEST(CircuitEnd, DestroyingAnOpenEndReleasesItWithoutCallbacks) {
  OneHop hop;
  int calls = 0;
  hop.end->set_state_handler([&](Circuit::State) { ++calls; });
  hop.end.reset();
  EXPECT_EQ(hop.carrier.released, 1);
  EXPECT_EQ(calls, 0);
}

TEST(CircuitEnd, ABuildingEndRefusesDataUntilItOpens) {
  FakeCarrier carrier;
  std::array<std::uint8_t, 32> secret{};
  std::vector<HopKeys> hops;
  hops.push_back(HopKeys::derive(secret));
  Circuit end(carrier, carrier.expected_out, ClientOnion(std::move(hops)),
              Circuit::State::kBuilding);
  const std::uint8_t x[] = {'x'};
  EXPECT_EQ(end.send(x), SendOutcome::kBlocked);
  CircuitEndpoint& endpoint = end;
  endpoint.on_open();
  EXPECT_EQ(end.state(), Circuit::State::kOpen);
  EXPECT_EQ(end.send(x), SendOutcome::kSent);
  endpoint.on_detached();  // the relay went away
  EXPECT_EQ(end.send(x), SendOutcome::kClosed);
}

}  // namespace
}  // namespace nyx::mix
