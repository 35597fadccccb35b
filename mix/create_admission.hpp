#pragma once
// CreateAdmission: the token buckets a CREATE must pass before the relay does
// any Diffie-Hellman for it (docs/proposals/0002-voting-directory.md,
// section 9). Each neighbour belongs to one group: a relay of the installed
// directory is its own group, named by its link key; anyone else (clients,
// unlisted nodes, whose link keys are fresh for every link) is grouped by the
// link's remote address, IPv4 /32 or IPv6 /64, an IPv4-mapped IPv6 address
// counting as the IPv4 address it carries. Each group has a bucket, and a
// node-wide bucket caps the sum so that many groups together cannot starve
// the data path of existing circuits. A CREATE_DIR, which costs no
// Diffie-Hellman, takes a token from its group only.
//
// Owned by the Relay (itself owned by its shard); not thread-safe.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_set>

#include <asio/ip/address.hpp>

#include "core/clock.hpp"
#include "core/keyed_rate_limiter.hpp"
#include "core/rate_limiter.hpp"
#include "mix/create_limits.hpp"
#include "mix/neighbour_group.hpp"
#include "transport/peer_key.hpp"

namespace nyx::mix {

class CreateAdmission {
 public:
  enum class Verdict : std::uint8_t {
    kAdmitted,
    kRateLimited,  // the neighbour's group is out of tokens
    kOverloaded,   // the node-wide bucket is
  };

  CreateAdmission(const Clock& clock, const CreateLimits& limits);

  // The link keys of the relays of the installed directory (replaces the set).
  void set_relay_links(std::unordered_set<transport::PeerKey, transport::PeerKeyHash> links) {
    relay_links_ = std::move(links);
  }

  // Takes a token from the group of `from` (whose link's remote address is
  // `address`), then one from the node-wide bucket. A token taken from the
  // group is not given back when the node-wide bucket refuses: the group did
  // send the CREATE.
  Verdict admit(const transport::PeerKey& from, const std::optional<asio::ip::address>& address);
  // For a CREATE_DIR: a token from the group of `from` only. It costs the
  // relay no Diffie-Hellman, so it takes nothing from the node-wide bucket,
  // which guards that budget (proposal 0002, section 9). Never kOverloaded.
  Verdict admit_directory(const transport::PeerKey& from,
                          const std::optional<asio::ip::address>& address);

 private:
  bool take_group_token(const transport::PeerKey& from,
                        const std::optional<asio::ip::address>& address);

  std::unordered_set<transport::PeerKey, transport::PeerKeyHash> relay_links_;
  KeyedRateLimiter<NeighbourGroup, NeighbourGroupHash> per_address_;
  KeyedRateLimiter<transport::PeerKey, transport::PeerKeyHash> per_relay_;
  TokenBucket node_wide_;
};

}  // namespace nyx::mix
