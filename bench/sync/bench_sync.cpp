// One full sync through bp::sync::run_sync (the function `baton-percipio` calls), with the options
// the CLI builds from its defaults except the delay before the first report poll, which the CLI does
// not expose. --rate-limit is the CLI's (N/DURATION, 0 for none; default 100/20s). Benchmarks use it
// to measure the pipeline rather than the client's deliberate waits. Prints the summary JSON on stdout.
//
// usage: bench_sync --base-url URL --org ID --token T -f FILE [--concurrency N] [--rate-limit N/DURATION|0]
//                   [--poll-initial-ms MS] [--log-level L] [--overlap-compression on|off]
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "baton_percipio/core/log.hpp"
#include "baton_percipio/core/rate_limit.hpp"
#include "baton_percipio/sync/run.hpp"

int main(int argc, char** argv) {
  bp::sync::options o;
  std::string level = "warn";
  std::size_t concurrency = 8;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "bench_sync: missing value for %s\n", argv[i]);
      return 2;
    }
    const char* v = argv[++i];
    if (a == "--base-url") o.api.base_url = v;
    else if (a == "--org") o.api.org_id = v;
    else if (a == "--token") o.api.token = v;
    else if (a == "-f" || a == "--file") o.destination = v;
    else if (a == "--concurrency") concurrency = std::strtoul(v, nullptr, 10);
    else if (a == "--rate-limit") {
      auto r = bp::parse_rate_limit(v);
      if (!r) {
        std::fprintf(stderr, "bench_sync: --rate-limit must be N/DURATION such as 100/20s, or 0\n");
        return 2;
      }
      o.api.rate_limit = *r;
    }
    else if (a == "--poll-initial-ms") o.api.poll_initial = std::chrono::milliseconds(std::atol(v));
    else if (a == "--log-level") level = v;
    else if (a == "--overlap-compression") o.writer_overlap_compression = std::string_view(v) != "off";
    else {
      std::fprintf(stderr, "bench_sync: unknown flag %s\n", argv[i - 1]);
      return 2;
    }
  }
  if (!o.api.token.empty()) bp::log::add_secret(o.api.token);
  bp::log::configure(bp::log::parse_level(level), bp::log::format::json);
  // As bp::cli::make_sync_options does for the defaults.
  o.api.concurrency = concurrency;
  o.http.max_connections_per_host = concurrency + 1;
  o.progress = bp::sync::progress_mode::off;
  bp::sync::summary s;
  int rc = 0;
  try {
    s = bp::sync::run_sync(o, {}, &s);
  } catch (const bp::sync::sync_error& e) {
    std::fprintf(stderr, "bench_sync: sync failed: %s\n", bp::log::redact(e.what()).c_str());
    rc = 1;
  }
  std::printf("%s\n", s.to_json().c_str());
  return rc;
}
