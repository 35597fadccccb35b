#pragma once
// Byte helpers for wire formats: spans, big-endian loads and stores, and a
// bounds-checked reader/writer pair that parsers use so that no input can
// make them read or write past the end.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace nyx {

using Bytes = std::span<const std::uint8_t>;
using MutableBytes = std::span<std::uint8_t>;

inline Bytes as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

inline std::uint16_t load_be16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
inline std::uint64_t load_be64(const std::uint8_t* p) noexcept {
  return (std::uint64_t{load_be32(p)} << 32) | load_be32(p + 4);
}
inline void store_be16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}
inline void store_be64(std::uint8_t* p, std::uint64_t v) noexcept {
  store_be32(p, static_cast<std::uint32_t>(v >> 32));
  store_be32(p + 4, static_cast<std::uint32_t>(v));
}
inline std::uint64_t load_le64(const std::uint8_t* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);  // x86-64 and aarch64 Linux are little-endian
  return v;
}
inline void store_le64(std::uint8_t* p, std::uint64_t v) noexcept { std::memcpy(p, &v, sizeof v); }

// Reads a byte string front to back; every read checks the remaining length
// first and reports failure instead of reading past the end.
class ByteReader {
 public:
  explicit ByteReader(Bytes data) noexcept : data_(data) {}

  std::size_t remaining() const noexcept { return data_.size() - pos_; }
  std::size_t position() const noexcept { return pos_; }
  bool empty() const noexcept { return remaining() == 0; }

  bool read_u8(std::uint8_t& out) noexcept {
    if (remaining() < 1) {
      return false;
    }
    out = data_[pos_++];
    return true;
  }
  bool read_be16(std::uint16_t& out) noexcept {
    if (remaining() < 2) {
      return false;
    }
    out = load_be16(data_.data() + pos_);
    pos_ += 2;
    return true;
  }
  bool read_be32(std::uint32_t& out) noexcept {
    if (remaining() < 4) {
      return false;
    }
    out = load_be32(data_.data() + pos_);
    pos_ += 4;
    return true;
  }
  bool read_be64(std::uint64_t& out) noexcept {
    if (remaining() < 8) {
      return false;
    }
    out = load_be64(data_.data() + pos_);
    pos_ += 8;
    return true;
  }
  // A view of the next n bytes (no copy).
  bool read_bytes(std::size_t n, Bytes& out) noexcept {
    if (remaining() < n) {
      return false;
    }
    out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  // The next N bytes copied into a fixed-size array (keys, signatures).
  template <std::size_t N>
  bool read_array(std::array<std::uint8_t, N>& out) noexcept {
    if (remaining() < N) {
      return false;
    }
    std::memcpy(out.data(), data_.data() + pos_, N);
    pos_ += N;
    return true;
  }
  Bytes rest() const noexcept { return data_.subspan(pos_); }

 private:
  Bytes data_;
  std::size_t pos_ = 0;
};

// Writes into a fixed buffer; a write that does not fit fails and leaves the
// position unchanged.
class ByteWriter {
 public:
  explicit ByteWriter(MutableBytes out) noexcept : out_(out) {}

  std::size_t size() const noexcept { return pos_; }
  std::size_t remaining() const noexcept { return out_.size() - pos_; }
  MutableBytes written() const noexcept { return out_.first(pos_); }

  bool write_u8(std::uint8_t v) noexcept {
    if (remaining() < 1) {
      return false;
    }
    out_[pos_++] = v;
    return true;
  }
  bool write_bytes(Bytes b) noexcept {
    if (remaining() < b.size()) {
      return false;
    }
    if (!b.empty()) {
      std::memcpy(out_.data() + pos_, b.data(), b.size());
    }
    pos_ += b.size();
    return true;
  }

 private:
  MutableBytes out_;
  std::size_t pos_ = 0;
};

}  // namespace nyx
