#include "baton_percipio/net/detail/response_parser.hpp"

#include <llhttp.h>

#include <optional>

#include "baton_percipio/net/error.hpp"

namespace bp::net::detail {

struct response_parser::state {
  llhttp_t parser{};
  llhttp_settings_t settings{};
  limits lim;
  bool head_request = false;
  bool gunzip = true;
  body_sink sink;
  std::error_code pending;  // our own error, reported instead of llhttp's callback error
  std::size_t header_bytes = 0;
  std::string cur_name;
  std::string cur_value;
  std::uint64_t raw_body_bytes = 0;
  std::uint64_t decoded_body_bytes = 0;
  std::optional<inflater> inflate;
  bool inflate_fed = false;
  bool unsupported_encoding = false;
  bool keep_alive = false;
};

struct callbacks {
  static response_parser& self(llhttp_t* p) { return *static_cast<response_parser*>(p->data); }

  static int fail(response_parser& r, errc e) {
    r.st_->pending = e;
    return -1;
  }

  static int count_header(response_parser& r, std::size_t n) {
    r.st_->header_bytes += n;
    if (r.st_->header_bytes > r.st_->lim.max_header_bytes) return fail(r, errc::header_too_large);
    return 0;
  }

  static int on_message_begin(llhttp_t* p) {
    auto& r = self(p);
    r.status_ = 0;
    r.headers_.clear();
    r.headers_complete_ = false;
    r.st_->header_bytes = 16;  // "HTTP/1.1 200 " and CRLF around the reason
    return 0;
  }
  // Called once per received piece of the reason phrase: count only its bytes, so the limit does not
  // depend on how the network split the status line (found by fuzz_http_response).
  static int on_status(llhttp_t* p, const char*, std::size_t n) { return count_header(self(p), n); }
  static int on_header_field(llhttp_t* p, const char* at, std::size_t n) {
    auto& r = self(p);
    if (int rc = count_header(r, n)) return rc;
    if (!r.headers_complete_) r.st_->cur_name.append(at, n);
    return 0;
  }
  static int on_header_value(llhttp_t* p, const char* at, std::size_t n) {
    auto& r = self(p);
    if (int rc = count_header(r, n)) return rc;
    if (!r.headers_complete_) r.st_->cur_value.append(at, n);
    return 0;
  }
  static int on_header_value_complete(llhttp_t* p) {
    auto& r = self(p);
    if (int rc = count_header(r, 4)) return rc;  // ": " and CRLF
    if (!r.headers_complete_) {  // trailers are bounded but not kept
      r.headers_.push_back(header{std::move(r.st_->cur_name), std::move(r.st_->cur_value)});
    }
    r.st_->cur_name.clear();
    r.st_->cur_value.clear();
    return 0;
  }
  static int on_headers_complete(llhttp_t* p) {
    auto& r = self(p);
    auto& st = *r.st_;
    r.status_ = p->status_code;
    r.headers_complete_ = true;
    st.header_bytes = 0;  // trailers get their own budget
    bool informational = r.status_ >= 100 && r.status_ < 200;
    if (!informational) {
      if (auto enc = find_header(r.headers_, "Content-Encoding"); enc && st.gunzip) {
        if (iequals(*enc, "gzip") || iequals(*enc, "x-gzip") || iequals(*enc, "deflate")) {
          st.inflate.emplace();
        } else if (!enc->empty() && !iequals(*enc, "identity")) {
          st.unsupported_encoding = true;
        }
      }
      if (!st.sink && !st.inflate && (p->flags & F_CONTENT_LENGTH) != 0) {
        std::uint64_t cl = p->content_length;
        if (st.lim.max_body_bytes != 0 && cl > st.lim.max_body_bytes) return fail(r, errc::body_too_large);
        if (cl < (64u << 20)) r.body_.reserve(static_cast<std::size_t>(cl) + body_padding);
      }
    }
    // 1 tells llhttp that no body follows, whatever Content-Length says.
    bool no_body = st.head_request || r.status_ == 204 || r.status_ == 304 || (informational && r.status_ != 101);
    return no_body ? 1 : 0;
  }
  static std::error_code deliver(response_parser& r, std::string_view s) {
    auto& st = *r.st_;
    st.decoded_body_bytes += s.size();
    if (st.sink) return st.sink(s);
    if (st.lim.max_body_bytes != 0 && st.decoded_body_bytes > st.lim.max_body_bytes) return errc::body_too_large;
    auto& b = r.body_;
    if (b.capacity() < b.size() + s.size() + body_padding) {
      b.reserve(std::max(b.capacity() * 2, b.size() + s.size() + body_padding));
    }
    b.append(s);
    return {};
  }
  static int on_body(llhttp_t* p, const char* at, std::size_t n) {
    auto& r = self(p);
    auto& st = *r.st_;
    st.raw_body_bytes += n;
    if (!st.sink && st.lim.max_body_bytes != 0 && st.raw_body_bytes > st.lim.max_body_bytes)
      return fail(r, errc::body_too_large);
    if (st.unsupported_encoding) return fail(r, errc::decompress_failed);
    std::error_code ec;
    if (st.inflate) {
      st.inflate_fed = true;
      ec = st.inflate->feed(std::string_view(at, n), [&](std::string_view s) { return deliver(r, s); });
    } else {
      ec = deliver(r, std::string_view(at, n));
    }
    if (ec) {
      st.pending = ec;
      return -1;
    }
    return 0;
  }
  static int on_message_complete(llhttp_t* p) {
    auto& r = self(p);
    auto& st = *r.st_;
    if (r.status_ >= 100 && r.status_ < 200 && r.status_ != 101) {
      r.headers_.clear();  // interim response: the real one follows on the same stream
      r.headers_complete_ = false;
      return 0;
    }
    if (st.inflate && st.inflate_fed) {
      if (auto ec = st.inflate->finish()) return fail(r, errc::decompress_failed);
    }
    if (!st.sink && r.body_.capacity() < r.body_.size() + body_padding) r.body_.reserve(r.body_.size() + body_padding);
    st.keep_alive = llhttp_should_keep_alive(p) != 0;
    r.message_complete_ = true;
    return HPE_PAUSED;  // stop here: anything after it is not ours
  }
};

response_parser::response_parser() : st_(std::make_unique<state>()) {
  auto& s = st_->settings;
  llhttp_settings_init(&s);
  s.on_message_begin = &callbacks::on_message_begin;
  s.on_status = &callbacks::on_status;
  s.on_header_field = &callbacks::on_header_field;
  s.on_header_value = &callbacks::on_header_value;
  s.on_header_value_complete = &callbacks::on_header_value_complete;
  s.on_headers_complete = &callbacks::on_headers_complete;
  s.on_body = &callbacks::on_body;
  s.on_message_complete = &callbacks::on_message_complete;
}

response_parser::~response_parser() = default;

void response_parser::start(limits lim, bool head_request, body_sink sink, bool gunzip) {
  auto& s = *st_;
  llhttp_init(&s.parser, HTTP_RESPONSE, &s.settings);
  s.parser.data = this;
  s.lim = lim;
  s.head_request = head_request;
  s.gunzip = gunzip;
  s.sink = std::move(sink);
  s.pending.clear();
  s.header_bytes = 0;
  s.cur_name.clear();
  s.cur_value.clear();
  s.raw_body_bytes = 0;
  s.decoded_body_bytes = 0;
  s.inflate.reset();
  s.inflate_fed = false;
  s.unsupported_encoding = false;
  s.keep_alive = false;
  status_ = 0;
  headers_.clear();
  body_ = std::string();
  headers_complete_ = false;
  message_complete_ = false;
  extra_bytes_ = 0;
  bytes_fed_ = 0;
}

bool response_parser::keep_alive() const { return message_complete_ && st_->keep_alive && extra_bytes_ == 0; }

std::error_code response_parser::feed(std::string_view data) {
  auto& s = *st_;
  if (message_complete_) {
    extra_bytes_ += data.size();
    return {};
  }
  bytes_fed_ += data.size();
  llhttp_errno_t err = llhttp_execute(&s.parser, data.data(), data.size());
  if (err == HPE_OK) return {};
  if (err == HPE_PAUSED && message_complete_) {
    const char* pos = llhttp_get_error_pos(&s.parser);
    if (pos != nullptr && pos >= data.data() && pos <= data.data() + data.size()) {
      extra_bytes_ = static_cast<std::size_t>(data.data() + data.size() - pos);
    }
    return {};
  }
  if (s.pending) return s.pending;
  return errc::protocol_error;
}

std::error_code response_parser::finish_eof() {
  auto& s = *st_;
  if (message_complete_) return {};
  if (s.pending) return s.pending;
  if (!headers_complete_) return errc::connection_closed;
  // llhttp_finish passes a failing callback's raw return (-1) through, which is no llhttp_errno_t
  // value: keep it as an int (UBSan flags the enum load; found by fuzz_http_response).
  const int err = static_cast<int>(llhttp_finish(&s.parser));
  if (message_complete_) return {};
  if (err == HPE_USER || err < 0 || s.pending) return s.pending ? s.pending : make_error_code(errc::protocol_error);
  return errc::truncated_body;
}

}  // namespace bp::net::detail
