#include "jws.hpp"

#include "baton_percipio/core/base64url.hpp"
#include "crypto.hpp"
#include "flat_json.hpp"

namespace bp::fake_c1::detail {
namespace {

assertion_result reject(std::string reason) {
  assertion_result r;
  r.reason = std::move(reason);
  return r;
}

}  // namespace

assertion_result verify_assertion(std::string_view jws, std::string_view public_key) {
  auto dot1 = jws.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : jws.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || jws.find('.', dot2 + 1) != std::string_view::npos) {
    return reject("assertion is not a compact JWS");
  }
  auto header_json = base64url_decode(jws.substr(0, dot1));
  auto payload_json = base64url_decode(jws.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = base64url_decode(jws.substr(dot2 + 1));
  if (!header_json || !payload_json || !signature) return reject("assertion segment is not base64url");

  auto header = parse_flat_object(*header_json);
  if (!header) return reject("assertion header is not a JSON object");
  const std::string* alg = find_string(*header, "alg");
  if (alg == nullptr || *alg != "EdDSA") return reject("assertion alg is not EdDSA");
  if (header->count("crit") != 0) return reject("assertion header has crit");

  if (!ed25519_verify(public_key, jws.substr(0, dot2), *signature)) return reject("assertion signature invalid");

  auto payload = parse_flat_object(*payload_json);
  if (!payload) return reject("assertion payload is not a JSON object");
  assertion_result r;
  const std::string* iss = find_string(*payload, "iss");
  const std::string* sub = find_string(*payload, "sub");
  const std::string* aud = find_string(*payload, "aud");
  auto iat = find_integer(*payload, "iat");
  auto nbf = find_integer(*payload, "nbf");
  auto exp = find_integer(*payload, "exp");
  if (iss == nullptr || sub == nullptr) return reject("assertion lacks iss or sub");
  if (aud == nullptr) return reject("assertion aud is not a single string");
  if (!iat || !nbf || !exp) return reject("assertion iat/nbf/exp missing or not integers");
  r.ok = true;
  r.claims = {*iss, *sub, *aud, *iat, *nbf, *exp};
  return r;
}

}  // namespace bp::fake_c1::detail
