#include <zlib.h>

#include <array>

#include "baton_percipio/net/detail/response_parser.hpp"
#include "baton_percipio/net/error.hpp"

namespace bp::net::detail {

struct inflater::state {
  z_stream z{};
  bool initialized = false;
  bool in_member = false;    // bytes of an unfinished gzip/zlib member were fed
  bool saw_complete = false; // at least one member ended
  std::array<unsigned char, 64 * 1024> out{};
  ~state() {
    if (initialized) inflateEnd(&z);
  }
};

inflater::inflater() : st_(std::make_unique<state>()) {
  // 15 + 32: auto-detect the gzip or zlib wrapper.
  if (inflateInit2(&st_->z, 15 + 32) == Z_OK) st_->initialized = true;
}

inflater::~inflater() = default;

std::error_code inflater::feed_impl(std::string_view in, std::error_code (*fn)(void*, std::string_view), void* ctx) {
  auto& s = *st_;
  if (!s.initialized) return errc::decompress_failed;
  s.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  s.z.avail_in = static_cast<uInt>(in.size());
  while (s.z.avail_in > 0) {
    s.in_member = true;
    s.z.next_out = s.out.data();
    s.z.avail_out = static_cast<uInt>(s.out.size());
    int ret = inflate(&s.z, Z_NO_FLUSH);
    std::size_t produced = s.out.size() - s.z.avail_out;
    if (produced > 0) {
      if (auto ec = fn(ctx, std::string_view(reinterpret_cast<const char*>(s.out.data()), produced))) return ec;
    }
    if (ret == Z_STREAM_END) {
      s.in_member = false;
      s.saw_complete = true;
      if (s.z.avail_in > 0 && inflateReset(&s.z) != Z_OK) return errc::decompress_failed;  // next gzip member
      continue;
    }
    if (ret == Z_BUF_ERROR && produced == 0) break;  // needs more input
    if (ret != Z_OK && ret != Z_BUF_ERROR) return errc::decompress_failed;
  }
  // Drain output still held by zlib for the input already consumed.
  while (s.in_member) {
    s.z.next_out = s.out.data();
    s.z.avail_out = static_cast<uInt>(s.out.size());
    int ret = inflate(&s.z, Z_NO_FLUSH);
    std::size_t produced = s.out.size() - s.z.avail_out;
    if (produced > 0) {
      if (auto ec = fn(ctx, std::string_view(reinterpret_cast<const char*>(s.out.data()), produced))) return ec;
    }
    if (ret == Z_STREAM_END) {
      s.in_member = false;
      s.saw_complete = true;
      break;
    }
    if (ret != Z_OK && ret != Z_BUF_ERROR) return errc::decompress_failed;
    if (produced == 0 || s.z.avail_out != 0) break;
  }
  return {};
}

std::error_code inflater::finish() const {
  if (!st_->initialized || st_->in_member || !st_->saw_complete) return errc::decompress_failed;
  return {};
}

}  // namespace bp::net::detail
