#include "structural_scanner.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define BP_SCANNER_X86 1
#endif

namespace bp::percipio::detail {
namespace {

// Bits of backslash-escaped characters (simdjson's escape scanner).
inline std::uint64_t find_escaped(std::uint64_t backslash, std::uint64_t& prev_escaped) noexcept {
  if (backslash == 0) {
    const std::uint64_t escaped = prev_escaped;
    prev_escaped = 0;
    return escaped;
  }
  backslash &= ~prev_escaped;
  const std::uint64_t follows_escape = backslash << 1 | prev_escaped;
  constexpr std::uint64_t even_bits = 0x5555555555555555ULL;
  const std::uint64_t odd_sequence_starts = backslash & ~even_bits & ~follows_escape;
  std::uint64_t sequences_starting_on_even_bits = 0;
  prev_escaped = __builtin_add_overflow(odd_sequence_starts, backslash, &sequences_starting_on_even_bits) ? 1 : 0;
  const std::uint64_t invert_mask = sequences_starting_on_even_bits << 1;
  return (even_bits ^ invert_mask) & follows_escape;
}

inline std::uint64_t prefix_xor_portable(std::uint64_t x) noexcept {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

// quotes_prefix_xor: bit i set when an odd number of unescaped quotes lies at or before i.
inline block_events finish_block(std::uint64_t open, std::uint64_t close, std::uint64_t quotes_prefix_xor,
                                 scan_carry& carry) noexcept {
  const std::uint64_t in_string = quotes_prefix_xor ^ carry.prev_in_string;
  carry.prev_in_string = static_cast<std::uint64_t>(static_cast<std::int64_t>(in_string) >> 63);
  return {open & ~in_string, close & ~in_string};
}

block_events scan_portable(const char* p, scan_carry& carry) noexcept {
  std::uint64_t bs = 0, q = 0, op = 0, cl = 0;
  for (int i = 0; i < 64; ++i) {
    const auto bit = std::uint64_t{1} << i;
    switch (p[i]) {
      case '\\': bs |= bit; break;
      case '"': q |= bit; break;
      case '{':
      case '[': op |= bit; break;
      case '}':
      case ']': cl |= bit; break;
      default: break;
    }
  }
  const std::uint64_t quotes = q & ~find_escaped(bs, carry.prev_escaped);
  return finish_block(op, cl, prefix_xor_portable(quotes), carry);
}

#ifdef BP_SCANNER_X86
__attribute__((target("avx2,pclmul"))) block_events scan_avx2(const char* p, scan_carry& carry) noexcept {
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
#define BP_MASK64(a, b, c)                                                                            \
  (std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, _mm256_set1_epi8(c))))} | \
   (std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, _mm256_set1_epi8(c))))} << 32))
  // '[' 0x5B and '{' 0x7B (and ']' / '}') differ only in bit 0x20.
  const __m256i bit20 = _mm256_set1_epi8(0x20);
  const __m256i lo20 = _mm256_or_si256(lo, bit20);
  const __m256i hi20 = _mm256_or_si256(hi, bit20);
  const std::uint64_t bs = BP_MASK64(lo, hi, '\\');
  const std::uint64_t q = BP_MASK64(lo, hi, '"');
  const std::uint64_t op = BP_MASK64(lo20, hi20, '{');
  const std::uint64_t cl = BP_MASK64(lo20, hi20, '}');
  const std::uint64_t quotes = q & ~find_escaped(bs, carry.prev_escaped);
  const __m128i prod = _mm_clmulepi64_si128(_mm_set_epi64x(0, static_cast<long long>(quotes)), _mm_set1_epi8(-1), 0);
  const auto px = static_cast<std::uint64_t>(_mm_cvtsi128_si64(prod));
  return finish_block(op, cl, px, carry);
#undef BP_MASK64
}
#endif

}  // namespace

scan_fn portable_scanner() noexcept { return &scan_portable; }

scan_fn best_scanner() noexcept {
#ifdef BP_SCANNER_X86
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("pclmul");
  if (has) return &scan_avx2;
#endif
  return &scan_portable;
}

}  // namespace bp::percipio::detail
