#pragma once
// The JSON-lines call log: one object per call with "ts" (UTC, milliseconds) and "method" first.
// Callers add only non-secret fields; tokens, assertions and secrets never reach it.
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string_view>

#include "baton_percipio/core/json_writer.hpp"

namespace bp::fake_c1::detail {

class event_log {
 public:
  // Appends to `path`; an empty path logs nothing. Throws std::runtime_error when it cannot open.
  explicit event_log(const std::filesystem::path& path);
  bool enabled() const { return out_.is_open(); }
  // `fields` writes the members after ts and method (keys and values) into the open object.
  void write(std::string_view method, const std::function<void(json::writer&)>& fields);

 private:
  std::mutex mu_;
  std::ofstream out_;
};

}  // namespace bp::fake_c1::detail
