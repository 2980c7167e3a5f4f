#include "baton_percipio/percipio/headers.hpp"

#include <doctest/doctest.h>

using namespace bp::percipio;

TEST_CASE("Link rel=last offset") {
  const char* go_fixture =
      "</v2/organizations/org/catalog-content?max=1000&offset=0&pagingRequestId=abc>; page=\"1\"; "
      "per_page=\"1000\"; rel=\"first\", "
      "</v2/organizations/org/catalog-content?max=1000&offset=2000&pagingRequestId=abc>; page=\"3\"; "
      "per_page=\"1000\"; rel=\"last\"";
  CHECK(parse_link_last_offset(go_fixture) == 2000u);
  // Order, case, unquoted rel, absolute URL, extra spaces.
  CHECK(parse_link_last_offset("<https://h/x?offset=5000&max=1000>;REL=LAST , <https://h/x?offset=0>; rel=first") ==
        5000u);
  CHECK(parse_link_last_offset("<x?a=1&OFFSET=7>; rel=\"prev last\"") == 7u);
  CHECK(parse_link_last_offset("<x?offset=0>; rel=\"first\"") == std::nullopt);
  CHECK(parse_link_last_offset("") == std::nullopt);
  CHECK(parse_link_last_offset("garbage, ; rel=last") == std::nullopt);
  CHECK(parse_link_last_offset("<x?offset=abc>; rel=last") == std::nullopt);
  CHECK(parse_link_last_offset("<x?max=10>; rel=last") == std::nullopt);
  CHECK(parse_link_last_offset("<x?max=10>; rel=last, <y?offset=30>; rel=\"last\"") == 30u);
  // Quoted parameter values containing ',' and ';' do not split entries.
  CHECK(parse_link_last_offset("<a?offset=1>; title=\"a, b; c\"; rel=last") == 1u);
  // Missing comma between entries, unterminated URL.
  CHECK(parse_link_last_offset("<a?offset=1>; rel=first <b?offset=9>; rel=last") == 9u);
  CHECK(parse_link_last_offset("<a?offset=1") == std::nullopt);
  CHECK(parse_link_last_offset("<a?offset=3#frag>; rel=last") == 3u);
}

TEST_CASE("x-total-count") {
  CHECK(parse_total_count("2500") == 2500u);
  CHECK(parse_total_count(" 0 ") == 0u);
  CHECK(parse_total_count("") == std::nullopt);
  CHECK(parse_total_count("-1") == std::nullopt);
  CHECK(parse_total_count("12abc") == std::nullopt);
  CHECK(parse_total_count("1.5") == std::nullopt);
  CHECK(parse_total_count("99999999999999999999999") == std::nullopt);
}
