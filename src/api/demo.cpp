#include "lara/demo.h"

#include <cstdio>

#include "core/resources.h"
#include "data/synthetic.h"
#include "eval/metrics.h"
#include "lara/error.h"
#include "lara/lara.h"

namespace lara {
namespace {

DemoRow evaluate_rows(const std::string& model, const std::string& period, const ScoreResult& scores,
                      const std::vector<int>& labels, std::int64_t from, std::int64_t to, double seconds) {
    const std::vector<int> predicted(scores.anomalies.begin() + from, scores.anomalies.begin() + to);
    const std::vector<int> truth(labels.begin() + from, labels.begin() + to);
    const auto m = eval::point_metrics(predicted, truth);
    const std::vector<double> values(scores.scores.begin() + from, scores.scores.begin() + to);
    return {model, period, m.precision, m.recall, m.f1, eval::best_f1(values, truth).f1, seconds};
}

}  // namespace

DemoReport run_demo(const DemoOptions& options, const std::function<void(const TrainProgress&)>& progress) {
    const data::SyntheticConfig synthetic_config;
    const auto synthetic = data::make_synthetic(synthetic_config);
    const auto& series = synthetic.series;
    const auto& labels = synthetic.labels;
    const auto change = synthetic_config.change_at;
    const auto train_rows = synthetic_config.clean_until;
    const auto new_end = change + options.new_rows;

    ModelConfig model;
    model.arch = options.arch;
    // Checked before the training it would waste. After the new rows the demo scores the rest of
    // the series, and its warm-up threshold needs kMinWarmupRows of them.
    const auto at_most = synthetic.series.n_rows - change - RetrainConfig::kMinWarmupRows;
    if (options.new_rows < model.window || options.new_rows > at_most)
        throw Error(ErrorKind::usage, "demo options: new_rows " + std::to_string(options.new_rows) + " is outside [" +
                                          std::to_string(model.window) + ", " + std::to_string(at_most) +
                                          "]: at least one window, and rows left after them to score");
    TrainConfig train;
    train.epochs = options.epochs;
    train.seed = options.seed;
    const core::Timer train_timer;
    const auto old = Detector::train(series.slice(0, train_rows), model, train, ThresholdConfig{}, progress);
    const double train_seconds = train_timer.seconds();

    RetrainConfig lara_config;
    lara_config.seed = options.seed;
    // The w − 1 rows before the change give the new rows their past where the threshold is recalibrated.
    const auto [new_rows, context] = series.slice_with_past(change, new_end, model.window - 1);
    const auto [adapted, lara_report] = old.retrain(new_rows, lara_config, context);
    RetrainConfig warmup_config = lara_config;
    warmup_config.recalibrate = "warmup";
    const auto [adapted_warmup, warmup_report] = old.retrain(new_rows, warmup_config, context);
    RetrainConfig scratch_config = lara_config;
    scratch_config.method = "scratch";
    const auto [scratch, scratch_report] = old.retrain(new_rows, scratch_config, context);

    DemoReport report;
    report.n_rows = series.n_rows;
    report.n_metrics = series.n_metrics;
    report.change_at = change;
    report.train_rows = train_rows;
    const auto old_scores = old.score(series);
    report.rows.push_back(evaluate_rows("old", "before change", old_scores, labels, train_rows, change, train_seconds));
    report.rows.push_back(evaluate_rows("old", "after change", old_scores, labels, new_end, series.n_rows, train_seconds));
    report.rows.push_back(evaluate_rows("lara", "after change", adapted.score(series), labels, new_end, series.n_rows,
                                        lara_report.total_ms / 1000.0));
    // The warm-up threshold is fitted on the first day of the series it scores: here the rows after the 43.
    report.rows.push_back(evaluate_rows("lara+warmup", "after change", adapted_warmup.score(series.slice(new_end, series.n_rows)),
                                        std::vector<int>(labels.begin() + new_end, labels.end()), 0, series.n_rows - new_end,
                                        warmup_report.total_ms / 1000.0));
    report.rows.push_back(evaluate_rows("scratch", "after change", scratch.score(series), labels, new_end, series.n_rows,
                                        scratch_report.total_ms / 1000.0));
    return report;
}

std::string DemoReport::text() const {
    std::string out;
    char line[512];
    std::snprintf(line, sizeof line,
                  "synthetic service: %lld rows x %lld metrics; trained on rows [0, %lld); normal pattern changes at row %lld\n"
                  "point-wise precision / recall / F1 at each model's own label-free threshold;\n"
                  "best F1 picks the threshold with the test labels and is shown for reference only:\n\n",
                  static_cast<long long>(n_rows), static_cast<long long>(n_metrics), static_cast<long long>(train_rows),
                  static_cast<long long>(change_at));
    out += line;
    out += "model        period          precision  recall     F1  best F1   time to build\n";
    for (const auto& r : rows) {
        std::snprintf(line, sizeof line, "%-12s %-15s %9.3f %7.3f %6.3f %8.3f   %9.3f s\n", r.model.c_str(), r.period.c_str(),
                      r.precision, r.recall, r.f1, r.best_f1, r.seconds);
        out += line;
    }
    const double train_s = rows.empty() ? 0 : rows.front().seconds;
    for (const auto& r : rows)
        if (r.model == "lara" && r.seconds > 0) {
            std::snprintf(line, sizeof line, "\nLARA retrained from the first rows of the new pattern %.0fx faster than training the base model.\n",
                          train_s / r.seconds);
            out += line;
        }
    return out;
}

}  // namespace lara
