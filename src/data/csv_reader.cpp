// Readers for comma-separated series files and 0/1 label files (lara/series.h).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/read_file.h"
#include "lara/error.h"
#include "lara/series.h"

namespace lara {
namespace {

using core::quoted;

//! One comma-separated field, trimmed, and where it starts in its line (for error columns).
struct Field {
    std::string_view text;
    std::size_t offset;
};

bool is_blank_char(char c) { return c == ' ' || c == '\t'; }

bool is_blank(std::string_view line) {
    return std::all_of(line.begin(), line.end(), is_blank_char);
}

// Classic Mac OS ended lines with a carriage return alone: the file would read as one line.
[[noreturn]] void fail_classic_mac(const std::string& path) {
    throw Error(ErrorKind::data, path + ": its lines end with a carriage return alone (classic Mac OS); convert them to line feeds");
}

std::string read_file(const std::string& path) {
    std::string text = core::read_text_file(path, ErrorKind::data);
    if (text.find('\n') == std::string::npos && text.find('\r') + 1 < text.size()) fail_classic_mac(path);
    return text;
}

//! Walks the physical lines of a text, without their "\n" or "\r\n", counting them from 1.
class LineCursor {
public:
    explicit LineCursor(std::string_view text) : text_(text) {}

    bool next(std::string_view& line) {
        if (pos_ >= text_.size()) return false;
        std::size_t end = text_.find('\n', pos_);
        if (end == std::string_view::npos) end = text_.size();
        line = text_.substr(pos_, end - pos_);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        pos_ = end + 1;
        ++number_;
        return true;
    }
    std::int64_t number() const { return number_; }

    //! Lines from here to the end that are not blank (trailing blank lines are allowed).
    std::int64_t count_remaining_rows() const {
        LineCursor copy = *this;
        std::int64_t rows = 0;
        std::string_view line;
        while (copy.next(line))
            if (!is_blank(line)) ++rows;
        return rows;
    }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
    std::int64_t number_ = 0;
};

void split_fields(std::string_view line, std::vector<Field>& out) {
    out.clear();
    std::size_t start = 0;
    while (true) {
        std::size_t end = line.find(',', start);
        if (end == std::string_view::npos) end = line.size();
        std::size_t b = start;
        std::size_t e = end;
        while (b < e && is_blank_char(line[b])) ++b;
        while (e > b && is_blank_char(line[e - 1])) --e;
        out.push_back({line.substr(b, e - b), b < e ? b : start});
        if (end == line.size()) break;
        start = end + 1;
    }
}

//! Where errors point: the file, the physical line and its text.
struct Location {
    const std::string& path;
    std::int64_t line_number;
    std::string_view line;
};

[[noreturn]] void fail_at(const Location& at, std::size_t offset, const std::string& what) {
    throw Error(ErrorKind::data, at.path + ":" + std::to_string(at.line_number) + ":" +
                                     std::to_string(core::column(at.line, offset)) + ": " + what);
}

std::string field_name(std::size_t index) { return "field " + std::to_string(index + 1); }

//! What a field that is not a number most likely is, for the error: "" when nothing is clear.
std::string hint_for(std::string_view text) {
    if (!text.empty() && (text.front() == '"' || text.front() == '\'')) return " (quoted fields are not read: remove the quotes)";
    if (!text.empty() && text.front() == '#') return " (comment lines are not read)";
    if (text.find_first_of(";\t") != std::string_view::npos) return " (fields are separated by commas)";
    return "";
}

//! Parses a whole field as a number, accepting nan and inf; false when it is not one.
bool parse_double(std::string_view text, double& out) {
    // from_chars takes no leading '+', which some writers emit.
    if (text.size() > 1 && text[0] == '+' && text[1] != '-' && text[1] != '+') text.remove_prefix(1);
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, out);
    if (ptr != end || text.empty()) return false;
    if (ec == std::errc::result_out_of_range) {
        // from_chars leaves `out` unset here; strtod tells underflow (≈0) from overflow, which
        // becomes ±DBL_MAX so that it reads as too large rather than as a written "inf".
        out = std::strtod(std::string(text).c_str(), nullptr);
        if (std::isinf(out)) out = std::copysign(std::numeric_limits<double>::max(), out);
        return true;
    }
    return ec == std::errc();
}

int days_in_month(int year, int month) {
    static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

//! Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil), year ≥ 0.
std::int64_t days_from_civil(int year, int month, int day) {
    year -= month <= 2;
    const int era = year / 400;
    const int year_of_era = year - era * 400;
    const int day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    const int day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return static_cast<std::int64_t>(era) * 146097 + day_of_era - 719468;
}

//! YYYY-MM-DD, optionally followed by T or a space, hh:mm[:ss[.fraction]] and Z or ±hh[[:]mm].
//! Without an offset the time is taken as UTC.
bool parse_iso8601(std::string_view s, double& out) {
    std::size_t i = 0;
    auto digits = [&](int count, int& value) {
        if (i + static_cast<std::size_t>(count) > s.size()) return false;
        value = 0;
        for (int k = 0; k < count; ++k, ++i) {
            if (s[i] < '0' || s[i] > '9') return false;
            value = value * 10 + (s[i] - '0');
        }
        return true;
    };
    auto take = [&](char c) {
        if (i < s.size() && s[i] == c) return ++i, true;
        return false;
    };
    int year = 0, month = 0, day = 0;
    if (!digits(4, year) || !take('-') || !digits(2, month) || !take('-') || !digits(2, day)) return false;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return false;
    double seconds = 0.0;
    if (i < s.size()) {
        if (!take('T') && !take('t') && !take(' ')) return false;
        int hour = 0, minute = 0, second = 0;
        if (!digits(2, hour) || !take(':') || !digits(2, minute)) return false;
        double fraction = 0.0;
        if (take(':')) {
            if (!digits(2, second)) return false;
            if (take('.') || take(',')) {
                double scale = 0.1;
                const std::size_t first = i;
                for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, scale *= 0.1) fraction += (s[i] - '0') * scale;
                if (i == first) return false;
            }
        }
        if (hour > 23 || minute > 59 || second > 60) return false;  // 60: a leap second
        seconds = hour * 3600.0 + minute * 60.0 + second + fraction;
        const bool utc = take('Z') || take('z');
        if (!utc && i < s.size() && (s[i] == '+' || s[i] == '-')) {
            const double sign = s[i++] == '+' ? 1.0 : -1.0;
            int offset_hours = 0, offset_minutes = 0;
            if (!digits(2, offset_hours)) return false;
            if ((take(':') || i < s.size()) && !digits(2, offset_minutes)) return false;
            if (offset_hours > 23 || offset_minutes > 59) return false;
            seconds -= sign * (offset_hours * 3600.0 + offset_minutes * 60.0);
        }
    }
    if (i != s.size()) return false;
    out = static_cast<double>(days_from_civil(year, month, day)) * 86400.0 + seconds;
    return true;
}

bool parse_timestamp(std::string_view text, double& out) {
    if (parse_iso8601(text, out)) return true;
    return parse_double(text, out) && std::isfinite(out);
}

bool is_time_name(std::string_view name) {
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    return lower == "time" || lower == "timestamp" || lower == "date" || lower == "datetime" || lower == "ts";
}

//! pandas' df.to_csv() of a frame without column names: its unnamed index, then the columns'
//! default names 0, 1, 2, … A data row cannot start with an empty field, so this is a header.
bool is_pandas_numbered_header(const std::vector<Field>& fields) {
    if (fields.size() < 2 || !fields[0].text.empty()) return false;
    for (std::size_t i = 1; i < fields.size(); ++i)
        if (fields[i].text != std::to_string(i - 1)) return false;
    return true;
}

//! The first line is a header when it starts with a time column's name or when none of its fields
//! is a number; a data row is all numbers. A line of both is refused rather than guessed at: taking
//! "1,NA,3" for a header would drop a row and shift every score against its label. (A header of
//! numbers only cannot be told from data: pandas' ",0,1,2" is one, by its unnamed index, but
//! "0,1,2" without an index is read as a row.)
bool is_header(const std::string& path, std::string_view line, const std::vector<Field>& fields, TimestampColumn mode) {
    if (!fields.empty() && is_time_name(fields[0].text)) return true;
    if (is_pandas_numbered_header(fields)) return true;
    double ignored = 0.0;
    const Field* text_field = nullptr;
    const Field* number_field = nullptr;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        const std::string_view text = fields[i].text;
        if (text.empty()) continue;
        const bool number = (i == 0 && mode != TimestampColumn::none && parse_timestamp(text, ignored)) || parse_double(text, ignored);
        const Field*& first = number ? number_field : text_field;
        if (!first) first = &fields[i];
    }
    if (text_field && number_field)
        fail_at({path, 1, line}, text_field->offset,
                "the first line mixes names and numbers (" + quoted(text_field->text) + " and " + quoted(number_field->text) +
                    "): a header names every column with a name, a data row has only numbers" + hint_for(text_field->text));
    return text_field != nullptr;
}

std::string range_text(std::int64_t from, std::int64_t to) {
    return "row range [" + std::to_string(from) + ", " + (to == -1 ? std::string("end") : std::to_string(to)) + ")";
}

//! A row range that is wrong in itself, whatever the file: a usage error.
void check_range(const std::string& path, std::int64_t from, std::int64_t to) {
    const char* problem = from < 0                  ? "from is negative"
                          : to < -1                 ? "to must be a row number or -1 (the end)"
                          : to != -1 && from > to   ? "from is after to"
                                                    : nullptr;
    if (problem) throw Error(ErrorKind::usage, range_text(from, to) + " for " + path + ": " + problem);
}

//! A range that starts past the end of a file of `rows` data rows: this file's problem.
[[noreturn]] void fail_past_end(const std::string& path, std::int64_t rows, std::int64_t from, std::int64_t to) {
    throw Error(ErrorKind::data, range_text(from, to) + " does not fit " + path + " (" + std::to_string(rows) +
                                     " data rows): from is past the last row");
}

//! The end row of [from, to), a range check_range() accepted, in a file of `rows` data rows
//! (to = -1 → rows; a `to` past the end is clamped, so a series and its labels can share one range).
std::int64_t checked_end(const std::string& path, std::int64_t rows, std::int64_t from, std::int64_t to) {
    if (from > rows) fail_past_end(path, rows, from, to);
    return to == -1 ? rows : std::min(to, rows);
}

[[noreturn]] void fail_no_rows(const std::string& path) { throw Error(ErrorKind::data, path + ": no data rows"); }

[[noreturn]] void fail_blank(const Location& at) {
    fail_at(at, 0, "blank line between data rows (only trailing blank lines are allowed)");
}

//! Reads the first line, which must exist and not be blank; a file of blank lines has no rows.
std::string_view first_line(const std::string& path, LineCursor& lines) {
    std::string_view line;
    if (!lines.next(line)) fail_no_rows(path);
    if (is_blank(line)) {
        if (lines.count_remaining_rows() == 0) fail_no_rows(path);
        fail_blank({path, lines.number(), line});
    }
    return line;
}

}  // namespace

struct RowReader::State {
    std::istream& in;
    std::string source;
    ReadOptions options;
    std::string line;                // the line read last, without its "\n" or "\r\n"
    std::int64_t line_number = 0;    // its number, from 1
    std::vector<Field> fields;       // its fields (views into `line`)
    bool header = false, has_timestamp = false;
    std::size_t width = 0, skip = 0; // fields per line, and 1 when the first is a timestamp or pandas' index
    bool trailing_comma = false;     // line 1 ends with a comma
    bool comment_first = false;      // line 1 starts with '#'
    std::vector<std::string> names;
    std::vector<float> row;          // the last row's values, which forward fill repeats
    std::vector<bool> has_value;     // per metric: whether `row` holds a value read from the file
    std::int64_t rows_read = 0;      // data rows parsed so far
    bool pending = false;            // `line` is a data row not yet parsed (read ahead after a header)

    State(std::istream& stream, std::string name, const ReadOptions& read) : in(stream), source(std::move(name)), options(read) {}

    bool read_line() {
        if (!std::getline(in, line)) return false;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (++line_number == 1) {
            core::drop_byte_order_mark(line);
            if (in.eof() && line.find('\r') != std::string::npos) fail_classic_mac(source);  // no "\n" at all
        }
        return true;
    }
    //! After a blank line: false when only blank lines follow it (trailing blank lines are
    //! allowed), an error at it when a row does.
    bool blank_tail() {
        const std::int64_t blank = line_number;
        while (read_line())
            if (!is_blank(line)) fail_blank({source, blank, ""});
        return false;
    }
    //! The next data row into `line`; false at the end of the stream.
    bool next_data_line() { return read_line() && (!is_blank(line) || blank_tail()); }

    //! A line of another width (a comment, a repeated header, a cut line) may be no row at all:
    //! counted as one, it would shift every later row against its labels, so it is refused
    //! wherever it is.
    void check_width(const Location& at) {
        if (fields.size() == width) return;
        // The likeliest cause: this line (a comment, other separators), a comment as line 1, or a
        // line 1 that ends in a comma.
        std::string hint = hint_for(line);
        if (hint.empty() && comment_first) hint = " (line 1 is a comment, and comment lines are not read)";
        if (hint.empty() && trailing_comma) hint = " (line 1 ends with a comma, which makes one more, empty, field)";
        const std::string what = "expected " + std::to_string(width) + " fields (as " + (header ? "in the header" : "on line 1") +
                                 "), got " + std::to_string(fields.size()) + hint;
        fail_at(at, fields.size() > width ? fields[width].offset : line.size(), what);
    }

    //! A row before the range (and its context rows): its cells are not checked, as rows after
    //! the range are not read, so that a bad cell there does not refuse a range without it. Its
    //! good values are kept, for forward fill to repeat into the range's first row.
    void remember() {
        split_fields(line, fields);
        check_width({source, line_number, line});
        for (std::size_t i = skip; i < width; ++i) {
            double value = 0.0;
            if (parse_double(fields[i].text, value) && std::isfinite(value) && std::fabs(value) <= std::numeric_limits<float>::max()) {
                row[i - skip] = static_cast<float>(value);
                has_value[i - skip] = true;
            }
        }
    }

    //! Parses `line`, data row r, into `row` and `seconds`.
    void parse(std::int64_t r, double& seconds) {
        split_fields(line, fields);
        const Location at{source, line_number, line};
        check_width(at);
        seconds = 0.0;
        if (has_timestamp && !parse_timestamp(fields[0].text, seconds))
            fail_at(at, fields[0].offset, "field 1 is not a timestamp (ISO-8601 or epoch seconds): " + quoted(fields[0].text));
        for (std::size_t i = skip; i < width; ++i) {
            const Field& field = fields[i];
            double value = 0.0;
            if (!field.text.empty() && !parse_double(field.text, value))
                fail_at(at, field.offset, field_name(i) + " is not a number: " + quoted(field.text) + hint_for(field.text));
            if (field.text.empty() || !std::isfinite(value)) {
                const std::string what = field_name(i) + (field.text.empty()   ? " is empty"
                                                          : std::isnan(value) ? " is NaN"
                                                                              : " is infinite");
                if (trailing_comma && i + 1 == width)
                    fail_at(at, field.offset, what + ": the line ends with a comma (remove the trailing commas)");
                if (options.fill == FillPolicy::reject)
                    fail_at(at, field.offset, what + " (use --fill forward to repeat the previous row's value)");
                if (r == 0) fail_at(at, field.offset, what + " on the first data row, so there is nothing to fill forward");
                if (!has_value[i - skip]) fail_at(at, field.offset, what + ", and no row before it has a value to fill forward");
                continue;  // row[] still holds this metric's previous value
            }
            if (std::fabs(value) > std::numeric_limits<float>::max())
                fail_at(at, field.offset, field_name(i) + " does not fit in a 32-bit float: " + quoted(field.text));
            row[i - skip] = static_cast<float>(value);
            has_value[i - skip] = true;
        }
    }
};

RowReader::RowReader(std::istream& in, std::string source, const ReadOptions& options)
    : state_(std::make_unique<State>(in, std::move(source), options)) {
    auto& s = *state_;
    check_range(s.source, options.from, options.to);
    if (options.context_rows < 0) throw Error(ErrorKind::usage, s.source + ": context_rows is negative");
    if (!s.read_line() || (is_blank(s.line) && !s.blank_tail())) fail_no_rows(s.source);
    split_fields(s.line, s.fields);
    s.header = is_header(s.source, s.line, s.fields, options.timestamp);
    // Line 1 decides the width; the first data row, whether the first column is a timestamp.
    s.width = s.fields.size();
    s.trailing_comma = s.fields.back().text.empty();
    s.comment_first = s.fields.front().text.substr(0, 1) == "#";
    std::vector<std::string> header_names;
    if (s.header)
        for (const Field& field : s.fields) header_names.emplace_back(field.text);
    // Names kept with their quotes or a leading "# " would match no other file's header, and the
    // check of column order against the model's names would pass files in any order.
    for (std::size_t i = 0; s.header && i < s.fields.size(); ++i) {
        const std::string_view name = s.fields[i].text;
        if (!name.empty() && (name.front() == '"' || name.front() == '\''))
            fail_at({s.source, 1, s.line}, s.fields[i].offset,
                    "the header's " + field_name(i) + " is quoted, and quoted fields are not read: remove the quotes "
                    "(R: write.csv(x, quote = FALSE); pandas writes none)");
        if (i == 0 && s.comment_first)
            fail_at({s.source, 1, s.line}, 0, "line 1 is a comment, and comment lines are not read: a header names the columns without '#'");
    }
    // An empty first name is pandas' index (to_csv's default): as a metric, its row counter would
    // run past its training range on new data and dominate the scores.
    if (s.header && options.timestamp == TimestampColumn::none && header_names[0].empty())
        fail_at({s.source, 1, s.line}, s.fields[0].offset,
                "field 1 has no name in the header, as pandas writes its index: --timestamp detect drops it; "
                "name it to read it as a metric, or write the file with to_csv(index=False)");
    if (s.header) {
        if (!s.next_data_line()) throw Error(ErrorKind::data, s.source + ": no data rows after the header line");
        split_fields(s.line, s.fields);
    }
    s.pending = true;
    s.has_timestamp = options.timestamp == TimestampColumn::first;
    bool index_column = false;  // pandas' unnamed index: dropped, neither a metric nor a timestamp
    if (options.timestamp == TimestampColumn::detect) {
        double ignored = 0.0;
        s.has_timestamp = (s.header && is_time_name(header_names[0])) || parse_iso8601(s.fields[0].text, ignored);
        index_column = s.header && header_names[0].empty() && !s.has_timestamp;
    }
    s.skip = s.has_timestamp || index_column ? 1 : 0;
    if (s.width <= s.skip) throw Error(ErrorKind::data, s.source + ": no metric columns (the only column is a timestamp or pandas' index)");
    if (s.header) s.names.assign(header_names.begin() + static_cast<std::ptrdiff_t>(s.skip), header_names.end());
    s.row.resize(s.width - s.skip);
    s.has_value.assign(s.width - s.skip, false);
}

RowReader::~RowReader() = default;
RowReader::RowReader(RowReader&&) noexcept = default;
RowReader& RowReader::operator=(RowReader&&) noexcept = default;

std::int64_t RowReader::n_metrics() const { return static_cast<std::int64_t>(state_->row.size()); }
const std::vector<std::string>& RowReader::metric_names() const { return state_->names; }
bool RowReader::has_timestamps() const { return state_->has_timestamp; }

bool RowReader::next(std::vector<float>& values, double& timestamp) {
    auto& s = *state_;
    const auto from = s.options.from, to = s.options.to;
    const auto first_kept = s.options.first_kept();
    while (to == -1 || s.rows_read < to) {  // rows from `to` on are not read
        if (!s.pending && !s.next_data_line()) {
            if (from > s.rows_read) fail_past_end(s.source, s.rows_read, from, to);
            return false;
        }
        s.pending = false;
        const std::int64_t r = s.rows_read++;
        if (r < first_kept) {
            s.remember();
            continue;
        }
        s.parse(r, timestamp);
        values = s.row;
        return true;
    }
    return false;
}

Series read_series(const std::string& path, const ReadOptions& options) {
    check_range(path, options.from, options.to);  // before reading: a wrong range is wrong for any file
    std::istringstream in(core::read_whole_file(path, ErrorKind::data));  // the reader drops a byte-order mark
    RowReader reader(in, path, options);
    Series series;
    series.n_metrics = reader.n_metrics();
    series.metric_names = reader.metric_names();
    series.first_row = options.first_kept();
    series.source = path;
    std::vector<float> row;
    double seconds = 0.0;
    while (reader.next(row, seconds)) {
        series.values.insert(series.values.end(), row.begin(), row.end());
        if (reader.has_timestamps()) series.timestamps.push_back(seconds);
        ++series.n_rows;
    }
    return series;
}

std::vector<int> read_labels(const std::string& path, std::int64_t from, std::int64_t to) {
    check_range(path, from, to);
    const std::string text = read_file(path);
    LineCursor lines(text);
    std::string_view line = first_line(path, lines);
    const std::int64_t end = checked_end(path, lines.count_remaining_rows() + 1, from, to);

    std::vector<int> labels;
    labels.reserve(static_cast<std::size_t>(end - from));
    for (std::int64_t r = 0; r < end; ++r) {
        if (r > 0) lines.next(line);
        const Location at{path, lines.number(), line};
        if (is_blank(line)) fail_blank(at);
        std::size_t b = 0;
        std::size_t e = line.size();
        while (is_blank_char(line[b])) ++b;
        while (is_blank_char(line[e - 1])) --e;
        const std::string_view field = line.substr(b, e - b);
        double value = -1.0;
        // "0" and "1" are nearly every line; the number parser handles "0.0" and "1.0".
        if (field == "0" || field == "1")
            value = field[0] - '0';
        else if (!parse_double(field, value))
            value = -1.0;
        if (value != 0.0 && value != 1.0) fail_at(at, b, "label must be 0 or 1, got " + quoted(field));
        if (r >= from) labels.push_back(static_cast<int>(value));
    }
    return labels;
}

}  // namespace lara
