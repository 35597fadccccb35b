#include "mix/guard_set.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>

#include "core/crypto/encoding.hpp"

namespace nyx::mix {
namespace {

using std::chrono::seconds;

constexpr std::string_view kGuardStateHeader = "nyx-guards-v1";
constexpr int kFailuresBeforeUnreachable = 3;

// Retry schedules of §3 (guard-spec's, as Arti runs them).
struct RetrySchedule {
  seconds base;
  seconds cap;
};
constexpr RetrySchedule kPrimaryRetry{seconds{30}, seconds{6 * 3600}};
constexpr RetrySchedule kOtherGuardRetry{seconds{600}, seconds{36 * 3600}};

std::int64_t unix_seconds(Nanos now) { return std::chrono::duration_cast<seconds>(now).count(); }

// Digits only, without leading zeros (so each value has one spelling).
std::optional<std::int64_t> parse_guard_state_decimal(std::string_view text) {
  if (text.empty() || (text.size() > 1 && text[0] == '0') ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::int64_t out = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return out;
}

// Every piece between separators, empty ones included (so a doubled space
// or a blank line is seen and refused).
std::vector<std::string_view> split_guard_state_text(std::string_view text, char separator) {
  std::vector<std::string_view> pieces;
  for (;;) {
    const std::size_t at = text.find(separator);
    pieces.push_back(text.substr(0, at));
    if (at == std::string_view::npos) {
      return pieces;
    }
    text.remove_prefix(at + 1);
  }
}

// One "guard ..." line; the message says what is wrong, the caller where.
Result<GuardEntry> parse_guard_line(std::string_view line) {
  const auto fields = split_guard_state_text(line, ' ');
  if (fields.size() != 5 || fields[0] != "guard") {
    return make_error(ErrorCategory::kParse,
                      "expected \"guard <identity> <added> <expires> <unlisted_since>\"");
  }
  const bool lower_hex =
      fields[1].size() == 64 && std::all_of(fields[1].begin(), fields[1].end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      });
  auto identity = crypto::from_hex(fields[1]);
  if (!lower_hex || !identity) {
    return make_error(ErrorCategory::kParse, "the identity is not 64 lower-case hex digits");
  }
  GuardEntry entry;
  std::copy(identity->begin(), identity->end(), entry.identity.begin());
  const auto added = parse_guard_state_decimal(fields[2]);
  const auto expires = parse_guard_state_decimal(fields[3]);
  const auto unlisted_since = parse_guard_state_decimal(fields[4]);
  if (!added || !expires || !unlisted_since) {
    return make_error(ErrorCategory::kParse,
                      "a time is not a decimal number without sign or leading zeros");
  }
  if (*added >= *expires) {
    return make_error(ErrorCategory::kParse, "a guard expires before it was added");
  }
  entry.added = *added;
  entry.expires = *expires;
  entry.unlisted_since = *unlisted_since;
  return entry;
}

std::unexpected<Error> bad_guard_state_line(std::size_t line_number, std::string_view what) {
  return make_error(ErrorCategory::kParse,
                    "guards.state line " + std::to_string(line_number) + ": " + std::string(what));
}

}  // namespace

std::string GuardState::to_text() const {
  std::string out(kGuardStateHeader);
  out += '\n';
  for (const GuardEntry& guard : guards) {
    out += "guard " + crypto::to_hex(guard.identity) + ' ' + std::to_string(guard.added) + ' ' +
           std::to_string(guard.expires) + ' ' + std::to_string(guard.unlisted_since) + '\n';
  }
  return out;
}

Result<GuardState> GuardState::from_text(std::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return make_error(ErrorCategory::kParse, "guards.state: the last line has no line end");
  }
  text.remove_suffix(1);
  GuardState state;
  std::set<crypto::Ed25519PublicKey> seen;
  std::size_t line_number = 0;
  for (std::string_view line : split_guard_state_text(text, '\n')) {
    ++line_number;
    if (line_number == 1) {
      if (line != kGuardStateHeader) {
        return bad_guard_state_line(line_number, "expected \"nyx-guards-v1\"");
      }
      continue;
    }
    auto entry = parse_guard_line(line);
    if (!entry) {
      return bad_guard_state_line(line_number, entry.error().message);
    }
    if (!seen.insert(entry->identity).second) {
      return bad_guard_state_line(line_number, "a guard listed twice");
    }
    if (state.guards.size() == kMaxGuardSample) {
      return bad_guard_state_line(line_number, "more guards than the sample holds");
    }
    state.guards.push_back(*entry);
  }
  return state;
}

GuardSet::GuardSet(RandomSource& random, GuardConfig config, GuardState restored)
    : random_(random), config_(config) {
  for (const GuardEntry& entry : restored.guards) {
    sample_.push_back(Sampled{.entry = entry});
  }
}

bool GuardSet::update(std::span<const document::NodeDescriptor> nodes, Nanos now) {
  listed_.clear();
  for (const document::NodeDescriptor& node : nodes) {
    if (node.is_relay() && (!node.udp_address.empty() || !node.tcp_address.empty())) {
      listed_.push_back(node);
    }
  }
  const bool removed = remove_stale(now);
  const bool added = top_up(now);
  return removed || added;
}

// §5.2's first loop: expiry, and the unlisted clock.
bool GuardSet::remove_stale(Nanos now) {
  const std::int64_t now_s = unix_seconds(now);
  bool changed = false;
  std::vector<Sampled> kept;
  for (Sampled& guard : sample_) {
    GuardEntry& entry = guard.entry;
    if (now_s >= entry.expires) {
      changed = true;
      continue;
    }
    if (listed(entry.identity) != nullptr) {
      changed = changed || entry.unlisted_since != 0;
      entry.unlisted_since = 0;
    } else if (entry.unlisted_since == 0) {
      entry.unlisted_since = now_s;
      changed = true;
    } else if (now_s - entry.unlisted_since >= kRemoveUnlistedAfter.count()) {
      changed = true;
      continue;
    }
    kept.push_back(guard);
  }
  sample_ = std::move(kept);
  return changed;
}

// §5.2's second loop: sample while too few listed guards are usable.
bool GuardSet::top_up(Nanos now) {
  bool changed = false;
  for (;;) {
    const auto usable_listed = std::count_if(sample_.begin(), sample_.end(), [&](const Sampled& g) {
      return listed(g.entry.identity) != nullptr && usable_now(g, now);
    });
    if (static_cast<std::size_t>(usable_listed) >= config_.primary ||
        sample_.size() >= config_.sample_size) {
      return changed;
    }
    const document::NodeDescriptor* node = draw_new_guard();
    if (node == nullptr) {
      return changed;
    }
    // lifetime × uniform[0.9, 1.1], in whole seconds.
    const auto tenth = static_cast<std::uint64_t>(config_.lifetime.count() / 10);
    const std::int64_t lifetime = config_.lifetime.count() - static_cast<std::int64_t>(tenth) +
                                  static_cast<std::int64_t>(random_.uniform(2 * tenth + 1));
    const std::int64_t now_s = unix_seconds(now);
    sample_.push_back(Sampled{.entry = {.identity = node->identity_key,
                                        .added = now_s,
                                        .expires = now_s + std::max<std::int64_t>(lifetime, 1)}});
    changed = true;
  }
}

// A listed relay outside the sample that conflicts with no sampled guard,
// drawn by bandwidth; null when none is left.
const document::NodeDescriptor* GuardSet::draw_new_guard() {
  std::vector<const document::NodeDescriptor*> candidates;
  for (const document::NodeDescriptor& node : listed_) {
    const bool fits = std::none_of(sample_.begin(), sample_.end(), [&](const Sampled& g) {
      const document::NodeDescriptor* sampled = listed(g.entry.identity);
      return g.entry.identity == node.identity_key ||
             (sampled != nullptr && paths_conflict(node, *sampled, config_.subnets));
    });
    if (fits) {
      candidates.push_back(&node);
    }
  }
  return draw_by_bandwidth(candidates, random_);
}

const document::NodeDescriptor* GuardSet::listed(const crypto::Ed25519PublicKey& identity) const {
  const auto it = std::find_if(listed_.begin(), listed_.end(),
                               [&](const auto& node) { return node.identity_key == identity; });
  return it == listed_.end() ? nullptr : &*it;
}

GuardSet::Sampled* GuardSet::find(const crypto::Ed25519PublicKey& identity) {
  const auto it = std::find_if(sample_.begin(), sample_.end(),
                               [&](const Sampled& g) { return g.entry.identity == identity; });
  return it == sample_.end() ? nullptr : &*it;
}

// PRIMARY: the first `primary` sampled guards that are listed.
bool GuardSet::is_primary(const Sampled& guard) const {
  std::size_t rank = 0;
  for (const Sampled& g : sample_) {
    if (rank == config_.primary) {
      return false;
    }
    if (listed(g.entry.identity) == nullptr) {
      continue;
    }
    if (&g == &guard) {
      return true;
    }
    ++rank;
  }
  return false;
}

bool GuardSet::usable_now(const Sampled& guard, Nanos now) const {
  return now >= guard.unreachable_until;
}

std::vector<crypto::Ed25519PublicKey> GuardSet::usable(Nanos now) const {
  std::vector<crypto::Ed25519PublicKey> primaries;
  std::vector<crypto::Ed25519PublicKey> others;
  for (const Sampled& g : sample_) {
    if (listed(g.entry.identity) == nullptr || !usable_now(g, now)) {
      continue;
    }
    (is_primary(g) ? primaries : others).push_back(g.entry.identity);
  }
  primaries.insert(primaries.end(), others.begin(), others.end());
  return primaries;
}

Result<crypto::Ed25519PublicKey> GuardSet::choose(Nanos now) const {
  auto in_order = usable(now);
  if (in_order.empty()) {
    return make_error(ErrorCategory::kNotFound, "guards: no usable guard");
  }
  return in_order.front();
}

// Decorrelated jitter: uniform in [base, 3 × the last delay (base at
// first)], capped.
std::chrono::seconds GuardSet::next_delay(const Sampled& guard) {
  const RetrySchedule schedule = is_primary(guard) ? kPrimaryRetry : kOtherGuardRetry;
  const seconds upper = 3 * std::max(schedule.base, guard.last_delay);
  const auto span = static_cast<std::uint64_t>((upper - schedule.base).count());
  const seconds delay =
      schedule.base + seconds{static_cast<std::int64_t>(random_.uniform(span + 1))};
  return std::min(delay, schedule.cap);
}

bool GuardSet::mark_failed(const crypto::Ed25519PublicKey& identity, Nanos now) {
  Sampled* guard = find(identity);
  if (guard == nullptr) {
    return false;
  }
  // Circuits already under way may report after the guard was marked: the
  // back-off grows once per retry, not once per report.
  if (now < guard->unreachable_until || ++guard->failures_in_a_row < kFailuresBeforeUnreachable) {
    return false;
  }
  guard->last_delay = next_delay(*guard);
  guard->unreachable_until = now + guard->last_delay;
  return top_up(now);
}

void GuardSet::mark_succeeded(const crypto::Ed25519PublicKey& identity) {
  if (Sampled* guard = find(identity)) {
    guard->failures_in_a_row = 0;
    guard->last_delay = seconds{0};
    guard->unreachable_until = Nanos{0};
  }
}

std::vector<GuardStatus> GuardSet::status() const {
  std::vector<GuardStatus> out;
  for (const Sampled& g : sample_) {
    out.push_back(GuardStatus{.entry = g.entry,
                              .listed = listed(g.entry.identity) != nullptr,
                              .primary = is_primary(g),
                              .unreachable_until = g.unreachable_until});
  }
  return out;
}

GuardState GuardSet::state() const {
  GuardState out;
  for (const Sampled& g : sample_) {
    out.guards.push_back(g.entry);
  }
  return out;
}

}  // namespace nyx::mix
