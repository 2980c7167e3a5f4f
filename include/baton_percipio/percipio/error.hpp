#pragma once
// Percipio error codes and a small value-or-failure result type. Expected failures (bad pages,
// rejected tokens, failed reports) travel as values; the CLI maps the codes to exit codes.
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace bp::percipio {

enum class errc {
  auth_failed = 1,         // 401: token invalid, expired or deactivated
  permission_denied,       // 403: service account lacks the API, or wrong organization id
  upstream_failed,         // 5xx / 429 / transport errors after retries, unexpected 4xx
  malformed_response,      // 200 whose body is not the JSON we expect
  report_failed,           // report job reported FAILED, or could not be obtained
  report_timeout,          // report not ready before the report timeout
  not_found,               // 404 outside the report poll
  deadline_exceeded,       // overall sync deadline passed
  cancelled,               // the caller cancelled the operation
};

const std::error_category& category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

// A failed operation: a code for the program and a message for the operator (never secrets).
struct failure {
  std::error_code code;
  std::string message;
};

inline failure make_failure(errc e, std::string message) { return {make_error_code(e), std::move(message)}; }

template <class T>
class result {
 public:
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  result(failure f) : v_(std::in_place_index<1>, std::move(f)) {}    // NOLINT
  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const failure& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, failure> v_;
};

template <>
class result<void> {
 public:
  result() = default;
  result(failure f) : f_(std::move(f)) {}  // NOLINT
  bool ok() const noexcept { return !f_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  const failure& error() const { return *f_; }

 private:
  std::optional<failure> f_;
};

}  // namespace bp::percipio

template <>
struct std::is_error_code_enum<bp::percipio::errc> : std::true_type {};
