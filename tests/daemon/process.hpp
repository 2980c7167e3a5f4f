#pragma once
// A child process the test controls while it runs: stderr is collected through a pipe, signals can
// be sent, and exit is awaited with a deadline. Waiting is paced by poll() on the pipe.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace bp::daemon_test {

class child_process {
 public:
  child_process(const std::string& path, const std::vector<std::string>& args, const std::vector<std::string>& env) {
    int err_pipe[2];
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) return;
    std::vector<char*> argv{const_cast<char*>(path.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      // The child starts with no signals blocked, whatever the test runner's threads do.
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::dup2(err_pipe[1], 2);
      int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0) ::dup2(devnull, 1);
      ::execve(path.c_str(), argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(err_pipe[1]);
    err_fd_ = err_pipe[0];
  }
  ~child_process() {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
    if (err_fd_ >= 0) ::close(err_fd_);
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  bool started() const { return pid_ > 0; }
  void signal(int sig) { ::kill(pid_, sig); }
  const std::string& err() const { return err_; }

  // Reads stderr for up to `slice`; true when something arrived.
  bool pump(std::chrono::milliseconds slice) {
    if (err_fd_ < 0) return false;
    pollfd p{err_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(slice.count())) <= 0) return false;
    char buf[4096];
    auto n = ::read(err_fd_, buf, sizeof buf);
    if (n <= 0) {
      ::close(err_fd_);
      err_fd_ = -1;
      return false;
    }
    err_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  // Pumps stderr until `done` holds or the deadline passes; returns whether `done` held.
  bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= until) return false;
      if (err_fd_ >= 0) {
        pump(std::chrono::milliseconds(20));
      } else {
        ::poll(nullptr, 0, 20);  // stderr closed: pace the exit checks
      }
    }
    return true;
  }

  // Exit status (or 128 + signal) once the child has ended; nullopt while it runs.
  std::optional<int> status() {
    exited();
    return status_;
  }

  // Waits up to `timeout` for the child to end.
  // Then reads what is left in the stderr pipe (the child's last lines may still be there).
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    if (wait_for([this] { return exited(); }, timeout)) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (err_fd_ >= 0 && std::chrono::steady_clock::now() < until) pump(std::chrono::milliseconds(50));
    }
    return status_;
  }

 private:
  bool exited() {
    if (status_) return true;
    if (pid_ <= 0) return false;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) != pid_) return false;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return true;
  }

  pid_t pid_ = -1;
  int err_fd_ = -1;
  std::string err_;
  std::optional<int> status_;
};

}  // namespace bp::daemon_test
