#include "mix/link_manager_cell_link.hpp"

#include <string>

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/post.hpp>

#include "core/host_port.hpp"
#include "mix/relay.hpp"

namespace nyx::mix {
namespace {

// "ip:port" / "[v6]:port" as an address and port; empty text is no endpoint.
Result<std::optional<std::pair<asio::ip::address, std::uint16_t>>> parse_endpoint(
    const std::string& text) {
  if (text.empty()) {
    return std::nullopt;
  }
  auto parsed = parse_host_port(text);
  std::error_code ec;
  asio::ip::address address;
  if (parsed) {
    address = asio::ip::make_address(parsed->host, ec);
  }
  if (!parsed || parsed->port == 0 || ec) {
    return make_error(ErrorCategory::kParse, "directory: bad node address '" + text + "'");
  }
  return std::pair{address, parsed->port};
}

}  // namespace

LinkManagerCellLink::~LinkManagerCellLink() {
  links_.set_cell_handler(nullptr);
  links_.set_event_handler(nullptr);
}

void LinkManagerCellLink::request_flush() {
  if (flush_posted_) {
    return;
  }
  flush_posted_ = true;
  asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired()) {
      return;
    }
    flush_posted_ = false;
    relay_->flush();
    if (relay_->queued_cells() > 0) {
      request_flush();
    }
  });
}

bool LinkManagerCellLink::send_cell(const PeerKey& peer, Bytes cell) {
  const transport::SendResult result = links_.send(peer, cell);
  return result == transport::SendResult::kSent || result == transport::SendResult::kQueued;
}

void LinkManagerCellLink::attach(Relay& relay) {
  relay_ = &relay;
  relay.set_flush_request([this] { request_flush(); });
  links_.set_cell_handler([this](std::span<const transport::ReceivedCell> cells) {
    for (const transport::ReceivedCell& cell : cells) {
      relay_->handle_cell(*cell.peer, cell.cell);
    }
  });
  links_.set_event_handler(
      [this](const transport::PeerKey& peer, transport::LinkKind, transport::LinkEvent event) {
        if (event == transport::LinkEvent::kDown) {
          relay_->link_down(peer);
        }
      });
}

Status LinkManagerCellLink::add_peers(const document::Directory& directory) {
  for (const document::NodeDescriptor& node : directory.nodes) {
    if (node.link_key == links_.local_key()) {
      continue;
    }
    auto udp = parse_endpoint(node.udp_address);
    auto tcp = parse_endpoint(node.tcp_address);
    if (!udp) {
      return std::unexpected(std::move(udp.error()));
    }
    if (!tcp) {
      return std::unexpected(std::move(tcp.error()));
    }
    transport::PeerEndpoints endpoints;
    if (*udp) {
      endpoints.udp = asio::ip::udp::endpoint((*udp)->first, (*udp)->second);
    }
    if (*tcp) {
      endpoints.tcp = asio::ip::tcp::endpoint((*tcp)->first, (*tcp)->second);
    }
    links_.add_peer(node.link_key, endpoints);
  }
  return {};
}

}  // namespace nyx::mix
