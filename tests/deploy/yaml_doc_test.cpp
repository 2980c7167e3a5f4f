#include "deploy/yaml_doc.hpp"

#include <doctest/doctest.h>

using bp::test::yaml::parse;

TEST_CASE("yaml doc: mappings in order, sequences, items with mappings, scalars and flows") {
  auto doc = parse(
      "---\n"
      "# comment\n"
      "a: 1\n"
      "b:\n"
      "  c: \"x: y # not a comment\"  # a comment\n"
      "  d: 'it''s'\n"
      "list:\n"
      "  - plain\n"
      "  - name: n1\n"
      "    value: v1\n"
      "  - nested:\n"
      "      deep: true\n"
      "flow: [\"--interval\", \"6h\", x]\n"
      "empty: {}\n"
      "none:\n"
      "same_column:\n"
      "- one\n"
      "- two\n");
  CHECK(doc.keys() == std::vector<std::string>{"a", "b", "list", "flow", "empty", "none", "same_column"});
  CHECK(doc.str("a") == "1");
  CHECK(doc.str("b.c") == "x: y # not a comment");
  CHECK(doc.str("b.d") == "it's");
  const auto& list = doc.at("list");
  REQUIRE(list.is_seq());
  REQUIRE(list.items.size() == 3);
  CHECK(list.items[0].value == "plain");
  CHECK(list.items[1].str("name") == "n1");
  CHECK(list.items[1].str("value") == "v1");
  CHECK(list.items[2].str("nested.deep") == "true");
  const auto& flow = doc.at("flow");
  REQUIRE(flow.items.size() == 3);
  CHECK(flow.items[0].value == "--interval");
  CHECK(flow.items[2].value == "x");
  CHECK(doc.at("empty").is_map());
  CHECK(doc.str("none").empty());
  REQUIRE(doc.at("same_column").items.size() == 2);
  CHECK(doc.at("same_column").items[1].value == "two");
}

TEST_CASE("yaml doc: malformed YAML and duplicate keys are errors, not guesses") {
  CHECK_THROWS(parse("a: 1\n   b: 2\n"));      // stray indentation
  CHECK_THROWS(parse("a: 1\na: 2\n"));         // duplicate key
  CHECK_THROWS(parse("a: [1, 2\n"));          // unterminated flow sequence
  CHECK_THROWS(parse("a: b: c\n"));           // a mapping where a scalar ends
  CHECK_THROWS(parse("a:\n  - x\n  y: 1\n"));  // sequence then mapping at one level
  CHECK_FALSE(parse("just words\n").is_map());
}
