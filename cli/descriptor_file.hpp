#pragma once
// Descriptor files: one node's entry in the directory as TOML an operator can
// read and edit (docs/cli.md, "Descriptor files"), the input of
// `nyxctl directory sign`. `nyxctl keygen` writes one with the node's public keys
// filled in; `nyxctl testnet up` writes one per node.
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
// Free functions; thread-safe.

#include <filesystem>
#include <string>

#include "core/error.hpp"
#include "document/descriptor.hpp"

namespace nyx::cli {

// Reads and checks a descriptor file; kConfig naming file:line:column and key
// for every mistake (all of them at once), kIo when it cannot be read.
Result<document::NodeDescriptor> read_descriptor_file(const std::filesystem::path& file);

// The TOML text of a descriptor (what read_descriptor_file reads back).
std::string descriptor_to_toml(const document::NodeDescriptor& descriptor);

// Writes descriptor_to_toml() to `file` (created with the umask: it is public).
Status write_descriptor_file(const std::filesystem::path& file,
                             const document::NodeDescriptor& descriptor);

}  // namespace nyx::cli
