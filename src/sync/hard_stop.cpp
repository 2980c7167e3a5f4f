#include "hard_stop.hpp"

namespace bp::sync::detail {

hard_stop::hard_stop(asio::io_context& io, std::chrono::milliseconds grace) : io_(io), grace_(grace) {
  thread_ = std::jthread([this] {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return armed_ || drained_; });
    if (drained_) return;
    const auto until = std::chrono::steady_clock::now() + grace_;
    if (cv_.wait_until(lock, until, [this] { return drained_; })) return;
    fired_ = true;
    io_.stop();
  });
}

hard_stop::~hard_stop() { drained(); }

void hard_stop::arm() {
  {
    std::lock_guard lock(mu_);
    if (armed_) return;
    armed_ = true;
  }
  cv_.notify_all();
}

void hard_stop::drained() {
  {
    std::lock_guard lock(mu_);
    drained_ = true;
  }
  cv_.notify_all();
}

bool hard_stop::fired() const {
  std::lock_guard lock(mu_);
  return fired_;
}

}  // namespace bp::sync::detail
