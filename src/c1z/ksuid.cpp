#include "baton_percipio/c1z/ksuid.hpp"

#include <fmt/format.h>

#include <random>

#include "baton_percipio/core/time_format.hpp"

namespace bp::c1z {

std::string make_ksuid(std::chrono::system_clock::time_point now, const std::array<std::uint8_t, 16>& payload) {
  constexpr std::int64_t epoch = 1'400'000'000;
  const std::int64_t secs = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const auto ts = static_cast<std::uint32_t>(secs < epoch ? 0 : secs - epoch);
  std::array<std::uint8_t, 20> n{};
  n[0] = static_cast<std::uint8_t>(ts >> 24);
  n[1] = static_cast<std::uint8_t>(ts >> 16);
  n[2] = static_cast<std::uint8_t>(ts >> 8);
  n[3] = static_cast<std::uint8_t>(ts);
  for (std::size_t i = 0; i < 16; ++i) n[4 + i] = payload[i];

  static constexpr char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out(27, '0');
  // Repeated division of the 160-bit big-endian number by 62; digits come out least significant first.
  for (std::size_t pos = 27; pos-- > 0;) {
    std::uint32_t rem = 0;
    for (auto& byte : n) {
      const std::uint32_t cur = (rem << 8) | byte;
      byte = static_cast<std::uint8_t>(cur / 62);
      rem = cur % 62;
    }
    out[pos] = alphabet[rem];
  }
  return out;
}

std::string make_ksuid(std::chrono::system_clock::time_point now) {
  std::random_device rd;
  std::array<std::uint8_t, 16> payload{};
  for (std::size_t i = 0; i < 16; i += 4) {
    const auto v = rd();
    for (std::size_t j = 0; j < 4; ++j) payload[i + j] = static_cast<std::uint8_t>(v >> (8 * j));
  }
  return make_ksuid(now, payload);
}

std::string format_timestamp(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ns_total = duration_cast<nanoseconds>(t.time_since_epoch()).count();
  std::int64_t secs = ns_total / 1'000'000'000;
  std::int64_t nanos = ns_total % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    --secs;
  }
  const auto f = time_format::utc_fields_of(sys_seconds(seconds(secs)));
  std::string s = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", f.year, f.month, f.day, f.hour, f.minute, f.second);
  if (nanos != 0) {
    std::string frac = fmt::format("{:09}", nanos);
    while (frac.back() == '0') frac.pop_back();
    s.append(1, '.').append(frac);
  }
  return s;
}

}  // namespace bp::c1z
