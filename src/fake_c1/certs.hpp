#pragma once
// A throw-away certificate authority and a server certificate for loopback (SAN DNS:localhost,
// IP:127.0.0.1), generated in memory at start so clients can trust the fake through one CA file.
#include <string>

namespace bp::fake_c1::detail {

struct tls_material {
  std::string ca_pem;          // CA certificate, what clients trust
  std::string cert_pem;        // server certificate, signed by the CA
  std::string key_pem;         // server private key (PKCS#8)
};

// Throws std::runtime_error when OpenSSL fails.
tls_material generate_tls_material();

}  // namespace bp::fake_c1::detail
