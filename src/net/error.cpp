#include "baton_percipio/net/error.hpp"

namespace bp::net {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "bp.net"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::timeout: return "timed out";
      case errc::connect_failed: return "connect failed";
      case errc::tls_failed: return "TLS handshake or certificate verification failed";
      case errc::connection_closed: return "connection closed by peer";
      case errc::truncated_body: return "response body truncated (connection closed early)";
      case errc::protocol_error: return "malformed HTTP response";
      case errc::header_too_large: return "response headers too large";
      case errc::body_too_large: return "response body too large";
      case errc::cancelled: return "cancelled";
      case errc::decompress_failed: return "response decompression failed";
      case errc::insecure_url: return "refused URL (plain http is only allowed for loopback hosts)";
      case errc::proxy_refused: return "the proxy refused the CONNECT tunnel";
      case errc::proxy_auth_required: return "the proxy requires authentication (407)";
      case errc::proxy_protocol_error: return "malformed reply from the proxy to CONNECT";
    }
    return "unknown bp.net error";
  }
};

}  // namespace

const std::error_category& net_category() {
  static const category c;
  return c;
}

std::error_code make_error_code(errc e) { return {static_cast<int>(e), net_category()}; }

}  // namespace bp::net
