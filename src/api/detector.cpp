#include <algorithm>
#include <cmath>
#include <new>
#include <numeric>
#include <sstream>

#include "api/detector_state.h"
#include "api/threads.h"
#include "core/json_field.h"
#include "core/read_file.h"
#include "core/resources.h"
#include "core/statistics.h"
#include "detect/scorer.h"
#include "detect/spot.h"
#include "model/random.h"
#include "model/trainer.h"
#include "persist/model_file.h"
#include "retrain/retrainer.h"

namespace lara {
namespace {

constexpr const char* kKind = "lara-detector";
constexpr std::int64_t kMinCalibrationRows = 300;  // held-out scores needed to fit SPOT on them alone

torch::Tensor to_tensor(const std::vector<float>& values, std::int64_t rows, std::int64_t cols) {
    return torch::from_blob(const_cast<float*>(values.data()), {rows, cols}).clone();
}

//! A Series built by hand (the public API) may not hold n_rows × n_metrics values, or may hold a
//! NaN (the CSV reader refuses them): it would crash training or score as never anomalous.
void check_series(const Series& series) {
    if (series.n_rows < 0 || series.n_metrics <= 0 ||
        series.values.size() != static_cast<std::size_t>(series.n_rows) * static_cast<std::size_t>(series.n_metrics))
        throw Error(ErrorKind::data, series.source + ": the series holds " + std::to_string(series.values.size()) + " values, not " +
                                         std::to_string(series.n_rows) + " rows × " + std::to_string(series.n_metrics) + " metrics");
    if (!series.metric_names.empty() && series.metric_names.size() != static_cast<std::size_t>(series.n_metrics))
        throw Error(ErrorKind::data, series.source + ": the series names " + std::to_string(series.metric_names.size()) + " metrics but holds " +
                                         std::to_string(series.n_metrics));
    const auto bad = std::find_if(series.values.begin(), series.values.end(), [](float v) { return !std::isfinite(v); });
    if (bad != series.values.end()) {
        const auto at = static_cast<std::int64_t>(bad - series.values.begin());
        throw Error(ErrorKind::data, series.source + ": row " + std::to_string(series.first_row + at / series.n_metrics) + ", metric " +
                                         std::to_string(at % series.n_metrics + 1) + " is not a finite number");
    }
}

torch::Tensor normalised(const data::Normalizer& normalizer, const Series& series, std::int64_t window) {
    const auto values = normalizer.transform(series);
    if (series.n_rows == 0) throw Error(ErrorKind::data, series.source + ": the row range holds no rows");
    if (series.n_rows < window)
        throw Error(ErrorKind::data, series.source + ": " + std::to_string(series.n_rows) + (series.n_rows == 1 ? " row is" : " rows are") +
                                         " fewer than one window (" + std::to_string(window) + ")");
    return to_tensor(values, series.n_rows, series.n_metrics);
}

//! SPOT on a short series keeps about this many peaks; it needs twice as many scores for them to
//! stay above the median.
constexpr std::int64_t kTailPeaks = 20, kMinTailRows = 2 * kTailPeaks;

struct FittedThreshold {
    double value = 0;
    nlohmann::json fit;  // SPOT's tail fit; null for a fixed threshold
};

//! `source` names the series in errors; `remedy` says what to do when it is too short.
FittedThreshold fit_threshold(const ThresholdConfig& config, const std::vector<double>& scores, const std::string& source,
                              const std::string& remedy) {
    if (config.method == "fixed") return {config.value, nullptr};
    // A short series has too few scores above the configured quantile for a tail fit: lower it
    // so that about kTailPeaks peaks remain, as long as it stays a tail (above the median).
    const double n = static_cast<double>(scores.size());
    const double init_quantile = std::min(config.init_quantile, 1.0 - static_cast<double>(kTailPeaks) / n);
    if (init_quantile < 0.5)
        throw Error(ErrorKind::data, source + ": too few scores (" + std::to_string(scores.size()) +
                                         ") to fit SPOT's tail; " + remedy);
    const auto fit = [&] {
        try {
            return detect::fit_spot(scores, config.risk, init_quantile);
        } catch (const Error& e) {
            throw Error(e.kind(), source + ": " + e.what());
        }
    }();
    return {fit.threshold, {{"init_quantile", init_quantile}, {"init_threshold", fit.init_threshold}, {"gamma", fit.gamma},
                            {"sigma", fit.sigma}, {"n", fit.n}, {"n_peaks", fit.n_peaks}}};
}

void set_threshold(Detector::State& s, const std::vector<double>& scores, const std::string& source) {
    s.score_median = core::median(scores);
    s.score_mad = core::median_absolute_deviation(scores);
    auto fitted = fit_threshold(s.threshold_config, scores, source, "give more rows or a fixed --threshold");
    s.threshold = fitted.value;
    s.threshold_fit = std::move(fitted.fit);
}

std::vector<float> tensor_values(const torch::Tensor& t) {
    const auto c = t.contiguous();
    return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

retrain::AffineMap map_from(const persist::ModelFile& file, const std::string& name, std::int64_t expected_sizes[2]) {
    const auto A = file.sections.find("maps/" + name + "_A");
    const auto b = file.sections.find("maps/" + name + "_b");
    if (A == file.sections.end() || b == file.sections.end())
        throw Error(ErrorKind::model, "model file lacks the adjusting map " + name);
    const auto n = static_cast<std::int64_t>(b->second.size());
    if ((n != expected_sizes[0] && n != expected_sizes[1]) || static_cast<std::int64_t>(A->second.size()) != n * n)
        throw Error(ErrorKind::model, "model file's adjusting map " + name + " has the wrong size");
    const auto finite = [](const std::vector<float>& v) { return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); }); };
    if (!finite(A->second) || !finite(b->second)) throw Error(ErrorKind::model, "model file's adjusting map " + name + " is not all finite");
    return {to_tensor(A->second, n, n), to_tensor(b->second, 1, n).view({n})};
}

}  // namespace

std::vector<int> ScoreResult::top_metrics(std::int64_t row, int k) const {
    if (row < 0 || row >= n_rows)
        throw Error(ErrorKind::usage, "top_metrics: row " + std::to_string(row) + " is outside the " + std::to_string(n_rows) + " scored rows");
    return largest_contributions(contributions.data() + row * n_metrics, n_metrics, k);
}

nlohmann::json RetrainReport::to_json() const {
    nlohmann::json j = {{"method", method},
                        {"n_rows", n_rows},
                        {"n_windows", n_windows},
                        {"wall_ms", {{"ruminate", ruminate_ms}, {"fit", fit_ms}, {"recalibrate", recalibrate_ms}, {"total", total_ms}}},
                        {"peak_rss_mib", static_cast<double>(peak_rss_bytes) / (1024.0 * 1024.0)},
                        {"threshold", {{"before", threshold_before}, {"after", threshold_after}}}};
    // A warm-up threshold is each scored series' own: the stored value does not apply.
    if (warmup_rows_before > 0) j["threshold"]["before"] = nullptr;
    if (warmup_rows > 0) j["threshold"]["after"] = nullptr, j["threshold"]["warmup_rows"] = warmup_rows;
    if (method == "lara") {
        const auto or_null = [](double value) { return std::isnan(value) ? nlohmann::json() : nlohmann::json(value); };
        j["objective"] = {{"z", or_null(objective_z)}, {"x", or_null(objective_x)}};
        j["ess"] = {{"mean", or_null(ess_mean)}, {"min", or_null(ess_min)}};
        j["newton_steps"] = newton_steps;
        j["n_ruminated_windows"] = n_ruminated;
        if (iterations > 0) {
            j["iterations"] = iterations;
            j["converged"] = converged;
        }
    }
    return j;
}

Detector::Detector(std::shared_ptr<const State> state) : state_(std::move(state)) {}

const ModelConfig& Detector::model_config() const { return state_->model; }
double Detector::threshold() const { return state_->threshold; }
std::int64_t Detector::generation() const { return state_->generation; }
const std::vector<std::string>& Detector::metric_names() const { return state_->metric_names; }

std::int64_t Detector::parameter_count() const {
    std::int64_t count = 0;
    for (const auto& p : state_->adjusted.vae()->parameters()) count += p.numel();
    const auto& z = state_->adjusted.z_map();
    const auto& x = state_->adjusted.x_map();
    return count + z.A.numel() + z.b.numel() + x.A.numel() + x.b.numel() + state_->adjusted.nonlinear_parameter_count();
}

Detector Detector::train(const Series& series, ModelConfig model, const TrainConfig& train,
                         const ThresholdConfig& threshold, const Progress& progress) {
    check_series(series);
    // The data's own problems, said as such before the model config would say them as settings.
    if (series.n_metrics > ModelConfig::kMaxMetrics)
        throw Error(ErrorKind::data, series.source + ": " + std::to_string(series.n_metrics) + " metrics; a model takes at most " +
                                         std::to_string(ModelConfig::kMaxMetrics) + " (its adjusting map is d×d)");
    // The names are kept in the model's JSON, which holds UTF-8 only.
    for (std::size_t i = 0; i < series.metric_names.size(); ++i)
        if (core::invalid_utf8_at(series.metric_names[i]) != std::string_view::npos)
            throw Error(ErrorKind::data, series.source + ": the name of metric " + std::to_string(i + 1) + ", " + core::quoted(series.metric_names[i]) +
                                             ", is not UTF-8 text: save the file as UTF-8");
    model.n_metrics = series.n_metrics;
    model.validate();
    train.validate();
    threshold.validate();
    const auto normalizer = data::Normalizer::fit(series);
    const auto values = normalised(normalizer, series, model.window);

    model::seed_thread_random(train.seed);
    auto vae = model::make_vae(model);
    const auto windows = model::sliding_windows(values, model.window);
    const auto history = model::train_vae(*vae, windows, train, progress);
    const auto kept = static_cast<std::size_t>(history.best_epoch - 1);

    auto state = std::make_shared<State>(model, train, threshold, normalizer, retrain::AdjustedModel(vae));
    state->metric_names = series.metric_names;
    state->training = {{"source", series.source}, {"first_row", series.first_row}, {"n_rows", series.n_rows},
                       {"epochs_run", history.train_loss.size()}, {"best_epoch", history.best_epoch},
                       // the kept epoch's losses; val_loss is the training loss when nothing was held out
                       {"train_loss", history.train_loss[kept]}, {"val_loss", history.val_loss[kept]},
                       {"held_out_windows", history.held_out}, {"threads", thread_counts()},
                       {"seconds", history.seconds}, {"warnings", nlohmann::json::array()}};
    // Held-out windows are the latest ones: when the series ends in another pattern, their loss
    // rises as soon as the model learns the rest, and early stopping keeps an untrained model.
    if (kept_first_epoch(state->training))
        state->training["warnings"].push_back(
            "early stopping kept epoch 1 of " + std::to_string(history.train_loss.size()) +
            ": the loss of the latest windows, held out for validation, rose from the first epoch on, as it does when the data "
            "ends in another pattern than the rest; train on the rows before the change (--to) or without early stopping "
            "(--val-fraction 0)");
    // A fraction of a short series rounds to no window: early stopping is then off, and says so.
    if (train.val_fraction > 0 && history.held_out == 0) {
        std::ostringstream what;
        what << "--val-fraction " << train.val_fraction << " of " << windows.size(0)
             << " windows holds out none, so there was no early stopping (--patience): every epoch ran and the last was kept";
        state->training["warnings"].push_back(what.str());
    }
    for (const auto& dominating : data::rows_dominating_spread(series)) {
        const auto j = static_cast<std::size_t>(dominating.metric);
        std::ostringstream what;
        what << "metric " << j << (j < series.metric_names.size() ? " (" + series.metric_names[j] + ")" : std::string())
             << ", 0-based as in top_metrics: ";
        if (dominating.rows == 1) what << "data row " << series.first_row + dominating.row << " (0-based, as --from), " << dominating.value << ",";
        else what << dominating.rows << " rows (the farthest: data row " << series.first_row + dominating.row << ", 0-based as --from, " << dominating.value << ")";
        what << (dominating.rows == 1 ? " holds" : " hold") << " nearly all of its spread over the training rows (without "
             << (dominating.rows == 1 ? "it" : "them") << " the standard deviation is " << dominating.ratio
             << " of what it is), so the model sees the other rows of this metric as constant and cannot flag their changes; "
                "remove or fill such rows, or train on a range without them";
        state->training["warnings"].push_back(what.str());
    }
    // The threshold is fitted on out-of-sample scores when there are enough of them: the rows whose
    // windows were held out for early stopping score like the stream the model will meet, while
    // in-sample scores are optimistic and give a threshold that is too low.
    auto scores = detect::score_steps(state->adjusted, values).scores;
    if (history.held_out >= kMinCalibrationRows) scores.erase(scores.begin(), scores.end() - history.held_out);
    state->training["threshold_rows"] = scores.size();
    set_threshold(*state, scores, series.source);
    return Detector(state);
}

// A series in another order would be scored column by column against the wrong metric, silently.
// Names the model never saw are accepted: the same metrics of another host are often named after it.
bool kept_first_epoch(const nlohmann::json& training) {
    return training["held_out_windows"].get<std::int64_t>() > 0 && training["best_epoch"].get<std::int64_t>() == 1 &&
           training["epochs_run"].get<std::int64_t>() > 1;
}

void check_metric_order(const Detector::State& s, const Series& series) {
    if (s.metric_names.empty() || series.metric_names.size() != s.metric_names.size()) return;
    for (std::size_t i = 0; i < series.metric_names.size(); ++i) {
        const auto& name = series.metric_names[i];
        // A name the header repeats says nothing about where its metric belongs.
        if (name == s.metric_names[i] || std::count(s.metric_names.begin(), s.metric_names.end(), name) != 1) continue;
        const auto at = std::find(s.metric_names.begin(), s.metric_names.end(), name);  // there, once
        throw Error(ErrorKind::data, series.source + ": metric " + std::to_string(i + 1) + " is \"" + name +
                                         "\", which the model was trained with as metric " + std::to_string(at - s.metric_names.begin() + 1) +
                                         ": the columns are in another order than in the training file");
    }
}

namespace {

//! The first context_rows of a series are only the past of the rest: 0 ≤ context_rows < n_rows.
void check_context(const Series& series, std::int64_t context_rows, const char* to_do) {
    if (context_rows < 0 || context_rows >= series.n_rows)
        throw Error(ErrorKind::usage, series.source + ": " + std::to_string(context_rows) + " context rows leave none of its " +
                                          std::to_string(series.n_rows) + " rows " + to_do);
}

}  // namespace

ScoreResult score_unthresholded(const Detector::State& s, const Series& series, std::int64_t first) {
    check_series(series);
    check_metric_order(s, series);
    check_context(series, first, "to score");
    auto steps = detect::score_steps(s.adjusted, normalised(s.normalizer, series, s.model.window), first);
    ScoreResult result;
    result.first_row = series.first_row + first;
    result.n_rows = steps.n_rows;
    result.n_metrics = steps.n_metrics;
    result.scores = std::move(steps.scores);
    result.contributions = std::move(steps.contributions);
    return result;
}

double series_threshold(const Detector::State& s, const std::vector<double>& scores, const std::string& source) {
    if (s.warmup_rows == 0) return s.threshold;
    // Recalibrated by warm-up: SPOT on the first scores of this series.
    const auto n = std::min<std::size_t>(static_cast<std::size_t>(s.warmup_rows), scores.size());
    return fit_threshold(s.threshold_config, {scores.begin(), scores.begin() + static_cast<std::ptrdiff_t>(n)}, source,
                         "this model (retrained with --recalibrate warmup) fits its threshold on the first " +
                             std::to_string(s.warmup_rows) + " rows of each scored series: score at least " + std::to_string(kMinTailRows) + " rows")
        .value;
}

std::vector<int> largest_contributions(const float* c, std::int64_t n_metrics, int k) {
    std::vector<int> order(static_cast<std::size_t>(n_metrics));
    std::iota(order.begin(), order.end(), 0);
    const auto kept = std::min<std::size_t>(static_cast<std::size_t>(std::max(k, 0)), order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(kept), order.end(),
                      [c](int a, int b) { return c[a] > c[b] || (c[a] == c[b] && a < b); });
    order.resize(kept);
    return order;
}

ScoreResult Detector::score(const Series& series, std::int64_t context_rows) const {
    auto result = score_unthresholded(*state_, series, context_rows);
    result.threshold = series_threshold(*state_, result.scores, series.source);
    result.anomalies.reserve(result.scores.size());
    for (double v : result.scores) result.anomalies.push_back(v > result.threshold ? 1 : 0);
    return result;
}

std::pair<Detector, RetrainReport> Detector::retrain(const Series& rows, const RetrainConfig& config, std::int64_t context_rows) const {
    config.validate();
    if (config.recalibrate == "warmup" && state_->threshold_config.method == "fixed")
        throw Error(ErrorKind::usage, "--recalibrate warmup refits SPOT on the first rows of each scored series, and this model's "
                                      "threshold is fixed (--threshold): use shift, scale or keep");
    if (state_->adjusted.has_nonlinear_maps())
        throw Error(ErrorKind::usage, "a model with non-linear (MLP) adjusting maps is an ablation for measurement and cannot be retrained again");
    check_series(rows);
    check_metric_order(*state_, rows);
    check_context(rows, context_rows, "to retrain on");
    const Series new_rows = context_rows > 0 ? rows.slice(context_rows, rows.n_rows) : rows;
    core::reset_peak_rss();
    const core::Timer total;
    const auto& old = *state_;
    auto next = std::make_shared<State>(old);
    RetrainReport report;
    report.method = config.method;
    report.n_rows = new_rows.n_rows;
    report.threshold_before = old.threshold;
    report.warmup_rows_before = old.warmup_rows;

    if (config.method == "renorm") next->normalizer = data::Normalizer::fit(new_rows, old.normalizer.clip());
    const auto values = normalised(next->normalizer, new_rows, old.model.window);
    const auto windows = model::sliding_windows(values, old.model.window).contiguous();
    report.n_windows = windows.size(0);

    if (config.method == "lara") {
        auto fit = retrain::retrain_lara(old.adjusted, windows, config);
        next->adjusted = fit.model;
        report.ruminate_ms = fit.ruminate_ms;
        report.fit_ms = fit.fit_ms;
        report.objective_z = fit.objective_z;
        report.objective_x = fit.objective_x;
        report.ess_mean = fit.ess_mean;
        report.ess_min = fit.ess_min;
        report.newton_steps = fit.newton_steps;
        report.n_ruminated = fit.n_ruminated;
        report.iterations = fit.iterations;
        report.converged = fit.converged;
        report.loss_curve_z = std::move(fit.loss_curve_z);
        report.loss_curve_x = std::move(fit.loss_curve_x);
    } else if (config.method == "finetune" || config.method == "scratch") {
        const core::Timer fit;
        next->adjusted = config.method == "finetune" ? retrain::retrain_finetune(old.adjusted, windows, config)
                                                     : retrain::retrain_scratch(old.adjusted, windows, config);
        report.fit_ms = fit.milliseconds();
    }

    // Recalibration without labels: the old threshold moved by how far the median score of the
    // new rows (under the new model) lies from the median score the threshold was last set on,
    // and with `scale` its distance from that median stretched by the ratio of the spreads. Each
    // new row is scored as detection scores it, by the window that ends at it: the context rows
    // give the first ones their past. (Without them the first w − 1 rows took inner steps of the
    // very window the maps were fitted on, whose in-sample scores set the threshold far too low.)
    const core::Timer recalibrate;
    // keep: the old rule too, so a warm-up model stays one rather than reviving the stale stored threshold.
    next->warmup_rows = config.recalibrate == "keep" ? old.warmup_rows : 0;
    if (config.recalibrate == "shift" || config.recalibrate == "scale") {
        const auto scores = score_unthresholded(*next, rows, context_rows).scores;
        const double new_median = core::median(scores), new_mad = core::median_absolute_deviation(scores);
        // scale: the threshold keeps its distance from the median in units of the scores' spread.
        const double ratio = config.recalibrate == "scale" && old.score_mad > 0 && new_mad > 0 ? new_mad / old.score_mad : 1.0;
        next->threshold = new_median + (old.threshold - old.score_median) * ratio;
        // Both of the rows the threshold was last set on, for a later `scale`.
        next->score_median = new_median;
        next->score_mad = new_mad > 0 ? new_mad : old.score_mad;
    } else if (config.recalibrate == "warmup") {
        next->warmup_rows = config.warmup_rows;
    }
    report.recalibrate_ms = recalibrate.milliseconds();
    report.threshold_after = next->threshold;
    report.warmup_rows = next->warmup_rows;
    next->generation = old.generation + 1;
    next->history.push_back({{"generation", next->generation}, {"method", config.method},
                             {"source", new_rows.source}, {"first_row", new_rows.first_row}, {"n_rows", new_rows.n_rows},
                             {"config", config.to_json()}});
    report.total_ms = total.milliseconds();
    report.peak_rss_bytes = core::peak_rss_bytes();
    return {Detector(next), report};
}

void Detector::save(const std::string& path) const {
    const auto& s = *state_;
    if (s.adjusted.has_nonlinear_maps())
        throw Error(ErrorKind::usage, path + ": a model with non-linear (MLP) adjusting maps is an ablation for measurement and cannot be saved");
    persist::ModelFile file;
    file.meta = {{"kind", kKind},
                 {"written_by", std::string("lara ") + version()},
                 {"model", s.model.to_json()},
                 {"train", s.train.to_json()},
                 {"threshold_config", s.threshold_config.to_json()},
                 {"threshold", {{"value", s.threshold}, {"score_median", s.score_median}, {"score_mad", s.score_mad}, {"fit", s.threshold_fit}, {"warmup_rows", s.warmup_rows}}},
                 {"normalizer", s.normalizer.to_json()},
                 {"metric_names", s.metric_names},
                 {"training", s.training},
                 {"history", s.history},
                 {"generation", s.generation}};
    file.sections = model::export_weights(*s.adjusted.vae());
    file.sections["maps/z_A"] = tensor_values(s.adjusted.z_map().A);
    file.sections["maps/z_b"] = tensor_values(s.adjusted.z_map().b);
    file.sections["maps/x_A"] = tensor_values(s.adjusted.x_map().A);
    file.sections["maps/x_b"] = tensor_values(s.adjusted.x_map().b);
    persist::write_model_file(path, file);
}

Detector Detector::load(const std::string& path) {
    const auto file = persist::read_model_file(path);
    try {
        if (file.meta.value("kind", "") != kKind)
            throw Error(ErrorKind::model, "not a lara detector (metadata kind is not \"" + std::string(kKind) + "\")");
        auto model = ModelConfig::from_json(file.meta.at("model"));
        // The version says what a file means (docs/file-format.md): before version 3 the mlp's hidden
        // layers are ReLU whatever its JSON names, as a version-1 file's maps are identity whatever
        // sections it holds.
        if (file.version < 3 && model.arch == "mlp") model.activation = "relu";
        // Only files older than version 3 may leave the activation out (they meant ReLU).
        if (file.version >= 3 && model.arch == "mlp" && !file.meta.at("model").contains("activation"))
            throw Error(ErrorKind::model, "model.activation is missing (format version " + std::to_string(file.version) + " names it)");
        auto normalizer = data::Normalizer::from_json(file.meta.at("normalizer"));
        if (normalizer.n_metrics() != model.n_metrics)
            throw Error(ErrorKind::model, "normaliser and model disagree on the number of metrics");
        // Sizes in the metadata that the weights do not bear out were not written by lara: refused
        // before a network of those sizes is allocated (a 12 KB file could ask for gigabytes).
        std::int64_t weights_in_file = 0;
        for (const auto& [name, values] : file.sections)
            if (name.rfind("weights/", 0) == 0) weights_in_file += static_cast<std::int64_t>(values.size());
        if (const auto needed = model::weight_count(model); weights_in_file != needed)
            throw Error(ErrorKind::model, "the weights hold " + std::to_string(weights_in_file) + " values, and the " + model.arch +
                                              " the metadata describes has " + std::to_string(needed));
        auto state = std::make_shared<State>(model, TrainConfig::from_json(file.meta.at("train")),
                                             ThresholdConfig::from_json(file.meta.at("threshold_config")), std::move(normalizer),
                                             retrain::AdjustedModel(model::make_vae(model)));
        const auto& threshold = file.meta.at("threshold");
        const auto number = [&threshold](const char* key) { return core::json_field<double>(threshold, key, std::string("threshold.") + key, ErrorKind::model); };
        state->threshold = number("value");
        state->score_median = number("score_median");
        state->score_mad = threshold.contains("score_mad") ? number("score_mad") : 0.0;  // not in files before it was kept
        state->threshold_fit = threshold.at("fit");
        if (threshold.contains("warmup_rows"))
            state->warmup_rows = core::json_field<std::int64_t>(threshold, "warmup_rows", "threshold.warmup_rows", ErrorKind::model);
        if (const auto names = file.meta.find("metric_names"); names != file.meta.end()) {
            if (!names->is_array() || !std::all_of(names->begin(), names->end(), [](const auto& n) { return n.is_string(); }))
                throw Error(ErrorKind::model, "metric_names is not a list of names");
            state->metric_names = names->get<std::vector<std::string>>();
        }
        if (!state->metric_names.empty() && static_cast<std::int64_t>(state->metric_names.size()) != model.n_metrics)
            throw Error(ErrorKind::model, "metric_names has " + std::to_string(state->metric_names.size()) + " names for " +
                                              std::to_string(model.n_metrics) + " metrics");
        state->training = file.meta.at("training");
        state->history = file.meta.at("history");
        state->generation = core::json_field<std::int64_t>(file.meta, "generation", "generation", ErrorKind::model);
        // What a retraining writes; anything else was not written by lara.
        if (state->warmup_rows != 0 && state->warmup_rows < RetrainConfig::kMinWarmupRows)
            throw Error(ErrorKind::model, "threshold.warmup_rows " + std::to_string(state->warmup_rows) + " is neither 0 nor at least " +
                                              std::to_string(RetrainConfig::kMinWarmupRows));
        if (state->warmup_rows != 0 && state->threshold_config.method == "fixed")
            throw Error(ErrorKind::model, "threshold.warmup_rows is " + std::to_string(state->warmup_rows) +
                                              " and the threshold is fixed: a fixed threshold has no fit to redo");
        if (!(state->score_mad >= 0)) throw Error(ErrorKind::model, "threshold.score_mad is negative");
        if (!state->history.is_array()) throw Error(ErrorKind::model, "history is not a list");
        if (state->generation < 0 || state->generation != static_cast<std::int64_t>(state->history.size()))
            throw Error(ErrorKind::model, "generation " + std::to_string(state->generation) + " does not match the " +
                                              std::to_string(state->history.size()) + " retrainings of its history");
        state->format_version = file.version;
        state->written_by = file.meta.value("written_by", "");
        auto vae = state->adjusted.vae();
        // Sections this format does not name were not written by lara: refused, not ignored.
        for (const auto& section : file.sections) {
            const auto& name = section.first;
            const bool weight = name.rfind("weights/", 0) == 0 && vae->named_parameters().contains(name.substr(8));
            const bool map = name == "maps/z_A" || name == "maps/z_b" || name == "maps/x_A" || name == "maps/x_b";
            if (!weight && !map) throw Error(ErrorKind::model, "unknown section " + core::quoted(name));
        }
        model::import_weights(*vae, file.sections);
        vae->eval();
        if (file.version >= 2) {  // version 1 files predate retraining: identity maps
            const auto& m = state->model;
            std::int64_t z_sizes[2] = {m.latent, m.latent};
            std::int64_t x_sizes[2] = {m.n_metrics, m.window * m.n_metrics};
            state->adjusted = retrain::AdjustedModel(vae, map_from(file, "z", z_sizes), map_from(file, "x", x_sizes));
        }
        return Detector(state);
    } catch (const Error& e) {
        throw Error(ErrorKind::model, path + ": " + e.what());
    } catch (const std::bad_alloc&) {
        throw;  // out of memory, not a malformed file
    } catch (const std::exception& e) {  // nlohmann::json or c10::Error: a field missing or of the wrong type
        // c10::Error appends a backtrace to its first line.
        const std::string what = e.what();
        throw Error(ErrorKind::model, path + ": malformed model metadata: " + what.substr(0, what.find('\n')));
    }
}

nlohmann::json Detector::info() const {
    const auto& s = *state_;
    return {{"model", s.model.to_json()},
            {"train", s.train.to_json()},
            {"threshold", {{"config", s.threshold_config.to_json()},
                           {"value", s.warmup_rows > 0 ? nlohmann::json() : nlohmann::json(s.threshold)},
                           {"fit", s.threshold_fit},
                           {"score_median", s.score_median}, {"score_mad", s.score_mad}, {"warmup_rows", s.warmup_rows}}},
            {"metric_names", s.metric_names},
            {"training", s.training},
            {"generation", s.generation},
            {"history", s.history},
            {"parameters", parameter_count()},
            {"maps", {{"z_identity", s.adjusted.z_map().is_identity()}, {"x_identity", s.adjusted.x_map().is_identity()},
                      {"x_over_window", s.adjusted.x_map_over_window()}}},
            {"format_version", s.format_version > 0 ? s.format_version : persist::kFormatVersion},
            {"written_by", s.written_by.empty() ? nlohmann::json() : nlohmann::json(s.written_by)},
            {"library", std::string("lara ") + version()}};
}

}  // namespace lara
