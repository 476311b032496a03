#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "api/experiment_lock.h"
#include "api/experiment_plan.h"
#include "lara/experiment.h"
#include "lara/lara.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;

constexpr int kTrainRows = 300, kTestRows = 200, kMetrics = 3;

bool labelled(int t) { return (t >= 120 && t < 126) || (t >= 170 && t < 174); }

//! Three noisy sines per entity; the test file has two labelled level shifts.
void write_entity(const fs::path& dataset, const std::string& name, double phase, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> noise(0.0, 0.05);
    const auto write = [&](const std::string& folder, int rows, bool anomalies) {
        std::ofstream out(dataset / folder / (name + ".csv"));
        for (int t = 0; t < rows; ++t) {
            for (int j = 0; j < kMetrics; ++j) {
                double v = std::sin(t / 8.0 + phase + j) + noise(rng);
                if (anomalies && labelled(t)) v += j == 0 ? 4.0 : -3.0;
                char text[32];
                std::snprintf(text, sizeof text, "%s%.5f", j ? "," : "", v);
                out << text;
            }
            out << "\n";
        }
    };
    write("train", kTrainRows, false);
    write("test", kTestRows, true);
    std::ofstream labels(dataset / "test_label" / (name + ".csv"));
    for (int t = 0; t < kTestRows; ++t) labels << (labelled(t) ? 1 : 0) << "\n";
}

//! results.csv as one map per row, column name -> field.
std::vector<std::map<std::string, std::string>> read_results(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    std::vector<std::string> header;
    std::stringstream head(line);
    for (std::string name; std::getline(head, name, ',');) header.push_back(name);
    std::vector<std::map<std::string, std::string>> rows;
    while (std::getline(in, line)) {
        std::map<std::string, std::string> row;
        std::stringstream fields(line + ",");  // keeps a trailing empty field
        std::string field;
        for (std::size_t i = 0; std::getline(fields, field, ','); ++i) row[i < header.size() ? header[i] : "extra"] = field;
        rows.push_back(row);
    }
    return rows;
}

class ExperimentTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = std::make_unique<lara::test::TempDir>();
        for (const char* folder : {"train", "test", "test_label"}) fs::create_directories(dir_->path() / "data" / folder);
        write_entity(dir_->path() / "data", "alpha", 0.0, 1);
        write_entity(dir_->path() / "data", "beta", 1.5, 2);
    }
    static void TearDownTestSuite() { dir_.reset(); }

    //! Small and fast: window 10, hidden 16, 2 epochs.
    static lara::ExperimentSpec small_spec(const std::string& out) {
        lara::ExperimentSpec spec;
        spec.dataset = dir_->file("data");
        spec.out = dir_->file(out);
        spec.model.window = 10;
        spec.model.hidden = 16;
        spec.model.latent = 4;
        spec.train.epochs = 2;
        spec.retrain.baseline_epochs = 5;
        return spec;
    }

    static std::unique_ptr<lara::test::TempDir> dir_;
};

std::unique_ptr<lara::test::TempDir> ExperimentTest::dir_;

std::string read_file(const fs::path& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void expect_error(const lara::ExperimentSpec& spec, lara::ErrorKind kind, const std::string& fragment) {
    try {
        lara::run_experiment(spec);
        FAIL() << "accepted; expected an error with \"" << fragment << "\"";
    } catch (const lara::Error& e) {
        EXPECT_EQ(e.kind(), kind) << e.what();
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
}

}  // namespace

TEST_F(ExperimentTest, ShiftWritesEveryRowAndSummaryThenResumes) {
    auto spec = small_spec("shift");
    spec.methods = {"old", "lara"};
    spec.seeds = 2;
    std::vector<std::string> log;
    const auto report = lara::run_experiment(spec, [&log](const std::string& line) { log.push_back(line); });
    EXPECT_EQ(report.computed, (std::vector<std::string>{"alpha", "beta"}));
    EXPECT_TRUE(report.skipped.empty());

    // 2 entities × (old, lara, random) × 2 seeds, every field filled, metrics in [0, 1].
    const auto rows = read_results(report.results_csv);
    ASSERT_EQ(rows.size(), 12u);
    ASSERT_EQ(report.rows.size(), 12u);
    std::set<std::string> keys;
    for (const auto& row : rows) {
        EXPECT_EQ(row.count("extra"), 0u);
        for (const auto& [name, field] : row) EXPECT_FALSE(field.empty()) << name << " is empty";
        for (const char* metric : {"precision", "recall", "f1", "best_f1", "pa_f1", "auc_pr"}) {
            const double v = std::stod(row.at(metric));
            EXPECT_GE(v, 0.0) << metric;
            EXPECT_LE(v, 1.0) << metric;
        }
        EXPECT_EQ(row.at("n_rows"), std::to_string(kTestRows));
        EXPECT_EQ(row.at("new_rows"), "43");
        EXPECT_EQ(row.at("n_labelled"), "10");
        keys.insert(row.at("entity") + "/" + row.at("method") + "/" + row.at("seed"));
        if (row.at("method") != "random") {
            EXPECT_GT(std::stod(row.at("wall_ms")), 0.0);
        }
    }
    EXPECT_EQ(keys.size(), 12u);  // no row twice
    for (const char* entity : {"alpha", "beta"})
        for (const char* method : {"old", "lara", "random"})
            for (const char* seed : {"0", "1"}) EXPECT_EQ(keys.count(std::string(entity) + "/" + method + "/" + seed), 1u);

    std::ifstream summary_file(report.summary_md);
    const std::string summary((std::istreambuf_iterator<char>(summary_file)), std::istreambuf_iterator<char>());
    for (const char* text : {"| old |", "| lara |", "| random |", "uses test labels", "point-adjusted, inflated",
                             "Model mlp (softplus layers)", "LARA's proposal laplace, threshold recalibrated by shift"})
        EXPECT_NE(summary.find(text), std::string::npos) << text;
    EXPECT_FALSE(log.empty());

    // The paired line of lara against old, recomputed from results.csv: per entity the mean over
    // seeds of the difference in F1, then the mean over the two entities, and how many are better.
    std::map<std::string, double> difference;  // entity → Σ over seeds of lara − old
    for (const auto& row : rows) {
        const double sign = row.at("method") == "lara" ? 1.0 : row.at("method") == "old" ? -1.0 : 0.0;
        difference[row.at("entity")] += sign * std::stod(row.at("f1")) / 2.0;
    }
    const double mean_difference = (difference["alpha"] + difference["beta"]) / 2.0;
    char expected[64];
    // Two entities are too few for an interval (eval/paired.h).
    std::snprintf(expected, sizeof expected, "| lara | 2 | %+.3f (no interval below 5 entities) |", mean_difference);
    EXPECT_NE(summary.find(expected), std::string::npos) << expected << "\n" << summary;
    std::snprintf(expected, sizeof expected, " | %d / %d |", (difference["alpha"] > 0) + (difference["beta"] > 0),
                  (difference["alpha"] < 0) + (difference["beta"] < 0));
    const auto lara_line = summary.substr(summary.find("| lara | 2 | "));
    EXPECT_NE(lara_line.substr(0, lara_line.find('\n')).find(expected), std::string::npos) << expected << "\n" << lara_line;

    // The pictures: the first entity's, with a panel per model, and the time per method.
    const auto figures = fs::path(spec.out) / "figures";
    EXPECT_EQ(std::set<std::string>(report.figures.begin(), report.figures.end()),
              (std::set<std::string>{(figures / "alpha.svg").string(), (figures / "retraining_time.svg").string()}));
    const auto picture = read_file(figures / "alpha.svg");
    for (const char* text : {"<svg", "old: score", "lara: score", "labelled anomaly", "</svg>"})
        EXPECT_NE(picture.find(text), std::string::npos) << text;
    EXPECT_NE(read_file(figures / "retraining_time.svg").find("lara"), std::string::npos);

    // The headline F1 of old, seed 0, recomputed from its scores.
    const auto train = lara::read_series(dir_->file("data/train/alpha.csv"));
    lara::TrainConfig train_config = spec.train;
    train_config.seed = 0;
    const auto old = lara::Detector::train(train.slice(0, kTrainRows - 43), spec.model, train_config, {});
    const auto scored = old.score(lara::read_series(dir_->file("data/test/alpha.csv")));
    double tp = 0, fp = 0, fn = 0;
    for (int t = 0; t < kTestRows; ++t) {
        const bool flagged = scored.scores[static_cast<std::size_t>(t)] > scored.threshold;
        tp += flagged && labelled(t);
        fp += flagged && !labelled(t);
        fn += !flagged && labelled(t);
    }
    const double f1 = tp > 0 ? 2 * tp / (2 * tp + fp + fn) : 0.0;
    const auto old_row = std::find_if(rows.begin(), rows.end(), [](const auto& row) {
        return row.at("entity") == "alpha" && row.at("method") == "old" && row.at("seed") == "0";
    });
    ASSERT_NE(old_row, rows.end());
    EXPECT_NEAR(std::stod(old_row->at("f1")), f1, 1e-6);

    // A rerun finds both entities finished: nothing is trained and their files stay as they were.
    const auto entity_file = fs::path(spec.out) / "entities" / "alpha.csv";
    const auto written = fs::last_write_time(entity_file);
    std::vector<std::string> log2;
    const auto again = lara::run_experiment(spec, [&log2](const std::string& line) { log2.push_back(line); });
    EXPECT_TRUE(again.computed.empty());
    EXPECT_EQ(again.skipped, (std::vector<std::string>{"alpha", "beta"}));
    EXPECT_EQ(fs::last_write_time(entity_file), written);
    EXPECT_EQ(again.rows.size(), 12u);
    ASSERT_FALSE(log2.empty());
    EXPECT_NE(log2.front().find("skipped"), std::string::npos) << log2.front();

    // A folder begun by another version is resumed with a warning, and summary.md says so.
    const auto settings_path = fs::path(spec.out) / "experiment.json";
    std::string settings = read_file(settings_path);
    const auto at = settings.find("lara " + std::string(lara::version()));
    ASSERT_NE(at, std::string::npos) << settings;
    settings.replace(at, 5 + std::string(lara::version()).size(), "lara 0.0.9 (git 1234567)");
    std::ofstream(settings_path) << settings;
    std::vector<std::string> log3;
    const auto resumed = lara::run_experiment(spec, [&log3](const std::string& line) { log3.push_back(line); });
    EXPECT_TRUE(resumed.computed.empty());
    ASSERT_FALSE(log3.empty());
    EXPECT_NE(log3.front().find("was started by lara 0.0.9 (git 1234567)"), std::string::npos) << log3.front();
    const auto resumed_summary = read_file(resumed.summary_md);
    EXPECT_NE(resumed_summary.find("Made by lara " + std::string(lara::version()) + "; the folder was started by lara 0.0.9"),
              std::string::npos) << resumed_summary.substr(0, 600);

    // The methods are a set: another order is the same settings.
    spec.methods = {"lara", "old"};
    EXPECT_EQ(lara::run_experiment(spec).skipped, (std::vector<std::string>{"alpha", "beta"}));

    // A run naming one entity still tabulates both, and its summary says its command does not cover them.
    spec.entities = {"beta"};
    spec.command = "lara experiment --entities beta";
    const auto one = lara::run_experiment(spec);
    EXPECT_EQ(one.rows.size(), 12u);
    EXPECT_NE(read_file(one.summary_md).find("The tables also cover 1 entity that an earlier run with the same settings left in this folder (alpha)"),
              std::string::npos) << read_file(one.summary_md).substr(0, 600);
    spec.entities.clear();
    EXPECT_EQ(read_file(lara::run_experiment(spec).summary_md).find("The tables also cover"), std::string::npos);

    // Other settings into the same folder would mix results; the error says which.
    spec.seeds = 1;
    expect_error(spec, lara::ErrorKind::usage, "other settings (seeds 2 → 1;");
}

TEST_F(ExperimentTest, ARunWithOtherSettingsIsRefusedWhileAnotherWritesToTheFolder) {
    auto spec = small_spec("overlapping");
    spec.entities = {"alpha"};
    spec.methods = {"old"};
    spec.seeds = 1;
    const auto first = lara::run_experiment(spec);
    ASSERT_EQ(first.computed, (std::vector<std::string>{"alpha"}));
    // As while a run is under way that has not finished an entity yet: its settings, no results,
    // and the folder held, as run_experiment holds it while it runs.
    fs::remove(fs::path(spec.out) / "entities" / "alpha.csv");
    const int folder = ::open(spec.out.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(folder, 0);
    ASSERT_EQ(::flock(folder, LOCK_SH), 0);
    auto other = spec;
    other.seeds = 2;
    expect_error(other, lara::ErrorKind::usage, "another lara experiment with other settings is writing to " + spec.out + " (seeds 1 → 2;");
    // The same settings may share the folder (a data set split over runs).
    EXPECT_EQ(lara::run_experiment(spec).computed, (std::vector<std::string>{"alpha"}));
    fs::remove(fs::path(spec.out) / "entities" / "alpha.csv");
    ::close(folder);
    // Once no run holds it and no results are left, there is nothing to guard: other settings start afresh.
    EXPECT_EQ(lara::run_experiment(other).computed, (std::vector<std::string>{"alpha"}));
    EXPECT_NE(read_file((fs::path(spec.out) / "experiment.json").string()).find("\"seeds\": 2"), std::string::npos);
}

TEST_F(ExperimentTest, AnEntityWithoutLabelledScoredRowsLeavesRecallAndWhatFollowsUndefined) {
    auto spec = small_spec("unlabelled-rows");
    spec.entities = {"alpha", "alpha"};  // named twice, run once
    spec.protocol = "standard";
    spec.new_rows = {20};
    spec.eval_from = 180;  // after the last labelled row (173)
    spec.methods = {"old", "lara"};
    const auto report = lara::run_experiment(spec);
    EXPECT_EQ(report.computed, (std::vector<std::string>{"alpha"}));
    ASSERT_EQ(report.rows.size(), 3u);  // old, lara, random
    for (const auto& row : report.rows) {
        EXPECT_EQ(row.n_labelled, 0) << row.method;
        // Precision is defined where the model flagged a row, and every flag is a false alarm.
        if (row.n_flagged > 0)
            EXPECT_EQ(row.precision, 0.0) << row.method;
        else
            EXPECT_TRUE(std::isnan(row.precision)) << row.method;
        for (const double v : {row.recall, row.f1, row.best_f1, row.pa_f1, row.auc_pr}) EXPECT_TRUE(std::isnan(v)) << row.method;
    }
    const auto summary = read_file(report.summary_md);
    EXPECT_NE(summary.find("No scored row of alpha is labelled"), std::string::npos) << summary;
    const auto& old = report.rows.front();
    ASSERT_EQ(old.method, "old");
    EXPECT_NE(summary.find(old.n_flagged > 0 ? "| old | 1 | 0.000 ± — | — | — |" : "| old | 1 | — | — | — |"), std::string::npos) << summary;
}

TEST_F(ExperimentTest, StandardScoresOnlyRowsFromEvalFromAndTrainsTheOracle) {
    auto spec = small_spec("standard");
    spec.entities = {"beta"};
    spec.protocol = "standard";
    spec.new_rows = {20};
    spec.eval_from = 100;
    const auto report = lara::run_experiment(spec);
    std::vector<std::string> methods;
    for (const auto& row : report.rows) {
        methods.push_back(row.method);
        EXPECT_EQ(row.n_rows, kTestRows - 100);
        EXPECT_EQ(row.n_labelled, 10);
    }
    EXPECT_EQ(methods, (std::vector<std::string>{"old", "lara", "finetune", "scratch", "renorm", "full", "oracle", "random"}));
}

TEST_F(ExperimentTest, SweepOverKRetrainsOneOldModelAndScoresTheSameRows) {
    auto spec = small_spec("sweep");
    spec.entities = {"alpha"};
    spec.protocol = "standard";
    spec.methods = {"old", "lara", "lara-mlp"};  // an ablation runs as a method of its own
    spec.new_rows = {40, 20};
    spec.eval_from = 50;
    const auto report = lara::run_experiment(spec);
    std::map<std::int64_t, std::map<std::string, lara::ExperimentRow>> by_k;
    for (const auto& row : report.rows) by_k[row.new_rows][row.method] = row;
    ASSERT_EQ(by_k.size(), 2u);
    for (const auto& [k, rows] : by_k) {
        EXPECT_EQ(rows.size(), 4u) << "K = " << k;  // old, lara, lara-mlp, random
        for (const auto& [method, row] : rows) EXPECT_EQ(row.n_rows, kTestRows - 50) << method;
    }
    // Under standard one old model serves every K, and every K scores rows [50, end): the same numbers.
    EXPECT_EQ(by_k[20]["old"].f1, by_k[40]["old"].f1);
    EXPECT_EQ(by_k[20]["old"].best_f1, by_k[40]["old"].best_f1);
    EXPECT_EQ(by_k[20]["old"].wall_ms, by_k[40]["old"].wall_ms);

    const auto summary = read_file(report.summary_md);
    for (const char* text : {"Point-wise F1 against K", "| method | K = 20 | K = 40 |", "All entities (1 entity), K = 20",
                             "All entities (1 entity), K = 40", "figures/f1_vs_k.svg"})
        EXPECT_NE(summary.find(text), std::string::npos) << text;
    const auto f1_vs_k = read_file(fs::path(spec.out) / "figures" / "f1_vs_k.svg");
    for (const char* text : {"<svg", "old", "lara", "random", "best F1"}) EXPECT_NE(f1_vs_k.find(text), std::string::npos) << text;
}

TEST_F(ExperimentTest, SaysWhenEarlyStoppingKeptTheFirstEpochOfTheOldModel) {
    // A data set whose train file ends in a new level: the held-out latest windows are of it.
    const auto dataset = dir_->path() / "ends-changed";
    for (const char* folder : {"train", "test", "test_label"}) fs::create_directories(dataset / folder);
    write_entity(dataset, "alpha", 0.0, 1);
    std::stringstream shifted;
    {
        std::ifstream in(dataset / "train" / "alpha.csv");
        std::string line;
        for (int t = 0; std::getline(in, line); ++t) {
            const auto comma = line.find(',');
            const double first = std::stod(line.substr(0, comma)) + (t >= kTrainRows - 40 ? 20.0 : 0.0);
            shifted << first << line.substr(comma) << "\n";
        }
    }
    std::ofstream(dataset / "train" / "alpha.csv") << shifted.str();

    auto spec = small_spec("exp-ends-changed");
    spec.dataset = dataset.string();
    spec.protocol = "standard";
    spec.new_rows = {0};
    spec.methods = {"old"};
    spec.model.hidden = 100;
    spec.train.epochs = 10;
    const auto report = lara::run_experiment(spec);
    const auto rows = read_results(report.results_csv);
    ASSERT_EQ(rows.size(), 2u);  // old and random
    EXPECT_EQ(rows[0].at("method"), "old");
    EXPECT_EQ(rows[0].at("first_epoch_kept"), "1");
    EXPECT_NE(read_file(report.summary_md).find("early stopping kept the first epoch** of 1 of 1 `old` models"), std::string::npos)
        << read_file(report.summary_md);

    spec.train.val_fraction = 0;  // every epoch trained, no warning
    spec.out = dir_->file("exp-ends-changed-all-epochs");
    const auto all_epochs = lara::run_experiment(spec);
    EXPECT_EQ(read_results(all_epochs.results_csv)[0].at("first_epoch_kept"), "0");
    EXPECT_EQ(read_file(all_epochs.summary_md).find("early stopping kept"), std::string::npos);
}

TEST_F(ExperimentTest, BadSpecsNameTheProblem) {
    auto spec = small_spec("errors");
    spec.methods = {"old", "magic"};
    expect_error(spec, lara::ErrorKind::usage, "unknown method \"magic\"");
    spec.methods = {"oracle"};
    expect_error(spec, lara::ErrorKind::usage, "oracle needs eval_from");
    spec.eval_from = 5;  // fewer rows than one window to train on
    expect_error(spec, lara::ErrorKind::usage, "oracle needs eval_from of at least one window (10 rows");
    spec.eval_from = 0;
    spec.methods = {"old", "lara"};
    spec.new_rows = {5};
    expect_error(spec, lara::ErrorKind::usage, "K = 5 is fewer than one window (10 rows)");
    spec.new_rows = {};
    spec.methods = {};
    spec.plot_entity = "beta";
    spec.entities = {"alpha"};
    expect_error(spec, lara::ErrorKind::usage, "plot_entity: \"beta\" is not one of the entities");
    spec.plot_entity = "";
    spec.protocol = "standard";
    spec.new_rows = {0, 20};
    expect_error(spec, lara::ErrorKind::usage, "a sweep over K needs every K > 0");
    spec.protocol = "shift";
    spec.new_rows = {};
    spec.entities = {"gamma"};
    expect_error(spec, lara::ErrorKind::usage, "unknown entity \"gamma\"");
    spec.entities = {};
    // Retraining settings that no chosen method would use, as `lara retrain` refuses them.
    spec.methods = {"old", "full"};
    spec.retrain.recalibrate = "warmup";
    expect_error(spec, lara::ErrorKind::usage, "recalibrate: no chosen method retrains a model (methods old, full)");
    spec.methods = {"old", "finetune", "lara-x-only"};
    EXPECT_NO_THROW(lara::make_plan(spec));
    spec.retrain.proposal = "prior";
    expect_error(spec, lara::ErrorKind::usage, "proposal: no chosen method has a ruminate block");
    spec.methods = {"lara-z-only"};
    spec.retrain.newton_steps = 3;
    expect_error(spec, lara::ErrorKind::usage, "newton_steps: only the laplace proposal");
    spec.retrain.proposal = "laplace";
    EXPECT_NO_THROW(lara::make_plan(spec));
    spec.retrain = {};
    spec.methods = {};
    spec.dataset = dir_->file("nowhere");
    expect_error(spec, lara::ErrorKind::data, "no such data set folder");

    // A test file without labels.
    const fs::path data = dir_->path() / "unlabelled";
    for (const char* folder : {"train", "test", "test_label"}) fs::create_directories(data / folder);
    fs::copy_file(dir_->path() / "data" / "train" / "alpha.csv", data / "train" / "alpha.csv");
    fs::copy_file(dir_->path() / "data" / "test" / "alpha.csv", data / "test" / "alpha.csv");
    spec.dataset = data.string();
    expect_error(spec, lara::ErrorKind::data, "test file without labels");
}

TEST_F(ExperimentTest, RefusesAnOutputFolderAmongTheDataAndSkipsHiddenFiles) {
    // Results written into train/ would be read as entities by every later run on the data set.
    auto spec = small_spec("unused");
    spec.out = (fs::path(spec.dataset) / "train" / "results").string();
    expect_error(spec, lara::ErrorKind::output, "lies in the data set's train/ folder");
    spec.out = (fs::path(spec.dataset) / "test_label").string();
    expect_error(spec, lara::ErrorKind::output, "lies in the data set's test_label/ folder");
    EXPECT_FALSE(fs::exists(fs::path(spec.dataset) / "train" / "results"));
    // So is train/ reached through a link, and train/ when it is itself a link.
    fs::create_directory_symlink(fs::path(spec.dataset) / "train", dir_->path() / "train-link");
    spec.out = (dir_->path() / "train-link").string();
    expect_error(spec, lara::ErrorKind::output, "lies in the data set's train/ folder");
    lara::test::TempDir linked;
    fs::create_directories(linked.path() / "real-train");
    fs::create_directories(linked.path() / "set");
    fs::create_directory_symlink(linked.path() / "real-train", linked.path() / "set" / "train");
    spec.dataset = (linked.path() / "set").string();
    spec.out = (linked.path() / "real-train").string();
    expect_error(spec, lara::ErrorKind::output, "lies in the data set's train/ folder");
    spec = small_spec("unused");
    fs::remove(dir_->path() / "train-link");
    // A hidden file (a Finder's .DS_Store) is no entity.
    std::ofstream(fs::path(spec.dataset) / "train" / ".DS_Store") << "\x00\x01";
    spec = small_spec("hidden");
    spec.methods = {"old"};
    const auto report = lara::run_experiment(spec);
    fs::remove(fs::path(spec.dataset) / "train" / ".DS_Store");
    EXPECT_EQ(report.computed, (std::vector<std::string>{"alpha", "beta"}));
}

TEST_F(ExperimentTest, RefusesAFolderWithResultsButNoSettings) {
    // Without experiment.json nothing says what made the results: resuming would mix settings.
    auto spec = small_spec("no-settings");
    spec.entities = {"alpha"};
    spec.methods = {"old"};
    lara::run_experiment(spec);
    fs::remove(fs::path(spec.out) / "experiment.json");
    spec.train.epochs = 3;
    expect_error(spec, lara::ErrorKind::usage, "holds results but no experiment.json");
}

TEST(ExperimentLock, ATurnTakenAgainKeepsTheNextRunWaitingUntilItEnds) {
    // A run rebuilds results.csv from every entity file in a turn of its own, so that an
    // overlapping run cannot list the files before this one wrote its last and write after it.
    lara::test::TempDir dir;
    lara::ExperimentLock first(dir.path());
    first.end_turn();
    first.take_turn();
    std::atomic<bool> second_started{false}, second_saw_first{false};
    std::thread other([&] {
        const lara::ExperimentLock second(dir.path());
        second_saw_first = second.others_running();
        second_started = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_FALSE(second_started) << "the second run took its turn while the first held one";
    first.end_turn();
    other.join();
    EXPECT_TRUE(second_started);
    EXPECT_TRUE(second_saw_first);
}
