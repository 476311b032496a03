// lara/series.h: the in-memory multivariate time series and its readers.
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace lara {

//! T time steps × d metrics, row-major float32. `first_row` is the 0-based data-row number of
//! row 0 in the file it came from, so outputs can be lined up with the file and its labels.
struct Series {
    std::int64_t n_rows = 0;
    std::int64_t n_metrics = 0;
    std::vector<float> values;              // n_rows * n_metrics, row-major
    std::vector<std::string> metric_names;  // from the header line; empty when there is none
    std::vector<double> timestamps;         // epoch seconds; empty when the file has no timestamp column
    std::int64_t first_row = 0;             // data-row index of row 0 in `source`
    std::string source;                     // file path, or a description of a generated series

    float at(std::int64_t row, std::int64_t metric) const { return values[static_cast<std::size_t>(row * n_metrics + metric)]; }
    //! Rows [from, to) as a new series (first_row and timestamps follow).
    Series slice(std::int64_t from, std::int64_t to) const;
    //! Rows [from, to) with up to `past` rows before them (fewer near the start), and how many of
    //! its rows are that past: what Detector::score and Detector::retrain take as context_rows, so
    //! that the rows from `from` on are scored by the windows that end at them (past = w − 1).
    std::pair<Series, std::int64_t> slice_with_past(std::int64_t from, std::int64_t to, std::int64_t past) const;
};

enum class FillPolicy {
    reject,   // NaN, infinity or an empty field is an error (the default)
    forward,  // replaced by the same metric's previous value; an error on the first row
};

enum class TimestampColumn {
    detect,  // the first column is a timestamp if its header is time/timestamp/date/datetime/ts, or its values are ISO-8601;
             // else, when its header name is empty (pandas' index), it is dropped: neither metric nor timestamp
    none,    // every column is a metric (so an empty first header name is refused)
    first,   // the first column is a timestamp (ISO-8601 or epoch seconds)
};

struct ReadOptions {
    std::int64_t from = 0;  // first data row to keep (0-based, header excluded)
    std::int64_t to = -1;   // one past the last data row to keep; -1 means the end of the file
    //! Up to this many rows before `from` are kept too (fewer near the file's start): the past that
    //! the first windows of the range need (Detector::score's context_rows). read_series() sets
    //! Series::first_row to where they begin; range errors still speak of `from`.
    std::int64_t context_rows = 0;
    FillPolicy fill = FillPolicy::reject;
    TimestampColumn timestamp = TimestampColumn::detect;

    //! The first data row kept, context rows included.
    std::int64_t first_kept() const { return from > context_rows ? from - context_rows : 0; }
};

//! Reads a comma-separated numeric file: one time step per line, an optional header line, an
//! optional leading timestamp column. Throws lara::Error (kind data) naming file:line:column.
Series read_series(const std::string& path, const ReadOptions& options = {});

//! Reads a series in read_series()'s format one data row at a time, from a stream whose rows may
//! still be arriving (a pipe, a socket): `lara score --data -` reads standard input through it.
//! The constructor reads the first line, and after a header the first data row too (it decides
//! whether the first column is a timestamp); next() reads one row. Errors are read_series()'s,
//! naming `source`:line:column. A blank line is an error only once a row follows it.
class RowReader {
public:
    RowReader(std::istream& in, std::string source, const ReadOptions& options = {});
    ~RowReader();
    RowReader(RowReader&&) noexcept;
    RowReader& operator=(RowReader&&) noexcept;

    std::int64_t n_metrics() const;
    const std::vector<std::string>& metric_names() const;  // from the header; empty without one
    bool has_timestamps() const;
    //! The next row in [first_kept(), to), the context rows before `from` included: n_metrics
    //! values and the timestamp in epoch seconds (0 without a timestamp column). False after the
    //! last. Rows before those are read and skipped: their cells are not checked, their widths are.
    bool next(std::vector<float>& values, double& timestamp);

private:
    struct State;
    std::unique_ptr<State> state_;
};

//! Reads one 0/1 label per line, data rows [from, to) (to = -1: to the end).
std::vector<int> read_labels(const std::string& path, std::int64_t from = 0, std::int64_t to = -1);

}  // namespace lara
