#pragma once
// RelayEntry: one relay as a vote or a consensus lists it (proposal 0002
// sections 3.3 and 3.4), weight (4) || length (2) || signed descriptor, and
// the entry list both documents share: count (2) || count × entry, strictly
// ascending by node_id (so at most one entry per identity), each weight at
// least 1 and each descriptor for the document's period.
//
// The descriptor is parsed when the entry is made, but its signature is
// checked only by verify_descriptor(): a document's cheap checks run before
// any Ed25519 work (section 6.3). The descriptor's bytes are kept exactly as
// signed, since the consensus counts identical bytes.
//
// A value type with no secrets; thread-safe.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "document/descriptor.hpp"
#include "document/signed_descriptor.hpp"

namespace nyx::document {

class RelayEntry {
 public:
  // kParse with the descriptor's own message unless `descriptor` parses
  // (signature unchecked).
  static Result<RelayEntry> from_bytes(std::uint32_t weight, Bytes descriptor);
  // kInvalidArgument unless `descriptor` encodes.
  static Result<RelayEntry> from_descriptor(std::uint32_t weight,
                                            const SignedDescriptor& descriptor);

  std::uint32_t weight() const noexcept { return weight_; }
  const SignedDescriptor& descriptor() const noexcept { return descriptor_; }
  Bytes descriptor_bytes() const noexcept { return bytes_; }
  const NodeId& node_id() const noexcept { return node_id_; }

  // The same descriptor listed with another weight (the consensus weight).
  RelayEntry with_weight(std::uint32_t weight) const;
  // kCrypto "bad descriptor signature: node <8 hex>" unless the descriptor
  // carries its identity key's signature.
  Status verify_descriptor() const;

 private:
  RelayEntry(std::uint32_t weight, SignedDescriptor descriptor, std::vector<std::uint8_t> bytes);

  std::uint32_t weight_;
  SignedDescriptor descriptor_;
  std::vector<std::uint8_t> bytes_;
  NodeId node_id_;
};

// What breaks the value rules of an entry list for `period` (count, weight,
// epoch, order), or nothing. The encoders and the parser share it, so nothing
// is written that a parser refuses.
std::optional<std::string> entry_list_fault(std::span<const RelayEntry> entries,
                                            std::uint64_t period);

// Appends count || entries. Precondition: entry_list_fault() found nothing.
void write_entry_list(std::vector<std::uint8_t>& out, std::span<const RelayEntry> entries);

// Reads count || entries for `period`; kParse naming the entry and what is
// wrong with it. Work and memory are bounded by the bytes read.
Result<std::vector<RelayEntry>> read_entry_list(ByteReader& reader, std::uint64_t period);

// Every entry's descriptor signature, in order; the first failure.
Status verify_descriptors(std::span<const RelayEntry> entries);

}  // namespace nyx::document
