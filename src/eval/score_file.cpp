#include "eval/score_file.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string_view>

#include "core/read_file.h"
#include "lara/error.h"

namespace lara::eval {
namespace {

constexpr std::string_view header = "index,score,threshold,anomaly,top_metrics";
constexpr std::size_t n_fields = 5;

// A position in the file, for messages: path:line:column, both 1-based, the column in characters.
struct Where {
    const std::string& path;
    std::int64_t line;
    std::string_view text;  // the line

    [[noreturn]] void fail(std::size_t offset, const std::string& what) const {
        throw Error(ErrorKind::data, path + ":" + std::to_string(line) + ":" + std::to_string(core::column(text, offset)) + ": " + what);
    }
};

struct Field {
    std::string_view text;
    std::size_t offset;  // of its first byte in the line
};

using core::parse_whole;
using core::quoted;

double parse_number(const Field& field, const char* name, const Where& where) {
    double value = 0;
    // from_chars reads "nan" and "inf": an infinite score (a row of probability 0) ranks and
    // compares with a threshold, a NaN score cannot.
    if (!parse_whole(field.text, value) || std::isnan(value))
        where.fail(field.offset, std::string(name) + " " + quoted(field.text) + " is not a number");
    return value;
}

std::vector<int> parse_top_metrics(const Field& field, const Where& where) {
    std::vector<int> metrics;
    if (field.text.empty()) return metrics;  // `lara score --top 0`
    std::size_t start = 0;
    while (true) {
        const auto end = std::min(field.text.find(';', start), field.text.size());
        const auto item = field.text.substr(start, end - start);
        int metric = -1;
        if (!parse_whole(item, metric) || metric < 0)
            where.fail(field.offset + start, "top_metrics entry " + quoted(item) + " is not a 0-based metric index");
        metrics.push_back(metric);
        if (end == field.text.size()) return metrics;
        start = end + 1;
    }
}

std::vector<Field> split(std::string_view line) {
    std::vector<Field> fields;
    std::size_t start = 0;
    while (true) {
        const auto end = std::min(line.find(',', start), line.size());
        fields.push_back({line.substr(start, end - start), start});
        if (end == line.size()) return fields;
        start = end + 1;
    }
}

void check_header(std::string_view line, const Where& where) {
    if (line == header) return;
    std::size_t same = 0;
    while (same < line.size() && same < header.size() && line[same] == header[same]) ++same;
    where.fail(same, "expected the header '" + std::string(header) + "', got " + quoted(line));
}

// Fields are checked left to right, so that a message names the first bad one.
void read_row(std::string_view line, ScoreFile& out, bool with_top_metrics, const Where& where) {
    if (line.empty()) where.fail(0, "blank line");
    const auto fields = split(line);
    if (fields.size() != n_fields)
        where.fail(fields.size() > n_fields ? fields[n_fields].offset : line.size(),
                   "expected " + std::to_string(n_fields) + " fields (" + std::string(header) + "), got " +
                       std::to_string(fields.size()));

    std::int64_t index = -1;
    if (!parse_whole(fields[0].text, index) || index < 0)
        where.fail(fields[0].offset, "index " + quoted(fields[0].text) + " is not a 0-based row number");
    if (!out.index.empty() && index - 1 != out.index.back())  // index > 0 here, so index - 1 cannot overflow
        where.fail(fields[0].offset, "index " + std::to_string(index) + " does not follow " +
                                         std::to_string(out.index.back()) + ": rows must be consecutive");
    const double score = parse_number(fields[1], "score", where);
    const double threshold = parse_number(fields[2], "threshold", where);
    const std::string_view anomaly = fields[3].text;
    if (anomaly != "0" && anomaly != "1") where.fail(fields[3].offset, "anomaly must be 0 or 1, got " + quoted(anomaly));

    out.index.push_back(index);
    out.score.push_back(score);
    out.threshold.push_back(threshold);
    out.anomaly.push_back(anomaly[0] - '0');
    if (with_top_metrics) out.top_metrics.push_back(parse_top_metrics(fields[4], where));
}

}  // namespace

ScoreFile read_score_file(const std::string& path, bool with_top_metrics) {
    std::istringstream in(core::read_text_file(path, ErrorKind::data));
    ScoreFile out;
    std::string text;
    std::int64_t number = 0;
    while (std::getline(in, text)) {
        ++number;
        std::string_view line = text;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const Where where{path, number, line};
        if (number == 1)
            check_header(line, where);
        else
            read_row(line, out, with_top_metrics, where);
    }
    if (number == 0) Where{path, 1, {}}.fail(0, "empty file, expected the header '" + std::string(header) + "'");
    if (out.index.empty()) Where{path, 2, {}}.fail(0, "no data rows after the header");
    return out;
}

}  // namespace lara::eval
