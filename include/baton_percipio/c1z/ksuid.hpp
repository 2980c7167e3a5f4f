#pragma once
// KSUIDs for sync ids (spec 4.1) and the Go timestamp text layout (spec 3.1).
#include <array>
#include <chrono>
#include <cstdint>
#include <string>

namespace bp::c1z {

// 27 base-62 characters: 4-byte seconds since 1400000000 (big-endian) + 16 payload bytes.
std::string make_ksuid(std::chrono::system_clock::time_point now, const std::array<std::uint8_t, 16>& payload);
// Same with 16 random bytes from the OS.
std::string make_ksuid(std::chrono::system_clock::time_point now);

// "YYYY-MM-DD HH:MM:SS[.fffffffff]" in UTC, fraction trimmed of trailing zeros (Go layout
// 2006-01-02 15:04:05.999999999).
std::string format_timestamp(std::chrono::system_clock::time_point t);

}  // namespace bp::c1z
