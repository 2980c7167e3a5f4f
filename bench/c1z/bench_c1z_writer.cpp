// Grant write throughput: N grants through grant_encoder + writer + finish, median of 3 runs, for
// several batch sizes. Usage: bench_c1z_writer [N] [dir] [--keep: leave dir/bench.c1z of the last run]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "baton_percipio/c1z/records.hpp"
#include "baton_percipio/c1z/writer.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct sample {
  double encode_s = 0;    // encoding only
  double insert_s = 0;    // encoding + add_grant
  double finalize_s = 0;  // finish(): sync run, compression, fsync, rename
  double index_s = 0;     // part of finalize: deferred index build
  double compress_s = 0;  // part of finalize: zstd + fsync + rename
  std::uint64_t file_bytes = 0;
  std::uint64_t db_bytes = 0;
};

constexpr std::size_t users = 50'000;

std::string user_id(std::size_t i) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%08zx-79da-2242-06fa-aced617c5eed", i * 2654435761u % 0xffffffffu);
  return buf;
}

// Grants in the order the sync writes them: by course id, slug, user id (text), the key order of
// three of the four grant indexes. Otherwise grouped by course with users in report order.
bool index_order = false;

bp::c1z::resource_record course_record(std::size_t c) {
  return {"course", "course-" + std::to_string(c) + "-4087cda2-bc79-4076", "Course " + std::to_string(c) + " (en-US)",
          "", std::nullopt};
}

template <typename F>
void for_each_grant(std::size_t n, F&& f) {
  // 20 users per course, two slugs.
  const std::size_t per_course = 20;
  std::vector<std::string> user_ids;
  user_ids.reserve(users);
  for (std::size_t i = 0; i < users; ++i) user_ids.push_back(user_id(i));
  auto user_of = [&](std::size_t c, std::size_t u) -> const std::string& {
    return user_ids[(c * 7919 + u * 104729) % users];
  };
  const std::size_t courses = (n + per_course - 1) / per_course;
  std::vector<std::size_t> order(courses);
  for (std::size_t c = 0; c < courses; ++c) order[c] = c;
  if (index_order) {
    std::vector<std::string> ids(courses);
    for (std::size_t c = 0; c < courses; ++c) ids[c] = course_record(c).id;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return ids[a] < ids[b]; });
  }
  std::vector<const std::string*> members;
  for (const std::size_t c : order) {
    const bp::c1z::grant_encoder enc(course_record(c), c % 2 ? "completed" : "in_progress");
    members.clear();
    for (std::size_t u = 0; u < per_course && c * per_course + u < n; ++u) members.push_back(&user_of(c, u));
    if (index_order) std::sort(members.begin(), members.end(), [](auto* a, auto* b) { return *a < *b; });
    for (const auto* uid : members) f(enc, *uid);
  }
}

sample run(std::size_t n, std::size_t batch, const fs::path& dir, bool keep, std::size_t cache_mib = 16,
           bool unique_ids = false, std::uint32_t page_size = 4096, bool overlap = true, bool live_indexes = false) {
  sample s;
  std::string buf;
  std::size_t sink = 0;
  auto t0 = clock_type::now();
  for_each_grant(n, [&](const bp::c1z::grant_encoder& enc, const std::string& uid) {
    sink += enc.encode(buf, "user", uid).bytes.size();
  });
  s.encode_s = std::chrono::duration<double>(clock_type::now() - t0).count();
  if (sink == 0) std::abort();

  bp::c1z::writer_options o;
  o.destination = dir / "bench.c1z";
  o.batch_size = batch;
  o.cache_mib = cache_mib;
  o.ids_unique = unique_ids;
  o.page_size = page_size;
  o.overlap_compression = overlap;
  if (const char* t = std::getenv("BP_BENCH_SORT_THREADS")) o.sort_threads = std::atoi(t);
  bp::c1z::writer w(o);
  t0 = clock_type::now();
  if (live_indexes) w.index_grants();  // on the empty table: every insert maintains all four
  for_each_grant(n, [&](const bp::c1z::grant_encoder& enc, const std::string& uid) {
    const auto g = enc.encode(buf, "user", uid);
    w.add_grant(enc.resource_type(), enc.resource_id(), enc.entitlement_id(), "user", uid, g.id, g.bytes);
  });
  s.insert_s = std::chrono::duration<double>(clock_type::now() - t0).count();
  t0 = clock_type::now();
  const auto r = w.finish();
  s.finalize_s = std::chrono::duration<double>(clock_type::now() - t0).count();
  s.index_s = r.index_seconds;
  s.compress_s = r.compress_seconds;
  if (overlap && !r.compressed_during_indexes) std::fprintf(stderr, "warning: compressed after the index builds\n");
  s.file_bytes = r.file_bytes;
  s.db_bytes = r.database_bytes;
  if (w.counts().grants != n) std::fprintf(stderr, "warning: %llu grants stored\n", (unsigned long long)w.counts().grants);
  if (!keep && !std::getenv("BP_BENCH_KEEP")) fs::remove(o.destination);  // BP_BENCH_KEEP=1: leave the last file
  return s;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// User resources as the sync encodes them (UserTrait with email, login and a profile), records/s.
double user_encode_rate(std::size_t n) {
  std::vector<double> t;
  std::string buf;
  std::size_t sink = 0;
  for (int r = 0; r < 3; ++r) {
    const auto t0 = clock_type::now();
    for (std::size_t i = 0; i < n; ++i) {
      bp::c1z::resource_record u{"user", user_id(i), "Jane Doe", "", bp::c1z::user_trait_record{}};
      u.user_trait->emails.push_back({"jane.doe" + std::to_string(i) + "@example.com", true});
      u.user_trait->login = "jane.doe" + std::to_string(i);
      u.user_trait->profile = {{"first_name", std::string("Jane")}, {"last_name", std::string("Doe")},
                               {"user_status", std::string("ACTIVE")}, {"is_active", true},
                               {"role", std::string("Learner")}, {"job_title", std::string("Engineer")}};
      buf.clear();
      bp::c1z::encode_resource(u, buf);
      sink += buf.size();
    }
    t.push_back(std::chrono::duration<double>(clock_type::now() - t0).count());
  }
  if (sink == 0) std::abort();
  return n / median(t);
}

std::uint32_t page_size_arg = 4096;

// Medians of three runs of one variant.
struct medians {
  double encode_s, insert_s, finalize_s, index_s, compress_s, total_s;
  sample last;
};

template <class Run>
medians median_of_3(Run&& run_once) {
  std::vector<double> enc, ins, fin, idx, cmp, tot;
  medians m{};
  for (int i = 0; i < 3; ++i) {
    m.last = run_once();
    enc.push_back(m.last.encode_s);
    ins.push_back(m.last.insert_s);
    fin.push_back(m.last.finalize_s);
    idx.push_back(m.last.index_s);
    cmp.push_back(m.last.compress_s);
    tot.push_back(m.last.insert_s + m.last.finalize_s);
  }
  m.encode_s = median(enc), m.insert_s = median(ins), m.finalize_s = median(fin);
  m.index_s = median(idx), m.compress_s = median(cmp), m.total_s = median(tot);
  return m;
}

// One row of the two-variant tables: label, insert rows/s, finalize, index, compress, total rows/s.
void print_variant(const char* label, std::size_t n, const medians& m) {
  std::printf("%14s %14.0f %11.2f %8.2f %10.2f %14.0f\n", label, n / m.insert_s, m.finalize_s, m.index_s,
              m.compress_s, n / m.total_s);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const fs::path dir = argc > 2 ? fs::path(argv[2]) : fs::temp_directory_path();
  const bool keep = argc > 3 && std::string(argv[3]) == "--keep";
  // BP_BENCH_ONLY_UNIQUE=1: only the last two tables; BP_BENCH_PAGE_SIZE: the page size of the last four.
  const bool only_unique = std::getenv("BP_BENCH_ONLY_UNIQUE") != nullptr;
  // BP_BENCH_ONLY_ORDER=1: only the last table (grant order).
  const bool only_order = std::getenv("BP_BENCH_ONLY_ORDER") != nullptr;
  // Default: the sync's page size (sync::options::writer_page_size).
  page_size_arg = std::getenv("BP_BENCH_PAGE_SIZE") ? static_cast<std::uint32_t>(std::atoi(std::getenv("BP_BENCH_PAGE_SIZE"))) : 65536;
  std::printf("grants=%zu dir=%s (median of 3 runs)\n", n, dir.c_str());
  std::printf("user resource encode (record built + encoded): %.0f records/s\n", user_encode_rate(200'000));
  if (!only_unique && !only_order) {  // batch sizes and cache sizes, at 4 KiB pages
    std::printf("%8s %14s %14s %11s %8s %10s %14s %8s %8s\n", "batch", "encode rows/s", "insert rows/s", "finalize s",
                "index s", "compress s", "total rows/s", "db MiB", "c1z MiB");
    for (const std::size_t batch : {1'000, 10'000, 100'000}) {
      const auto m = median_of_3([&] { return run(n, batch, dir, keep); });
      std::printf("%8zu %14.0f %14.0f %11.2f %8.2f %10.2f %14.0f %8.1f %8.1f\n", batch, n / m.encode_s, n / m.insert_s,
                  m.finalize_s, m.index_s, m.compress_s, n / m.total_s, m.last.db_bytes / 1048576.0,
                  m.last.file_bytes / 1048576.0);
      std::fflush(stdout);
    }
    // SQLite page cache of the working database (writer_options::cache_mib; peak RSS follows it).
    std::printf("%8s %14s %11s %8s %14s\n", "cache MiB", "insert rows/s", "finalize s", "index s", "total rows/s");
    for (const std::size_t cache : {8, 32, 128}) {
      const auto m = median_of_3([&] { return run(n, 20'000, dir, false, cache); });
      std::printf("%8zu %14.0f %11.2f %8.2f %14.0f\n", cache, n / m.insert_s, m.finalize_s, m.index_s, n / m.total_s);
      std::fflush(stdout);
    }
  }
  // The grants' unique index kept during inserts (INSERT OR IGNORE needs it) or built by finish()
  // (writer_options::ids_unique, what the sync uses).
  if (!only_order) {
    std::printf("%14s %14s %11s %8s %10s %14s\n", "unique index", "insert rows/s", "finalize s", "index s", "compress s",
                "total rows/s");
    for (const bool deferred : {false, true}) {
      print_variant(deferred ? "at finish" : "live", n,
                    median_of_3([&] { return run(n, 20'000, dir, false, 16, deferred, page_size_arg); }));
    }
    // finish(): the table pages compressed while the indexes build (writer_options::overlap_compression,
    // the default) or the whole file after them; unique index at finish as above.
    std::printf("%14s %14s %11s %8s %10s %14s\n", "compression", "insert rows/s", "finalize s", "index s", "compress s",
                "total rows/s");
    for (const bool overlap : {false, true}) {
      print_variant(overlap ? "during index" : "after index", n,
                    median_of_3([&] { return run(n, 20'000, dir, false, 16, true, page_size_arg, overlap); }));
    }
  }
  // Grants in report order, or in the indexes' key order (what the sync writes); as the sync: unique
  // index at finish, compression during the index builds.
  std::printf("%14s %14s %11s %8s %10s %14s\n", "grant order", "insert rows/s", "finalize s", "index s", "compress s",
              "total rows/s");
  for (const bool sorted : {false, true}) {
    index_order = sorted;
    print_variant(sorted ? "index order" : "report order", n,
                  median_of_3([&] { return run(n, 20'000, dir, false, 16, true, page_size_arg, true); }));
  }
  // The same, with the four grant indexes created before the first grant (writer::index_grants()):
  // three of them then only append, the user-keyed one takes random inserts.
  print_variant("indexes live", n,
                median_of_3([&] { return run(n, 20'000, dir, false, 16, true, page_size_arg, true, true); }));
  index_order = false;
}
