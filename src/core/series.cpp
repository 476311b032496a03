#include "lara/series.h"

#include <algorithm>

#include "lara/error.h"

namespace lara {

Series Series::slice(std::int64_t from, std::int64_t to) const {
    if (from < 0 || to > n_rows || from > to)
        throw Error(ErrorKind::usage, "rows [" + std::to_string(from) + ", " + std::to_string(to) + ") are outside " +
                                          source + " (" + std::to_string(n_rows) + " rows)");
    Series out;
    out.n_rows = to - from;
    out.n_metrics = n_metrics;
    out.values.assign(values.begin() + from * n_metrics, values.begin() + to * n_metrics);
    out.metric_names = metric_names;
    if (!timestamps.empty()) out.timestamps.assign(timestamps.begin() + from, timestamps.begin() + to);
    out.first_row = first_row + from;
    out.source = source;
    return out;
}

std::pair<Series, std::int64_t> Series::slice_with_past(std::int64_t from, std::int64_t to, std::int64_t past) const {
    if (past < 0) throw Error(ErrorKind::usage, "a series slice cannot take " + std::to_string(past) + " rows of past");
    const auto context = std::min(past, std::max<std::int64_t>(from, 0));
    return {slice(from - context, to), context};
}

}  // namespace lara
