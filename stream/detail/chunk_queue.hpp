#pragma once
// The bytes of one stream direction, addressed by stream offset, held in
// pooled medium buffers. Chunks are aligned to multiples of their size, so
// the chunk of an offset is one division; chunks below the lowest offset
// still needed go back to the pool.

#include <cstdint>
#include <cstring>
#include <deque>

#include "core/bytes.hpp"
#include "stream/buffer_pool.hpp"

namespace nyx::stream::detail {

class ChunkQueue {
 public:
  static constexpr std::uint64_t kChunk = kMediumBufferSize;

  std::uint64_t base() const noexcept { return base_; }

  // Copies data to [offset, offset + size); offset >= base().
  void write(std::uint64_t offset, Bytes data) {
    std::size_t done = 0;
    while (done < data.size()) {
      const std::uint64_t pos = offset + done - base_;
      const auto idx = static_cast<std::size_t>(pos / kChunk);
      const auto in = static_cast<std::size_t>(pos % kChunk);
      while (chunks_.size() <= idx) {
        chunks_.push_back(BufferPool::acquire(SizeClass::kMedium));
      }
      const std::size_t n = std::min<std::size_t>(kChunk - in, data.size() - done);
      std::memcpy(chunks_[idx].data() + in, data.data() + done, n);
      done += n;
    }
  }

  // Copies [offset, offset + len) out; the range was written before.
  void read(std::uint64_t offset, std::uint8_t* out, std::size_t len) const noexcept {
    for_each_piece(offset, len, [&out](Bytes piece) {
      std::memcpy(out, piece.data(), piece.size());
      out += piece.size();
    });
  }

  // Calls f(Bytes) for the pieces of [offset, offset + len) in order (at
  // most one per chunk touched), so callers copy straight from the chunks.
  template <class F>
  void for_each_piece(std::uint64_t offset, std::size_t len, F&& f) const {
    std::size_t done = 0;
    while (done < len) {
      const std::uint64_t pos = offset + done - base_;
      const auto idx = static_cast<std::size_t>(pos / kChunk);
      const auto in = static_cast<std::size_t>(pos % kChunk);
      const std::size_t n = std::min<std::size_t>(kChunk - in, len - done);
      f(Bytes{chunks_[idx].data() + in, n});
      done += n;
    }
  }

  // Returns every chunk that lies wholly below offset to the pool.
  void release_below(std::uint64_t offset) noexcept {
    while (!chunks_.empty() && base_ + kChunk <= offset) {
      chunks_.pop_front();
      base_ += kChunk;
    }
    if (chunks_.empty() && offset > base_) {
      base_ = offset - offset % kChunk;
    }
  }

  // Drops everything; later writes start at or above offset.
  void clear(std::uint64_t offset) noexcept {
    chunks_.clear();
    base_ = offset - offset % kChunk;
  }

 private:
  std::deque<Buffer> chunks_;
  std::uint64_t base_ = 0;
};

}  // namespace nyx::stream::detail
