// fake-c1: a fake ConductorOne (token endpoint + BatonService on one TLS port) for demos and CI.
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <fstream>
#include <string>
#include <string_view>

#include "baton_percipio/fake_c1/server.hpp"
#include "baton_percipio/fake_c1/tasks.hpp"

namespace {

constexpr const char* usage =
    "usage: fake-c1 [--port P] [--address 127.0.0.1] [--ca-out FILE] [--credentials-out FILE]\n"
    "         [--client-host HOST[:PORT]] [--client-name NAME] [--tasks SPEC,...] [--upload-dir DIR]\n"
    "         [--log FILE] [--next-poll-ms MS] [--next-heartbeat-ms MS] [--token-lifetime S]\n"
    "         [--token-reject] [--token-status CODE] [--token-delay-ms MS] [--get-task-unavailable N]\n"
    "         [--abort-uploads N] [--cancel-heartbeat K] [--requeue-retryable] [--exit-after-tasks N]\n"
    "  Prints 'listening on ADDRESS:PORT' on stdout once ready.\n"
    "  SPEC: none|hello|sync_full[:skip_expand_grants][:skip_entitlements_and_grants][:skip_grants]\n"
    "        [:types=a+b][:storage_engine=E][:debug]|grant|grant_empty|revoke|create_account|\n"
    "        create_resource|delete_resource|rotate_credentials|event_feed|create_sync_diff|\n"
    "        issue_credential|unset\n"
    "  --credentials-out writes BATON_CLIENT_ID=... and BATON_CLIENT_SECRET=... lines (mode 0600), and\n"
    "  BATON_C1_API_HOST=... when --client-host is set.\n";

bool to_u64(const char* s, std::uint64_t& out) {
  char* end = nullptr;
  errno = 0;
  out = std::strtoull(s, &end, 10);
  return *s != '\0' && *end == '\0' && errno == 0;
}

void write_credentials(const std::string& path, const bp::fake_c1::server& srv, bool with_host) {
  // The secret goes only into a file only the owner can read.
  mode_t old = umask(077);
  std::ofstream out(path, std::ios::trunc);
  umask(old);
  out << "BATON_CLIENT_ID=" << srv.credentials().client_id << '\n'
      << "BATON_CLIENT_SECRET=" << srv.credentials().client_secret << '\n';
  if (with_host) out << "BATON_C1_API_HOST=" << srv.address() << '\n';
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace std::chrono;
  bp::fake_c1::options opts;
  std::string credentials_out;
  std::uint64_t exit_after = 0;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "missing value for %s\n%s", argv[i], usage);
        std::exit(2);
      }
      return argv[++i];
    };
    auto num = [&]() -> std::uint64_t {
      const char* v = next();
      std::uint64_t out = 0;
      if (!to_u64(v, out) || out > 0x7fffffff) {
        std::fprintf(stderr, "not a number: %s %s\n", argv[i - 1], v);
        std::exit(2);
      }
      return out;
    };
    if (a == "--port") {
      auto p = num();
      if (p > 65535) {
        std::fprintf(stderr, "port out of range\n");
        return 2;
      }
      opts.port = static_cast<std::uint16_t>(p);
    } else if (a == "--address") {
      opts.address = next();
    } else if (a == "--ca-out") {
      opts.ca_out = next();
    } else if (a == "--credentials-out") {
      credentials_out = next();
    } else if (a == "--client-host") {
      opts.client_host = next();
    } else if (a == "--client-name") {
      opts.client_name = next();
    } else if (a == "--tasks") {
      try {
        opts.tasks = bp::fake_c1::parse_task_list(next());
      } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "--tasks: %s\n", e.what());
        return 2;
      }
    } else if (a == "--upload-dir") {
      opts.upload_dir = next();
      opts.keep_upload_bytes = false;  // on disk is enough; syncs can be large
    } else if (a == "--log") {
      opts.log_path = next();
    } else if (a == "--next-poll-ms") {
      opts.next_poll = milliseconds(num());
    } else if (a == "--next-heartbeat-ms") {
      opts.next_heartbeat = milliseconds(num());
    } else if (a == "--token-lifetime") {
      opts.token_lifetime = seconds(num());
    } else if (a == "--token-reject") {
      opts.fault.token_reject = true;
    } else if (a == "--token-status") {
      opts.fault.token_status = static_cast<int>(num());
    } else if (a == "--token-delay-ms") {
      opts.fault.token_delay = milliseconds(num());
    } else if (a == "--get-task-unavailable") {
      opts.fault.get_task_unavailable = static_cast<int>(num());
    } else if (a == "--abort-uploads") {
      opts.fault.abort_uploads = static_cast<int>(num());
    } else if (a == "--cancel-heartbeat") {
      opts.fault.cancel_heartbeat = static_cast<int>(num());
    } else if (a == "--requeue-retryable") {
      opts.requeue_retryable = true;
    } else if (a == "--exit-after-tasks") {
      exit_after = num();
    } else if (a == "--help" || a == "-h") {
      std::fputs(usage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "unknown argument %s\n%s", argv[i], usage);
      return 2;
    }
  }

  // Signals are taken synchronously below; block them before any thread starts.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  try {
    bool with_host = !opts.client_host.empty();
    bp::fake_c1::server srv(std::move(opts));
    if (!credentials_out.empty()) write_credentials(credentials_out, srv, with_host);
    std::printf("listening on %s\n", srv.address().c_str());
    std::fflush(stdout);
    std::fprintf(stderr, "fake-c1: client id %s%s%s\n", srv.credentials().client_id.c_str(),
                 srv.ca_file().empty() ? "" : ", CA ", srv.ca_file().string().c_str());

    for (;;) {
      if (exit_after > 0 && srv.wait_until_finished(exit_after, milliseconds(0))) {
        std::fprintf(stderr, "fake-c1: %llu tasks done, exiting\n", static_cast<unsigned long long>(exit_after));
        break;
      }
      timespec tick{0, 100'000'000};  // re-check the task count this often
      int sig = sigtimedwait(&stop_signals, nullptr, &tick);
      if (sig == SIGINT || sig == SIGTERM) break;
    }
    srv.stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fake-c1: %s\n", e.what());
    return 1;
  }
  return 0;
}
