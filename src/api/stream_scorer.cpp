// StreamScorer (lara/lara.h): Detector::score() one row at a time. Each new row is scored on the
// window of the last w rows through the same code as a whole series, so that the two agree.
#include <algorithm>
#include <cmath>
#include <utility>

#include "api/detector_state.h"

namespace lara {

std::vector<int> ScoredRow::top_metrics(int k) const {
    return largest_contributions(contributions.data(), static_cast<std::int64_t>(contributions.size()), k);
}

StreamScorer::StreamScorer(Detector detector, std::string source, std::vector<std::string> metric_names, std::int64_t first_row,
                           std::int64_t context_rows)
    : detector_(std::move(detector)), context_rows_(context_rows) {
    if (context_rows < 0) throw Error(ErrorKind::usage, source + ": context_rows is negative");
    const auto& s = *detector_.state_;
    recent_.n_metrics = s.model.n_metrics;
    recent_.metric_names = std::move(metric_names);
    recent_.first_row = first_row;
    recent_.source = std::move(source);
    if (!recent_.metric_names.empty() && static_cast<std::int64_t>(recent_.metric_names.size()) != recent_.n_metrics)
        throw Error(ErrorKind::data, recent_.source + ": the stream names " + std::to_string(recent_.metric_names.size()) +
                                         " metrics and the model has " + std::to_string(recent_.n_metrics));
    check_metric_order(s, recent_);
    recent_.metric_names.clear();  // checked once, here, not again with every row
    if (s.warmup_rows == 0) threshold_ = s.threshold;
}

std::vector<ScoredRow> StreamScorer::push(const std::vector<float>& values) {
    if (finished_) throw Error(ErrorKind::usage, recent_.source + ": a row pushed after finish()");
    const auto& s = *detector_.state_;
    const auto w = s.model.window;
    // Checked before the row joins the window, so that a refused row leaves the scorer as it was.
    const auto row = [&] { return recent_.source + ": row " + std::to_string(recent_.first_row + recent_.n_rows); };
    if (static_cast<std::int64_t>(values.size()) != recent_.n_metrics)
        throw Error(ErrorKind::data, row() + " has " + std::to_string(values.size()) + " values; the model has " +
                                         std::to_string(recent_.n_metrics) + " metrics");
    for (std::size_t j = 0; j < values.size(); ++j)
        if (!std::isfinite(values[j])) throw Error(ErrorKind::data, row() + ", metric " + std::to_string(j + 1) + " is not a finite number");
    if (recent_.n_rows == w) {  // keep the last w rows
        recent_.values.erase(recent_.values.begin(), recent_.values.begin() + recent_.n_metrics);
        --recent_.n_rows;
        ++recent_.first_row;
    }
    recent_.values.insert(recent_.values.end(), values.begin(), values.end());
    ++recent_.n_rows;
    ++pushed_;
    // The first window scores all its rows; after it, each window scores its last row only; never
    // a context row. `start` counts pushed rows, and the window holds rows [pushed_ − w, pushed_).
    const auto start = std::max(context_rows_, pushed_ == w ? 0 : pushed_ - 1);
    if (recent_.n_rows < w || start >= pushed_) return {};
    const auto result = score_unthresholded(s, recent_, start - (pushed_ - w));
    for (std::int64_t t = 0; t < result.n_rows; ++t) {
        ScoredRow row;
        row.row = result.first_row + t;
        row.score = result.scores[static_cast<std::size_t>(t)];
        const auto* c = result.contributions.data() + t * result.n_metrics;
        row.contributions.assign(c, c + result.n_metrics);
        held_.push_back(std::move(row));
    }
    return release(false);
}

std::vector<ScoredRow> StreamScorer::finish() {
    if (finished_) throw Error(ErrorKind::usage, recent_.source + ": finish() called twice");
    finished_ = true;
    if (const auto w = detector_.state_->model.window; pushed_ < w)
        throw Error(ErrorKind::data, recent_.source + ": the stream ended after " + std::to_string(pushed_) + (pushed_ == 1 ? " row" : " rows") +
                                         ", fewer than one window (" + std::to_string(w) + ")");
    if (pushed_ <= context_rows_)
        throw Error(ErrorKind::data, recent_.source + ": the stream ended after " + std::to_string(pushed_) + " rows, all of them context rows (" +
                                         std::to_string(context_rows_) + ")");
    return release(true);
}

//! Hands out the held rows once their threshold is known: at once, or after a warm-up
//! recalibration once the warm-up rows (or, at the end, all the rows there are) are scored.
std::vector<ScoredRow> StreamScorer::release(bool at_end) {
    const auto& s = *detector_.state_;
    if (!threshold_) {
        if (!at_end && static_cast<std::int64_t>(held_.size()) < s.warmup_rows) return {};
        std::vector<double> scores;
        for (const auto& row : held_) scores.push_back(row.score);
        threshold_ = series_threshold(s, scores, recent_.source);
    }
    for (auto& row : held_) {
        row.threshold = *threshold_;
        row.anomaly = row.score > *threshold_ ? 1 : 0;
    }
    return std::exchange(held_, {});
}

}  // namespace lara
