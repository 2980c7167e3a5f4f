// The llhttp response glue: any byte stream, fed whole and fed in fuzzer-chosen pieces, must give
// the same outcome (status, headers, decoded body, error) and respect the header and body limits.
#include <string>
#include <vector>

#include "baton_percipio/net/detail/response_parser.hpp"
#include "baton_percipio/net/error.hpp"
#include "fuzz/targets.hpp"

namespace bp::fuzz {
namespace {

struct outcome {
  std::error_code ec;
  bool complete = false;
  int status = 0;
  std::vector<net::header> headers;
  std::string body;
  std::size_t extra = 0;
};

struct parse_config {
  net::detail::response_parser::limits lim;
  bool head = false;
  bool use_sink = false;
  bool gunzip = true;
};

template <class Feeder>
outcome parse(const parse_config& c, Feeder&& feed_all) {
  net::detail::response_parser p;
  std::string sunk;
  net::body_sink sink;
  if (c.use_sink) {
    sink = [&](std::string_view s) -> std::error_code {
      sunk.append(s);
      return {};
    };
  }
  p.start(c.lim, c.head, sink, c.gunzip);
  outcome o;
  o.ec = feed_all(p);
  if (!o.ec && !p.message_complete()) o.ec = p.finish_eof();
  o.complete = p.message_complete();
  if (!o.ec) {
    o.status = p.status();
    o.headers = p.headers();
    o.body = c.use_sink ? sunk : p.body();
    o.extra = p.extra_bytes();
    // The padding simdjson relies on.
    if (o.complete && !c.use_sink) BP_FUZZ_CHECK(p.body().capacity() >= p.body().size() + net::body_padding);
    if (!c.use_sink && c.lim.max_body_bytes != 0) BP_FUZZ_CHECK(o.body.size() <= c.lim.max_body_bytes);
  }
  return o;
}

}  // namespace

int http_response(const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  parse_config c;
  const std::uint8_t opts = in.byte();
  c.head = (opts & 1) != 0;
  c.use_sink = (opts & 2) != 0;
  c.gunzip = (opts & 4) == 0;
  c.lim.max_header_bytes = 32 + std::size_t{in.u16()};
  c.lim.max_body_bytes = (opts & 8) ? 0 : std::size_t{in.u16()} * 4;
  splitter sp;
  sp.read(in);
  const std::string_view text = in.rest();

  const outcome whole = parse(c, [&](net::detail::response_parser& p) { return p.feed(text); });
  const outcome pieces = parse(c, [&](net::detail::response_parser& p) {
    std::error_code ec;
    sp.for_each(text, [&](std::string_view piece) {
      ec = p.feed(piece);
      return !ec;
    });
    return ec;
  });

  // A response that is both over a limit and malformed further on may report either, depending on
  // where the network split it (llhttp hands over a header span when the buffer ends, or not at all
  // when a bad byte follows in the same buffer). Any other difference is a bug.
  auto is_limit = [](std::error_code ec) {
    return ec == net::errc::header_too_large || ec == net::errc::body_too_large;
  };
  BP_FUZZ_CHECK(whole.ec == pieces.ec || (whole.ec && pieces.ec && (is_limit(whole.ec) || is_limit(pieces.ec))));
  BP_FUZZ_CHECK(whole.complete == pieces.complete);
  if (!whole.ec) {
    BP_FUZZ_CHECK(whole.status == pieces.status);
    BP_FUZZ_CHECK(whole.body == pieces.body);
    BP_FUZZ_CHECK(whole.extra == pieces.extra);
    BP_FUZZ_CHECK(whole.headers.size() == pieces.headers.size());
    for (std::size_t i = 0; i < whole.headers.size(); ++i) {
      BP_FUZZ_CHECK(whole.headers[i].name == pieces.headers[i].name);
      BP_FUZZ_CHECK(whole.headers[i].value == pieces.headers[i].value);
    }
  }
  return 0;
}

}  // namespace bp::fuzz
