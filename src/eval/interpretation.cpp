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

std::int64_t parse_count(std::string_view token, const std::string& where) {
    token = trim(token);
    std::int64_t value = -1;
    const auto [rest, status] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (token.empty() || status != std::errc() || rest != token.data() + token.size() || value < 0)
        throw Error(ErrorKind::data, where + ": " + core::quoted(token) + " is not a non-negative integer");
    return value;
}

InterpretationSegment parse_line(std::string_view line, SegmentEnd end, const std::string& where) {
    const auto colon = line.find(':');
    const auto dash = line.substr(0, colon).find('-');
    if (colon == std::string_view::npos || dash == std::string_view::npos)
        throw Error(ErrorKind::data, where + ": expected 'begin-end:d1,d2,...', got " + core::quoted(line));
    InterpretationSegment segment;
    segment.begin = parse_count(line.substr(0, dash), where);
    segment.end = parse_count(line.substr(dash + 1, colon - dash - 1), where) + (end == SegmentEnd::inclusive);
    if (segment.end <= segment.begin)
        throw Error(ErrorKind::data, where + ": segment " + core::quoted(line.substr(0, colon)) + " is empty");
    std::string_view list = line.substr(colon + 1);
    while (!trim(list).empty()) {
        const auto comma = list.find(',');
        const std::int64_t dimension = parse_count(list.substr(0, comma), where);
        if (dimension < 1 || dimension > std::numeric_limits<int>::max())
            throw Error(ErrorKind::data,
                        where + ": dimension " + std::to_string(dimension) + " is not a 1-based index");
        segment.metrics.push_back(static_cast<int>(dimension - 1));
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
    if (segment.metrics.empty()) throw Error(ErrorKind::data, where + ": segment names no dimension");
    std::sort(segment.metrics.begin(), segment.metrics.end());
    segment.metrics.erase(std::unique(segment.metrics.begin(), segment.metrics.end()), segment.metrics.end());
    return segment;
}

}  // namespace

std::vector<InterpretationSegment> read_interpretation(const std::string& path, SegmentEnd end) {
    std::istringstream in(core::read_text_file(path, ErrorKind::data));
    std::vector<InterpretationSegment> segments;
    std::string line;
    for (std::int64_t number = 1; std::getline(in, line); ++number) {
        const std::string_view text = trim(line);
        if (!text.empty()) segments.push_back(parse_line(text, end, path + ":" + std::to_string(number)));
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
