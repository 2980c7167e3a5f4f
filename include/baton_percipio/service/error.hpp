#pragma once
// Error codes of the ConductorOne client and its value-or-failure result type. Expected failures
// (a malformed setting, a refused token, an unreachable endpoint) travel as values; exceptions are
// kept for bugs and broken OpenSSL setups.
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace bp::service {

enum class errc {
  invalid_client_id = 1,  // --client-id / BATON_CLIENT_ID does not have the expected shape
  invalid_client_secret,  // --client-secret / BATON_CLIENT_SECRET is malformed or not an Ed25519 key
  invalid_api_host,       // BATON_C1_API_HOST is not "host" or "host:port"
  auth_failed,            // the token endpoint refused the credentials (400, 401, 403): retrying cannot help
  unavailable,            // transient: connection errors, timeouts, 5xx, malformed replies; retry later
};

const std::error_category& category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

// A failed operation: a code for the program and a message for the operator. Messages never
// contain any part of the client secret, the client assertion or an access token.
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
  const T& operator*() const& { return std::get<0>(v_); }
  const failure& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, failure> v_;
};

}  // namespace bp::service

template <>
struct std::is_error_code_enum<bp::service::errc> : std::true_type {};
