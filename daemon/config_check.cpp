#include "daemon/config_check.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <fmt/format.h>

#include "core/crypto/key_file.hpp"
#include "core/crypto/secret.hpp"
#include "core/crypto/x25519.hpp"
#include "daemon/authority_key.hpp"
#include "daemon/data_dir.hpp"
#include "daemon/exit_address_policy.hpp"
#include "document/directory.hpp"

namespace nyx::daemon {
namespace {

// Every key file of the node is 32 secret bytes (daemon/key_store.cpp).
constexpr std::size_t kKeyFileSize = 32;

void check_directory(const NodeConfig::Directory& directory, std::uint64_t now, ConfigCheck& out) {
  std::ifstream in(directory.file, std::ios::binary);
  if (!in) {
    out.problems.push_back(
        fmt::format("directory.file {}: cannot be read", directory.file.string()));
    return;
  }
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                        std::istreambuf_iterator<char>());
  auto verified = document::verify_directory(
      bytes, {.authorities = directory.authorities, .threshold = directory.threshold}, now);
  if (!verified) {
    out.problems.push_back(
        fmt::format("directory.file {}: {} (with the {} configured "
                    "authorities, threshold {})",
                    directory.file.string(), verified.error().message, directory.authorities.size(),
                    directory.threshold));
  }
}

bool is_key_file(const std::filesystem::path& file) {
  const std::string name = file.filename().string();
  return name == "identity.key" || name == "link.key" || name == "authority.key" ||
         (name.starts_with("onion-") && name.ends_with(".key"));
}

void check_data_dir(const NodeConfig& config, ConfigCheck& out) {
  const auto& path = config.node.data_dir;
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(path, ec))) {
    out.notes.push_back(
        fmt::format("node.data_dir {} does not exist: nyxd will create it (mode {})", path.string(),
                    config.control.group_access ? "0750" : "0700"));
    return;
  }
  if (auto status =
          DataDir::check(std::filesystem::absolute(path, ec), config.control.group_access);
      !status) {
    out.problems.push_back(fmt::format("node.data_dir: {}", status.error().message));
    return;
  }
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    if (!is_key_file(entry.path())) {
      continue;
    }
    crypto::SecretBytes<kKeyFileSize> secret;
    if (auto status = crypto::read_key_file(entry.path(), secret.mutable_span()); !status) {
      out.problems.push_back(status.error().message);
    }
  }
  if (ec) {
    out.problems.push_back(
        fmt::format("node.data_dir {}: cannot list it: {}", path.string(), ec.message()));
  }
}

// Proposal 0002, section 10.2: an authority is one of the configured
// entries, its signing key and its node's link key in the same one.
void check_authority_entry(const NodeConfig& config, ConfigCheck& out) {
  const auto& entries = config.directory.authority_entries;
  if (entries.empty()) {
    out.problems.push_back(
        "directory.authorities: the authority role needs the entries "
        "{ key, link, address }, not the v1 list of keys");
    return;
  }
  auto authority_key = read_authority_key(config.authority.key_file);
  if (!authority_key) {
    out.problems.push_back(
        fmt::format("authority.key_file: {} (make it with nyxctl keygen --authority)",
                    authority_key.error().message));
    return;
  }
  auto link_secret =
      crypto::read_secret_key_file<crypto::kX25519KeySize>(config.node.data_dir / "link.key");
  if (!link_secret) {
    out.problems.push_back(fmt::format("node.data_dir: {}", link_secret.error().message));
    return;
  }
  const auto link = crypto::X25519KeyPair::from_secret(link_secret->span()).public_key;
  if (auto listed = check_authority_listed(config, authority_key->public_key, link); !listed) {
    out.problems.push_back(listed.error().message);
  }
}

// Only a testnet's authorities (authority.allow_private_addresses) list a
// relay that advertises a private address.
void check_advertised(const NodeConfig& config, ConfigCheck& out) {
  for (const auto& [key, address] :
       {std::pair{"relay.advertise_udp", config.relay.advertise_udp},
        std::pair{"relay.advertise_tcp", config.relay.advertise_tcp}}) {
    if (!address) {
      continue;
    }
    auto ip = IpAddress::parse(address->host);
    if (ip && ExitAddressPolicy::is_private(ip->unmapped())) {
      out.notes.push_back(
          fmt::format("warning: {} {} is not a global address: only authorities with "
                      "authority.allow_private_addresses (a testnet) list this relay",
                      key, address->to_string()));
    }
  }
}

template <class Protocol>
void try_bind(asio::io_context& io, std::string_view key, const HostPort& address,
              ConfigCheck& out) {
  std::error_code ec;
  const auto ip = asio::ip::make_address(address.host, ec);
  if (ec) {
    out.problems.push_back(fmt::format("{}: '{}' is not an IP address", key, address.host));
    return;
  }
  typename Protocol::socket socket(io);
  socket.open(ip.is_v4() ? Protocol::v4() : Protocol::v6(), ec);
  if constexpr (std::is_same_v<Protocol, asio::ip::tcp>) {
    // As the node's listeners do, so a connection in TIME_WAIT is no conflict.
    if (!ec) {
      socket.set_option(asio::socket_base::reuse_address(true), ec);
    }
  }
  if (!ec) {
    socket.bind({ip, address.port}, ec);
  }
  if (ec) {
    out.problems.push_back(
        fmt::format("{} {}:{}: cannot bind: {}", key, address.host, address.port, ec.message()));
  }
}

}  // namespace

ConfigCheck check_node_files(const NodeConfig& config, std::uint64_t now) {
  ConfigCheck out;
  // A fetched consensus is verified when it arrives; only a v1 file is here.
  if (!config.directory.fetches_consensus()) {
    check_directory(config.directory, now, out);
  }
  check_data_dir(config, out);
  if (config.node.roles.authority) {
    check_authority_entry(config, out);
  }
  if (config.node.roles.relay) {
    check_advertised(config, out);
  }
  return out;
}

ConfigCheck check_binds(const NodeConfig& config) {
  ConfigCheck out;
  asio::io_context io;
  if (config.transport.udp_enabled) {
    try_bind<asio::ip::udp>(io, "transport.udp_listen", config.transport.udp_listen, out);
  }
  if (config.transport.tcp_listen) {
    try_bind<asio::ip::tcp>(io, "transport.tcp_listen", *config.transport.tcp_listen, out);
  }
  if (config.node.roles.client) {
    try_bind<asio::ip::tcp>(io, "socks.listen", config.socks.listen, out);
  }
  if (config.metrics.listen) {
    try_bind<asio::ip::tcp>(io, "metrics.listen", *config.metrics.listen, out);
  }
  return out;
}

}  // namespace nyx::daemon
