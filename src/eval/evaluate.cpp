#include "lara/evaluate.h"

#include <algorithm>
#include <utility>

#include "eval/interpretation.h"
#include "eval/metrics.h"
#include "eval/score_file.h"
#include "lara/error.h"
#include "lara/series.h"

namespace lara::eval {
namespace {

// The two data sets write `a-b` differently (eval/interpretation.h). The reading whose segments,
// together, cover the labelled rows with fewer mistakes wins (exclusive on a tie); a vote of each
// segment's own last row could be outvoted by overlapping segments. A file under which no segment
// ends where a labelled run ends, either way, belongs to another series. Reading the file as
// inclusive first keeps ASD's one-row `a-a` segments legal.
SegmentEnd detect_segment_end(const std::string& interpretation, const std::vector<int>& labels,
                              const std::string& labels_name) {
    const auto n = static_cast<std::int64_t>(labels.size());
    const auto labelled = [&](std::int64_t row) {
        return row >= 0 && row < n && labels[static_cast<std::size_t>(row)] != 0;
    };
    const auto ends_run = [&](std::int64_t row) { return labelled(row) && !labelled(row + 1); };
    const auto segments = read_interpretation(interpretation, SegmentEnd::inclusive);
    bool any_agrees = false;
    for (const auto& segment : segments) {
        const std::int64_t b = segment.end - 1;
        any_agrees = any_agrees || (b > segment.begin && ends_run(b - 1)) || ends_run(b);
    }
    if (!any_agrees)
        throw Error(ErrorKind::data, interpretation + ": no segment ends where a labelled run of " + labels_name +
                                         " ends, whether 'a-b' is read as rows [a, b) or [a, b]");
    // Rows where the union of the segments, read one way, disagrees with the labels.
    const auto mistakes = [&](std::int64_t shorten) {
        std::vector<char> covered(labels.size(), 0);
        for (const auto& segment : segments)
            for (std::int64_t row = std::max<std::int64_t>(segment.begin, 0); row < std::min(segment.end - shorten, n); ++row)
                covered[static_cast<std::size_t>(row)] = 1;
        std::int64_t count = 0;
        for (std::int64_t row = 0; row < n; ++row) count += (covered[static_cast<std::size_t>(row)] != 0) != labelled(row);
        return count;
    };
    return mistakes(0) < mistakes(1) ? SegmentEnd::inclusive : SegmentEnd::exclusive;
}

}  // namespace

HitRates scored_hit_rates(const std::string& interpretation, const std::vector<int>& labels,
                          const std::string& labels_name, std::int64_t first,
                          const std::vector<std::vector<int>>& ranked_metrics, const std::string& scores_name,
                          std::optional<int> n_metrics) {
    // A rank past the metrics would count as a miss, silently: the scores are not this data's.
    for (std::size_t i = 0; n_metrics && i < ranked_metrics.size(); ++i)
        for (const int metric : ranked_metrics[i])
            if (metric >= *n_metrics)
                throw Error(ErrorKind::data, scores_name + ": row " + std::to_string(first + static_cast<std::int64_t>(i)) + " ranks metric " +
                                                 std::to_string(metric) + " (0-based), past the " + std::to_string(*n_metrics) + " metrics");
    HitRates rates;
    rates.end = detect_segment_end(interpretation, labels, labels_name);
    const std::int64_t stop = first + static_cast<std::int64_t>(ranked_metrics.size());
    // The rows are checked only now: before the convention is known, `a-b` ending at the last row
    // would run past it when read as [a, b].
    const InterpretationBounds bounds{static_cast<std::int64_t>(labels.size()), labels_name, n_metrics};
    std::vector<InterpretationSegment> inside;
    for (auto segment : read_interpretation(interpretation, rates.end, bounds)) {
        segment.begin = std::max(segment.begin, first) - first;
        segment.end = std::min(segment.end, stop) - first;
        if (segment.begin < segment.end) inside.push_back(std::move(segment));
    }
    if (inside.empty())
        throw Error(ErrorKind::data, interpretation + ": no segment overlaps the scored rows [" +
                                         std::to_string(first) + ", " + std::to_string(stop - 1) + "] of " + scores_name);
    rates.at_100 = hit_rate(ranked_metrics, inside, 100);
    rates.at_150 = hit_rate(ranked_metrics, inside, 150);
    return rates;
}

}  // namespace lara::eval

namespace lara {

nlohmann::json evaluate(const EvaluateSpec& spec) {
    const auto scores = eval::read_score_file(spec.scores, /*with_top_metrics=*/!spec.interpretation.empty());
    const auto all_labels = read_labels(spec.labels);
    // Indices are consecutive (read_score_file checks), so the last one is the largest.
    if (scores.index.back() >= static_cast<std::int64_t>(all_labels.size()))
        throw Error(ErrorKind::data, spec.scores + ": row index " + std::to_string(scores.index.back()) +
                                         " is past the end of " + spec.labels + " (" +
                                         std::to_string(all_labels.size()) + " labels)");
    const auto from = all_labels.begin() + scores.index.front();
    const std::vector<int> labels(from, from + static_cast<std::ptrdiff_t>(scores.index.size()));

    const auto point = eval::point_metrics(scores.anomaly, labels);
    const auto adjusted = eval::point_metrics(eval::point_adjust(scores.anomaly, labels), labels);
    const auto n_rows = static_cast<std::int64_t>(labels.size());
    const auto n_anomalies = static_cast<std::int64_t>(std::count(labels.begin(), labels.end(), 1));

    const auto n_flagged = static_cast<std::int64_t>(std::count(scores.anomaly.begin(), scores.anomaly.end(), 1));

    // Undefined numbers are null rather than made up (as in `lara experiment`): precision without
    // a flagged row, and everything built on recall without a labelled one.
    const auto defined = [](bool is_defined, double value) { return is_defined ? nlohmann::json(value) : nlohmann::json(nullptr); };
    const bool labelled = n_anomalies > 0;
    nlohmann::json out;
    out["precision"] = defined(n_flagged > 0, point.precision);
    out["recall"] = defined(labelled, point.recall);
    out["f1"] = defined(labelled, point.f1);
    out["best_f1"] = labelled ? nlohmann::json(eval::best_f1(scores.score, labels).f1) : nlohmann::json(nullptr);
    out["pa_f1"] = defined(labelled, adjusted.f1);
    out["auc_pr"] = labelled ? nlohmann::json(eval::auc_pr(scores.score, labels)) : nlohmann::json(nullptr);
    out["n_rows"] = n_rows;
    out["n_anomalies"] = n_anomalies;
    out["n_flagged"] = n_flagged;
    out["anomaly_ratio"] = static_cast<double>(n_anomalies) / static_cast<double>(n_rows);
    out["notes"] = {
        {"f1", "point-wise at the model's label-free threshold (the anomaly column), as are precision and recall"},
        {"best_f1", "point-wise at the best of all thresholds: uses test labels to pick the threshold"},
        {"pa_f1", "point-adjusted: inflated, for comparison with older papers only"},
        {"auc_pr", "average precision over all thresholds: threshold-free"},
        {"null", "precision is null when no row is flagged, recall, f1, best_f1, pa_f1 and auc_pr when no scored row is labelled"},
    };
    if (!spec.interpretation.empty()) {
        const auto rates = eval::scored_hit_rates(spec.interpretation, all_labels, spec.labels, scores.index.front(),
                                                  scores.top_metrics, spec.scores,
                                                  spec.n_metrics > 0 ? std::optional<int>(spec.n_metrics) : std::nullopt);
        out["hitrate_100"] = rates.at_100;
        out["hitrate_150"] = rates.at_150;
        out["interpretation_end"] = rates.end == eval::SegmentEnd::inclusive ? "inclusive" : "exclusive";
        out["notes"]["hitrate"] = "HitRate@P% of top_metrics over the segment rows inside the scored range; "
                                  "ranks past lara score --top count as misses";
    }
    return out;
}

}  // namespace lara
