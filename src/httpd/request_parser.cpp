#include "baton_percipio/httpd/request_parser.hpp"

#include <llhttp.h>

namespace bp::httpd {

struct request_parser::impl {
  llhttp_t parser{};
  llhttp_settings_t settings{};
  parser_limits limits;
  request req;
  std::size_t header_bytes = 0;
  bool in_value = false;
  bool complete = false;
  bool failed = false;
  int error_status = 400;

  explicit impl(parser_limits l) : limits(l) {
    llhttp_settings_init(&settings);
    settings.on_url = [](llhttp_t* p, const char* at, std::size_t n) {
      return self(p)->add_header_bytes(n) ? (self(p)->req.target.append(at, n), 0) : -1;
    };
    settings.on_header_field = [](llhttp_t* p, const char* at, std::size_t n) {
      impl* s = self(p);
      if (!s->add_header_bytes(n)) return -1;
      if (s->in_value || s->req.headers.empty()) {
        s->req.headers.push_back({});
        s->in_value = false;
      }
      s->req.headers.back().name.append(at, n);
      return 0;
    };
    settings.on_header_value = [](llhttp_t* p, const char* at, std::size_t n) {
      impl* s = self(p);
      if (!s->add_header_bytes(n)) return -1;
      s->in_value = true;
      s->req.headers.back().value.append(at, n);
      return 0;
    };
    settings.on_headers_complete = [](llhttp_t* p) {
      impl* s = self(p);
      s->req.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
      std::string_view t = s->req.target;
      std::size_t q = t.find('?');
      s->req.path = std::string(t.substr(0, q));
      s->req.query = q == std::string_view::npos ? std::string() : std::string(t.substr(q + 1));
      if (p->content_length > s->limits.max_body_bytes && (p->flags & F_CONTENT_LENGTH)) {
        s->error_status = 413;
        return -1;
      }
      return 0;
    };
    settings.on_body = [](llhttp_t* p, const char* at, std::size_t n) {
      impl* s = self(p);
      if (s->req.body.size() + n > s->limits.max_body_bytes) {
        s->error_status = 413;
        return -1;
      }
      s->req.body.append(at, n);
      return 0;
    };
    settings.on_message_complete = [](llhttp_t* p) {
      impl* s = self(p);
      s->req.keep_alive = llhttp_should_keep_alive(p) != 0;
      s->complete = true;
      return static_cast<int>(HPE_PAUSED);  // hand the request over before parsing a pipelined one
    };
    llhttp_init(&parser, HTTP_REQUEST, &settings);
    parser.data = this;
  }

  static impl* self(llhttp_t* p) { return static_cast<impl*>(p->data); }

  bool add_header_bytes(std::size_t n) {
    header_bytes += n;
    if (header_bytes > limits.max_header_bytes) {
      error_status = 431;
      return false;
    }
    return true;
  }

  result finish(llhttp_errno_t err, const char* begin, std::size_t size) {
    if (err == HPE_OK) return {size, complete ? state::complete : state::need_more};
    if (err == HPE_PAUSED && complete) {
      const char* pos = llhttp_get_error_pos(&parser);
      std::size_t used = pos && pos >= begin ? static_cast<std::size_t>(pos - begin) : size;
      return {used, state::complete};
    }
    failed = true;
    return {size, state::error};
  }
};

request_parser::request_parser(parser_limits limits) : impl_(std::make_unique<impl>(limits)) {}
request_parser::~request_parser() = default;

request_parser::result request_parser::feed(std::string_view data) {
  if (impl_->failed) return {0, state::error};
  if (impl_->complete) return {0, state::complete};
  if (data.empty()) return {0, state::need_more};
  auto err = llhttp_execute(&impl_->parser, data.data(), data.size());
  return impl_->finish(err, data.data(), data.size());
}

request_parser::result request_parser::feed_eof() {
  if (impl_->failed) return {0, state::error};
  if (impl_->complete) return {0, state::complete};
  auto err = llhttp_finish(&impl_->parser);
  if (err == HPE_OK && impl_->complete) return {0, state::complete};
  if (err == HPE_PAUSED && impl_->complete) return {0, state::complete};
  impl_->failed = true;
  return {0, state::error};
}

request& request_parser::current() { return impl_->req; }

void request_parser::next() {
  impl_->req = request{};
  impl_->header_bytes = 0;
  impl_->in_value = false;
  if (impl_->complete) llhttp_resume(&impl_->parser);
  impl_->complete = false;
}

int request_parser::error_status() const { return impl_->error_status; }

}  // namespace bp::httpd
