#pragma once
// Runs a piece of a test in a forked child (for setrlimit, SIGKILL and the like) and reports how it
// ended. The child never returns into doctest: it leaves with _exit.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <functional>

namespace bp::hardening {

struct child_status {
  bool exited = false;
  int exit_code = -1;
  bool signaled = false;
  int signal = 0;
};

// body's return value is the child's exit code; an exception gives 99.
inline child_status run_in_child(const std::function<int()>& body) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    int code = 99;
    try {
      code = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: %s\n", e.what());
    } catch (...) {
    }
    std::fflush(nullptr);
    ::_exit(code);
  }
  child_status st;
  int raw = 0;
  if (pid < 0 || ::waitpid(pid, &raw, 0) != pid) return st;
  st.exited = WIFEXITED(raw);
  st.exit_code = st.exited ? WEXITSTATUS(raw) : -1;
  st.signaled = WIFSIGNALED(raw);
  st.signal = st.signaled ? WTERMSIG(raw) : 0;
  return st;
}

}  // namespace bp::hardening
