#include "baton_percipio/net/detail/response_parser.hpp"

#include <doctest/doctest.h>
#include <zlib.h>

#include "baton_percipio/net/error.hpp"

namespace bp::net::detail {
namespace {

struct parsed {
  std::error_code ec;
  int status = 0;
  std::vector<header> headers;
  std::string body;
  bool complete = false;
  bool keep_alive = false;
  std::size_t extra = 0;
};

// Feeds input in the given pieces, then EOF if eof is set.
parsed parse_pieces(const std::vector<std::string_view>& pieces, bool eof, response_parser::limits lim = {},
                    bool head = false) {
  response_parser p;
  p.start(lim, head);
  parsed out;
  for (auto piece : pieces) {
    if ((out.ec = p.feed(piece))) break;
  }
  if (!out.ec && eof && !p.message_complete()) out.ec = p.finish_eof();
  out.status = p.status();
  out.headers = p.headers();
  out.body = p.body();
  out.complete = p.message_complete();
  out.keep_alive = p.keep_alive();
  out.extra = p.extra_bytes();
  return out;
}

bool same(const parsed& a, const parsed& b) {
  if (a.ec != b.ec || a.status != b.status || (!a.ec && a.body != b.body) || a.complete != b.complete ||
      a.keep_alive != b.keep_alive || a.extra != b.extra || a.headers.size() != b.headers.size())
    return false;
  for (std::size_t i = 0; i < a.headers.size(); ++i) {
    if (a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value) return false;
  }
  return true;
}

// Parses input whole, then split at every offset into two pieces, and (for short inputs) one byte
// at a time; all results must match.
parsed grind(std::string_view input, bool eof = false, response_parser::limits lim = {}) {
  parsed whole = parse_pieces({input}, eof, lim);
  for (std::size_t i = 0; i <= input.size(); ++i) {
    parsed split = parse_pieces({input.substr(0, i), input.substr(i)}, eof, lim);
    CHECK_MESSAGE(same(whole, split), "split at " << i);
  }
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < input.size(); ++i) bytes.push_back(input.substr(i, 1));
  CHECK(same(whole, parse_pieces(bytes, eof, lim)));
  return whole;
}

std::string gzip(std::string_view data) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

TEST_CASE("content-length response, split at every byte") {
  std::string in =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Total-Count: 42\r\nX-Empty:\r\n"
      "Content-Length: 13\r\n\r\n{\"users\": []}";
  auto r = grind(in);
  CHECK_FALSE(r.ec);
  CHECK(r.complete);
  CHECK(r.keep_alive);
  CHECK(r.status == 200);
  CHECK(r.body == "{\"users\": []}");
  REQUIRE(r.headers.size() == 4);
  CHECK(r.headers[1].name == "X-Total-Count");
  CHECK(r.headers[1].value == "42");
  CHECK(r.headers[2].name == "X-Empty");
  CHECK(r.headers[2].value == "");
}

TEST_CASE("chunked response with extensions and trailers, split at every byte") {
  std::string in =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n"
      "7;ext\r\n, world\r\n"
      "0\r\nX-Trailer: yes\r\nX-Other: 1\r\n\r\n";
  auto r = grind(in);
  CHECK_FALSE(r.ec);
  CHECK(r.complete);
  CHECK(r.keep_alive);
  CHECK(r.body == "hello, world");
  REQUIRE(r.headers.size() == 1);  // trailers are not kept
  CHECK(r.headers[0].name == "Transfer-Encoding");
}

TEST_CASE("gzip body is inflated, split at every byte") {
  std::string payload;
  for (int i = 0; i < 200; ++i) payload += "{\"id\":" + std::to_string(i) + ",\"name\":\"user\"},";
  std::string z = gzip(payload);
  std::string in = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + std::to_string(z.size()) +
                   "\r\n\r\n" + z;
  auto r = grind(in);
  CHECK_FALSE(r.ec);
  CHECK(r.body == payload);

  SUBCASE("chunked and gzip") {
    std::string c = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n";
    std::size_t half = z.size() / 2;
    auto hex = [](std::size_t n) {
      char b[32];
      std::snprintf(b, sizeof b, "%zx", n);
      return std::string(b);
    };
    c += hex(half) + "\r\n" + z.substr(0, half) + "\r\n" + hex(z.size() - half) + "\r\n" + z.substr(half) + "\r\n0\r\n\r\n";
    auto rc = grind(c);
    CHECK_FALSE(rc.ec);
    CHECK(rc.body == payload);
  }
  SUBCASE("truncated gzip stream is an error") {
    std::string t = z.substr(0, z.size() - 10);
    std::string bad = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + std::to_string(t.size()) +
                      "\r\n\r\n" + t;
    CHECK(parse_pieces({bad}, false).ec == errc::decompress_failed);
  }
  SUBCASE("garbage is an error") {
    std::string bad = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello";
    CHECK(parse_pieces({bad}, false).ec == errc::decompress_failed);
  }
  SUBCASE("decoded size is bounded") {
    auto b = parse_pieces({in}, false, {64 * 1024, 100});
    CHECK(b.ec == errc::body_too_large);
  }
}

TEST_CASE("streaming sink gets decoded chunks and the body stays empty") {
  std::string in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n";
  response_parser p;
  std::string got;
  p.start({1024, 0}, false, [&](std::string_view s) {
    got.append(s);
    return std::error_code{};
  });
  CHECK_FALSE(p.feed(in));
  CHECK(p.message_complete());
  CHECK(got == "abcdef");
  CHECK(p.body().empty());

  response_parser q;
  q.start({1024, 0}, false, [&](std::string_view) { return make_error_code(errc::cancelled); });
  CHECK(q.feed(in) == errc::cancelled);
}

TEST_CASE("early close") {
  SUBCASE("inside a content-length body") {
    auto r = grind("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial", true);
    CHECK(r.ec == errc::truncated_body);
    CHECK(r.status == 200);
    CHECK(r.body == "partial");
  }
  SUBCASE("inside a chunked body") {
    auto r = grind("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", true);
    CHECK(r.ec == errc::truncated_body);
  }
  SUBCASE("before the last chunk") {
    auto r = grind("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", true);
    CHECK(r.ec == errc::truncated_body);
  }
  SUBCASE("inside the headers") {
    auto r = grind("HTTP/1.1 200 OK\r\nContent-Le", true);
    CHECK(r.ec == errc::connection_closed);
  }
  SUBCASE("before any byte") { CHECK(parse_pieces({}, true).ec == errc::connection_closed); }
  SUBCASE("close-delimited body completes on EOF") {
    auto r = grind("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it", true);
    CHECK_FALSE(r.ec);
    CHECK(r.complete);
    CHECK_FALSE(r.keep_alive);
    CHECK(r.body == "all of it");
  }
}

TEST_CASE("limits") {
  std::string big_header = "HTTP/1.1 200 OK\r\nX-Big: " + std::string(2000, 'a') + "\r\nContent-Length: 0\r\n\r\n";
  CHECK(grind(big_header, false, {1024, 0}).ec == errc::header_too_large);
  CHECK_FALSE(parse_pieces({big_header}, false, {4096, 0}).ec);
  std::string many = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 200; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  many += "\r\n";
  CHECK(parse_pieces({many}, false, {1024, 0}).ec == errc::header_too_large);

  CHECK(parse_pieces({"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n"}, false, {1024, 1000}).ec ==
        errc::body_too_large);
  std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" + std::string(1024, 'x') +
                        "\r\n0\r\n\r\n";
  CHECK(grind(chunked, false, {1024, 1000}).ec == errc::body_too_large);
  CHECK_FALSE(parse_pieces({chunked}, false, {1024, 1024}).ec);
}

TEST_CASE("responses without a body") {
  auto r204 = grind("HTTP/1.1 204 No Content\r\nContent-Encoding: gzip\r\n\r\n");
  CHECK_FALSE(r204.ec);
  CHECK(r204.complete);
  CHECK(r204.keep_alive);
  auto r304 = grind("HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n");
  CHECK_FALSE(r304.ec);
  CHECK(r304.complete);
  auto head = parse_pieces({"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n"}, false, {}, true);
  CHECK_FALSE(head.ec);
  CHECK(head.complete);
  CHECK(head.keep_alive);
  CHECK(head.body.empty());
}

TEST_CASE("keep-alive and connection reuse flags") {
  CHECK_FALSE(grind("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok").keep_alive);
  CHECK_FALSE(grind("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok").keep_alive);
  CHECK(grind("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok").keep_alive);
  // Bytes after the message: never reuse the connection.
  auto extra = parse_pieces({"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA"}, false);
  CHECK(extra.complete);
  CHECK(extra.extra == 5);
  CHECK_FALSE(extra.keep_alive);
  // An interim 100 Continue is skipped.
  auto cont = grind("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  CHECK(cont.status == 200);
  CHECK(cont.body == "ok");
}

TEST_CASE("malformed responses") {
  CHECK(parse_pieces({"HTTX/1.1 200 OK\r\n\r\n"}, false).ec == errc::protocol_error);
  CHECK(parse_pieces({"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n"}, false).ec == errc::protocol_error);
  CHECK(parse_pieces({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}, false).ec ==
        errc::protocol_error);
  CHECK(parse_pieces({"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 2\r\n\r\nxx"}, false).ec ==
        errc::decompress_failed);
}

TEST_CASE("the body keeps simdjson padding") {
  auto r = parse_pieces({"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n[1,2]"}, false);
  response_parser p;
  p.start({}, false);
  CHECK_FALSE(p.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n[1]\r\n0\r\n\r\n"));
  CHECK(p.body().capacity() >= p.body().size() + body_padding);
  CHECK(r.body == "[1,2]");
}

}  // namespace bp::net::detail
