// The c1z reader on arbitrary files. The first byte picks the container: the raw input (so real
// c1z seeds mutate as files), or the input wrapped as magic + zstd frame (so the fuzzer explores
// SQLite databases). Every failure must be a bp::c1z::error and no temporary file may remain.
#include <unistd.h>
#include <zstd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "baton_percipio/c1z/reader.hpp"
#include "fuzz/targets.hpp"

namespace bp::fuzz {
namespace {

namespace fs = std::filesystem;

const fs::path& scratch_dir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("bp-fuzz-c1z-" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

std::string wrap(std::string_view db) {
  std::string out("C1ZF", 4);
  out.push_back('\0');
  std::string frame(ZSTD_compressBound(db.size()), '\0');
  const std::size_t n = ZSTD_compress(frame.data(), frame.size(), db.data(), db.size(), 1);
  if (ZSTD_isError(n)) return out;
  out.append(frame.data(), n);
  return out;
}

}  // namespace

int c1z_reader(const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  const bool raw = (in.byte() & 1) != 0;
  const std::string bytes = raw ? std::string(in.rest()) : wrap(in.rest());
  const fs::path dir = scratch_dir();
  const fs::path file = dir / "input.c1z";
  const fs::path tmp = dir / "tmp";
  fs::create_directories(tmp);
  {
    std::ofstream f(file, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  c1z::reader_options opts;
  opts.temp_dir = tmp;
  opts.max_decoded_bytes = 32u << 20;
  try {
    c1z::reader r(file, opts);
    (void)r.sync().sync_id.size();
    std::size_t n = 0;
    r.for_each_resource_type([&](const c1z::resource_type_row& row) { n += row.message.ByteSizeLong(); });
    r.for_each_resource([&](const c1z::resource_row& row) { n += row.message.ByteSizeLong(); });
    r.for_each_entitlement([&](const c1z::entitlement_row& row) { n += row.message.ByteSizeLong(); });
    r.for_each_grant([&](const c1z::grant_row& row) { n += row.message.ByteSizeLong(); });
    (void)r.stats();
    (void)n;
  } catch (const c1z::error& e) {
    BP_FUZZ_CHECK(std::string_view(e.what()).rfind("c1z: ", 0) == 0);
  }
  // The reader's private copy is gone once it is closed (or failed to open).
  BP_FUZZ_CHECK(fs::is_empty(tmp));
  return 0;
}

}  // namespace bp::fuzz
