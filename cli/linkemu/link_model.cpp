#include "cli/linkemu/link_model.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace nyx::linkemu {
namespace {

constexpr std::uint64_t kMinQueueBytes = 16 * 1024;

std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t link) {
  return seed ^ (0x9e3779b97f4a7c15ULL * (link + 1));
}

}  // namespace

std::uint64_t queue_limit_bytes(const ShaperParams& params) {
  if (params.queue_bytes != 0) {
    return params.queue_bytes;
  }
  const auto bytes = static_cast<std::uint64_t>(static_cast<long double>(params.rate_bps) *
                                                params.queue_time / kSecond / 8);
  return std::max(bytes, kMinQueueBytes);
}

Shaper::Shaper(ShaperParams params) : params_(params), limit_(queue_limit_bytes(params)) {}

std::uint64_t Shaper::backlog_bytes(Nanos at) const {
  if (params_.rate_bps == 0 || busy_until_ <= at) {
    return 0;
  }
  return static_cast<std::uint64_t>(static_cast<long double>(busy_until_ - at) * params_.rate_bps /
                                    kSecond / 8);
}

Nanos Shaper::admit(Nanos arrival, std::uint32_t bytes) {
  if (params_.rate_bps == 0) {
    ++counters_.packets;
    counters_.bytes += bytes;
    return arrival;
  }
  const std::uint64_t backlog = backlog_bytes(arrival);
  if (backlog + bytes > limit_) {
    ++counters_.queue_drops;
    return -1;
  }
  // Transmission time, exact: bits * 1e9 / rate with the remainder carried.
  const std::uint64_t numerator =
      static_cast<std::uint64_t>(bytes) * 8 * static_cast<std::uint64_t>(kSecond) + remainder_;
  const auto transmit = static_cast<Nanos>(numerator / params_.rate_bps);
  remainder_ = numerator % params_.rate_bps;
  if (busy_until_ <= arrival) {
    busy_until_ = arrival;
  }
  busy_until_ += transmit;
  ++counters_.packets;
  counters_.bytes += bytes;
  counters_.max_backlog_bytes = std::max(counters_.max_backlog_bytes, backlog + bytes);
  return busy_until_;
}

std::uint64_t Prng::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double Prng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Prng::normal() {
  const double u1 = 1.0 - uniform();  // (0, 1]
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

LinkModel::LinkModel(std::size_t hosts, std::uint64_t seed) : hosts_(hosts), links_(hosts * hosts) {
  for (std::size_t i = 0; i < links_.size(); ++i) {
    links_[i].prng = Prng(mix_seed(seed, i));
  }
}

void LinkModel::set_link(std::size_t from, std::size_t to, const LinkParams& params) {
  link_at(from, to).params = params;
}

void LinkModel::set_host(std::size_t host, const HostParams& params) {
  hosts_[host].up = Shaper(params.up);
  hosts_[host].down = Shaper(params.down);
}

const LinkParams& LinkModel::link(std::size_t from, std::size_t to) const {
  return links_[from * hosts_.size() + to].params;
}

const LinkCounters& LinkModel::link_counters(std::size_t from, std::size_t to) const {
  return links_[from * hosts_.size() + to].counters;
}

// Ornstein-Uhlenbeck, sampled exactly at the packet times:
// J(t + dt) = a J(t) + sigma sqrt(1 - a^2) N(0, 1), a = exp(-dt / tau).
Nanos LinkModel::jitter(Link& link, Nanos at) {
  const auto sigma = static_cast<double>(link.params.jitter);
  if (sigma <= 0) {
    return 0;
  }
  double a = 0;
  if (link.jitter_started && link.params.jitter_tau > 0) {
    const auto dt = static_cast<double>(std::max<Nanos>(at - link.jitter_at, 0));
    a = std::exp(-dt / static_cast<double>(link.params.jitter_tau));
  }
  link.jitter_state = a * link.jitter_state + sigma * std::sqrt(1.0 - a * a) * link.prng.normal();
  link.jitter_at = at;
  link.jitter_started = true;
  return static_cast<Nanos>(std::llround(link.jitter_state));
}

void LinkModel::push(Nanos at, PacketId id, std::uint32_t bytes, std::size_t to, Stage stage) {
  events_.push(Event{at, seq_++, id, bytes, static_cast<std::uint16_t>(to), stage});
}

LinkModel::Verdict LinkModel::submit(PacketId id, std::size_t from, std::size_t to,
                                     std::uint32_t bytes, Nanos arrival) {
  const Nanos t1 = hosts_[from].up.admit(arrival, bytes);
  if (t1 < 0) {
    return Verdict::kQueueDropped;
  }
  Link& link = link_at(from, to);
  ++link.counters.packets;
  link.counters.bytes += bytes;
  if (link.params.loss > 0 && link.prng.uniform() < link.params.loss) {
    ++link.counters.loss_drops;
    return Verdict::kLost;
  }
  Nanos t2 = t1 + std::max<Nanos>(link.params.delay + jitter(link, t1), 0);
  if (link.params.reorder > 0 && link.prng.uniform() < link.params.reorder) {
    // Held back and not clamped: the packets behind it overtake it.
    const Nanos gap = link.params.reorder_gap > 0 ? link.params.reorder_gap
                                                  : std::max<Nanos>(kMilli, 2 * link.params.jitter);
    ++link.counters.reordered;
    t2 += gap;
  } else {
    // Jitter never reorders: a release is never before the link's previous.
    t2 = std::max(t2, link.last_release);
    link.last_release = t2;
  }
  push(t2, id, bytes, to, Stage::kDownlink);
  return Verdict::kQueued;
}

Nanos LinkModel::next_event() const { return events_.empty() ? -1 : events_.top().at; }

void LinkModel::release_due(Nanos now, std::vector<Release>& out) {
  while (!events_.empty() && events_.top().at <= now) {
    const Event event = events_.top();
    events_.pop();
    if (event.stage == Stage::kSend) {
      out.push_back(Release{event.id, event.to, event.at, false});
      continue;
    }
    const Nanos t3 = hosts_[event.to].down.admit(event.at, event.bytes);
    if (t3 < 0) {
      out.push_back(Release{event.id, event.to, event.at, true});
    } else if (t3 == event.at) {
      out.push_back(Release{event.id, event.to, t3, false});
    } else {
      push(t3, event.id, event.bytes, event.to, Stage::kSend);
    }
  }
}

}  // namespace nyx::linkemu
