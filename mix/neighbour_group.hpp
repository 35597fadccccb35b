#pragma once
// The neighbour groups of proposal 0002, section 9: who shares one token
// bucket when a node limits what strangers may make it do (CREATEs at a
// relay, descriptor uploads at an authority). A listed relay is a group of
// its own, named by its link key, and the caller decides that; everyone else
// is grouped by the remote address of its link, since a stranger's link key
// is fresh for every link and would come with a full bucket each time.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include <asio/ip/address.hpp>

namespace nyx::mix {

// The group of a neighbour that is not a listed relay: a kind byte, then the
// address prefix, zero-padded.
using NeighbourGroup = std::array<std::uint8_t, 33>;

// Its address's /32 (IPv4, mapped or not) or /64 (IPv6). Every link that
// does not know its remote address (in-process test links) shares one group.
NeighbourGroup address_group(const std::optional<asio::ip::address>& address);

// Groups come from addresses a flooder picks: a table of them hashes with a
// secret key, so they cannot be ground into one chain.
struct NeighbourGroupHash {
  std::size_t operator()(const NeighbourGroup& group) const noexcept;
};

}  // namespace nyx::mix
