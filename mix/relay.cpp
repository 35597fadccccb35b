#include "mix/relay.hpp"

#include <algorithm>
#include <cmath>

#include "mix/detail/relay_metrics.hpp"

namespace nyx::mix {
namespace {

CellPayload payload_of(Cell& cell) noexcept {
  return cell_payload(cell).subspan<0, kCellPayloadSize>();
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
      now_(clock.now()) {}

Relay::~Relay() {
  // Endpoints outliving the relay would point at freed state: detach them.
  table_.for_each([](CircuitState& c) {
    if (c.endpoint != nullptr) {
      c.endpoint->circuit_ = nullptr;
      c.endpoint->state_ = Circuit::State::kClosed;
    }
  });
}

void Relay::publish_metrics(metrics::Registry& registry) {
  metrics_ = std::make_unique<detail::RelayMetrics>(registry);
  metrics_->update(counters_, table_.size(), queued_total_);
}

CircuitId Relay::allocate_id(const PeerKey& peer) {
  // The top bit says which end of the link chose the id, so ids the two
  // ends pick for their own circuits never collide.
  const CircuitId side = local_key_ > peer ? 0x80000000u : 0;
  for (;;) {
    auto id = static_cast<CircuitId>(random_.uniform(0x80000000u)) | side;
    if (id != 0 && !table_.contains({peer, id})) {
      return id;
    }
  }
}

Result<std::unique_ptr<Circuit>> Relay::create_circuit(std::span<const OnionHop> hops) {
  if (table_.size() >= config_.max_circuits) {
    return make_error(ErrorCategory::kResourceExhausted, "relay: circuit table full");
  }
  auto create = build_create(hops);
  if (!create) {
    return std::unexpected(std::move(create.error()));
  }
  now_ = clock_.now();
  auto state = std::make_unique<CircuitState>();
  state->role = CircuitState::Role::kOrigin;
  state->downstream = LinkCircuit{hops[0].link_key, allocate_id(hops[0].link_key)};
  state->created_at = now_;
  state->last_active = now_;
  CircuitState& circuit = table_.insert(std::move(state));
  std::unique_ptr<Circuit> endpoint(
      new Circuit(*this, circuit, ClientOnion(std::move(create->keys))));
  circuit.endpoint = endpoint.get();
  send_now(*circuit.downstream, CellCommand::kCreate, create->payload);
  return endpoint;
}

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
  const LinkCircuit key{from, view->circuit_id};
  const CircuitTable::Slot* slot = table_.find(key);
  if (slot == nullptr) {
    ++counters_.dropped_unknown_circuit;
    return;
  }
  slot->circuit->last_active = now_;
  switch (view->command) {
    case CellCommand::kCreated:
      on_created(*slot, *view);
      return;
    case CellCommand::kRelay:
      on_relay(*slot, *view);
      return;
    case CellCommand::kDestroy:
      ++counters_.destroys_received;
      destroy(*slot->circuit, static_cast<DestroyReason>(view->payload[0]), &key);
      return;
    case CellCommand::kPadding:
    case CellCommand::kCreate:
      return;  // handled above
  }
}

void Relay::on_create(const PeerKey& from, const CellView& view) {
  const LinkCircuit up{from, view.circuit_id};
  if (table_.contains(up)) {
    ++counters_.dropped_malformed;  // a second CREATE on a live circuit id
    return;
  }
  if (table_.size() >= config_.max_circuits) {
    ++counters_.creates_rejected;
    send_destroy(up, DestroyReason::kResources);
    return;
  }
  CreatePayload payload;
  std::copy(view.payload.begin(), view.payload.end(), payload.begin());
  auto outcome = process_create(onion_keys_, payload);
  if (!outcome || (outcome->terminal && !terminal_handler_)) {
    ++counters_.creates_rejected;
    send_destroy(up, DestroyReason::kCreateFailed);
    return;
  }
  ++counters_.creates_accepted;
  now_ = clock_.now();
  auto state = std::make_unique<CircuitState>();
  state->upstream = up;
  state->keys = std::move(outcome->keys);
  state->created_at = now_;
  state->last_active = now_;
  if (!outcome->terminal) {
    state->role = CircuitState::Role::kMiddle;
    CircuitState& circuit = table_.insert(std::move(state));
    const PeerKey& next = outcome->next_link_key;
    table_.set_downstream(circuit, LinkCircuit{next, allocate_id(next)});
    send_now(*circuit.downstream, CellCommand::kCreate, payload);
    return;
  }
  state->role = CircuitState::Role::kTerminal;
  state->open = true;
  CircuitState& circuit = table_.insert(std::move(state));
  std::unique_ptr<Circuit> endpoint(
      new Circuit(*this, circuit, Circuit::TerminalKeys{&circuit.keys}));
  circuit.endpoint = endpoint.get();
  endpoint->state_ = Circuit::State::kOpen;
  Cell created;
  write_cell_header(created, up.id, CellCommand::kCreated);
  terminal_seal(circuit.keys, RelayType::kCreated, {}, payload_of(created));
  if (!link_.send_cell(from, created)) {
    ++counters_.dropped_link;
  }
  terminal_handler_(std::move(endpoint));
}

void Relay::on_created(const CircuitTable::Slot& slot, const CellView& view) {
  CircuitState& circuit = *slot.circuit;
  if (slot.side != Side::kDownstream || circuit.open) {
    destroy(circuit, DestroyReason::kProtocol);
    return;
  }
  Cell cell = copy_cell(view);
  if (circuit.role == CircuitState::Role::kMiddle) {
    relay_layer(circuit.keys, Direction::kBackward, payload_of(cell));
    circuit.open = true;
    send_now(*circuit.upstream, CellCommand::kCreated, cell_payload(cell));
    return;
  }
  auto message = circuit.endpoint->open_cell(payload_of(cell));
  if (!message || message->type != RelayType::kCreated) {
    ++counters_.tampered;
    destroy(circuit, DestroyReason::kTampered);
    return;
  }
  circuit.open = true;
  circuit.endpoint->set_state(Circuit::State::kOpen);
}

void Relay::on_relay(const CircuitTable::Slot& slot, const CellView& view) {
  CircuitState& circuit = *slot.circuit;
  if (!circuit.open) {
    ++counters_.dropped_unknown_circuit;  // data before setup finished
    return;
  }
  Cell cell = copy_cell(view);
  if (circuit.role == CircuitState::Role::kMiddle) {
    const bool down = slot.side == Side::kUpstream;
    relay_layer(circuit.keys, down ? Direction::kForward : Direction::kBackward, payload_of(cell));
    forward_data(circuit, down ? Side::kDownstream : Side::kUpstream, cell);
    return;
  }
  // An end: the cell must come from the one neighbour it has.
  const bool expected_side =
      (circuit.role == CircuitState::Role::kTerminal) == (slot.side == Side::kUpstream);
  if (!expected_side || circuit.endpoint == nullptr) {
    destroy(circuit, DestroyReason::kProtocol);
    return;
  }
  auto message = circuit.endpoint->open_cell(payload_of(cell));
  if (!message) {
    ++counters_.tampered;
    destroy(circuit, message.error().category == ErrorCategory::kCrypto ? DestroyReason::kTampered
                                                                        : DestroyReason::kProtocol);
    return;
  }
  switch (message->type) {
    case RelayType::kData:
      break;
    case RelayType::kDrop:
      ++counters_.cover_dropped;
      break;
    case RelayType::kCreated:
      destroy(circuit, DestroyReason::kProtocol);
      return;
  }
  circuit.endpoint->deliver(*message);
}

void Relay::send_now(const LinkCircuit& to, CellCommand command, Bytes payload) {
  Cell cell;
  write_cell_header(cell, to.id, command);
  std::copy(payload.begin(), payload.end(), cell.begin() + kCellHeaderSize);
  if (!link_.send_cell(to.peer, cell)) {
    ++counters_.dropped_link;
  }
}

void Relay::send_destroy(const LinkCircuit& to, DestroyReason reason) {
  Cell cell = make_destroy_cell(to.id, reason);
  if (!link_.send_cell(to.peer, cell)) {
    ++counters_.dropped_link;
  }
}

Status Relay::enqueue(const LinkCircuit& to, Cell& cell) {
  const CircuitTable::Slot* slot = table_.find(to);
  if (slot == nullptr) {
    return make_error(ErrorCategory::kClosed, "relay: circuit gone");
  }
  std::deque<Cell>& queue = slot->circuit->queue(slot->side);
  LinkQueue& link = queues_[to.peer];
  if (link.cells >= config_.link_queue_cells || queue.size() >= config_.circuit_queue_cells) {
    ++counters_.dropped_queue_full;
    return make_error(ErrorCategory::kResourceExhausted, "relay: link queue full");
  }
  store_be32(cell.data(), to.id);
  if (queue.empty()) {
    link.ring.push_back(to);
  }
  queue.push_back(cell);
  ++link.cells;
  if (queued_total_++ == 0 && flush_request_) {
    flush_request_();
  }
  return {};
}

void Relay::forward_data(CircuitState& circuit, Side towards, Cell& cell) {
  const LinkCircuit& out = towards == Side::kUpstream ? *circuit.upstream : *circuit.downstream;
  if (config_.mean_hop_delay > Nanos{0}) {
    delayed_.push(Delayed{now_ + exponential(config_.mean_hop_delay), out, cell});
    return;
  }
  // A full queue is counted in enqueue; the cell is dropped, the circuit lives.
  (void)enqueue(out, cell);
}

void Relay::flush() {
  for (auto& [peer, link] : queues_) {
    std::size_t budget = config_.flush_cells_per_link;
    while (budget > 0 && !link.ring.empty()) {
      LinkCircuit key = link.ring.front();
      link.ring.pop_front();
      const CircuitTable::Slot* slot = table_.find(key);
      if (slot == nullptr) {
        continue;  // destroyed since; its cells were discounted then
      }
      std::deque<Cell>& queue = slot->circuit->queue(slot->side);
      if (queue.empty()) {
        continue;
      }
      if (link_.send_cell(peer, queue.front())) {
        ++counters_.cells_relayed;
      } else {
        ++counters_.dropped_link;
      }
      queue.pop_front();
      --link.cells;
      --queued_total_;
      --budget;
      if (!queue.empty()) {
        link.ring.push_back(key);
      }
    }
  }
}

std::size_t Relay::queued_cells(const PeerKey& peer) const {
  auto it = queues_.find(peer);
  return it == queues_.end() ? 0 : it->second.cells;
}

void Relay::destroy(CircuitState& circuit, DestroyReason reason, const LinkCircuit* from) {
  for (const auto& [side, neighbour] : {std::pair{Side::kUpstream, circuit.upstream},
                                        std::pair{Side::kDownstream, circuit.downstream}}) {
    if (!neighbour) {
      continue;
    }
    if (from == nullptr || !(*from == *neighbour)) {
      send_destroy(*neighbour, reason);
    }
    auto it = queues_.find(neighbour->peer);
    if (it != queues_.end()) {
      it->second.cells -= circuit.queue(side).size();
      queued_total_ -= circuit.queue(side).size();
    }
  }
  Circuit* endpoint = circuit.endpoint;
  table_.erase(circuit);
  if (endpoint != nullptr) {
    endpoint->circuit_ = nullptr;
    endpoint->set_state(Circuit::State::kClosed, reason);
  }
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
  // Every circuit through the link is gone, and their cells with them.
  queues_.erase(peer);
}

Status Relay::send_from_endpoint(CircuitState& circuit, RelayType type, Bytes data) {
  if (!circuit.open) {
    return make_error(ErrorCategory::kResourceExhausted, "circuit: still building");
  }
  Cell cell;
  write_cell_header(cell, 0, CellCommand::kRelay);
  circuit.endpoint->seal(type, data, payload_of(cell));
  circuit.last_active = now_;
  const LinkCircuit& to =
      circuit.role == CircuitState::Role::kOrigin ? *circuit.downstream : *circuit.upstream;
  return enqueue(to, cell);
}

Nanos Relay::exponential(Nanos mean) {
  constexpr std::uint64_t kSteps = std::uint64_t{1} << 53;
  const double u = static_cast<double>(random_.uniform(kSteps) + 1) / static_cast<double>(kSteps);
  return Nanos{static_cast<std::int64_t>(-std::log(u) * static_cast<double>(mean.count()))};
}

void Relay::tick() {
  now_ = clock_.now();
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
  while (!delayed_.empty() && delayed_.top().due <= now_) {
    Delayed due = delayed_.top();
    delayed_.pop();
    (void)enqueue(due.out, due.cell);  // dropped and counted when full or gone
  }
  table_.for_each([&](CircuitState& c) {
    Circuit* endpoint = c.endpoint;
    if (endpoint == nullptr || !c.open || endpoint->cover_rate_ <= 0) {
      return;
    }
    const Nanos mean{static_cast<std::int64_t>(1e9 / endpoint->cover_rate_)};
    if (endpoint->next_cover_ == Nanos{0}) {
      endpoint->next_cover_ = now_ + exponential(mean);
    }
    while (endpoint->next_cover_ <= now_) {
      (void)send_from_endpoint(c, RelayType::kDrop, {});  // cover may be dropped like data
      endpoint->next_cover_ += exponential(mean);
    }
  });
  if (metrics_) {
    metrics_->update(counters_, table_.size(), queued_total_);
  }
}

}  // namespace nyx::mix
