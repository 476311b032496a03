#include "api/experiment_figures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>

#include "core/statistics.h"
#include "eval/svg_chart.h"

namespace lara {
namespace {

constexpr std::int64_t kPlottedMetrics = 4;

std::string number(double value, int decimals) {
    char text[32];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

double quantile(std::vector<double> values, double q) {
    const auto i = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1));
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(i), values.end());
    return values[i];
}

//! Contiguous runs of nonzero labels as [first, last] row intervals.
std::vector<eval::Band> labelled_segments(const std::vector<int>& labels) {
    std::vector<eval::Band> bands;
    for (std::size_t t = 0; t < labels.size(); ++t) {
        if (!labels[t]) continue;
        const auto from = t;
        while (t + 1 < labels.size() && labels[t + 1]) ++t;
        bands.push_back({static_cast<double>(from), static_cast<double>(t)});
    }
    return bands;
}

std::vector<double> row_numbers(std::int64_t first, std::int64_t n) {
    std::vector<double> x(static_cast<std::size_t>(n));
    std::iota(x.begin(), x.end(), static_cast<double>(first));
    return x;
}

double mean(const std::vector<double>& values) {
    return values.empty() ? std::nan("") : std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

//! Methods in order of first appearance, and the mean of `field` over each method's rows that `keep`.
template <class Keep>
std::vector<std::pair<std::string, double>> mean_by_method(const std::vector<ExperimentRow>& rows, double ExperimentRow::*field, Keep keep) {
    std::vector<std::pair<std::string, std::vector<double>>> groups;
    for (const auto& row : rows) {
        if (!keep(row) || std::isnan(row.*field)) continue;
        auto group = std::find_if(groups.begin(), groups.end(), [&row](const auto& g) { return g.first == row.method; });
        if (group == groups.end()) group = groups.insert(groups.end(), {row.method, {}});
        group->second.push_back(row.*field);
    }
    std::vector<std::pair<std::string, double>> out;
    for (const auto& [method, values] : groups) out.emplace_back(method, mean(values));
    return out;
}

}  // namespace

std::string entity_figure(const std::string& title, const Series& test, const std::vector<int>& labels, std::int64_t first_scored,
                          const std::vector<std::pair<std::string, ScoreResult>>& models) {
    const auto bands = labelled_segments(labels);
    const auto add_context = [&](eval::Panel& panel) {
        panel.bands = bands;
        panel.band_label = "labelled anomaly";
        panel.x_label = first_scored > 0 ? "test row (rows before " + std::to_string(first_scored) + " are not scored)" : "test row";
    };
    std::vector<eval::Panel> panels;

    eval::Panel series;
    const auto shown = std::min(kPlottedMetrics, test.n_metrics);
    series.title = "The series: metrics 0–" + std::to_string(shown - 1) + " of " + std::to_string(test.n_metrics) + ", z-scored over the file";
    series.y_label = "z";
    for (std::int64_t j = 0; j < shown; ++j) {
        std::vector<double> y(static_cast<std::size_t>(test.n_rows));
        for (std::int64_t t = 0; t < test.n_rows; ++t) y[static_cast<std::size_t>(t)] = test.at(t, j);
        const double m = mean(y);
        double squares = 0;
        for (double v : y) squares += (v - m) * (v - m);
        const double sd = std::sqrt(squares / static_cast<double>(std::max<std::size_t>(y.size(), 1)));
        for (auto& v : y) v = sd > 0 ? (v - m) / sd : 0.0;
        series.lines.push_back({"metric " + std::to_string(j), row_numbers(0, test.n_rows), std::move(y), "", false, false});
    }
    add_context(series);
    panels.push_back(std::move(series));

    for (const auto& [method, result] : models) {
        eval::Panel panel;
        auto scores = result.scores;
        const double median = core::median(scores);
        const double cap = std::max(quantile(scores, 0.995), result.threshold + 0.5 * std::abs(result.threshold - median));
        const auto clipped = std::count_if(scores.begin(), scores.end(), [cap](double v) { return v > cap; });
        for (auto& v : scores) v = std::min(v, cap);
        panel.title = method + ": score (−log p, nats) and its label-free threshold " + number(result.threshold, 1);
        if (clipped > 0) panel.title += "; " + std::to_string(clipped) + " scores above " + number(cap, 1) + " drawn at it";
        panel.y_label = "score";
        panel.lines.push_back({"score", row_numbers(result.first_row, result.n_rows), std::move(scores), "#1f77b4", false, false});
        panel.lines.push_back({"threshold", {static_cast<double>(result.first_row), static_cast<double>(result.first_row + result.n_rows - 1)},
                               {result.threshold, result.threshold}, "#d62728", true, false});
        add_context(panel);
        panels.push_back(std::move(panel));
    }
    return eval::svg_figure(title, panels);
}

std::string f1_against_k_figure(const std::string& title, const std::vector<ExperimentRow>& rows) {
    std::vector<std::int64_t> ks;
    for (const auto& row : rows) ks.push_back(row.new_rows);
    std::sort(ks.begin(), ks.end());
    ks.erase(std::unique(ks.begin(), ks.end()), ks.end());
    const auto panel_of = [&](double ExperimentRow::*field, const std::string& panel_title, const std::string& y_label) {
        eval::Panel panel;
        panel.title = panel_title;
        panel.x_label = "K, new rows given to retraining";
        panel.y_label = y_label;
        panel.log_x = true;
        std::map<std::string, eval::Line> lines;
        std::vector<std::string> order;
        for (const auto k : ks)
            for (const auto& [method, value] : mean_by_method(rows, field, [k](const auto& row) { return row.new_rows == k; })) {
                if (!lines.count(method)) {
                    order.push_back(method);
                    lines[method] = {method, {}, {}, "", method == "random", true};
                }
                lines[method].x.push_back(static_cast<double>(k));
                lines[method].y.push_back(value);
            }
        for (const auto& method : order) panel.lines.push_back(lines[method]);
        return panel;
    };
    return eval::svg_figure(title, {panel_of(&ExperimentRow::f1, "Point-wise F1 at each model's label-free threshold", "F1"),
                                    panel_of(&ExperimentRow::best_f1, "Best F1 over all thresholds (uses test labels: an upper bound)",
                                             "best F1")});
}

std::string retraining_time_figure(const std::string& title, const std::vector<ExperimentRow>& rows) {
    std::vector<eval::Bar> bars;
    for (const auto& [method, ms] : mean_by_method(rows, &ExperimentRow::wall_ms, [](const auto& row) { return row.method != "random"; }))
        bars.push_back({method, ms});
    return eval::svg_bars(title, "milliseconds (old, full and oracle: training; the others: retraining)", bars, true);
}

}  // namespace lara
