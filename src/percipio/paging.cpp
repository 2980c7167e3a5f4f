#include "baton_percipio/percipio/api_client.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

// The paged lists of the API client: users (parallel offsets after the first page), catalog
// (paging id from page 1, then parallel), and the search-content lookups of single courses.
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "baton_percipio/core/ascii.hpp"
#include "baton_percipio/core/log.hpp"
#include "baton_percipio/percipio/headers.hpp"
#include "baton_percipio/percipio/parse.hpp"
#include "client_impl.hpp"
#include "coro_tools.hpp"
#include "http_failure.hpp"

namespace bp::percipio {
namespace {

using asio::awaitable;
using detail::content_service;
using detail::users_service;
using net::url_encode;

template <class T>
struct fetched {
  page<T> pg;
  std::vector<net::header> headers;
};

// GET one JSON array page with retries; a 2xx whose body does not parse is retried too.
template <class T>
awaitable<result<fetched<T>>> get_page(api_client::impl& m, std::string target, std::string context,
                                       const char* service, bp::deadline d,
                                       result<page<T>> (*parse)(std::string_view, std::string_view)) {
  auto req = m.make_request("GET", target);
  if (!req) co_return make_failure(errc::upstream_failed, fmt::format("{}: invalid base URL", context));
  std::optional<result<page<T>>> parsed;
  net::response_validator validate = [&](const net::response& r) -> std::error_code {
    parsed.emplace(parse(r.body, context));
    return parsed->ok() ? std::error_code{} : make_error_code(errc::malformed_response);
  };
  auto [ec, resp] = co_await net::async_request_with_retry(m.http, std::move(*req), d, m.cfg.retry, &m.lim, m.rs,
                                                             validate);
  if (ec == errc::malformed_response && parsed && !parsed->ok()) co_return parsed->error();
  if (auto f = detail::http_failure(ec, resp, "GET", target, service, context, d)) co_return std::move(*f);
  if (!parsed) co_return make_failure(errc::malformed_response, fmt::format("{}: no body", context));
  if (!parsed->ok()) co_return parsed->error();
  ++m.pages;
  co_return fetched<T>{std::move(parsed->value()), std::move(resp.headers)};
}

// Fetches `offsets` (ascending) with up to cfg.concurrency workers.
template <class T>
awaitable<std::optional<failure>> fetch_offsets(api_client::impl& m, std::vector<std::uint64_t> offsets,
                                                std::function<std::string(std::uint64_t)> target_of,
                                                const char* what, const char* service, bp::deadline d,
                                                result<page<T>> (*parse)(std::string_view, std::string_view),
                                                const page_handler<T>& on_page, list_summary& sum) {
  std::size_t next = 0;
  std::optional<failure> failed;
  const std::size_t workers = std::min(m.cfg.concurrency, offsets.size());
  if (workers == 0) co_return std::nullopt;
  co_await detail::run_workers(workers, [&]() -> awaitable<void> {
    while (!failed && next < offsets.size()) {
      const std::uint64_t off = offsets[next++];
      auto r = co_await get_page<T>(m, target_of(off), fmt::format("{} offset={}", what, off), service, d, parse);
      if (!r) {
        if (!failed) failed = r.error();
        co_return;
      }
      if (r->pg.elements < m.cfg.page_size && off + m.cfg.page_size <= offsets.back())
        log::warn("short page before the last offset", {{"list", what}, {"offset", off},
                                                        {"elements", r->pg.elements}});
      ++sum.pages;
      sum.items += r->pg.items.size();
      co_await on_page(std::move(r->pg.items));
    }
  });
  co_return failed;
}

}  // namespace

awaitable<result<list_summary>> api_client::async_list_users(bp::deadline d, page_handler<user> on_page) {
  auto& m = *impl_;
  const std::size_t ps = m.cfg.page_size;
  auto target_of = [&m, ps](std::uint64_t off) {
    return m.org_path(users_service, "v1", fmt::format("users?offset={}&max={}", off, ps));
  };
  list_summary sum;
  auto first = co_await get_page<user>(m, target_of(0), "users page offset=0", users_service, d, &parse_users_page);
  if (!first) co_return first.error();
  const auto total = [&]() -> std::optional<std::uint64_t> {
    if (auto h = net::find_header(first->headers, "x-total-count")) return parse_total_count(*h);
    return std::nullopt;
  }();
  std::size_t last_elements = first->pg.elements;
  ++sum.pages;
  sum.items += first->pg.items.size();
  co_await on_page(std::move(first->pg.items));
  if (total) {
    std::vector<std::uint64_t> offsets;
    for (std::uint64_t off = ps; off < *total; off += ps) offsets.push_back(off);
    if (auto f = co_await fetch_offsets<user>(m, std::move(offsets), target_of, "users page", users_service, d,
                                                &parse_users_page, on_page, sum))
      co_return std::move(*f);
    co_return sum;
  }
  log::debug("users: no usable x-total-count; paging until a short page");
  for (std::uint64_t off = ps; last_elements >= ps; off += ps) {
    auto r = co_await get_page<user>(m, target_of(off), fmt::format("users page offset={}", off), users_service, d,
                                     &parse_users_page);
    if (!r) co_return r.error();
    last_elements = r->pg.elements;
    ++sum.pages;
    sum.items += r->pg.items.size();
    co_await on_page(std::move(r->pg.items));
  }
  co_return sum;
}

awaitable<result<list_summary>> api_client::async_list_catalog(bp::deadline d, page_handler<content_item> on_page) {
  auto& m = *impl_;
  const std::size_t ps = m.cfg.page_size;
  list_summary sum;
  // Page 1 without pagingRequestId: a blank id breaks paging since April 2025 (spec 3.4).
  const std::string first_target =
      m.org_path(content_service, "v2", fmt::format("catalog-content?offset=0&max={}", ps));
  auto first = co_await get_page<content_item>(m, first_target, "catalog page offset=0", content_service, d,
                                                 &parse_catalog_page);
  if (!first) co_return first.error();
  std::string paging_id;
  if (auto h = net::find_header(first->headers, "x-paging-request-id")) paging_id = std::string(*h);
  std::optional<std::uint64_t> last_offset;
  if (auto h = net::find_header(first->headers, "link")) last_offset = parse_link_last_offset(*h);
  if (!last_offset) {
    if (auto h = net::find_header(first->headers, "x-total-count")) {
      if (auto t = parse_total_count(*h)) last_offset = *t == 0 ? 0 : ((*t - 1) / ps) * ps;
    }
  }
  std::size_t last_elements = first->pg.elements;
  ++sum.pages;
  sum.items += first->pg.items.size();
  co_await on_page(std::move(first->pg.items));

  auto target_of = [&m, ps, &paging_id](std::uint64_t off) {
    std::string q = fmt::format("catalog-content?offset={}&max={}", off, ps);
    if (!paging_id.empty()) q += "&pagingRequestId=" + url_encode(paging_id);
    return m.org_path(content_service, "v2", q);
  };
  if (last_offset) {
    std::vector<std::uint64_t> offsets;
    for (std::uint64_t off = ps; off <= *last_offset; off += ps) offsets.push_back(off);
    if (!offsets.empty() && paging_id.empty())
      log::warn("catalog: first page had no x-paging-request-id; later pages are requested without one");
    if (auto f = co_await fetch_offsets<content_item>(m, std::move(offsets), target_of, "catalog page",
                                                        content_service, d, &parse_catalog_page, on_page, sum))
      co_return std::move(*f);
    co_return sum;
  }
  log::debug("catalog: neither Link rel=last nor x-total-count; paging until a short page");
  for (std::uint64_t off = ps; last_elements >= ps; off += ps) {
    auto r = co_await get_page<content_item>(m, target_of(off), fmt::format("catalog page offset={}", off),
                                               content_service, d, &parse_catalog_page);
    if (!r) co_return r.error();
    if (paging_id.empty()) {
      if (auto h = net::find_header(r->headers, "x-paging-request-id")) paging_id = std::string(*h);
    }
    last_elements = r->pg.elements;
    ++sum.pages;
    sum.items += r->pg.items.size();
    co_await on_page(std::move(r->pg.items));
  }
  co_return sum;
}

awaitable<result<lookup_result>> api_client::async_lookup_courses(std::vector<std::string> ids, bp::deadline d) {
  auto& m = *impl_;
  std::vector<std::optional<content_item>> found(ids.size());
  std::size_t next = 0;
  std::optional<failure> failed;
  const std::size_t workers = std::min(m.cfg.concurrency, ids.size());
  if (workers > 0) {
    co_await detail::run_workers(workers, [&]() -> awaitable<void> {
      while (!failed && next < ids.size()) {
        const std::size_t i = next++;
        const std::string target = m.org_path(
            content_service, "v1", fmt::format("search-content?q={}&typeFilter=COURSE%2CASSESSMENT", url_encode(ids[i])));
        auto r = co_await get_page<content_item>(m, target, fmt::format("search q={}", ids[i]), content_service, d,
                                                 &parse_search_results);
        if (!r) {
          if (!failed) failed = r.error();
          co_return;
        }
        for (auto& item : r->pg.items) {
          if (ascii::iequals(item.id, ids[i])) {
            found[i] = std::move(item);
            break;
          }
        }
      }
    });
  }
  if (failed) co_return std::move(*failed);
  lookup_result out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (found[i]) out.items.push_back(std::move(*found[i]));
    else out.not_found.push_back(ids[i]);
  }
  co_return out;
}

}  // namespace bp::percipio
