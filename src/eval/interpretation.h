// eval/interpretation.h: interpretation labels (which metrics caused each anomaly segment) and
// HitRate@P%, the OmniAnomaly measure of how well a per-metric ranking finds those causes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lara::eval {

//! Rows [begin, end), 0-based, and the 0-based metrics that caused the anomaly there (sorted, unique).
struct InterpretationSegment {
    std::int64_t begin = 0, end = 0;
    std::vector<int> metrics;
};

//! How the second number of a line `a-b:...` ends its segment. The two public data sets differ,
//! as their test_label files show: in SMD (OmniAnomaly) the rows labelled 1 are exactly [a, b),
//! in ASD (InterFusion) exactly [a, b], for every segment of every file.
enum class SegmentEnd {
    exclusive,  // SMD: `385-417` is rows 385 … 416
    inclusive,  // ASD: `760-765` is rows 760 … 765
};

//! What the segments must lie within: the series they label, when it is known.
struct InterpretationBounds {
    std::optional<std::int64_t> rows;  // its rows: every segment lies in rows [0, rows)
    std::string rows_of;               // the file those rows were counted in, for messages
    std::optional<int> metrics;        // its metrics: every dimension lies in [1, metrics]
};

//! Reads lines `a-b:d1,d2,…` (0-based rows a, b; 1-based dimensions), skipping blank lines.
//! Throws lara::Error (data) with "file:line:column: ..." (1-based) for anything else, an empty
//! segment, no metric, or a segment or dimension outside `bounds`.
std::vector<InterpretationSegment> read_interpretation(const std::string& path,
                                                       SegmentEnd end = SegmentEnd::exclusive,
                                                       const InterpretationBounds& bounds = {});

//! HitRate@P% (Su et al., KDD 2019): for each time step t inside a segment, with G_t the union of
//! the causes of the segments containing t, hit_t = |top ∩ G_t| / |G_t| where top is the first
//! ⌊P/100 · |G_t|⌋ entries of ranked_metrics[t] (most anomalous first; missing ranks are misses).
//! Returns the mean of hit_t. Throws lara::Error: usage for percent <= 0; data for no segment or a
//! segment that runs past ranked_metrics.
double hit_rate(const std::vector<std::vector<int>>& ranked_metrics,
                const std::vector<InterpretationSegment>& segments, double percent);

//! HitRate@100% and @150% of `ranked_metrics`, whose entry i ranks the metrics of file row first + i,
//! over the segment rows inside those rows (segments are cut to them). Whether `a-b` ends at row b
//! or b − 1 is told from `labels`, one per row of the whole file, as lara/evaluate.h describes. The
//! names are for error messages. Throws lara::Error (data) when the file agrees with the labels
//! under neither convention, a segment runs past the rows of `labels`, a dimension is past
//! `n_metrics` (when known), or no segment overlaps the ranked rows. Shared by `lara evaluate` and
//! `lara experiment`; defined in evaluate.cpp.
struct HitRates {
    double at_100 = 0, at_150 = 0;
    SegmentEnd end = SegmentEnd::exclusive;  // the convention the labels chose
};
HitRates scored_hit_rates(const std::string& interpretation, const std::vector<int>& labels,
                          const std::string& labels_name, std::int64_t first,
                          const std::vector<std::vector<int>>& ranked_metrics, const std::string& scores_name,
                          std::optional<int> n_metrics);

}  // namespace lara::eval
