#include "integration/support/network_fixture.hpp"

#include <system_error>

#include <asio.hpp>
#include <sys/stat.h>

#include "core/crypto/key_file.hpp"
#include "core/crypto/secret.hpp"
#include "daemon/control/control_cookie.hpp"

namespace nyx::test {

std::uint16_t LoopbackPorts::next() {
  asio::io_context io;
  const auto loopback = asio::ip::make_address_v4("127.0.0.1");
  // The kernel picks a free UDP port; it is kept only when TCP is free there too.
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::error_code ec;
    asio::ip::udp::socket udp(io);
    udp.open(asio::ip::udp::v4(), ec);
    if (!ec) {
      udp.bind({loopback, 0}, ec);
    }
    if (ec) {
      continue;
    }
    const std::uint16_t port = udp.local_endpoint(ec).port();
    asio::ip::tcp::acceptor tcp(io);
    tcp.open(asio::ip::tcp::v4(), ec);
    if (!ec) {
      tcp.bind({loopback, port}, ec);
    }
    if (!ec && port != 0 && given_.insert(port).second) {
      return port;
    }
  }
  return 0;
}

Result<AuthorityPublicKeys> write_authority_keys(const std::filesystem::path& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec || ::chmod(data_dir.c_str(), 0700) != 0) {
    return make_error(ErrorCategory::kIo, "cannot make " + data_dir.string() + " (mode 0700)");
  }
  const auto identity = crypto::SecretBytes<crypto::kEd25519SeedSize>::random();
  const auto link = crypto::X25519KeyPair::generate();
  const auto authority = crypto::SecretBytes<crypto::kEd25519SeedSize>::random();
  if (auto status = crypto::write_key_file(data_dir / "identity.key", identity.span()); !status) {
    return std::unexpected(std::move(status.error()));
  }
  if (auto status = crypto::write_key_file(data_dir / "link.key", link.secret.span()); !status) {
    return std::unexpected(std::move(status.error()));
  }
  if (auto status = crypto::write_key_file(data_dir / "authority.key", authority.span()); !status) {
    return std::unexpected(std::move(status.error()));
  }
  return AuthorityPublicKeys{
      .authority = crypto::Ed25519KeyPair::from_seed(authority.span()).public_key,
      .link = link.public_key};
}

Result<control::ControlClient> connect_control(const std::filesystem::path& data_dir) {
  auto client = control::ControlClient::connect(data_dir / "control.sock");
  if (!client) {
    return std::unexpected(std::move(client.error()));
  }
  auto cookie = control::ControlCookie::load(data_dir / "control.cookie");
  if (!cookie) {
    return std::unexpected(std::move(cookie.error()));
  }
  if (auto status = client->authenticate(*cookie); !status) {
    return std::unexpected(std::move(status.error()));
  }
  return std::move(*client);
}

}  // namespace nyx::test
