// Local faults: an unwritable destination, a file-size limit (disk full) during finish, and kill -9
// at several points of a sync. The previous file stays byte-identical, nothing temporary survives
// the next run, and the files we write have mode 0600 (or --file-mode).
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <thread>

#include "baton_percipio/c1z/error.hpp"
#include "baton_percipio/c1z/reader.hpp"
#include "baton_percipio/c1z/writer.hpp"
#include "baton_percipio/fixture/options.hpp"
#include "baton_percipio/fixture/server.hpp"
#include "baton_percipio/sync/run.hpp"
#include "child_process.hpp"
#include "helpers.hpp"

using namespace bp::hardening;
namespace fx = bp::fixture;
using bp::sync::failure_kind;
using bp::sync::sync_error;

namespace {

// A previous good c1z at `file`, made by a full sync.
std::string make_previous(const fs::path& file) {
  fx::background_server up(small_tenant(20, 20, 100));
  bp::sync::run_sync(fast_options(up.base_url(), file));
  return read_file(file);
}

failure_kind sync_failure_kind(const bp::sync::options& o) {
  try {
    bp::sync::run_sync(o);
  } catch (const sync_error& e) {
    return e.kind();
  }
  return failure_kind::internal;  // succeeded: not what the caller expects
}

}  // namespace

TEST_CASE("destination directory unwritable: output error, nothing written") {
  scratch_dir dir;
  write_file(dir / "blocker", "a regular file, not a directory");
  fx::background_server up(small_tenant(20, 20, 100));
  SUBCASE("work files next to the destination: fails before any request") {
    auto o = fast_options(up.base_url(), dir / "blocker" / "out.c1z");
    CHECK(sync_failure_kind(o) == failure_kind::output);
    CHECK(up.log().size() == 0);
  }
  SUBCASE("work files in a separate temp dir: fails at finish, temp dir left clean") {
    fs::create_directories(dir / "tmp");
    auto o = fast_options(up.base_url(), dir / "blocker" / "out.c1z");
    o.temp_dir = dir / "tmp";
    CHECK(sync_failure_kind(o) == failure_kind::output);
    CHECK(fs::is_empty(dir / "tmp"));
  }
  CHECK(read_file(dir / "blocker") == "a regular file, not a directory");
  CHECK(temp_leftovers(dir.path()).empty());
}

TEST_CASE("read-only destination directory: output error naming it, previous file byte-identical") {
  scratch_dir dir;
  const fs::path ro = dir / "ro";
  const fs::path file = ro / "out.c1z";
  fs::create_directory(ro);
  const std::string previous = make_previous(file);
  // Root ignores directory permissions: the sync runs as an unprivileged user in a child then.
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                            fs::perms::others_read);
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                          fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  auto st = run_in_child([&] {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) return 20;
    auto o = fast_options("http://127.0.0.1:1", file);  // fails before any request
    try {
      bp::sync::run_sync(o);
    } catch (const sync_error& e) {
      const std::string what = e.what();
      if (e.kind() != failure_kind::output) return 21;
      if (what.find(ro.string()) == std::string::npos) return 22;  // names the directory at fault
      if (what.find("ermission denied") == std::string::npos) return 23;
      return 0;
    }
    return 24;
  });
  fs::permissions(ro, fs::perms::owner_all);
  CHECK(st.exited);
  CHECK(st.exit_code == 0);
  CHECK(read_file(file) == previous);
  CHECK(temp_leftovers(ro).empty());
}

TEST_CASE("file size limit (disk full) during finish: previous file byte-identical, no temp files") {
  scratch_dir dir;
  const fs::path file = dir / "out.c1z";
  const std::string previous = make_previous(file);
  REQUIRE(previous.size() > 100);
  for (rlim_t limit : {rlim_t{1}, rlim_t{4096}, rlim_t{64 * 1024}, rlim_t{512 * 1024}}) {
    CAPTURE(limit);
    auto st = run_in_child([&] {
      std::signal(SIGXFSZ, SIG_IGN);  // get EFBIG instead of dying
      bp::c1z::writer_options wo;
      wo.destination = file;
      bp::c1z::writer w(wo);
      w.add_resource_type("user", "x");
      std::string data(200, 'd');
      for (int i = 0; i < 20000; ++i) {
        for (int k = 0; k < 8; ++k) data[static_cast<std::size_t>(k)] = static_cast<char>('a' + (i >> (k * 2)) % 26);
        w.add_resource("user", "u" + std::to_string(i), data);
      }
      rlimit rl{limit, limit};
      if (::setrlimit(RLIMIT_FSIZE, &rl) != 0) return 2;
      try {
        w.finish();
      } catch (const bp::c1z::error&) {
        return 0;  // expected: a clean c1z::error
      }
      return 1;
    });
    CHECK(st.exited);
    CHECK(st.exit_code == 0);
    CHECK(read_file(file) == previous);
    CHECK(temp_leftovers(dir.path()).empty());
  }
  SUBCASE("a whole sync under a small file size limit fails with an output error") {
    auto st = run_in_child([&] {
      std::signal(SIGXFSZ, SIG_IGN);
      fx::background_server up(small_tenant(400, 200, 3000));
      rlimit rl{64 * 1024, 64 * 1024};
      if (::setrlimit(RLIMIT_FSIZE, &rl) != 0) return 2;
      return sync_failure_kind(fast_options(up.base_url(), file)) == failure_kind::output ? 0 : 1;
    });
    CHECK(st.exited);
    CHECK(st.exit_code == 0);
    CHECK(read_file(file) == previous);
    CHECK(temp_leftovers(dir.path()).empty());
  }
}

TEST_CASE("kill -9 during a sync: previous file byte-identical; the next run leaves no temp files") {
  scratch_dir dir;
  const fs::path file = dir / "out.c1z";
  const std::string previous = make_previous(file);

  enum class point { work_dir_created, report_download_stalled, finishing };
  for (point at : {point::work_dir_created, point::report_download_stalled, point::finishing}) {
    CAPTURE(static_cast<int>(at));
    // The child runs the fixture server and the sync, and a watcher thread that SIGKILLs the whole
    // process as soon as the sync reaches the chosen point (seen through the file system or the
    // fixture's request log), so the kill lands there without any timing guess.
    auto st = run_in_child([&] {
      fx::options fo;
      if (at == point::report_download_stalled) {
        fo.faults.push_back(*fx::parse_fault("report-download:stall"));
      }
      fx::background_server up(at == point::finishing ? small_tenant(6000, 3000, 40000) : small_tenant(200, 100, 1000),
                               fo);
      std::atomic<bool> done{false};
      std::thread watcher([&] {
        while (!done.load()) {
          bool hit = false;
          for (const auto& name : temp_leftovers(dir.path())) {
            if (at == point::work_dir_created && name.find(".work-") != std::string::npos) hit = true;
            if (at == point::finishing && name.find(".tmp-") != std::string::npos) hit = true;
          }
          if (at == point::report_download_stalled) {
            // Polls done: the next request is the stalled download.
            hit = up.log().count(fx::endpoint::report_poll) >= fo.pending_polls &&
                  up.log().count(fx::endpoint::users) > 0 && up.log().count(fx::endpoint::catalog) > 0;
          }
          if (hit) ::kill(::getpid(), SIGKILL);
          std::this_thread::yield();
        }
      });
      auto o = fast_options(up.base_url(), file);
      o.api.page_size = 200;
      o.http.t.idle_read = std::chrono::seconds(20);
      int code = 0;
      try {
        bp::sync::run_sync(o);
      } catch (const sync_error&) {
        code = 1;
      }
      done = true;
      watcher.join();
      return 10 + code;  // not killed: the point was missed
    });
    CHECK(st.signaled);
    CHECK(st.signal == SIGKILL);
    if (!st.signaled) continue;
    CHECK(read_file(file) == previous);
    auto left = temp_leftovers(dir.path());
    CHECK_FALSE(left.empty());  // a killed writer cannot clean up; the next run must
    for (const auto& name : left) {
      CAPTURE(name);
      const unsigned mode = mode_of(dir / name);
      if (name.find(".work-") != std::string::npos) CHECK(mode == 0700);
      else CHECK((mode & 077) == 0);  // the temporary c1z: the file mode, 0600
    }
  }

  // The next run (a new process, as after a crash) succeeds and removes the stale leftovers.
  auto st = run_in_child([&] {
    fx::background_server up(small_tenant(30, 30, 200));
    bp::sync::run_sync(fast_options(up.base_url(), file));
    return 0;
  });
  CHECK(st.exited);
  CHECK(st.exit_code == 0);
  CHECK(read_file(file) != previous);
  CHECK(temp_leftovers(dir.path()).empty());
  bp::c1z::reader r(file);
  CHECK(r.stats().grants > 0);
}

TEST_CASE("stale cleanup leaves alone what is not ours or still in use") {
  scratch_dir dir;
  const fs::path file = dir / "out.c1z";
  // Look-alikes that must survive: another destination's leftovers, odd suffixes, and a symlink.
  for (const char* name : {".other.c1z.work-abcdef", ".out.c1z.work-abc", ".out.c1z.tmp-abcdefg", "out.c1z.tmp-abcdef",
                           ".out.c1z.work-abc_ef"}) {
    fs::create_directories(dir / name);
  }
  fs::create_directory_symlink(dir / ".other.c1z.work-abcdef", dir / ".out.c1z.work-zzzzzz");
  const auto before = temp_leftovers(dir.path());
  // A leftover of a live writer in another process: created (and locked) by a child that waits.
  int to_child[2], from_child[2];
  REQUIRE(::pipe(to_child) == 0);
  REQUIRE(::pipe(from_child) == 0);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(to_child[1]);
    ::close(from_child[0]);
    int code = 0;
    try {
      bp::c1z::writer_options wo;
      wo.destination = file;
      bp::c1z::writer w(wo);
      char c = 'r';
      (void)!::write(from_child[1], &c, 1);
      (void)!::read(to_child[0], &c, 1);  // hold the writer until the parent has checked
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: %s\n", e.what());
      code = 1;
    }
    ::_exit(code);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  char c = 0;
  REQUIRE(::read(from_child[0], &c, 1) == 1);
  std::vector<std::string> live;
  for (const auto& n : temp_leftovers(dir.path())) {
    if (std::find(before.begin(), before.end(), n) == before.end()) live.push_back(n);
  }
  REQUIRE(live.size() == 1);
  // A writer in a process started after the live one: the live one's directory is older, but locked.
  auto st = run_in_child([&] {
    bp::c1z::writer_options wo;
    wo.destination = file;
    bp::c1z::writer w(wo);
    w.abort();
    return 0;
  });
  CHECK(st.exit_code == 0);
  CHECK(fs::exists(dir / live[0]));
  for (const char* name : {".other.c1z.work-abcdef", ".out.c1z.work-abc", ".out.c1z.tmp-abcdefg", "out.c1z.tmp-abcdef",
                           ".out.c1z.work-abc_ef", ".out.c1z.work-zzzzzz"}) {
    CHECK_MESSAGE(fs::exists(fs::symlink_status(dir / name)), name);
  }
  c = 'q';
  (void)!::write(to_child[1], &c, 1);
  int raw = 0;
  ::waitpid(pid, &raw, 0);
  CHECK_FALSE(fs::exists(dir / live[0]));  // the live writer cleaned up after itself
  ::close(to_child[1]);
  ::close(from_child[0]);
}

TEST_CASE("file_mode: the c1z is created 0600 by default, --file-mode otherwise; work files are private") {
  scratch_dir dir;
  fx::background_server up(small_tenant(20, 20, 100));
  const mode_t old_umask = ::umask(0);  // a permissive umask must not widen anything
  auto o = fast_options(up.base_url(), dir / "default.c1z");
  bp::sync::run_sync(o);
  CHECK(mode_of(dir / "default.c1z") == 0600);
  o.destination = dir / "shared.c1z";
  o.file_mode = 0640;
  bp::sync::run_sync(o);
  CHECK(mode_of(dir / "shared.c1z") == 0640);
  // Overwriting keeps the configured mode, whatever the old file had.
  fs::permissions(dir / "default.c1z", fs::perms::all);
  o.destination = dir / "default.c1z";
  o.file_mode = 0600;
  bp::sync::run_sync(o);
  CHECK(mode_of(dir / "default.c1z") == 0600);
  {
    bp::c1z::writer_options wo;
    wo.destination = dir / "w.c1z";
    bp::c1z::writer w(wo);
    auto left = temp_leftovers(dir.path());
    REQUIRE(left.size() == 1);
    CHECK(mode_of(dir / left[0]) == 0700);
    CHECK(mode_of(dir / left[0] / "db") == 0600);  // the working database itself
  }
  {
    // The reader's decompressed copy of a file it opens is private too (and gone once open).
    bp::c1z::reader_options ro;
    ro.temp_dir = dir / "rtmp";
    fs::create_directory(ro.temp_dir);
    bp::c1z::reader r(dir / "shared.c1z", ro);
    for (const auto& e : fs::directory_iterator(ro.temp_dir)) {
      CAPTURE(e.path().string());
      CHECK((mode_of(e.path()) & 077) == 0);
    }
    CHECK(r.stats().resource_types == 2);
  }
  ::umask(old_umask);
}
