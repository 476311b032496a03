#include "eval/interpretation.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <string_view>

#include "core/read_file.h"
#include "lara/error.h"

namespace lara::eval {
namespace {

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

// A line of the file, for messages: "path:line:column: ...".
struct Where {
    const std::string& path;
    std::int64_t line;
    std::string_view text;

    [[noreturn]] void fail(std::size_t offset, const std::string& what) const {
        throw Error(ErrorKind::data,
                    path + ":" + std::to_string(line) + ":" + std::to_string(core::column(text, offset)) + ": " + what);
    }
};

//! Bytes [from, to) of a line, trimmed, and where they start in it (for error columns).
struct Field {
    std::string_view text;
    std::size_t offset;
};

Field field(std::string_view line, std::size_t from, std::size_t to) {
    const auto piece = line.substr(from, std::min(to, line.size()) - from);
    const auto text = trim(piece);
    return {text, text.empty() ? from : from + static_cast<std::size_t>(text.data() - piece.data())};
}

std::int64_t parse_count(const Field& token, const Where& where) {
    std::int64_t value = -1;
    const auto [rest, status] = std::from_chars(token.text.data(), token.text.data() + token.text.size(), value);
    if (token.text.empty() || status != std::errc() || rest != token.text.data() + token.text.size() || value < 0)
        where.fail(token.offset, core::quoted(token.text) + " is not a non-negative integer");
    return value;
}

InterpretationSegment parse_line(SegmentEnd end, const InterpretationBounds& bounds, const Where& where) {
    const std::string_view line = where.text;
    const auto colon = line.find(':');
    const auto dash = line.substr(0, colon).find('-');
    if (colon == std::string_view::npos || dash == std::string_view::npos)
        where.fail(line.find_first_not_of(" \t"), "expected 'begin-end:d1,d2,...', got " + core::quoted(trim(line)));
    const Field first = field(line, 0, dash), last = field(line, dash + 1, colon);
    InterpretationSegment segment;
    segment.begin = parse_count(first, where);
    const std::int64_t b = parse_count(last, where);
    const std::int64_t inclusive = end == SegmentEnd::inclusive;
    segment.end = b + inclusive;
    if (segment.end <= segment.begin)
        where.fail(first.offset, "segment " + core::quoted(trim(line.substr(0, colon))) + " is empty");
    if (bounds.rows) {
        // A segment past the series is a file of another series, or a typo; cutting it to the
        // series would hide either.
        const std::int64_t rows = *bounds.rows;
        const std::string past = " is past the " + std::to_string(rows) + " rows of " + bounds.rows_of;
        if (segment.begin >= rows)
            where.fail(first.offset, "segment begin " + std::to_string(segment.begin) + past + ": expected a row in [0, " +
                                         std::to_string(rows - 1) + "]");
        if (segment.end > rows)
            where.fail(last.offset, "segment end " + std::to_string(b) + past + ": expected an end in [" +
                                        std::to_string(segment.begin + 1 - inclusive) + ", " + std::to_string(rows - inclusive) +
                                        "], as 'a-b' is rows " + (inclusive ? "[a, b]" : "[a, b)") + " here");
    }
    const int metrics = bounds.metrics.value_or(std::numeric_limits<int>::max());
    for (std::size_t at = colon + 1; !trim(line.substr(at)).empty();) {
        const auto comma = std::min(line.find(',', at), line.size());
        const Field item = field(line, at, comma);
        const std::int64_t dimension = parse_count(item, where);
        if (dimension < 1 || dimension > metrics)
            where.fail(item.offset, "dimension " + std::to_string(dimension) +
                                        (bounds.metrics ? " is not one of the " + std::to_string(metrics) +
                                                              " metrics: expected a 1-based dimension in [1, " +
                                                              std::to_string(metrics) + "]"
                                                        : " is not a 1-based index"));
        segment.metrics.push_back(static_cast<int>(dimension - 1));
        at = std::min(comma + 1, line.size());
    }
    if (segment.metrics.empty()) where.fail(colon + 1, "segment names no dimension");
    std::sort(segment.metrics.begin(), segment.metrics.end());
    segment.metrics.erase(std::unique(segment.metrics.begin(), segment.metrics.end()), segment.metrics.end());
    return segment;
}

}  // namespace

std::vector<InterpretationSegment> read_interpretation(const std::string& path, SegmentEnd end,
                                                       const InterpretationBounds& bounds) {
    std::istringstream in(core::read_text_file(path, ErrorKind::data));
    std::vector<InterpretationSegment> segments;
    std::string line;
    for (std::int64_t number = 1; std::getline(in, line); ++number) {
        if (!trim(line).empty()) segments.push_back(parse_line(end, bounds, {path, number, line}));
    }
    return segments;
}

double hit_rate(const std::vector<std::vector<int>>& ranked_metrics,
                const std::vector<InterpretationSegment>& segments, double percent) {
    if (!(percent > 0)) throw Error(ErrorKind::usage, "HitRate@P% needs P > 0, got " + std::to_string(percent));
    if (segments.empty()) throw Error(ErrorKind::data, "HitRate needs at least one interpretation segment");
    const auto steps = static_cast<std::int64_t>(ranked_metrics.size());
    // Segments may overlap or touch; a time step's ground truth is the union of their causes.
    std::map<std::int64_t, std::vector<int>> truth;
    for (const auto& segment : segments) {
        if (segment.begin < 0 || segment.end > steps || segment.begin >= segment.end)
            throw Error(ErrorKind::data, "interpretation segment [" + std::to_string(segment.begin) + ", " +
                                             std::to_string(segment.end) + ") is empty or runs past the " +
                                             std::to_string(steps) + " ranked time steps");
        for (std::int64_t t = segment.begin; t < segment.end; ++t) {
            auto& causes = truth[t];
            causes.insert(causes.end(), segment.metrics.begin(), segment.metrics.end());
        }
    }
    double total = 0;
    for (auto& [t, causes] : truth) {
        std::sort(causes.begin(), causes.end());
        causes.erase(std::unique(causes.begin(), causes.end()), causes.end());
        const auto& ranked = ranked_metrics[static_cast<std::size_t>(t)];
        // P · |G| before the division: exact for whole P, where 57 / 100 · 100 would round to 56.99….
        const auto wanted = static_cast<std::size_t>(std::floor(percent * static_cast<double>(causes.size()) / 100));
        const auto taken = static_cast<std::ptrdiff_t>(std::min(wanted, ranked.size()));
        std::vector<int> top(ranked.begin(), ranked.begin() + taken);
        std::sort(top.begin(), top.end());
        top.erase(std::unique(top.begin(), top.end()), top.end());
        const auto hits = std::count_if(top.begin(), top.end(),
                                        [&](int m) { return std::binary_search(causes.begin(), causes.end(), m); });
        total += static_cast<double>(hits) / static_cast<double>(causes.size());
    }
    return total / static_cast<double>(truth.size());
}

}  // namespace lara::eval
