#pragma once
// Incremental parser for the learning-activity report: a top-level JSON array of row objects fed in
// arbitrary chunks. A structural scanner (AVX2 when available) tracks string/escape state and depth
// to find complete top-level objects; complete rows are parsed a block at a time with simdjson
// and handed to the sink in batches. Memory stays bounded by block_bytes plus the longest row,
// whatever the report size.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "baton_percipio/percipio/error.hpp"
#include "baton_percipio/percipio/model.hpp"

namespace bp::percipio {

class report_stream_parser {
 public:
  enum class strategy {
    iterate_many,  // one simdjson document stream per block (separating commas blanked)
    per_object,    // one simdjson iterate per row
  };
  struct options {
    std::size_t block_bytes = 1 << 20;     // parse once this many bytes of complete rows are buffered
    std::size_t batch_rows = 4096;         // rows per sink call (at most)
    std::size_t max_row_bytes = 64 << 20;  // a single row (or gap) larger than this is an error
    strategy parse_strategy = strategy::per_object;  // measured faster for ~1 KB rows (bench)
    bool force_scalar_scanner = false;  // tests: exercise the portable scanner
  };
  struct stats {
    std::uint64_t bytes = 0;         // bytes fed
    std::uint64_t rows = 0;          // rows delivered to the sink
    std::uint64_t skipped_rows = 0;  // rows without a usable userUuid/contentUuid
  };
  using row_sink = std::function<void(std::span<const report_row>)>;

  explicit report_stream_parser(row_sink sink, std::string context = "report");
  report_stream_parser(row_sink sink, std::string context, options opts);
  ~report_stream_parser();
  report_stream_parser(const report_stream_parser&) = delete;
  report_stream_parser& operator=(const report_stream_parser&) = delete;

  // Feeds the next bytes. After a failure every later call returns the same failure.
  result<void> feed(std::string_view chunk);
  // Ends the input: flushes the remaining rows; fails if the array is truncated.
  result<void> finish();
  // Starts over for a new download (e.g. a retried GET); keeps buffers.
  void reset();

  const stats& statistics() const noexcept { return stats_; }

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  stats stats_;
};

}  // namespace bp::percipio
