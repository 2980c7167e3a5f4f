#pragma once
// Applies one record batch to the c1z writer. Runs on the writer thread, which owns SQLite.
#include <atomic>
#include <cstdint>
#include <string>

#include "baton_percipio/c1z/writer.hpp"
#include "record_batch.hpp"

namespace bp::sync::detail {

// Users arrive as parsed records and are mapped and encoded here, off the io thread; everything
// else is already encoded. `rows_written` counts the batch's rows for progress.
void apply(c1z::writer& w, record_batch& b, std::string& scratch, std::atomic<std::uint64_t>& rows_written);

}  // namespace bp::sync::detail
