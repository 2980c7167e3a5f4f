#include "key_sorter.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace bp::c1z::detail {

namespace {

// Read-ahead of one run during the merge: the budget shared by all runs, within these bounds.
constexpr std::size_t max_reader_buffer = 256 * 1024;
constexpr std::size_t min_reader_buffer = 4 * 1024;

std::uint64_t prefix_at(std::string_view key, std::size_t from) {
  unsigned char b[8] = {};
  if (from < key.size()) std::memcpy(b, key.data() + from, std::min<std::size_t>(8, key.size() - from));
  std::uint64_t v = 0;
  for (unsigned char c : b) v = (v << 8) | c;
  return v;
}

}  // namespace

// One sorted run in the scratch file: [u32 size][key] records, read through a buffer.
struct key_sorter::run_reader {
  int fd;
  const std::filesystem::path* path;
  std::uint64_t pos, end;
  std::size_t chunk;  // bytes read ahead at a time
  std::string buf;
  std::size_t at = 0;
  std::string_view key;

  bool fill(std::size_t need) {  // at least need bytes from at on, unless the run ends first
    if (buf.size() - at >= need) return true;
    buf.erase(0, at);
    at = 0;
    while (buf.size() < need && pos < end) {
      const std::size_t old = buf.size();
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(std::max(need, chunk), end - pos));
      buf.resize(old + want);
      const std::size_t n = pread_some(fd, buf.data() + old, want, pos, *path);
      buf.resize(old + n);
      if (n == 0) throw_error("read", *path, "a sort run ends early");
      pos += n;
    }
    return buf.size() >= need;
  }
  bool advance() {
    if (!fill(4)) return false;
    std::uint32_t n;
    std::memcpy(&n, buf.data() + at, 4);
    if (!fill(4 + n)) throw_error("read", *path, "a sort run ends inside a key");
    key = std::string_view(buf).substr(at + 4, n);
    at += 4 + n;
    return true;
  }
};

key_sorter::key_sorter(std::filesystem::path scratch, std::size_t budget_bytes)
    : scratch_(std::move(scratch)), budget_(std::clamp<std::size_t>(budget_bytes, 1 << 16, UINT32_MAX)) {
  // Both buffers are reserved once (untouched memory costs no RSS), so growing never doubles them
  // past the budget: three quarters for keys, one for entries.
  arena_.reserve(budget_ / 4 * 3);
  entries_.reserve(budget_ / 4 / sizeof(entry));
}

key_sorter::~key_sorter() {
  if (file_.get() >= 0) {
    file_.reset();
    std::error_code ec;
    std::filesystem::remove(scratch_, ec);
  }
}

void key_sorter::add(std::string_view key) {
  if (sorted_) throw std::logic_error("key_sorter: add after sort");
  if (key.size() > UINT32_MAX / 2) throw std::length_error("key_sorter: key too large");
  if (!entries_.empty() && (arena_.size() + key.size() > arena_.capacity() || entries_.size() == entries_.capacity())) {
    spill();
  }
  entries_.push_back({0, static_cast<std::uint32_t>(arena_.size()), static_cast<std::uint32_t>(key.size())});
  arena_.append(key);
}

void key_sorter::sort_memory() {
  if (entries_.empty()) return;
  // Keys of one index often share a long prefix (constant columns): compare 8 bytes past it first.
  const std::string_view first = key_of(entries_.front());
  std::size_t common = first.size();
  for (const entry& e : entries_) {
    const std::string_view k = key_of(e);
    std::size_t i = 0;
    const std::size_t lim = std::min(common, k.size());
    while (i < lim && k[i] == first[i]) ++i;
    common = i;
  }
  for (entry& e : entries_) e.prefix = prefix_at(key_of(e), common);
  std::sort(entries_.begin(), entries_.end(), [this](const entry& a, const entry& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    return key_of(a) < key_of(b);
  });
}

void key_sorter::spill() {
  sort_memory();
  if (file_.get() < 0) {
    file_ = fd_guard(::open(scratch_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (file_.get() < 0) throw_errno("create", scratch_, errno);
  }
  run r{file_end_, file_end_};
  std::string out;
  out.reserve(1 << 20);
  auto drain = [&] {
    pwrite_all(file_.get(), out.data(), out.size(), r.end, scratch_);
    r.end += out.size();
    out.clear();
  };
  for (const entry& e : entries_) {
    const std::uint32_t n = e.size;
    out.append(reinterpret_cast<const char*>(&n), 4).append(key_of(e));
    if (out.size() >= (1 << 20)) drain();
  }
  drain();
  file_end_ = r.end;
  runs_.push_back(r);
  entries_.clear();
  arena_.clear();
}

void key_sorter::sort() {
  if (sorted_) throw std::logic_error("key_sorter: sort twice");
  sorted_ = true;
  if (runs_.empty()) {
    sort_memory();
    return;
  }
  if (!entries_.empty()) spill();
  std::string().swap(arena_);
  std::vector<entry>().swap(entries_);
  merging_ = true;
  const std::size_t chunk = std::clamp(budget_ / runs_.size(), min_reader_buffer, max_reader_buffer);
  for (const run& r : runs_) {
    auto rd = std::make_unique<run_reader>(run_reader{file_.get(), &scratch_, r.begin, r.end, chunk, {}, 0, {}});
    if (rd->advance()) heap_.push_back(rd.get());
    readers_.push_back(std::move(rd));
  }
  auto greater = [](const run_reader* a, const run_reader* b) { return a->key > b->key; };
  std::make_heap(heap_.begin(), heap_.end(), greater);
}

bool key_sorter::next(std::string_view& key) {
  if (!sorted_) throw std::logic_error("key_sorter: next before sort");
  if (!merging_) {
    if (next_entry_ == entries_.size()) return false;
    key = key_of(entries_[next_entry_++]);
    return true;
  }
  // The previous key's run moves on only now: the caller's view of it stayed valid until here.
  auto greater = [](const run_reader* a, const run_reader* b) { return a->key > b->key; };
  if (heap_.empty()) return false;  // ended (and stays so)
  if (next_entry_ != 0) {
    std::pop_heap(heap_.begin(), heap_.end(), greater);
    if (heap_.back()->advance()) std::push_heap(heap_.begin(), heap_.end(), greater);
    else heap_.pop_back();
  }
  next_entry_ = 1;
  if (heap_.empty()) return false;
  key = heap_.front()->key;
  return true;
}

}  // namespace bp::c1z::detail
