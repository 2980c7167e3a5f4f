#pragma once
// Paging header parsers. Both are garbage tolerant: anything unparsable gives nullopt.
#include <cstdint>
#include <optional>
#include <string_view>

namespace bp::percipio {

// The `offset` query parameter of the `rel="last"` entry of a Link header such as
// `</v2/organizations/o/catalog-content?offset=2000&max=1000&pagingRequestId=p>; page="3";
// per_page="1000"; rel="last"`. URLs may be relative or absolute, rel quoted or not, and rel may
// hold several space-separated values.
std::optional<std::uint64_t> parse_link_last_offset(std::string_view link) noexcept;

// x-total-count: optional surrounding whitespace around a non-negative decimal integer.
std::optional<std::uint64_t> parse_total_count(std::string_view value) noexcept;

}  // namespace bp::percipio
