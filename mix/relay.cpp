#include "mix/relay.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "core/crypto/random_pool.hpp"
#include "core/crypto/secret.hpp"
#include "mix/cover_traffic.hpp"
#include "mix/create_dir.hpp"
#include "mix/detail/relay_metrics.hpp"

namespace nyx::mix {

static_assert(kMaxHops <= kMaxCellHops, "a path must fit the headers a cell carries");

namespace {

CellPayload payload_of(Cell& cell) noexcept {
  return cell_payload(cell).subspan<0, kCellPayloadSize>();
}

// A backward hop's 16 fresh random bytes (docs/protocol.md, "Data cells").
std::array<std::uint8_t, kHopHeaderSize> fresh_hop_nonce() noexcept {
  std::array<std::uint8_t, kHopHeaderSize> r;
  crypto::pooled_random_bytes(r);
  return r;
}

// A mutable copy of a received cell, to peel a layer in place.
Cell copy_cell(const CellView& view) noexcept {
  Cell cell;
  write_cell_header(cell, view.circuit_id, view.command);
  std::copy(view.payload.begin(), view.payload.end(), cell.begin() + kCellHeaderSize);
  return cell;
}

}  // namespace

Relay::Relay(const Clock& clock, CellLink& link, const PeerKey& local_key, RandomSource& random,
             RelayConfig config)
    : clock_(clock),
      link_(link),
      local_key_(local_key),
      random_(random),
      config_(config),
      admission_(clock, config.create_limits),
      scheduler_(link, CellScheduler::Limits{config.link_queue_cells, config.circuit_queue_cells,
                                             config.flush_cells_per_link}),
      now_(clock.now()) {}

Relay::~Relay() {
  // Ends outliving the relay must not call into it.
  table_.for_each([](CircuitState& c) {
    if (c.endpoint != nullptr) {
      c.endpoint->on_detached();
    }
  });
}

// --- A cell's way through the relay ---------------------------------------

void Relay::handle_cell(const PeerKey& from, Bytes bytes) {
  ++counters_.cells_received;
  auto view = parse_cell(bytes);
  if (!view) {
    ++counters_.dropped_malformed;
    return;
  }
  if (view->command == CellCommand::kPadding) {
    ++counters_.padding_received;
    return;
  }
  if (view->command == CellCommand::kCreate) {
    on_create(from, *view);
    return;
  }
  if (view->command == CellCommand::kCreateDir) {
    on_create_dir(from, *view);
    return;
  }
  const LinkCircuit key{from, view->circuit_id};
  const CircuitTable::Slot* slot = table_.find(key);
  if (slot == nullptr) {
    ++counters_.dropped_unknown_circuit;
    return;
  }
  CircuitState& circuit = *slot->circuit;
  circuit.last_active = now_;
  Cell cell = copy_cell(*view);  // RELAY, CREATED or DESTROY (parse_cell knows no other)
  if (view->command == CellCommand::kDestroy) {
    on_destroy(circuit, slot->side, cell);
    return;
  }
  if (view->command == CellCommand::kRelay) {
    on_relay(circuit, slot->side, cell);
  } else {
    on_created(circuit, slot->side, cell);
  }
}

// A data cell: a middle hop runs its step and forwards the cell to the
// other side; an end opens it. Forward, the step checks the hop's header
// first: a tampered cell destroys the circuit, a replayed one is dropped.
void Relay::on_relay(CircuitState& circuit, Side from, Cell& cell) {
  if (!circuit.open) {
    ++counters_.dropped_unknown_circuit;  // data before setup finished
    return;
  }
  std::uint64_t& cells =
      from == Side::kUpstream ? circuit.cells_from_upstream : circuit.cells_from_downstream;
  if (++cells > config_.cell_cap) {
    ++counters_.cell_limits;
    destroy(circuit, DestroyReason::kCellLimit);
    return;
  }
  if (circuit.role != CircuitState::Role::kMiddle) {
    deliver(circuit, from, cell);
    return;
  }
  if (from == Side::kDownstream) {
    relay_backward(circuit.keys.backward, CellCommand::kRelay, fresh_hop_nonce(), payload_of(cell));
    forward(circuit, Side::kUpstream, cell);
    return;
  }
  switch (relay_forward(circuit.keys.forward, CellCommand::kRelay, circuit.forward_window,
                        payload_of(cell))) {
    case CellVerdict::kOk:
      forward(circuit, Side::kDownstream, cell);
      return;
    case CellVerdict::kReplayed:
      ++counters_.dropped_replayed;
      return;
    case CellVerdict::kTooOld:
      ++counters_.dropped_too_old;
      return;
    case CellVerdict::kTampered:
    case CellVerdict::kMalformed:  // a middle hop reads no plaintext
      ++counters_.tampered;
      destroy(circuit, DestroyReason::kTampered);
      return;
  }
}

// An end's circuit opens the cell end to end and hands data to its
// receiver; what fails to open destroys the circuit.
void Relay::deliver(CircuitState& circuit, Side from, Cell& cell) {
  // The cell must come from the one neighbour an end has.
  const bool expected_side =
      (circuit.role == CircuitState::Role::kTerminal) == (from == Side::kUpstream);
  if (!expected_side || circuit.endpoint == nullptr) {
    destroy(circuit, DestroyReason::kProtocol);
    return;
  }
  // After kData the receiver may have closed the circuit: touch nothing.
  switch (circuit.endpoint->on_relay_cell(payload_of(cell))) {
    case CircuitEndpoint::Received::kData:
      return;
    case CircuitEndpoint::Received::kCover:
      ++counters_.cover_dropped;
      return;
    case CircuitEndpoint::Received::kTampered:
      ++counters_.tampered;
      destroy(circuit, DestroyReason::kTampered);
      return;
    case CircuitEndpoint::Received::kReplayed:
      ++counters_.dropped_replayed;
      return;
    case CircuitEndpoint::Received::kMalformed:
      ++counters_.tampered;
      destroy(circuit, DestroyReason::kProtocol);
      return;
    case CircuitEndpoint::Received::kUnexpected:
      destroy(circuit, DestroyReason::kProtocol);
      return;
  }
}

void Relay::forward(CircuitState& circuit, Side towards, Cell& cell) {
  const LinkCircuit& out = towards == Side::kUpstream ? *circuit.upstream : *circuit.downstream;
  if (config_.mean_hop_delay > Nanos{0}) {
    const Nanos due = now_ + exponential_delay(config_.mean_hop_delay, random_);
    delayed_.push(Delayed{due, out, cell});
    return;
  }
  // A full queue drops the cell (counted); the circuit lives.
  (void)scheduler_.enqueue(out, circuit.queue(towards), cell);
}

void Relay::tick() {
  now_ = clock_.now();
  expire_circuits();
  release_delayed();
  table_.for_each([&](CircuitState& c) {
    if (c.endpoint != nullptr && c.open) {
      c.endpoint->on_tick(now_, random_);  // the end's cover cells
    }
  });
  if (metrics_) {
    metrics_->update(counters(), table_.size(), scheduler_.queued_cells());
  }
}

void Relay::expire_circuits() {
  std::vector<CircuitState*> expired;
  table_.for_each([&](CircuitState& c) {
    if ((!c.open && now_ - c.created_at >= config_.setup_timeout) ||
        now_ - c.last_active >= config_.idle_timeout) {
      expired.push_back(&c);
    }
  });
  for (CircuitState* c : expired) {
    ++counters_.timeouts;
    destroy(*c, DestroyReason::kTimeout);
  }
}

void Relay::release_delayed() {
  while (!delayed_.empty() && delayed_.top().due <= now_) {
    Delayed due = delayed_.top();
    delayed_.pop();
    // Its circuit may be gone since; a full queue drops it (counted).
    if (const CircuitTable::Slot* slot = table_.find(due.out)) {
      (void)scheduler_.enqueue(due.out, slot->circuit->queue(slot->side), due.cell);
    }
  }
}

// --- Circuit setup ---------------------------------------------------------

Result<std::unique_ptr<Circuit>> Relay::create_circuit(std::span<const OnionHop> hops) {
  if (table_.size() >= config_.max_circuits) {
    return make_error(ErrorCategory::kResourceExhausted, "relay: circuit table full");
  }
  auto create = build_create(hops);
  if (!create) {
    return std::unexpected(std::move(create.error()));
  }
  CircuitState& circuit =
      insert_origin(hops[0].link_key, std::vector<OnionHop>(hops.begin(), hops.end()));
  CircuitCarrier& carrier = *this;
  auto end =
      std::make_unique<Circuit>(carrier, *circuit.downstream, ClientOnion(std::move(create->keys)),
                                Circuit::State::kBuilding);
  circuit.endpoint = end.get();
  send_control(*circuit.downstream, CellCommand::kCreate, create->payload);
  return end;
}

// The circuit keeps no path: a CREATE_DIR hop holds no onion key, so a
// REFUSED answer fails the setup (on_refused finds no hop whose next key it
// could look up). x is the circuit's whole secret: its copies in the payload
// and in the cell are wiped once the link has taken the cell.
Result<std::unique_ptr<Circuit>> Relay::create_directory_circuit(const PeerKey& hop_link_key) {
  if (table_.size() >= config_.max_circuits) {
    return make_error(ErrorCategory::kResourceExhausted, "relay: circuit table full");
  }
  ClientCreateDir create = build_create_dir();
  CircuitState& circuit = insert_origin(hop_link_key, {});
  std::vector<HopKeys> keys;
  keys.push_back(std::move(create.keys));
  CircuitCarrier& carrier = *this;
  auto end = std::make_unique<Circuit>(carrier, *circuit.downstream, ClientOnion(std::move(keys)),
                                       Circuit::State::kBuilding);
  circuit.endpoint = end.get();
  Cell cell;
  write_cell_header(cell, circuit.downstream->id, CellCommand::kCreateDir);
  std::copy(create.payload.begin(), create.payload.end(), cell.begin() + kCellHeaderSize);
  scheduler_.send_now(circuit.downstream->peer, cell);
  crypto::secure_zero(cell);
  crypto::secure_zero(create.payload);
  return end;
}

// An origin circuit on a fresh id towards `entry`; `path` (entry first) is
// kept while it builds, to rebuild it after a refusal.
CircuitState& Relay::insert_origin(const PeerKey& entry, std::vector<OnionHop> path) {
  now_ = clock_.now();
  auto state = std::make_unique<CircuitState>();
  state->role = CircuitState::Role::kOrigin;
  state->downstream = LinkCircuit{entry, allocate_id(entry)};
  state->created_at = now_;
  state->last_active = now_;
  state->path = std::move(path);
  return table_.insert(std::move(state));
}

CircuitId Relay::allocate_id(const PeerKey& peer) {
  // The top bit says which end of the link chose the id, so ids the two
  // ends pick for their own circuits never collide.
  const CircuitId side = link_.local_key(peer).value_or(local_key_) > peer ? 0x80000000u : 0;
  for (;;) {
    auto id = static_cast<CircuitId>(random_.uniform(0x80000000u)) | side;
    if (id != 0 && !table_.contains({peer, id})) {
      return id;
    }
  }
}

// Checks 2 to 4 of proposal 0002, section 9, in its order, before any
// Diffie-Hellman (check 1, a live circuit id, is the caller's): false when
// the CREATE or CREATE_DIR was answered DESTROY 5. A CREATE_DIR takes no
// token from the node-wide bucket.
bool Relay::admit_create(const LinkCircuit& up, CreateKind kind) {
  const bool dir = kind == CreateKind::kCreateDir;
  const auto refuse = [&](std::uint64_t& counted_as) {
    ++counted_as;
    scheduler_.send_now(up.peer, make_keyless_destroy_cell(up.id));
    return false;
  };
  if (table_.size() >= config_.max_circuits) {
    return refuse(dir ? counters_.create_dirs_rejected : counters_.creates_rejected);
  }
  const auto address = link_.peer_address(up.peer);
  const CreateAdmission::Verdict verdict =
      dir ? admission_.admit_directory(up.peer, address) : admission_.admit(up.peer, address);
  switch (verdict) {
    case CreateAdmission::Verdict::kAdmitted:
      return true;
    case CreateAdmission::Verdict::kRateLimited:
      return refuse(dir ? counters_.create_dirs_rate_limited : counters_.creates_rate_limited);
    case CreateAdmission::Verdict::kOverloaded:
      return refuse(counters_.creates_overloaded);  // admit_directory() never says it
  }
  return false;
}

void Relay::on_create(const PeerKey& from, const CellView& view) {
  const LinkCircuit up{from, view.circuit_id};
  if (table_.contains(up)) {
    ++counters_.dropped_malformed;  // a second CREATE on a live circuit id
    return;
  }
  if (!admit_create(up, CreateKind::kCreate)) {
    return;
  }
  CreatePayload payload;
  std::copy(view.payload.begin(), view.payload.end(), payload.begin());
  auto outcome = process_create(onion_keys_, payload);
  if (outcome && outcome->action == CreateAction::kRefuse) {
    ++counters_.creates_refused_closed;
    refuse_create(up, outcome->keys);
    return;
  }
  const bool terminal = outcome && outcome->action == CreateAction::kTerminal;
  if (!outcome || (terminal && !terminal_handler_)) {
    if (outcome) {
      ++counters_.creates_rejected;  // it ends here, and nothing here takes it
    } else {
      count_refused_create(outcome.error());
    }
    scheduler_.send_now(from, make_keyless_destroy_cell(up.id));
    return;
  }
  ++counters_.creates_accepted;
  if (terminal) {
    accept_terminal(insert_terminal(up, std::move(outcome->keys)), terminal_handler_);
    return;
  }
  now_ = clock_.now();
  auto state = std::make_unique<CircuitState>();
  state->upstream = up;
  state->keys = std::move(outcome->keys);
  state->created_at = now_;
  state->last_active = now_;
  state->role = CircuitState::Role::kMiddle;
  CircuitState& circuit = table_.insert(std::move(state));
  const PeerKey& next = outcome->next_link_key;
  table_.set_downstream(circuit, LinkCircuit{next, allocate_id(next)});
  send_control(*circuit.downstream, CellCommand::kCreate, payload);
}

// A CREATE_DIR (proposal 0002, section 4.1): served here or DESTROY 4, strict
// padding or DESTROY 1, then admission (a token from the neighbour group
// only), then this node is the last hop of a one-hop circuit, answers
// CREATED as a last hop does and hands the circuit to the directory handler.
// Step 1 costs nothing, so it comes before admission takes a token; a live
// circuit id is dropped first, as for a CREATE, so no DESTROY ever names a
// live circuit.
void Relay::on_create_dir(const PeerKey& from, const CellView& view) {
  const LinkCircuit up{from, view.circuit_id};
  if (table_.contains(up)) {
    ++counters_.dropped_malformed;
    return;
  }
  if (!config_.serves_directory || !directory_handler_) {
    ++counters_.create_dirs_refused;
    scheduler_.send_now(from, make_keyless_destroy_cell(up.id));
    return;
  }
  auto keys = process_create_dir(view.payload);
  if (!keys) {
    ++counters_.create_dirs_refused;
    scheduler_.send_now(from, make_keyless_destroy_cell(up.id));
    return;
  }
  if (!admit_create(up, CreateKind::kCreateDir)) {
    return;
  }
  ++counters_.create_dirs_accepted;
  accept_terminal(insert_terminal(up, std::move(*keys)), directory_handler_);
}

// `error`: why process_create() failed a CREATE.
void Relay::count_refused_create(const Error& error) {
  if (error.category == ErrorCategory::kPermission &&
      error.code == static_cast<int>(CreateErrc::kReplay)) {
    ++counters_.creates_replay;
  } else {
    ++counters_.creates_rejected;
  }
}

// A fresh CREATE under a closed onion key is answered, not forwarded: a
// CREATED carrying REFUSED, originated under this hop's keys exactly as a
// last hop originates CREATED, so the client can tell which hop refused and
// that no other hop forged it (proposal 0002, section 8.5). Nothing is kept:
// the client's DESTROY meets an unknown circuit here.
void Relay::refuse_create(const LinkCircuit& up, const HopKeys& keys) {
  Cell refused;
  write_cell_header(refused, up.id, CellCommand::kCreated);
  const std::array<std::uint8_t, 1> reason{static_cast<std::uint8_t>(RefusedReason::kKeyClosed)};
  originate(keys.backward, CellCommand::kCreated, 0, RelayType::kRefused, reason, fresh_hop_nonce(),
            payload_of(refused));
  scheduler_.send_now(up.peer, refused);
}

// The last hop of a circuit arriving from `up`, open: it answers at once.
CircuitState& Relay::insert_terminal(const LinkCircuit& up, HopKeys keys) {
  now_ = clock_.now();
  auto state = std::make_unique<CircuitState>();
  state->upstream = up;
  state->keys = std::move(keys);
  state->created_at = now_;
  state->last_active = now_;
  state->role = CircuitState::Role::kTerminal;
  state->open = true;
  return table_.insert(std::move(state));
}

// The last hop answers CREATED (its backward cell 0) under its keys, then
// hands the keys to the circuit's end and the end to `handler` (the exit's,
// or the directory's).
void Relay::accept_terminal(CircuitState& circuit, const TerminalHandler& handler) {
  const LinkCircuit up = *circuit.upstream;
  Cell created;
  write_cell_header(created, up.id, CellCommand::kCreated);
  TerminalCrypto crypto(std::move(circuit.keys));
  crypto.seal(CellCommand::kCreated, RelayType::kCreated, {}, payload_of(created));
  CircuitCarrier& carrier = *this;
  auto end = std::make_unique<Circuit>(carrier, up, std::move(crypto), Circuit::State::kOpen);
  circuit.endpoint = end.get();
  scheduler_.send_now(up.peer, created);
  handler(std::move(end));
}

void Relay::on_created(CircuitState& circuit, Side from, Cell& cell) {
  if (from != Side::kDownstream || circuit.open) {
    destroy(circuit, DestroyReason::kProtocol);
    return;
  }
  if (circuit.role == CircuitState::Role::kMiddle) {
    relay_backward(circuit.keys.backward, CellCommand::kCreated, fresh_hop_nonce(),
                   payload_of(cell));
    circuit.open = true;
    send_control(*circuit.upstream, CellCommand::kCreated, cell_payload(cell));
    return;
  }
  on_origin_created(circuit, cell);
}

// The origin: the answer to its CREATE, from the last hop or from a hop that
// refused its onion key.
void Relay::on_origin_created(CircuitState& circuit, Cell& cell) {
  const CircuitEndpoint::Created created = circuit.endpoint->check_created(payload_of(cell));
  switch (created.kind) {
    case CircuitEndpoint::Created::Kind::kOpen:
      circuit.path = {};    // the setup is over: nothing of it is kept
      circuit.open = true;  // first: the end's state handler may send at once
      circuit.endpoint->on_open();
      return;
    case CircuitEndpoint::Created::Kind::kRefused:
      on_refused(circuit, created.hop);
      return;
    case CircuitEndpoint::Created::Kind::kTampered:
      ++counters_.tampered;
      destroy(circuit, DestroyReason::kTampered);
      return;
    case CircuitEndpoint::Created::Kind::kProtocol:
      destroy(circuit, DestroyReason::kProtocol);
      return;
  }
}

// Hop `hop` refused its onion key: the same path is built once more with
// that hop's next key, looked up now and remembered nowhere, so a hop cannot
// mark a client by refusing it once (proposal 0002, section 8.5). No next
// key, or a refusal of the second attempt, fails the circuit.
void Relay::on_refused(CircuitState& circuit, std::size_t hop) {
  std::optional<crypto::X25519PublicKey> next;
  if (!circuit.rebuilt && next_onion_key_ && hop < circuit.path.size()) {
    next = next_onion_key_(circuit.path[hop]);
  }
  if (!next) {
    fail_setup(circuit);
    return;
  }
  std::vector<OnionHop> path = circuit.path;
  path[hop].onion_key = *next;
  auto create = build_create(path);
  if (!create) {
    fail_setup(circuit);  // e.g. a low-order key in the directory
    return;
  }
  // A fresh id, taken before the old one is freed: on UDP the new CREATE
  // could overtake the DESTROY of a reused id.
  const PeerKey entry = path[0].link_key;
  CircuitState& retry = insert_origin(entry, std::move(path));
  retry.rebuilt = true;
  retry.endpoint = circuit.endpoint;
  circuit.endpoint = nullptr;  // the end moves to the retry, it does not close
  fail_setup(circuit);
  retry.endpoint->on_rebuilt(*retry.downstream, ClientOnion(std::move(create->keys)));
  send_control(*retry.downstream, CellCommand::kCreate, create->payload);
}

// The origin's attempt ends: DESTROY 0 downstream frees the hops that hold
// it (a refusing hop holds nothing), and the end, if still attached, closes
// as on a failed CREATE.
void Relay::fail_setup(CircuitState& circuit) {
  send_destroy(circuit, Side::kDownstream, DestroyReason::kRequested);
  teardown(circuit, DestroyReason::kCreateFailed);
}

void Relay::send_control(const LinkCircuit& to, CellCommand command, Bytes payload) {
  Cell cell;
  write_cell_header(cell, to.id, command);
  std::copy(payload.begin(), payload.end(), cell.begin() + kCellHeaderSize);
  scheduler_.send_now(to.peer, cell);
}

// --- Teardown --------------------------------------------------------------

void Relay::destroy(CircuitState& circuit, DestroyReason reason, const LinkCircuit* from,
                    bool tell_end) {
  for (const Side side : {Side::kUpstream, Side::kDownstream}) {
    const std::optional<LinkCircuit>& neighbour =
        side == Side::kUpstream ? circuit.upstream : circuit.downstream;
    if (neighbour && (from == nullptr || !(*from == *neighbour))) {
      send_destroy(circuit, side, reason);
    }
  }
  teardown(circuit, reason, tell_end);
}

// The DESTROY this node sends towards one side (docs/protocol.md, "DESTROY
// and END"): an end seals its END for the other end; a middle hop originates
// its END upstream, for the client, and sends random bytes downstream, where
// nobody shares its keys.
void Relay::send_destroy(CircuitState& circuit, Side towards, DestroyReason reason) {
  const LinkCircuit& to = towards == Side::kUpstream ? *circuit.upstream : *circuit.downstream;
  Cell cell;
  write_cell_header(cell, to.id, CellCommand::kDestroy);
  const CellPayload payload = payload_of(cell);
  if (circuit.endpoint != nullptr) {
    circuit.endpoint->seal_end(reason, payload);
  } else if (circuit.role == CircuitState::Role::kMiddle && towards == Side::kUpstream) {
    const std::array<std::uint8_t, 1> data{static_cast<std::uint8_t>(reason)};
    originate(circuit.keys.backward, CellCommand::kDestroy, 0, RelayType::kEnd, data,
              fresh_hop_nonce(), payload);
  } else {
    crypto::pooled_random_bytes(payload);
  }
  scheduler_.send_now(to.peer, cell);
}

// The circuit is gone here: its queued cells dropped, its end told why.
void Relay::teardown(CircuitState& circuit, DestroyReason reason, bool tell_end) {
  for (const Side side : {Side::kUpstream, Side::kDownstream}) {
    const std::optional<LinkCircuit>& neighbour =
        side == Side::kUpstream ? circuit.upstream : circuit.downstream;
    if (neighbour) {
      scheduler_.discard(neighbour->peer, circuit.queue(side));
    }
  }
  CircuitEndpoint* end = tell_end ? circuit.endpoint : nullptr;
  table_.erase(circuit);
  if (end != nullptr) {
    end->on_closed(reason);
  }
}

// A DESTROY from a neighbour. An end reads the END in it, if it can (during
// setup an unreadable one is a failed build: a hop that refused the CREATE
// holds no keys); a middle hop runs its step on it and passes it on, so each
// link carries fresh-looking bytes and no relay learns why.
void Relay::on_destroy(CircuitState& circuit, Side from, Cell& cell) {
  ++counters_.destroys_received;
  if (circuit.role != CircuitState::Role::kMiddle) {
    DestroyReason reason = circuit.endpoint != nullptr
                               ? circuit.endpoint->read_end(payload_of(cell))
                               : DestroyReason::kUnknown;
    if (!circuit.open && reason == DestroyReason::kUnknown) {
      reason = DestroyReason::kCreateFailed;
    }
    teardown(circuit, reason);
    return;
  }
  const LinkCircuit* to = nullptr;
  if (from == Side::kUpstream) {
    relay_destroy_forward(circuit.keys.forward, payload_of(cell));
    to = circuit.downstream ? &*circuit.downstream : nullptr;
  } else {
    relay_backward(circuit.keys.backward, CellCommand::kDestroy, fresh_hop_nonce(),
                   payload_of(cell));
    to = &*circuit.upstream;
  }
  if (to != nullptr) {
    send_control(*to, CellCommand::kDestroy, cell_payload(cell));
  }
  teardown(circuit, DestroyReason::kUnknown);
}

void Relay::close_all() {
  std::vector<CircuitState*> all;
  table_.for_each([&](CircuitState& c) { all.push_back(&c); });
  for (CircuitState* circuit : all) {
    destroy(*circuit, DestroyReason::kRequested);
  }
}

void Relay::link_down(const PeerKey& peer) {
  std::vector<std::pair<CircuitState*, LinkCircuit>> gone;
  table_.for_each([&](CircuitState& c) {
    for (const auto& side : {c.upstream, c.downstream}) {
      if (side && side->peer == peer) {
        gone.emplace_back(&c, *side);
        break;
      }
    }
  });
  for (auto& [circuit, key] : gone) {
    destroy(*circuit, DestroyReason::kLinkDown, &key);
  }
  scheduler_.forget_link(peer);
}

// --- CircuitCarrier: what the ends handed out ask of the relay -------------

SendOutcome Relay::send_cell(const LinkCircuit& out, Cell& cell) {
  const CircuitTable::Slot* slot = table_.find(out);
  if (slot == nullptr) {
    return SendOutcome::kClosed;
  }
  slot->circuit->last_active = now_;
  // A full link or circuit queue (the scheduler counts it as dropped) is
  // pushback for the end's sender.
  if (!scheduler_.enqueue(out, slot->circuit->queue(slot->side), cell)) {
    return SendOutcome::kBlocked;
  }
  return SendOutcome::kSent;
}

void Relay::destroy_circuit(const LinkCircuit& out, DestroyReason reason) {
  if (const CircuitTable::Slot* slot = table_.find(out)) {
    destroy(*slot->circuit, reason);
  }
}

void Relay::release_circuit(const LinkCircuit& out) {
  if (const CircuitTable::Slot* slot = table_.find(out)) {
    // The dying end still seals its END, but hears nothing back.
    destroy(*slot->circuit, DestroyReason::kRequested, nullptr, /*tell_end=*/false);
  }
}

// --- Counters ----------------------------------------------------------------

RelayCounters Relay::counters() const noexcept {
  RelayCounters all = counters_;
  const CellScheduler::Counters& out = scheduler_.counters();
  all.cells_relayed = out.sent;
  all.dropped_queue_full = out.dropped_queue_full;
  all.dropped_link = out.dropped_link;
  all.early_rotations_full = onion_keys_.early_rotations().full;
  all.early_rotations_untrusted = onion_keys_.early_rotations().untrusted;
  return all;
}

void Relay::publish_metrics(metrics::Registry& registry) {
  metrics_ = std::make_unique<detail::RelayMetrics>(registry);
  metrics_->update(counters(), table_.size(), scheduler_.queued_cells());
}

}  // namespace nyx::mix
