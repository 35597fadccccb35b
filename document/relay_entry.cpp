#include "document/relay_entry.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "core/crypto/encoding.hpp"
#include "document/detail/append.hpp"
#include "document/limits.hpp"

namespace nyx::document {
namespace {

std::unexpected<Error> entry_error(std::string message) {
  return make_error(ErrorCategory::kParse, std::move(message));
}

std::optional<std::string> entry_fault(const RelayEntry& entry, std::uint64_t period) {
  if (entry.weight() == 0) {
    return "weight 0, at least 1";
  }
  if (entry.descriptor().epoch != period) {
    return fmt::format("descriptor for epoch {}, the document is for period {}",
                       entry.descriptor().epoch, period);
  }
  return std::nullopt;
}

}  // namespace

RelayEntry::RelayEntry(std::uint32_t weight, SignedDescriptor descriptor,
                       std::vector<std::uint8_t> bytes)
    : weight_(weight),
      descriptor_(std::move(descriptor)),
      bytes_(std::move(bytes)),
      node_id_(descriptor_.node_id()) {}

Result<RelayEntry> RelayEntry::from_bytes(std::uint32_t weight, Bytes descriptor) {
  auto parsed = SignedDescriptor::parse_unverified(descriptor);
  if (!parsed) {
    return std::unexpected(std::move(parsed.error()));
  }
  return RelayEntry(weight, std::move(*parsed),
                    std::vector<std::uint8_t>(descriptor.begin(), descriptor.end()));
}

Result<RelayEntry> RelayEntry::from_descriptor(std::uint32_t weight,
                                               const SignedDescriptor& descriptor) {
  auto bytes = descriptor.encode();
  if (!bytes) {
    return std::unexpected(std::move(bytes.error()));
  }
  return RelayEntry(weight, descriptor, std::move(*bytes));
}

RelayEntry RelayEntry::with_weight(std::uint32_t weight) const {
  RelayEntry copy = *this;
  copy.weight_ = weight;
  return copy;
}

Status RelayEntry::verify_descriptor() const {
  if (!descriptor_.verify_signature(bytes_)) {
    return make_error(ErrorCategory::kCrypto, fmt::format("bad descriptor signature: node {}",
                                                          crypto::to_short_hex(node_id_)));
  }
  return {};
}

std::optional<std::string> entry_list_fault(std::span<const RelayEntry> entries,
                                            std::uint64_t period) {
  if (entries.size() > kMaxEntries) {
    return fmt::format("count {}, at most {}", entries.size(), kMaxEntries);
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (auto fault = entry_fault(entries[i], period)) {
      return fmt::format("entry {}: {}", i, *fault);
    }
    // Strictly ascending: also at most one entry per identity.
    if (i > 0 && !(entries[i - 1].node_id() < entries[i].node_id())) {
      return fmt::format(
          "entry {}: node {} not after node {} (entries are sorted by node_id, "
          "one per node)",
          i, crypto::to_short_hex(entries[i].node_id()),
          crypto::to_short_hex(entries[i - 1].node_id()));
    }
  }
  return std::nullopt;
}

void write_entry_list(std::vector<std::uint8_t>& out, std::span<const RelayEntry> entries) {
  detail::append_be(out, entries.size(), 2);
  for (const RelayEntry& entry : entries) {
    detail::append_be(out, entry.weight(), 4);
    detail::append_be(out, entry.descriptor_bytes().size(), 2);
    detail::append_bytes(out, entry.descriptor_bytes());
  }
}

Result<std::vector<RelayEntry>> read_entry_list(ByteReader& reader, std::uint64_t period) {
  std::uint16_t count = 0;
  if (!reader.read_be16(count)) {
    return entry_error("count: truncated");
  }
  if (count > kMaxEntries) {
    return entry_error(fmt::format("count {}, at most {}", count, kMaxEntries));
  }
  std::vector<RelayEntry> entries;
  // At most as many entries as the bytes left can hold: a hostile count
  // costs no allocation beyond the bytes that came with it.
  entries.reserve(std::min<std::size_t>(count, reader.remaining() / (6 + kMinSignedDescriptor)));
  for (std::size_t i = 0; i < count; ++i) {
    std::uint32_t weight = 0;
    std::uint16_t length = 0;
    Bytes descriptor;
    if (!reader.read_be32(weight) || !reader.read_be16(length)) {
      return entry_error(fmt::format("entry {}: truncated", i));
    }
    if (length < kMinSignedDescriptor || length > kMaxSignedDescriptor) {
      return entry_error(fmt::format("entry {}: length {}, expected {} to {}", i, length,
                                     kMinSignedDescriptor, kMaxSignedDescriptor));
    }
    if (!reader.read_bytes(length, descriptor)) {
      return entry_error(fmt::format("entry {}: truncated", i));
    }
    // The descriptor must fill `length` exactly: its parser refuses trailing bytes.
    auto entry = RelayEntry::from_bytes(weight, descriptor);
    if (!entry) {
      return entry_error(fmt::format("entry {}: {}", i, entry.error().message));
    }
    entries.push_back(std::move(*entry));
  }
  if (auto fault = entry_list_fault(entries, period)) {
    return entry_error(std::move(*fault));
  }
  return entries;
}

Status verify_descriptors(std::span<const RelayEntry> entries) {
  for (const RelayEntry& entry : entries) {
    if (auto status = entry.verify_descriptor(); !status) {
      return status;
    }
  }
  return {};
}

}  // namespace nyx::document
