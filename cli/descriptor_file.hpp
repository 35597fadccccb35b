#pragma once
// Descriptor files: one node's entry in the directory as TOML an operator can
// read and edit (docs/cli.md, "Descriptor files"). `nyxctl keygen` writes one
// with the node's public keys filled in; `nyxctl testnet up` writes one per
// node.
//
//   identity_key = "<64 hex>"     # Ed25519
//   link_key = "<64 hex>"         # X25519, the transport's static key
//   onion_key = "<64 hex>"        # X25519, opens circuit CREATEs
//   onion_key_epoch = 0
//   udp_address = "127.0.0.1:9101"  # at least one of udp/tcp
//   tcp_address = ""
//   roles = ["relay", "exit"]
//   bandwidth_weight = 1
//   family = ""
//   exit_policy = ["accept *:*"]  # document/exit_rules.hpp rules
//
// That TOML file is the operator's unsigned source. What an authority reads is
// its signed form (document/signed_descriptor.hpp, proposal 0002 section 3.2),
// `descriptor.bin` beside the node's keys: sign_descriptor() makes it with the
// node's identity key, after checking that the keys the TOML names are the
// ones in the data directory, and adds the onion key of the next epoch.
//
// Free functions; thread-safe (not against another process writing the same
// data directory).

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/error.hpp"
#include "document/descriptor.hpp"
#include "document/signed_descriptor.hpp"

namespace nyx::cli {

// Reads and checks a descriptor file; kConfig naming file:line:column and key
// for every mistake (all of them at once), kIo when it cannot be read.
Result<document::NodeDescriptor> read_descriptor_file(const std::filesystem::path& file);

// The TOML text of a descriptor (what read_descriptor_file reads back).
std::string descriptor_to_toml(const document::NodeDescriptor& descriptor);

// Writes descriptor_to_toml() to `file` (created with the umask: it is public).
Status write_descriptor_file(const std::filesystem::path& file,
                             const document::NodeDescriptor& descriptor);

// The signed descriptor's file name in a node's data directory.
inline constexpr const char* kSignedDescriptorName = "descriptor.bin";

// Signs `source` as the node whose keys are in `data_dir`, published `now`:
// identity.key signs; link.key and onion-<epoch>.key must be the keys that
// `source` names (kConfig otherwise); onion-<epoch+1>.key is read, or made
// (0600) when missing. kConfig naming the field for what a signed descriptor
// cannot hold (a host name instead of an address, an exit that is not also
// a relay, an exit without an accept rule, ...).
Result<document::SignedDescriptor> sign_descriptor(const document::NodeDescriptor& source,
                                                   const std::filesystem::path& data_dir,
                                                   std::uint64_t now);

// Reads a signed descriptor file and verifies it
// (SignedDescriptor::parse_and_verify); errors name the file and keep the
// DescriptorErrc code. An unsigned or mis-signed descriptor is refused.
Result<document::SignedDescriptor> read_signed_descriptor_file(const std::filesystem::path& file);

// Writes the signed descriptor's bytes to `file` atomically.
Status write_signed_descriptor_file(const std::filesystem::path& file,
                                    const document::SignedDescriptor& descriptor);

}  // namespace nyx::cli
