#include "baton_percipio/core/base64url.hpp"

#include <doctest/doctest.h>

using bp::base64url_decode;
using bp::base64url_encode;

TEST_CASE("base64url: RFC 4648 vectors without padding") {
  CHECK(base64url_encode("") == "");
  CHECK(base64url_encode("f") == "Zg");
  CHECK(base64url_encode("fo") == "Zm8");
  CHECK(base64url_encode("foo") == "Zm9v");
  CHECK(base64url_encode("foob") == "Zm9vYg");
  CHECK(base64url_encode("fooba") == "Zm9vYmE");
  CHECK(base64url_encode("foobar") == "Zm9vYmFy");
  CHECK(base64url_encode(std::string("\xfb\xff\xbf", 3)) == "-_-_");
  CHECK(base64url_decode("Zm9vYmE") == "fooba");
  CHECK(base64url_decode("-_-_") == std::string("\xfb\xff\xbf", 3));
  CHECK(base64url_decode("") == "");
}

TEST_CASE("base64url: every length round-trips") {
  std::string bytes;
  for (int i = 0; i < 70; ++i) {
    CHECK(base64url_decode(base64url_encode(bytes)) == bytes);
    bytes += static_cast<char>(i * 37 + 11);
  }
}

TEST_CASE("base64url: padding, the standard alphabet, line breaks and impossible lengths are refused") {
  CHECK_FALSE(base64url_decode("Zg=="));
  CHECK_FALSE(base64url_decode("Zm8="));
  CHECK_FALSE(base64url_decode("+/+/"));
  CHECK_FALSE(base64url_decode("Zm9v\nYmFy"));
  CHECK_FALSE(base64url_decode("Zm9vY"));  // 4n+1 characters
  CHECK_FALSE(base64url_decode("Zm 9v"));
}

TEST_CASE("base64url: non-zero trailing bits are tolerated, as Go's RawURLEncoding does") {
  CHECK(base64url_decode("Zh") == "f");
}
