// lara: unsupervised anomaly detection on multivariate time series that adapts to a new normal
// pattern from a few observations (LARA, The Web Conference 2024).
//
//   #include <lara/lara.h>
//
//   lara::Series history = lara::read_series("train.csv");
//   lara::ModelConfig model;                      // mlp VAE, window 40
//   lara::Detector detector = lara::Detector::train(history, model, {}, {});
//   lara::ScoreResult result = detector.score(lara::read_series("today.csv"));
//   // result.scores[t], result.anomalies[t], result.top_metrics(t, 3) ...
//
//   lara::StreamScorer live(detector, "live");    // rows as they arrive
//   for (const lara::ScoredRow& r : live.push(values)) { /* r.row, r.score, r.anomaly */ }
//
//   // The normal pattern changed: adapt from ~43 new rows, in milliseconds.
//   auto [adapted, report] = detector.retrain(lara::read_series("new.csv"), lara::RetrainConfig{});
//   adapted.save("adapted.lara");
//
// Every function throws lara::Error (lara/error.h) on failure: usage for a bad configuration or
// argument, data for a series that cannot be used (wrong metric count, fewer rows than a window,
// a value that is not finite, metrics named in another order than in training), model for a model
// file that is missing, corrupt or foreign, output for a file that cannot be written.
// No LibTorch type appears here.
//
// Threads: a Detector is immutable, so score(), retrain(), info() and save() may be called on one
// detector from several threads at once. Each call uses LibTorch's intra-op threads (set_threads
// in lara/bench.h). retrain() measures its own peak memory by resetting the process's peak-RSS
// counter (Linux /proc/self/clear_refs): a host that reads its own VmHWM, or retrains in several
// threads at once, sees the counter reset and the reports' peaks overlap.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "lara/config.h"
#include "lara/error.h"
#include "lara/series.h"

namespace lara {

//! "0.1.0 (git 8e01c00)": the release and the commit this library was built from, as saved in
//! model files and experiment folders ("git unknown" when built outside a git checkout).
const char* version();

//! Scores of a series: one per row, so that they line up with a label file.
struct ScoreResult {
    std::int64_t first_row = 0;        // file row of scores[0]
    std::int64_t n_rows = 0, n_metrics = 0;
    std::vector<double> scores;        // −log p of each row's last-step reconstruction (nats)
    std::vector<float> contributions;  // [n_rows, n_metrics]: each metric's share of the score
    double threshold = 0;
    std::vector<int> anomalies;        // 1 where score > threshold

    //! The k metrics with the largest contributions at `row` (0-based within this result), largest
    //! first. Throws lara::Error (usage) for a row outside [0, n_rows).
    std::vector<int> top_metrics(std::int64_t row, int k) const;
};

//! What one retraining did, and what it cost.
struct RetrainReport {
    std::string method;
    std::int64_t n_rows = 0, n_windows = 0;
    double ruminate_ms = 0, fit_ms = 0, recalibrate_ms = 0, total_ms = 0;
    std::int64_t peak_rss_bytes = 0;
    // LARA: the convex objectives at their optimum, and the ruminate block's effective sample
    // size; NaN (null in to_json()) for a stage not fitted (an infinite ridge, fit_z or fit_x off)
    // and where no window was ruminated.
    double objective_z = 0, objective_x = 0;
    double ess_mean = 0, ess_min = 0;
    std::int64_t n_ruminated = 0;             // LARA: windows that went through it
    std::int64_t newton_steps = 0;            // LARA, laplace proposal: Newton steps taken to the target's mode
    std::int64_t iterations = 0;              // LARA with the iterative solver
    bool converged = true;                    // LARA, iterative solver: false when it ran out of iterations
    std::vector<double> loss_curve_z, loss_curve_x;
    double threshold_before = 0, threshold_after = 0;
    //! recalibrate warmup: each scored series gets its own threshold, fitted on its first
    //! warmup_rows scores; threshold_after is then the old value, unused (null in to_json()).
    std::int64_t warmup_rows = 0, warmup_rows_before = 0;  // the latter: of the model retrained

    nlohmann::json to_json() const;
};

//! A trained detector: normaliser, frozen VAE, adjusting maps and threshold. Copies are cheap and
//! share the immutable state; retrain() returns a new detector and leaves this one as it was.
class Detector {
public:
    using Progress = std::function<void(const TrainProgress&)>;

    static Detector train(const Series& series, ModelConfig model, const TrainConfig& train,
                          const ThresholdConfig& threshold, const Progress& progress = {});
    //! Scores every row of `series` but its first context_rows, which only give the first scored
    //! windows their past (`lara score --from R` reads up to w − 1 rows before R for them), so
    //! that a range scores as it does inside the whole file. A warm-up threshold is fitted on the
    //! scored rows. Throws lara::Error (usage) unless 0 ≤ context_rows < series.n_rows.
    ScoreResult score(const Series& series, std::int64_t context_rows = 0) const;
    //! Adapts the model to the rows of `series` but its first context_rows, which only give the
    //! new rows their past where the threshold is recalibrated (shift, scale): each new row is then
    //! scored by the window that ends at it, as detection scores it (`lara retrain --from R` reads
    //! up to w − 1 rows before R for them). The fit itself sees the new rows only. Throws
    //! lara::Error (usage) unless 0 ≤ context_rows < series.n_rows.
    std::pair<Detector, RetrainReport> retrain(const Series& series, const RetrainConfig& config, std::int64_t context_rows = 0) const;

    void save(const std::string& path) const;  // atomic: a temporary file, then rename
    static Detector load(const std::string& path);
    nlohmann::json info() const;               // the effective configs, sizes and history

    const ModelConfig& model_config() const;
    //! The threshold a scored series is compared with; after a warm-up recalibration the stored
    //! value is unused and each series gets its own (ScoreResult::threshold, info()'s value null).
    double threshold() const;
    std::int64_t generation() const;           // 0 when trained, +1 per retraining
    //! The training file's header names, one per metric (ScoreResult::top_metrics indexes them);
    //! empty when it had none.
    const std::vector<std::string>& metric_names() const;
    //! Number of stored parameters (weights and maps); retraining with LARA does not change it.
    std::int64_t parameter_count() const;

    struct State;

private:
    friend class StreamScorer;
    explicit Detector(std::shared_ptr<const State> state);  // only train(), retrain() and load() make one
    std::shared_ptr<const State> state_;
};

//! One row of a stream, scored.
struct ScoredRow {
    std::int64_t row = 0;              // data-row number: the stream's first_row, then one more per row
    double score = 0, threshold = 0;
    int anomaly = 0;                   // 1 where score > threshold
    std::vector<float> contributions;  // each metric's share of the score
    //! The k metrics with the largest contributions, largest first (ScoreResult::top_metrics).
    std::vector<int> top_metrics(int k) const;
};

//! Scores a series as its rows arrive (`lara score --data -`), with Detector::score()'s results on
//! the rows pushed (up to float rounding: a row's window is decoded alone, not in a batch). Rows
//! come out in order: none until a window of rows has arrived, then those w rows at once (the first
//! w − 1 take their steps of the first window, as in score(); context rows are not handed out),
//! then each row as it is pushed. A detector retrained with `--recalibrate warmup` holds its rows
//! until its warm-up rows have been scored, since their scores set the threshold that every row is
//! compared with.
class StreamScorer {
public:
    //! `source` names the stream in errors; `metric_names`, its header's (or none), are checked
    //! against the model's order as score() checks a series'. `first_row` numbers the first row
    //! pushed; the first `context_rows` rows pushed are not scored, as in score().
    StreamScorer(Detector detector, std::string source, std::vector<std::string> metric_names = {}, std::int64_t first_row = 0,
                 std::int64_t context_rows = 0);
    //! One row of model_config().n_metrics raw values; returns the rows it completes. A row that is
    //! refused (the wrong width, a value that is not finite) leaves the scorer as it was.
    std::vector<ScoredRow> push(const std::vector<float>& values);
    //! The end of the stream: the rows still held (a warm-up threshold is then fitted on all the
    //! scores there are, as score() does on a short series). Throws lara::Error (data) when fewer
    //! than a window of rows arrived, or none after the context rows.
    std::vector<ScoredRow> finish();

private:
    std::vector<ScoredRow> release(bool at_end);
    Detector detector_;
    Series recent_;                     // the last w rows pushed, raw
    std::vector<ScoredRow> held_;       // scored, not yet returned
    std::optional<double> threshold_;   // once known: at once, or after a warm-up
    bool finished_ = false;
    std::int64_t pushed_ = 0, context_rows_ = 0;
};

}  // namespace lara
