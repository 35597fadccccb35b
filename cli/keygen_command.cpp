#include "cli/keygen_command.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>
#include <arpa/inet.h>
#include <fmt/format.h>

#include "cli/descriptor_file.hpp"
#include "cli/node_keys.hpp"
#include "cli/node_options.hpp"
#include "core/crypto/encoding.hpp"
#include "core/host_port.hpp"

namespace nyx::cli {
namespace {

// Printed when no --address was given: no node accepts it, so a pasted line
// that was not completed is refused loudly.
constexpr const char* kAddressPlaceholder = "IP:PORT";

int failed(const std::string& message) { return report_failure({ExitCode::kFailed, message}); }

// An authority's entry of directory.authorities (proposal 0002, section 10.2),
// one line as every node's nyxd.toml takes it.
bool is_ip_literal(const std::string& host) {
  std::array<unsigned char, 16> bytes{};
  return ::inet_pton(AF_INET, host.c_str(), bytes.data()) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), bytes.data()) == 1;
}

// Others dial the address in the entry, so it must be an IP literal with a port.
Status check_authority_address(const std::string& address) {
  auto endpoint = parse_host_port(address);
  if (!endpoint || !is_ip_literal(endpoint->host) || endpoint->port == 0) {
    return make_error(ErrorCategory::kInvalidArgument,
                      fmt::format("--address {}: expected an IP literal with a port, like "
                                  "203.0.113.10:9340 or [2001:db8::1]:9340",
                                  address));
  }
  return {};
}

int run_authority(const std::string& out, const std::string& address) {
  if (!address.empty()) {
    if (auto status = check_authority_address(address); !status) {
      return report_failure({ExitCode::kUsage, status.error().message});
    }
  }
  auto keys = generate_authority_keys(out);
  if (!keys) {
    return failed(keys.error().message);
  }
  const auto file = std::filesystem::path(out) / kAuthorityKeyName;
  std::printf(
      "authority key  %s (0600)\npublic key     %s  (Ed25519)\nlink key       %s  (X25519)\n",
      file.c_str(), crypto::to_hex(keys->authority).c_str(), crypto::to_hex(keys->link).c_str());
  std::printf(
      "\nPaste this line into every node's [directory] authorities, this one's too:\n  %s\n",
      authority_entry_line(crypto::to_hex(keys->authority), crypto::to_hex(keys->link),
                           address.empty() ? kAddressPlaceholder : address, "")
          .c_str());
  if (address.empty()) {
    std::printf("Replace %s with the address other nodes reach this one at (or pass --address).\n",
                kAddressPlaceholder);
  }
  std::printf(
      "\nThen run this node with roles = [\"authority\"] and authority.key_file = \"%s\"\n"
      "(docs/operators.md, step 10).\n",
      file.c_str());
  return 0;
}

int run_node(const std::string& out) {
  auto keys = generate_node_keys(out);
  if (!keys) {
    return failed(keys.error().message);
  }
  // A descriptor with the keys filled in: the operator adds the addresses.
  document::NodeDescriptor descriptor;
  descriptor.identity_key = keys->identity;
  descriptor.link_key = keys->link;
  descriptor.onion_key = keys->onion;
  descriptor.onion_key_epoch = keys->onion_epoch;
  const auto descriptor_file = std::filesystem::path(out) / "descriptor.toml";
  if (auto status = write_descriptor_file(descriptor_file, descriptor); !status) {
    return failed(status.error().message);
  }
  std::printf(
      "node id       %s\nidentity key  %s  (Ed25519)\nlink key      %s  (X25519)\n"
      "onion key     %s  (X25519, epoch %llu)\n",
      crypto::to_hex(keys->node_id()).c_str(), crypto::to_hex(keys->identity).c_str(),
      crypto::to_hex(keys->link).c_str(), crypto::to_hex(keys->onion).c_str(),
      static_cast<unsigned long long>(keys->onion_epoch));
  std::printf(
      "\nSecret keys are in %s (0600, directory 0700): use it as the node's data_dir.\n"
      "Fill in the addresses and roles in %s, then sign it with\n"
      "  nyxctl keygen --out %s --sign-descriptor %s\n",
      out.c_str(), descriptor_file.c_str(), out.c_str(), descriptor_file.c_str());
  return 0;
}

// Signs the descriptor TOML `source_file` with DIR's identity key into
// DIR/descriptor.bin, the file an authority's `nyxctl directory sign
// --descriptors` takes.
int run_sign_descriptor(const std::string& out, const std::string& source_file) {
  const auto dir = std::filesystem::path(out);
  auto source = read_descriptor_file(source_file);
  if (!source) {
    return failed(source.error().message);
  }
  const auto now = static_cast<std::uint64_t>(std::time(nullptr));
  auto descriptor = sign_descriptor(*source, dir, now);
  if (!descriptor) {
    return failed(descriptor.error().message);
  }
  const auto signed_file = dir / kSignedDescriptorName;
  if (auto status = write_signed_descriptor_file(signed_file, *descriptor); !status) {
    return failed(status.error().message);
  }
  std::printf(
      "wrote %s\nnode id          %s\nepoch            %llu (onion keys of epochs %llu and "
      "%llu)\npublished        %llu\n"
      "\nGive it to the directory authority:\n"
      "  nyxctl directory sign --descriptors %s ...\n",
      signed_file.c_str(), crypto::to_hex(descriptor->node_id()).c_str(),
      static_cast<unsigned long long>(descriptor->epoch),
      static_cast<unsigned long long>(descriptor->epoch),
      static_cast<unsigned long long>(descriptor->epoch + 1),
      static_cast<unsigned long long>(descriptor->published), signed_file.c_str());
  return 0;
}

}  // namespace

void add_keygen_command(CLI::App& app, KeygenCommand& command) {
  command.keygen = app.add_subcommand("keygen", "generate a node's keys (or an authority key)");
  command.keygen->add_option("--out", command.out, "directory to write the keys to (made 0700)")
      ->required();
  auto* authority = command.keygen->add_flag(
      "--authority", command.authority,
      "also write a directory authority's signing key (authority.key) and print its "
      "directory.authorities line");
  command.keygen
      ->add_option("--address", command.address,
                   "with --authority: the IP:PORT other nodes reach this authority at")
      ->needs(authority);
  command.keygen
      ->add_option("--sign-descriptor", command.sign_descriptor,
                   "sign this descriptor TOML with the identity key in DIR into DIR/descriptor.bin")
      ->check(CLI::ExistingFile)
      ->excludes(authority);
}

std::optional<int> run_keygen_command(const KeygenCommand& command) {
  if (!command.keygen->parsed()) {
    return std::nullopt;
  }
  if (!command.sign_descriptor.empty()) {
    return run_sign_descriptor(command.out, command.sign_descriptor);
  }
  return command.authority ? run_authority(command.out, command.address) : run_node(command.out);
}

}  // namespace nyx::cli
