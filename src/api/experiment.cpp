#include "lara/experiment.h"

#include "lara/files.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <filesystem>
#include <functional>
#include <iterator>
#include <limits>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include <nlohmann/json.hpp>

#include "api/detector_state.h"
#include "api/experiment_figures.h"
#include "api/experiment_lock.h"
#include "api/experiment_plan.h"
#include "api/experiment_report.h"
#include "core/read_file.h"
#include "core/resources.h"
#include "eval/interpretation.h"
#include "eval/metrics.h"
#include "lara/bench.h"
#include "lara/lara.h"

namespace lara {
namespace {

namespace fs = std::filesystem;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

//! An output folder and its parents; one that cannot be made is an output error, like a file.
void make_folder(const fs::path& folder) {
    std::error_code error;
    fs::create_directories(folder, error);
    if (error) throw Error(ErrorKind::output, folder.string() + ": cannot create the folder (" + error.message() + ")");
}

void write_figure(const ExperimentPlan& plan, const std::string& name, const std::string& svg, ExperimentReport& report, std::mutex& mutex) {
    const auto path = plan.out / "figures" / name;
    make_folder(path.parent_path());
    write_file_atomically(path.string(), svg);
    const std::lock_guard<std::mutex> lock(mutex);
    report.figures.push_back(path.string());
}

// ---- one entity --------------------------------------------------------------------------------

//! Serialises the log and estimates the time left from the model runs done so far.
class Progress {
public:
    Progress(const std::function<void(const std::string&)>& log, std::size_t n_entities, std::int64_t total_steps)
        : log_(log), n_entities_(n_entities), total_steps_(total_steps) {}

    void say(const std::string& line) {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (log_) log_(line);
    }
    void step(std::size_t entity_number, const std::string& what) {
        const double elapsed = timer_.seconds();
        const std::int64_t done = done_steps_;
        std::string left = "time left not known yet";
        if (done > 0) left = "about " + duration(elapsed / static_cast<double>(done) * static_cast<double>(total_steps_ - done)) + " left";
        say("[" + std::to_string(entity_number) + "/" + std::to_string(n_entities_) + "] " + what + " (" + duration(elapsed) +
            " elapsed, " + left + ")");
    }
    void step_done() { ++done_steps_; }
    double seconds() const { return timer_.seconds(); }

private:
    static std::string duration(double seconds) {
        const auto s = static_cast<long long>(std::llround(seconds));
        if (s < 60) return std::to_string(s) + " s";
        if (s < 3600) return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
        return std::to_string(s / 3600) + " h " + std::to_string(s / 60 % 60) + " min";
    }

    std::function<void(const std::string&)> log_;
    std::size_t n_entities_;
    std::int64_t total_steps_;
    std::atomic<std::int64_t> done_steps_{0};
    std::mutex mutex_;
    core::Timer timer_;
};

//! The scored rows of one model: scores, flags and, for the hit rates, every metric ranked.
struct Scored {
    std::vector<double> scores;
    std::vector<int> anomalies;
    std::vector<std::vector<int>> ranked;  // empty without interpretation labels
};

//! The test file of one entity and the rows of it that are scored, [first, end).
struct TestData {
    const EntityFiles& files;
    Series series;
    std::vector<int> all_labels, labels;  // every row, and the scored rows
    std::int64_t first = 0;
    bool ranked = false;
};

Scored scored_rows(const ScoreResult& result, const TestData& test) {
    Scored s;
    s.scores.assign(result.scores.begin() + test.first, result.scores.end());
    s.anomalies.assign(result.anomalies.begin() + test.first, result.anomalies.end());
    if (test.ranked)
        for (std::int64_t t = test.first; t < result.n_rows; ++t) s.ranked.push_back(result.top_metrics(t, static_cast<int>(result.n_metrics)));
    return s;
}

// A stable hash (std::hash is not), so that the random baseline differs between entities.
std::uint64_t fnv1a(const std::string& text) {
    std::uint64_t h = 14695981039346656037ull;
    for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
    return h;
}

//! Uniform random scores that flag the n_flagged highest, and a random ranking of the metrics.
Scored random_rows(const TestData& test, std::int64_t n_flagged, std::uint64_t seed) {
    std::mt19937_64 rng(fnv1a(test.files.name) + seed);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    Scored s;
    s.scores.resize(test.labels.size());
    for (auto& v : s.scores) v = uniform(rng);
    s.anomalies.assign(s.scores.size(), 0);
    std::vector<std::size_t> order(s.scores.size());
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + n_flagged, order.end(), [&s](auto a, auto b) { return s.scores[a] > s.scores[b]; });
    for (std::int64_t i = 0; i < n_flagged; ++i) s.anomalies[order[static_cast<std::size_t>(i)]] = 1;
    if (test.ranked) {
        std::vector<int> metrics(static_cast<std::size_t>(test.series.n_metrics));
        std::iota(metrics.begin(), metrics.end(), 0);
        for (std::size_t t = 0; t < s.scores.size(); ++t) {
            std::shuffle(metrics.begin(), metrics.end(), rng);
            s.ranked.push_back(metrics);
        }
    }
    return s;
}

ExperimentRow measure(const Scored& s, const TestData& test, const std::string& method, std::uint64_t seed) {
    ExperimentRow row;
    row.entity = test.files.name;
    row.method = method;
    row.seed = seed;
    row.n_rows = static_cast<std::int64_t>(test.labels.size());
    row.n_labelled = std::count_if(test.labels.begin(), test.labels.end(), [](int v) { return v != 0; });
    row.n_flagged = std::count(s.anomalies.begin(), s.anomalies.end(), 1);
    const auto point = eval::point_metrics(s.anomalies, test.labels);
    // Undefined is NaN, not 0, which would pull every mean and paired difference towards 0 (the
    // tables skip NaN): precision without a flagged row, and recall and everything built on it
    // without a labelled one.
    row.precision = row.n_flagged > 0 ? point.precision : kNaN;
    row.recall = row.f1 = row.best_f1 = row.pa_f1 = row.auc_pr = row.hitrate_100 = row.hitrate_150 = kNaN;
    if (row.n_labelled == 0) return row;
    row.recall = point.recall;
    row.f1 = point.f1;
    row.best_f1 = eval::best_f1(s.scores, test.labels).f1;
    row.pa_f1 = eval::point_metrics(eval::point_adjust(s.anomalies, test.labels), test.labels).f1;
    row.auc_pr = eval::auc_pr(s.scores, test.labels);
    if (test.ranked) {
        const auto rates = eval::scored_hit_rates(test.files.interpretation, test.all_labels, test.files.labels, test.first, s.ranked,
                                                  test.files.test + " scored by " + method, static_cast<int>(test.series.n_metrics));
        row.hitrate_100 = rates.at_100;
        row.hitrate_150 = rates.at_150;
    }
    return row;
}

double mib(std::int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

//! A detector and what making it cost.
struct Made {
    Detector detector;
    double wall_ms, peak_rss_mib;
    bool first_epoch_kept = false;  // a training that early stopping cut after its first epoch
};

Made train_measured(const Series& rows, const ModelConfig& model, TrainConfig train, std::uint64_t seed) {
    train.seed = seed;
    core::reset_peak_rss();
    const core::Timer timer;
    auto detector = Detector::train(rows, model, train, {});
    const double ms = timer.milliseconds();
    const bool first_epoch_kept = kept_first_epoch(detector.info()["training"]);  // not the training's other warnings
    return {std::move(detector), ms, mib(core::peak_rss_bytes()), first_epoch_kept};
}

// Old rows followed by new rows: what `full` learns (training ignores timestamps).
Series followed_by(const Series& old_rows, const Series& new_rows) {
    Series all = old_rows;
    all.values.insert(all.values.end(), new_rows.values.begin(), new_rows.values.end());
    all.n_rows += new_rows.n_rows;
    all.timestamps.clear();
    all.source = old_rows.source + " + " + new_rows.source;
    return all;
}

//! The test file cut to the rows scored with K new rows.
void score_from(TestData& test, const ExperimentSpec& s, std::int64_t new_rows) {
    test.first = first_scored_row(s, new_rows);
    if (test.first >= test.series.n_rows)
        throw Error(ErrorKind::data, test.files.test + ": no rows left to score from row " + std::to_string(test.first));
    test.labels.assign(test.all_labels.begin() + test.first, test.all_labels.end());
}

//! Runs every seed, K and method of one entity. For the plotted entity, `figure` receives the
//! picture of its first seed and smallest K.
std::vector<ExperimentRow> run_entity(const ExperimentPlan& plan, const EntityFiles& files, std::size_t number, Progress& progress,
                                      std::string* figure) {
    const auto& s = plan.spec;
    const Series train = read_series(files.train);
    TestData test{files, read_series(files.test), read_labels(files.labels), {}, 0, !files.interpretation.empty()};
    if (static_cast<std::int64_t>(test.all_labels.size()) != test.series.n_rows)
        throw Error(ErrorKind::data, files.labels + ": " + std::to_string(test.all_labels.size()) + " labels for the " +
                                         std::to_string(test.series.n_rows) + " rows of " + files.test);
    if (s.protocol == "shift" && s.new_rows.back() >= train.n_rows)
        throw Error(ErrorKind::data, files.train + ": " + std::to_string(train.n_rows) + " rows leave none for the old model after " +
                                         std::to_string(s.new_rows.back()) + " new rows");

    std::vector<ExperimentRow> rows;
    for (std::int64_t seed_index = 0; seed_index < s.seeds; ++seed_index) {
        const auto seed = static_cast<std::uint64_t>(seed_index);
        std::optional<Made> old;  // under standard one old model serves every K
        for (const auto k : s.new_rows) {
            const auto tag = files.name + " seed " + std::to_string(seed) + (is_sweep(s) ? ", K " + std::to_string(k) : "") + ": ";
            Series old_rows = train, new_rows, with_context;
            std::int64_t context = 0;  // rows before the new ones that recalibration scores them with
            if (s.protocol == "shift") {
                old_rows = train.slice(0, train.n_rows - k);
                new_rows = train.slice(train.n_rows - k, train.n_rows);
                std::tie(with_context, context) = train.slice_with_past(train.n_rows - k, train.n_rows, s.model.window - 1);
            } else if (k > 0) {
                // The test file is scored from its first row, without the train rows before it: so are these.
                new_rows = with_context = test.series.slice(0, std::min(k, test.series.n_rows));
            }
            score_from(test, s, k);
            if (!old || s.protocol == "shift") {
                progress.step(number, tag + "old");
                old = train_measured(old_rows, s.model, s.train, seed);
                progress.step_done();
            }
            std::vector<std::pair<std::string, ScoreResult>> plotted;
            const bool plot = figure && seed_index == 0 && k == s.new_rows.front();
            const auto add_row = [&](const std::string& method, const Made& made) {
                auto result = made.detector.score(test.series);
                auto row = measure(scored_rows(result, test), test, method, seed);
                row.new_rows = k;
                row.wall_ms = made.wall_ms;
                row.peak_rss_mib = made.peak_rss_mib;
                row.first_epoch_kept = made.first_epoch_kept ? 1 : 0;
                rows.push_back(row);
                if (plot) plotted.emplace_back(method, std::move(result));
                return row;
            };
            std::int64_t n_flagged = 0;
            for (const auto& method : s.methods) {
                if (method == "old") {
                    n_flagged = add_row(method, *old).n_flagged;
                    continue;
                }
                progress.step(number, tag + method);
                std::optional<Made> made;
                if (is_retrain_method(method)) {
                    auto [detector, report] = old->detector.retrain(with_context, retrain_config(s.retrain, method, seed), context);
                    made = Made{std::move(detector), report.total_ms, mib(report.peak_rss_bytes)};
                } else {
                    made = method == "full" ? train_measured(followed_by(old_rows, new_rows), s.model, full_training_config(s.train), seed)
                                            : train_measured(test.series.slice(0, s.eval_from), s.model, s.train, seed);
                }
                progress.step_done();
                add_row(method, *made);
            }
            if (std::find(s.methods.begin(), s.methods.end(), "old") == s.methods.end()) {
                const auto old_scored = scored_rows(old->detector.score(test.series), test);
                n_flagged = std::count(old_scored.anomalies.begin(), old_scored.anomalies.end(), 1);
            }
            auto random = measure(random_rows(test, n_flagged, seed), test, "random", seed);
            random.new_rows = k;
            rows.push_back(random);
            if (plot) *figure = entity_figure(files.name + ": the test file, K = " + std::to_string(k) + ", seed 0", test.series,
                                              test.all_labels, test.first, plotted);
        }
    }
    return rows;
}

//! The "made_by" of an experiment.json text (null when absent or unreadable).
nlohmann::json made_by_of(const std::string& settings) {
    try {
        return nlohmann::json::parse(settings).value("made_by", nlohmann::json());
    } catch (const nlohmann::json::exception&) {
        return nullptr;
    }
}

//! The settings in which two experiment.json texts differ, as "train/epochs 30 → 1, …", or "".
std::string settings_changed(const std::string& before, const std::string& now) {
    nlohmann::json old_settings;
    try {
        old_settings = nlohmann::json::parse(before);
    } catch (const nlohmann::json::exception&) {
        return "its experiment.json is not JSON";
    }
    if (!old_settings.is_object()) return "its experiment.json is not a settings object";
    auto new_settings = nlohmann::json::parse(now);
    // The version is kept, not compared: a rebuild must not strand a half-done run (the caller warns).
    old_settings.erase("made_by");
    new_settings.erase("made_by");
    if (old_settings.contains("methods") && old_settings["methods"].is_array())  // older folders kept the order given
        std::sort(old_settings["methods"].begin(), old_settings["methods"].end());
    std::vector<std::string> parts;
    const std::function<void(const std::string&, const nlohmann::json&, const nlohmann::json&)> compare =
        [&](const std::string& at, const nlohmann::json& was, const nlohmann::json& is) {
            if (was == is) return;
            if (!was.is_object() || !is.is_object()) {
                parts.push_back(at + " " + (was.is_null() ? "absent" : was.dump()) + " → " + (is.is_null() ? "absent" : is.dump()));
                return;
            }
            std::set<std::string> keys;
            for (const auto& item : was.items()) keys.insert(item.key());
            for (const auto& item : is.items()) keys.insert(item.key());
            for (const auto& key : keys)
                compare(at.empty() ? key : at + "/" + key, was.value(key, nlohmann::json()), is.value(key, nlohmann::json()));
        };
    compare("", old_settings, new_settings);
    return joined(parts);
}

}  // namespace

ExperimentReport run_experiment(const ExperimentSpec& spec, const std::function<void(const std::string&)>& log) {
    const ExperimentPlan plan = make_plan(spec);
    const auto& s = plan.spec;
    const auto entity_dir = plan.out / "entities";
    make_folder(entity_dir);

    const auto settings = settings_json(plan);
    const auto settings_path = plan.out / "experiment.json";
    std::string started_by;  // another version that began this folder
    ExperimentLock lock(plan.out);
    if (!lock.unsupported().empty() && log)
        log("warning: " + plan.out.string() + " cannot be locked (" + lock.unsupported() +
            "): runs into it at the same time with other settings are not kept apart");
    // Settings guard finished entities and runs under way; a run that failed before finishing any
    // entity, with none running now, leaves nothing to guard.
    const bool has_results = std::any_of(fs::directory_iterator(entity_dir), fs::directory_iterator(),
                                         [](const fs::directory_entry& e) { return e.path().extension() == ".csv"; });
    if (has_results && !fs::exists(settings_path))
        throw Error(ErrorKind::usage, plan.out.string() + " holds results but no experiment.json saying what settings made them; "
                                                          "choose another output folder or delete it");
    if (fs::exists(settings_path) && (has_results || lock.others_running())) {
        const auto before = core::read_whole_file(settings_path.string(), ErrorKind::data);
        if (const auto changed = settings_changed(before, settings); !changed.empty())
            throw Error(ErrorKind::usage, has_results ? plan.out.string() + " holds results of other settings (" + changed +
                                                            "; see its experiment.json); choose another output folder or delete it"
                                                      : "another lara experiment with other settings is writing to " + plan.out.string() + " (" +
                                                            changed + "; see its experiment.json); choose another output folder");
        if (const auto made_by = made_by_of(before); made_by != nlohmann::json::parse(settings)["made_by"]) {
            started_by = made_by.is_string() ? made_by.get<std::string>() : "an earlier lara that did not record its version";
            if (log)
                log("warning: " + plan.out.string() + " was started by " + started_by + ", this is lara " + version() +
                    "; its entity files are kept and summary.md says so (delete the folder to redo them)");
        }
    } else {
        write_file_atomically(settings_path.string(), settings);
    }
    lock.end_turn();

    ExperimentReport report;
    std::vector<std::size_t> todo;  // indices into plan.entities
    for (std::size_t i = 0; i < plan.entities.size(); ++i) {
        if (fs::exists(entity_dir / (plan.entities[i].name + ".csv")))
            report.skipped.push_back(plan.entities[i].name);
        else
            todo.push_back(i);
    }
    // Model runs per entity and seed: each K retrains, and under shift it also trains its own old model.
    const auto model_methods = static_cast<std::int64_t>(std::count_if(s.methods.begin(), s.methods.end(), [](const auto& m) { return m != "old"; }));
    const auto n_k = static_cast<std::int64_t>(s.new_rows.size());
    const auto per_seed = n_k * model_methods + (s.protocol == "shift" ? n_k : 1);
    Progress progress(log, plan.entities.size(), static_cast<std::int64_t>(todo.size()) * s.seeds * per_seed);
    for (const auto& name : report.skipped) progress.say(name + ": finished before, skipped (" + (entity_dir / (name + ".csv")).string() + ")");

    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr failure;
    std::mutex mutex;
    const auto work = [&] {
        // One thread per job, whatever J: J jobs would otherwise run J × cores threads, and the
        // numbers would depend on J (a different thread count rounds differently, and training
        // amplifies that). The setting is per thread (OpenMP's), so each worker makes it itself.
        set_threads(1);
        for (std::size_t k; !failed && (k = next++) < todo.size();) {
            const auto& files = plan.entities[todo[k]];
            try {
                std::string figure;
                const auto rows = run_entity(plan, files, todo[k] + 1, progress, files.name == plan.plot_entity ? &figure : nullptr);
                if (!figure.empty()) write_figure(plan, files.name + ".svg", figure, report, mutex);
                std::string csv = csv_header(plan.hit_rates);
                for (const auto& row : rows) csv += csv_row(row, plan.hit_rates);
                write_file_atomically((entity_dir / (files.name + ".csv")).string(), csv);
                const std::lock_guard<std::mutex> lock(mutex);
                report.computed.push_back(files.name);
            } catch (const Error& e) {
                const std::lock_guard<std::mutex> lock(mutex);
                if (!failure) failure = std::make_exception_ptr(Error(e.kind(), files.name + ": " + e.what()));
                failed = true;
            } catch (...) {
                const std::lock_guard<std::mutex> lock(mutex);
                if (!failure) failure = std::current_exception();
                failed = true;
            }
        }
    };
    const auto n_threads = std::min<std::size_t>(static_cast<std::size_t>(s.jobs), todo.size());
    if (n_threads <= 1) {
        work();
    } else {
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < n_threads; ++i) threads.emplace_back(work);
        for (auto& thread : threads) thread.join();
    }
    if (failure) std::rethrow_exception(failure);

    // Rebuilt from every entity file, so that results of earlier runs into this folder count too,
    // in a turn: a run overlapping this one could otherwise list the entity files before this
    // one wrote its last, and write its results.csv after this one's.
    lock.take_turn();
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(entity_dir))
        if (entry.is_regular_file() && entry.path().extension() == ".csv") files.push_back(entry.path());
    std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return natural_less(a.stem().string(), b.stem().string()); });
    std::string csv = csv_header(plan.hit_rates);
    for (const auto& file : files)
        for (auto& row : read_entity_file(file, plan.hit_rates)) {
            csv += csv_row(row, plan.hit_rates);
            report.rows.push_back(std::move(row));
        }
    report.results_csv = (plan.out / "results.csv").string();
    report.summary_md = (plan.out / "summary.md").string();
    write_file_atomically(report.results_csv, csv);
    write_file_atomically(report.summary_md, summary(plan, report.rows, started_by));
    // In a sweep the time grows with K, so one bar per method is drawn for the smallest K only.
    std::vector<ExperimentRow> timed;
    std::copy_if(report.rows.begin(), report.rows.end(), std::back_inserter(timed), [&s](const auto& row) { return row.new_rows == s.new_rows.front(); });
    const auto time_title = "Time to make each model (mean over entities and seeds" +
                            (is_sweep(s) ? ", K = " + std::to_string(s.new_rows.front()) : std::string()) + ")";
    write_figure(plan, "retraining_time.svg", retraining_time_figure(time_title, timed), report, mutex);
    if (is_sweep(s))
        write_figure(plan, "f1_vs_k.svg", f1_against_k_figure("Point-wise F1 against the number of new rows K", report.rows), report, mutex);
    report.seconds = progress.seconds();
    progress.say("wrote " + report.results_csv + " (" + std::to_string(report.rows.size()) + " rows) and " + report.summary_md + " in " +
                 std::to_string(static_cast<long long>(std::llround(report.seconds))) + " s");
    return report;
}

}  // namespace lara
