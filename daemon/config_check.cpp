#include "daemon/config_check.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <system_error>
#include <type_traits>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <fmt/format.h>

#include "core/crypto/key_file.hpp"
#include "core/crypto/secret.hpp"
#include "daemon/data_dir.hpp"
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
  return name == "identity.key" || name == "link.key" ||
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
  check_directory(config.directory, now, out);
  check_data_dir(config, out);
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
