#include "baton_percipio/core/json_writer.hpp"

#include <doctest/doctest.h>

using bp::json::writer;

TEST_CASE("json strings escape control characters and replace invalid UTF-8") {
  std::string out;
  bp::json::append_string(out, std::string_view("a\"b\\c\n\x01 \xC3\xA9 \xFF", 12));
  CHECK(out == "\"a\\\"b\\\\c\\n\\u0001 \xC3\xA9 \xEF\xBF\xBD\"");
}

TEST_CASE("compact and indented objects") {
  std::string out;
  writer(out).begin_object().key("a").value(1).key("b").begin_array().value(true).null().end_array().end_object();
  CHECK(out == R"({"a":1,"b":[true,null]})");
  std::string pretty;
  writer(pretty, 2).begin_object().key("x").value("y").key("e").begin_object().end_object().end_object();
  CHECK(pretty == "{\n  \"x\": \"y\",\n  \"e\": {}\n}");
}

TEST_CASE("doubles use the shortest round-trip form") {
  std::string out;
  writer(out).begin_array().value(0.1).value(1.5).value(3.0).end_array();
  CHECK(out == "[0.1,1.5,3]");
}
