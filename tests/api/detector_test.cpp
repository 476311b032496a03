#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>

#include <gtest/gtest.h>

#include "data/synthetic.h"
#include "detect/spot.h"
#include "eval/metrics.h"
#include "lara/lara.h"
#include "persist/model_file.h"
#include "support/test_support.h"

namespace {

//! One small detector trained on the synthetic service, shared by the tests of this file.
class DetectorTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        lara::data::SyntheticConfig c;
        c.n_rows = 2500;
        c.n_metrics = 6;
        c.change_at = 2000;
        c.clean_until = 1500;
        synthetic_ = new lara::data::SyntheticSeries(lara::data::make_synthetic(c));
        const auto model = lara::test::small_model();
        lara::TrainConfig train;
        train.epochs = 10;
        detector_ = new lara::Detector(lara::Detector::train(synthetic_->series.slice(0, 1500), model, train, {}));
    }
    static void TearDownTestSuite() {
        delete detector_;
        delete synthetic_;
    }
    static lara::data::SyntheticSeries* synthetic_;
    static lara::Detector* detector_;
};

lara::data::SyntheticSeries* DetectorTest::synthetic_ = nullptr;
lara::Detector* DetectorTest::detector_ = nullptr;

//! `call` throws a lara::Error of `kind` whose message holds `fragment`.
template <typename Call>
void expect_error(const Call& call, lara::ErrorKind kind, const std::string& fragment) {
    try {
        call();
        ADD_FAILURE() << "accepted; expected an error with \"" << fragment << "\"";
    } catch (const lara::Error& e) {
        EXPECT_EQ(e.kind(), kind) << e.what();
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
}

void expect_model_error(const std::string& path, const std::string& fragment) {
    expect_error([&path] { lara::Detector::load(path); }, lara::ErrorKind::model, fragment);
}

//! Every row of `series` pushed into a StreamScorer one at a time, then finish(): all the rows it
//! handed out.
std::vector<lara::ScoredRow> stream(const lara::Detector& detector, const lara::Series& series, std::int64_t context_rows = 0) {
    lara::StreamScorer scorer(detector, "test stream", {}, series.first_row, context_rows);
    std::vector<lara::ScoredRow> out;
    for (std::int64_t t = 0; t < series.n_rows; ++t) {
        const auto* row = series.values.data() + t * series.n_metrics;
        for (auto& r : scorer.push({row, row + series.n_metrics})) out.push_back(std::move(r));
    }
    for (auto& r : scorer.finish()) out.push_back(std::move(r));
    return out;
}

//! The stream gives the batch's rows: a window decoded alone rounds differently from one in a
//! batch, so scores agree to float precision, and flags wherever a score is not within that of
//! the threshold.
void expect_same(const lara::ScoreResult& batch, const std::vector<lara::ScoredRow>& streamed, double threshold_tolerance) {
    ASSERT_EQ(static_cast<std::int64_t>(streamed.size()), batch.n_rows);
    for (std::size_t t = 0; t < streamed.size(); ++t) {
        const auto& r = streamed[t];
        ASSERT_EQ(r.row, batch.first_row + static_cast<std::int64_t>(t));
        const double score = batch.scores[t];
        EXPECT_NEAR(r.score, score, 1e-5 * std::max(1.0, std::fabs(score))) << "row " << r.row;
        EXPECT_NEAR(r.threshold, batch.threshold, threshold_tolerance * std::fabs(batch.threshold)) << "row " << r.row;
        if (std::fabs(score - batch.threshold) > 1e-3 * std::fabs(batch.threshold)) {
            EXPECT_EQ(r.anomaly, batch.anomalies[t]) << "row " << r.row;
        }
        EXPECT_EQ(r.top_metrics(3), batch.top_metrics(static_cast<std::int64_t>(t), 3)) << "row " << r.row;
    }
}

}  // namespace

TEST_F(DetectorTest, MetricNamesTravelWithTheModelAndGuardTheColumnOrder) {
    auto named = synthetic_->series.slice(0, 1500);
    named.metric_names = {"cpu", "mem", "net", "disk", "io", "tcp"};
    lara::TrainConfig train;
    train.epochs = 1;
    const auto trained = lara::Detector::train(named, lara::test::small_model(), train, {});
    lara::test::TempDir dir;
    trained.save(dir.file("named.lara"));
    const auto loaded = lara::Detector::load(dir.file("named.lara"));
    EXPECT_EQ(loaded.metric_names(), named.metric_names);
    EXPECT_EQ(loaded.info()["metric_names"], nlohmann::json(named.metric_names));

    auto later = synthetic_->series.slice(1500, 1600);
    later.metric_names = {"mem", "cpu", "net", "disk", "io", "tcp"};  // two columns swapped
    expect_error([&] { loaded.score(later); }, lara::ErrorKind::data, "metric 1 is \"mem\", which the model was trained with as metric 2");
    lara::RetrainConfig config;
    config.method = "renorm";
    EXPECT_THROW(loaded.retrain(later, config), lara::Error);
    // A stream's header is checked before any row: a pipe with swapped columns fails at once.
    EXPECT_THROW(lara::StreamScorer(loaded, "stdin", later.metric_names), lara::Error);
    EXPECT_NO_THROW(lara::StreamScorer(loaded, "stdin", named.metric_names));
    // As score() refuses a series naming another number of metrics than it holds, so does a stream.
    expect_error([&] { lara::StreamScorer(loaded, "stdin", {"cpu", "mem"}); }, lara::ErrorKind::data, "stdin: the stream names 2 metrics and the model has 6");
    // Other names (another host's), no names, and the same names all score.
    later.metric_names = {"cpu@b", "mem@b", "net@b", "disk@b", "io@b", "tcp@b"};
    EXPECT_NO_THROW(loaded.score(later));
    later.metric_names.clear();
    EXPECT_NO_THROW(loaded.score(later));
    // The model's own names: the loaded model scores as the one in memory.
    later.metric_names = named.metric_names;
    EXPECT_EQ(loaded.score(later).scores, trained.score(later).scores);
    // Names for another number of metrics: a series that contradicts itself (before, training
    // took it and wrote a model file that loading then refused).
    later.metric_names.pop_back();
    expect_error([&] { loaded.score(later); }, lara::ErrorKind::data, "the series names 5 metrics but holds 6");
    EXPECT_THROW(lara::Detector::train(later, lara::test::small_model(), lara::TrainConfig{}, {}), lara::Error);
    // A stream that ends before its first window is a data error, even an empty one.
    for (int rows = 0; rows < 2; ++rows) {
        lara::StreamScorer scorer(loaded, "short");
        if (rows == 1) scorer.push(std::vector<float>(6, 0.0f));
        expect_error([&] { scorer.finish(); }, lara::ErrorKind::data,
                     "short: the stream ended after " + std::to_string(rows) + (rows == 1 ? " row," : " rows,"));
    }
}

TEST(ConfigFromJson, AMissingOrMistypedFieldIsALaraError) {
    auto json = lara::TrainConfig{}.to_json();
    EXPECT_EQ(lara::TrainConfig::from_json(json).epochs, lara::TrainConfig{}.epochs);
    json.erase("epochs");
    for (const auto& bad : {json, nlohmann::json::object(), nlohmann::json{{"epochs", "many"}}}) {
        try {
            lara::TrainConfig::from_json(bad);
            ADD_FAILURE() << bad.dump();
        } catch (const lara::Error& e) {
            EXPECT_EQ(e.kind(), lara::ErrorKind::usage);
            EXPECT_EQ(std::string(e.what()).rfind("train config: ", 0), 0u) << e.what();
        }
    }
    EXPECT_THROW(lara::ModelConfig::from_json(nlohmann::json::object()), lara::Error);
    EXPECT_THROW(lara::ThresholdConfig::from_json(nlohmann::json{{"method", 3}}), lara::Error);
}

TEST_F(DetectorTest, EveryRowGetsAScoreThatSumsItsContributions) {
    const auto test = synthetic_->series.slice(1500, 2000);
    const auto r = detector_->score(test);
    ASSERT_EQ(r.n_rows, 500);
    ASSERT_EQ(r.scores.size(), 500u);
    EXPECT_EQ(r.first_row, 1500);
    for (std::int64_t t = 0; t < r.n_rows; ++t) {
        double sum = 0;
        for (std::int64_t j = 0; j < r.n_metrics; ++j) sum += r.contributions[static_cast<std::size_t>(t * r.n_metrics + j)];
        EXPECT_NEAR(r.scores[static_cast<std::size_t>(t)], sum, 1e-4 * (1 + std::abs(sum)));
        EXPECT_EQ(r.anomalies[static_cast<std::size_t>(t)], r.scores[static_cast<std::size_t>(t)] > r.threshold ? 1 : 0);
        const auto top = r.top_metrics(t, 3);
        ASSERT_EQ(top.size(), 3u);
        const float* c = &r.contributions[static_cast<std::size_t>(t * r.n_metrics)];
        EXPECT_GE(c[top[0]], c[top[1]]);
        EXPECT_GE(c[top[1]], c[top[2]]);
        for (std::int64_t j = 0; j < r.n_metrics; ++j) {
            if (j != top[0] && j != top[1] && j != top[2]) {
                EXPECT_LE(c[j], c[top[2]]);
            }
        }
    }
}

TEST_F(DetectorTest, InjectedAnomaliesScoreHigherThanNormalRows) {
    const auto r = detector_->score(synthetic_->series.slice(1500, 2000));
    const std::vector<int> labels(synthetic_->labels.begin() + 1500, synthetic_->labels.begin() + 2000);
    const auto auc = lara::eval::auc_pr(r.scores, labels);
    const double ratio = std::accumulate(labels.begin(), labels.end(), 0.0) / static_cast<double>(labels.size());
    EXPECT_GT(auc, 3 * ratio) << "AUC-PR " << auc << " vs anomaly ratio " << ratio;
}

TEST_F(DetectorTest, RefusesTooFewRowsAndTheWrongMetricCount) {
    try {
        detector_->score(synthetic_->series.slice(0, 10));
        FAIL();
    } catch (const lara::Error& e) {
        EXPECT_EQ(e.kind(), lara::ErrorKind::data);
        EXPECT_NE(std::string(e.what()).find("fewer than one window (20)"), std::string::npos) << e.what();
    }
    lara::Series wide;
    wide.n_rows = 30;
    wide.n_metrics = 7;
    wide.values.assign(30 * 7, 0.0f);
    wide.source = "wide.csv";
    try {
        detector_->score(wide);
        FAIL();
    } catch (const lara::Error& e) {
        EXPECT_EQ(e.kind(), lara::ErrorKind::data);
        EXPECT_NE(std::string(e.what()).find("wide.csv: has 7 metrics but the model was trained on 6"), std::string::npos) << e.what();
    }
}

TEST_F(DetectorTest, SaveAndLoadGiveIdenticalScores) {
    lara::test::TempDir dir;
    detector_->save(dir.file("m.lara"));
    const auto loaded = lara::Detector::load(dir.file("m.lara"));
    const auto test = synthetic_->series.slice(1500, 2000);
    const auto a = detector_->score(test), b = loaded.score(test);
    EXPECT_EQ(a.scores, b.scores);
    EXPECT_EQ(a.threshold, b.threshold);
    EXPECT_EQ(loaded.info()["model"], detector_->info()["model"]);
    // The file says which lara wrote it; one built in memory was written by no file.
    EXPECT_EQ(loaded.info()["written_by"], std::string("lara ") + lara::version());
    EXPECT_TRUE(detector_->info()["written_by"].is_null());
}

TEST_F(DetectorTest, RefusesACorruptedTruncatedOrForeignModel) {
    lara::test::TempDir dir;
    const auto path = dir.file("m.lara");
    detector_->save(path);
    std::string bytes;
    {
        std::ifstream in(path, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    auto flipped = bytes;
    flipped[bytes.size() / 2] = static_cast<char>(flipped[bytes.size() / 2] ^ 1);
    std::ofstream(dir.file("flipped.lara"), std::ios::binary) << flipped;
    expect_model_error(dir.file("flipped.lara"), "checksum mismatch");
    std::ofstream(dir.file("cut.lara"), std::ios::binary) << bytes.substr(0, bytes.size() - 100);
    expect_model_error(dir.file("cut.lara"), "checksum mismatch");
    expect_model_error(dir.write("data.csv", "1,2,3\n4,5,6\n"), "bad magic");
    // A well-formed envelope that is not a detector.
    lara::persist::ModelFile other;
    other.meta = {{"kind", "something-else"}};
    lara::persist::write_model_file(dir.file("other.lara"), other);
    expect_model_error(dir.file("other.lara"), "not a lara detector");
}

//! A saved model, read back, to edit and seal again: each edit must be refused on load.
class SealedEdits {
public:
    explicit SealedEdits(const lara::Detector& detector) {
        detector.save(dir_.file("m.lara"));
        good_ = lara::persist::read_model_file(dir_.file("m.lara"));
    }
    const lara::persist::ModelFile& good() const { return good_; }
    //! `edit` applied to the good file, sealed with a valid checksum as `name`: its load must fail with `fragment`.
    void expect_refused(const std::string& name, const std::function<void(lara::persist::ModelFile&)>& edit, const std::string& fragment) {
        auto file = good_;
        edit(file);
        lara::persist::write_model_file(dir_.file(name), file);
        expect_model_error(dir_.file(name), fragment);
    }
    std::string path(const std::string& name) const { return dir_.file(name); }

private:
    lara::test::TempDir dir_;
    lara::persist::ModelFile good_;
};

TEST_F(DetectorTest, RefusesAWellSealedFileWithNonFiniteWeightsOrABadNormaliser) {
    SealedEdits edits(*detector_);
    edits.expect_refused("nan.lara", [](auto& file) {
        const auto weight = std::find_if(file.sections.begin(), file.sections.end(), [](const auto& s) { return s.first.rfind("weights/", 0) == 0; });
        ASSERT_NE(weight, file.sections.end());
        weight->second[0] = std::numeric_limits<float>::quiet_NaN();
    }, "are not all finite");
    edits.expect_refused("inf.lara", [](auto& file) { file.sections.at("maps/x_b")[0] = std::numeric_limits<float>::infinity(); },
                         "adjusting map x is not all finite");
    edits.expect_refused("scale.lara", [](auto& file) { file.meta["normalizer"]["scale"][1] = 0.0; },
                         "metric 1 needs a finite mean and a positive scale");
    edits.expect_refused("clip.lara", [](auto& file) { file.meta["normalizer"]["clip"] = -1.0; }, "clip must be positive");
    // Metadata lara never writes: a warm-up refit of a fixed threshold (it flagged every row), a
    // negative spread, a fractional generation (read as 0).
    edits.expect_refused("warm-fixed.lara", [](auto& file) {
        file.meta["threshold_config"]["method"] = "fixed";
        file.meta["threshold"]["warmup_rows"] = 60;
    }, "a fixed threshold has no fit to redo");
    edits.expect_refused("mad.lara", [](auto& file) { file.meta["threshold"]["score_mad"] = -7.0; }, "threshold.score_mad is negative");
    edits.expect_refused("generation.lara", [](auto& file) { file.meta["generation"] = 0.9; }, "generation is not a whole number");
    // A field of the wrong type is named, rather than reported in nlohmann's words; 40.5 is no window.
    edits.expect_refused("value.lara", [](auto& file) { file.meta["threshold"]["value"] = "12"; }, "threshold.value is not a number: \"12\"");
    edits.expect_refused("window.lara", [](auto& file) { file.meta["model"]["window"] = 40.5; }, "model config: window is not a whole number");
    edits.expect_refused("seed.lara", [](auto& file) { file.meta["train"]["seed"] = -1; }, "train config: seed is not a whole number of at least 0");
    edits.expect_refused("missing.lara", [](auto& file) { file.meta["threshold_config"].erase("risk"); }, "threshold config: risk is missing");
    edits.expect_refused("names.lara", [](auto& file) { file.meta["metric_names"] = {1, 2, 3, 4, 5, 6}; }, "metric_names is not a list of names");
    edits.expect_refused("extra.lara", [](auto& file) { file.sections["bogus"] = {1.0f}; }, "unknown section \"bogus\"");
    // A hostile name is shown escaped and cut, not echoed to the terminal whole.
    edits.expect_refused("escape.lara", [](auto& file) { file.sections["\x1b[31m" + std::string(100000, 'x')] = {1.0f}; },
                         "unknown section \"\\x1b[31mxxx");
    try {
        lara::Detector::load(edits.path("escape.lara"));
    } catch (const lara::Error& e) {
        EXPECT_LT(std::string(e.what()).size(), 400u);
    }
}

TEST_F(DetectorTest, RefusesSizesTheWeightsDoNotBearOutBeforeAllocatingThem) {
    SealedEdits edits(*detector_);
    std::size_t weights = 0;
    for (const auto& [name, values] : edits.good().sections) weights += name.rfind("weights/", 0) == 0 ? values.size() : 0;
    // hidden 65536 would build 17 GB of layers from a file of a few hundred KB.
    edits.expect_refused("hidden.lara", [](auto& file) { file.meta["model"]["hidden"] = 65536; },
                         "the weights hold " + std::to_string(weights) + " values, and the " +
                             edits.good().meta["model"]["arch"].get<std::string>() + " the metadata describes has ");
    edits.expect_refused("wide.lara", [](auto& file) { file.meta["model"]["n_metrics"] = 20000; },  // its d×d map alone: 1.6 GB
                         "n_metrics must be in [1, 10000]");
    edits.expect_refused("bogus.lara", [](auto& file) { file.sections["weights/bogus"] = {1.0f}; }, "the weights hold");  // one too many
}

namespace {

//! score, retrain and train each refuse `series` with a data error containing `fragment`.
void expect_every_call_refuses(const lara::Detector& detector, const lara::Series& series, const std::string& fragment) {
    for (const auto& call : std::vector<std::function<void()>>{[&] { detector.score(series); },
                                                              [&] { detector.retrain(series, {}); },
                                                              [&] { lara::Detector::train(series, {}, {}, {}); }}) {
        try {
            call();
            ADD_FAILURE() << "accepted; expected \"" << fragment << "\"";
        } catch (const lara::Error& e) {
            EXPECT_EQ(e.kind(), lara::ErrorKind::data);
            EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
        }
    }
}

}  // namespace

TEST_F(DetectorTest, TrainingRefusesMetricNamesThatAreNotUtf8AndMoreMetricsThanAModelTakes) {
    // The names go into the model's JSON (UTF-8 only): a Latin-1 "°" is the data's problem, said
    // before training rather than lost to U+FFFD. Scoring needs no names and takes such a file.
    auto series = synthetic_->series.slice(0, 300);
    series.metric_names = {"cpu", "m\xb0" "em", "net", "disk", "io", "tcp"};
    expect_error([&] { lara::Detector::train(series, {}, {}, {}); }, lara::ErrorKind::data, "the name of metric 2, \"m\\xb0em\", is not UTF-8 text");
    EXPECT_NO_THROW(detector_->score(series));
    // 10,001 metrics: a data error naming the file, not a model setting.
    lara::Series wide;
    wide.source = "wide.csv";
    wide.n_rows = 1;
    wide.n_metrics = 10001;
    wide.values.assign(10001, 1.0f);
    expect_error([&] { lara::Detector::train(wide, {}, {}, {}); }, lara::ErrorKind::data, "wide.csv: 10001 metrics; a model takes at most 10000");
}

TEST_F(DetectorTest, RefusesASeriesWhoseValuesDoNotMatchItsShape) {
    auto series = synthetic_->series.slice(1500, 1600);
    series.values.pop_back();
    expect_every_call_refuses(*detector_, series, "values, not 100 rows");
}

TEST_F(DetectorTest, RefusesANonFiniteValueNamingItsRowAndMetric) {
    // A NaN in a hand-built series used to crash training and score as never anomalous.
    auto series = synthetic_->series.slice(1500, 1600);
    series.values[static_cast<std::size_t>(7 * series.n_metrics + 2)] = std::numeric_limits<float>::quiet_NaN();
    expect_every_call_refuses(*detector_, series, "row 1507, metric 3 is not a finite number");
}

TEST_F(DetectorTest, FinetuneRefusesAModelThatLaraAdaptedAndScratchStartsAfresh) {
    const auto new_rows = synthetic_->series.slice(2000, 2043);
    const auto adapted = detector_->retrain(new_rows, {}).first;
    lara::RetrainConfig finetune;
    finetune.method = "finetune";
    finetune.baseline_epochs = 2;
    try {
        adapted.retrain(new_rows, finetune);
        FAIL() << "finetune dropped the maps of the LARA retraining";
    } catch (const lara::Error& e) {
        EXPECT_EQ(e.kind(), lara::ErrorKind::usage);
        EXPECT_NE(std::string(e.what()).find("maps of an earlier LARA retraining"), std::string::npos) << e.what();
    }
    EXPECT_NO_THROW(detector_->retrain(new_rows, finetune));  // the base model has identity maps
    auto scratch = finetune;
    scratch.method = "scratch";
    const auto fresh = adapted.retrain(new_rows, scratch).first;
    EXPECT_TRUE(fresh.info()["maps"]["z_identity"].get<bool>()) << fresh.info()["maps"].dump();
}

TEST_F(DetectorTest, TrainingReportsTheLossesOfTheEpochItKept) {
    auto model = lara::test::small_model();
    model.hidden = 16;
    lara::TrainConfig train;
    train.epochs = 4;
    train.patience = 4;  // every epoch runs
    train.learning_rate = 0.01;
    // The rows end 100 rows into the new pattern (from 2000): the held-out windows reach into it,
    // their loss rises after epoch 2 (1.564, then 1.574 and 1.588), and epoch 2 is kept, not the last.
    std::vector<lara::TrainProgress> epochs;
    const auto trained = lara::Detector::train(synthetic_->series.slice(0, 2100), model, train, {},
                                               [&epochs](const lara::TrainProgress& p) { epochs.push_back(p); });
    const auto training = trained.info()["training"];
    ASSERT_EQ(epochs.size(), 4u);
    const auto best = std::min_element(epochs.begin(), epochs.end(), [](const auto& a, const auto& b) { return a.val_loss < b.val_loss; });
    const auto kept = training["best_epoch"].get<std::int64_t>();
    EXPECT_EQ(kept, best->epoch);
    ASSERT_LT(kept, 4) << "the last epoch was the best: this case no longer tells kept from last";
    EXPECT_EQ(training["val_loss"].get<double>(), best->val_loss);
    EXPECT_EQ(training["train_loss"].get<double>(), best->train_loss);
    EXPECT_EQ(training["held_out_windows"].get<std::int64_t>(), 208);  // 10 % of 2081 windows
    EXPECT_GE(training["threads"]["intra_op"].get<int>(), 1);
}

TEST_F(DetectorTest, WarnsWhenTheHeldOutFractionOfAShortSeriesRoundsToNoWindow) {
    auto model = lara::test::small_model();
    lara::TrainConfig train;
    train.epochs = 3;
    train.val_fraction = 0.1;
    train.patience = 1;
    lara::ThresholdConfig fixed;  // too few rows for SPOT
    fixed.method = "fixed";
    fixed.value = 10;
    const auto rows = model.window + 8;  // 9 windows: 10% of them is 0.9, no window
    const auto short_series = lara::Detector::train(synthetic_->series.slice(0, rows), model, train, fixed).info()["training"];
    EXPECT_EQ(short_series["held_out_windows"], 0);
    EXPECT_EQ(short_series["epochs_run"], 3) << "patience 1 was not applied";
    ASSERT_EQ(short_series["warnings"].size(), 1u) << short_series.dump();
    EXPECT_NE(short_series["warnings"][0].get<std::string>().find("--val-fraction 0.1 of 9 windows holds out none"), std::string::npos);
    // One row more: 10 windows, one held out, no warning.
    const auto one_more = lara::Detector::train(synthetic_->series.slice(0, rows + 1), model, train, fixed).info()["training"];
    EXPECT_EQ(one_more["held_out_windows"], 1);
    EXPECT_TRUE(one_more["warnings"].empty()) << one_more.dump();
}

TEST_F(DetectorTest, LoadsAVersion1FileWithIdentityMaps) {
    lara::test::TempDir dir;
    detector_->save(dir.file("v3.lara"));
    auto file = lara::persist::read_model_file(dir.file("v3.lara"));
    // A version-1 file has ReLU layers, the fixture softplus ones: the same weights named ReLU in
    // the current version are what it must score like.
    file.meta["model"]["activation"] = "relu";
    lara::persist::write_model_file(dir.file("relu.lara"), file);
    file.version = 1;
    file.meta["model"].erase("activation");
    for (const char* name : {"maps/z_A", "maps/z_b", "maps/x_A", "maps/x_b"}) file.sections.erase(name);
    lara::persist::write_model_file(dir.file("v1.lara"), file);
    const auto v1 = lara::Detector::load(dir.file("v1.lara"));
    const auto test = synthetic_->series.slice(1500, 1600);
    EXPECT_EQ(v1.score(test).scores, lara::Detector::load(dir.file("relu.lara")).score(test).scores);
}

TEST_F(DetectorTest, TheActivationIsSavedAndFilesBeforeVersion3LoadWithReluLayers) {
    lara::test::TempDir dir;
    const auto test = synthetic_->series.slice(1500, 2000);
    const auto train_small = [&](const std::string& activation) {
        auto model = lara::test::small_model();
        model.activation = activation;
        lara::TrainConfig train;
        train.epochs = 2;
        return lara::Detector::train(synthetic_->series.slice(0, 1500), model, train, {});
    };
    // A version-2 file has no activation field: its layers are ReLU.
    const auto relu = train_small("relu");
    relu.save(dir.file("v3.lara"));
    auto file = lara::persist::read_model_file(dir.file("v3.lara"));
    file.version = 2;
    file.meta["model"].erase("activation");
    lara::persist::write_model_file(dir.file("v2.lara"), file);
    const auto v2 = lara::Detector::load(dir.file("v2.lara"));
    EXPECT_EQ(v2.score(test).scores, relu.score(test).scores);
    EXPECT_EQ(v2.info()["format_version"], 2);
    // Its version, not a field it could not have written, decides: the layers stay ReLU.
    file.meta["model"]["activation"] = "softplus";
    lara::persist::write_model_file(dir.file("v2-softplus.lara"), file);
    const auto named = lara::Detector::load(dir.file("v2-softplus.lara"));
    EXPECT_EQ(named.info()["model"]["activation"], "relu");
    EXPECT_EQ(named.score(test).scores, relu.score(test).scores);
    file.meta["model"].erase("activation");
    // From version 3 on the field is required: its absence is a malformed file, not ReLU.
    file.version = 3;
    lara::persist::write_model_file(dir.file("v3-without.lara"), file);
    expect_model_error(dir.file("v3-without.lara"), "model.activation is missing");

    const auto smooth = train_small(lara::ModelConfig{}.activation);
    smooth.save(dir.file("softplus.lara"));
    const auto loaded = lara::Detector::load(dir.file("softplus.lara"));
    EXPECT_EQ(loaded.info()["model"]["activation"], "softplus");
    EXPECT_EQ(loaded.score(test).scores, smooth.score(test).scores);
    // The field is obeyed: the same weights read as ReLU layers score differently.
    auto relabelled = lara::persist::read_model_file(dir.file("softplus.lara"));
    relabelled.meta["model"]["activation"] = "relu";
    lara::persist::write_model_file(dir.file("relabelled.lara"), relabelled);
    EXPECT_NE(lara::Detector::load(dir.file("relabelled.lara")).score(test).scores, smooth.score(test).scores);
}

TEST(DetectorRealData, WarnsWhenEarlyStoppingKeepsTheFirstEpochOfASeriesEndingInANewPattern) {
    LARA_REQUIRE_DATA();
    // JumpStarter service0 changes pattern at train row 5717: with the 43 rows after it, the
    // windows held out for early stopping end in the new pattern, and training stops at epoch 1.
    const auto file = (lara::test::data_dir() / "jumpstarter/Dataset2/train/service0.csv").string();
    const auto ends_changed = lara::Detector::train(lara::read_series(file), lara::ModelConfig{}, lara::TrainConfig{}, {});
    const auto training = ends_changed.info()["training"];
    EXPECT_EQ(training["best_epoch"], 1) << training.dump();
    ASSERT_EQ(training["warnings"].size(), 1u) << training.dump();
    EXPECT_NE(training["warnings"][0].get<std::string>().find("early stopping kept epoch 1"), std::string::npos);
    // Without those rows, no warning.
    lara::TrainConfig short_run;
    short_run.epochs = 8;
    const auto before = lara::Detector::train(lara::read_series(file, {0, 5717}), lara::ModelConfig{}, short_run, {});
    EXPECT_GT(before.info()["training"]["best_epoch"], 1);
    EXPECT_TRUE(before.info()["training"]["warnings"].empty()) << before.info()["training"].dump();
}

TEST(ModelConfig, RefusesAnUnknownActivationAndAGruNamesNone) {
    lara::ModelConfig c;
    c.n_metrics = 3;
    EXPECT_EQ(c.activation, "softplus");
    c.activation = "sigmoid";
    const auto message = [](const lara::ModelConfig& config) {
        try {
            config.validate();
        } catch (const lara::Error& e) {
            EXPECT_EQ(e.kind(), lara::ErrorKind::usage);
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    EXPECT_NE(message(c).find("activation must be relu, softplus, elu, silu or tanh, not \"sigmoid\""), std::string::npos) << message(c);
    c.activation = "relu";
    EXPECT_EQ(message(c), "accepted");
    EXPECT_EQ(lara::ModelConfig::from_json(c.to_json()).activation, "relu");
    // A GRU has its own non-linearities: its config neither writes an activation nor reads one
    // (files before this version wrote "relu" for it).
    c.arch = "gru";
    auto json = c.to_json();
    EXPECT_FALSE(json.contains("activation")) << json.dump();
    json["activation"] = "relu";
    EXPECT_EQ(lara::ModelConfig::from_json(json).to_json(), c.to_json());
}

TEST(ThresholdConfig, SpotRefusesAnInitialQuantileBelowTheMedian) {
    // Below 0.5 the excesses are no tail: every series would be refused later, as too short.
    lara::ThresholdConfig c;
    c.init_quantile = 0.3;
    try {
        c.validate();
        ADD_FAILURE() << "accepted";
    } catch (const lara::Error& e) {
        EXPECT_EQ(e.kind(), lara::ErrorKind::usage);
        EXPECT_NE(std::string(e.what()).find("init_quantile must be at least 0.5"), std::string::npos) << e.what();
    }
    c.init_quantile = 0.5;
    EXPECT_NO_THROW(c.validate());
    // A fixed threshold does not use it.
    c.init_quantile = 0.3;
    c.method = "fixed";
    EXPECT_NO_THROW(c.validate());
}

TEST(DetectorRealData, LabelledAnomaliesOfAJumpStarterServiceScoreClearlyHigher) {
    LARA_REQUIRE_DATA();
    // service2 keeps its normal pattern (a control): train on train, score test.
    const auto dir = lara::test::data_dir() / "jumpstarter/Dataset2";
    const auto train = lara::read_series((dir / "train/service2.csv").string());
    const auto test = lara::read_series((dir / "test/service2.csv").string());
    const auto labels = lara::read_labels((dir / "test_label/service2.csv").string());
    lara::TrainConfig config;
    config.epochs = 8;
    const auto detector = lara::Detector::train(train, lara::ModelConfig{}, config, {});
    const auto r = detector.score(test);
    const auto auc = lara::eval::auc_pr(r.scores, labels);
    const double ratio = std::accumulate(labels.begin(), labels.end(), 0.0) / static_cast<double>(labels.size());
    EXPECT_GT(auc, 3 * ratio) << "AUC-PR " << auc << " vs anomaly ratio " << ratio;
}

TEST_F(DetectorTest, StreamGivesTheScoresOfTheWholeSeries) {
    const auto series = synthetic_->series.slice(1500, 2500);  // injected anomalies and the change of pattern
    const auto batch = detector_->score(series);
    ASSERT_GT(std::count(batch.anomalies.begin(), batch.anomalies.end(), 1), 0);
    expect_same(batch, stream(*detector_, series), 0.0);
}

TEST_F(DetectorTest, ContextRowsScoreARangeAsInsideTheWholeSeries) {
    const auto w = detector_->model_config().window;
    const auto series = synthetic_->series.slice(1500, 2000);
    const auto whole = detector_->score(series);
    lara::RetrainConfig warmup;
    warmup.recalibrate = "warmup";
    warmup.warmup_rows = 200;
    const auto warm = detector_->retrain(synthetic_->series.slice(1400, 1443), warmup).first;
    for (const std::int64_t context : {std::int64_t{1}, w - 1, w, w + 5}) {
        const auto part = detector_->score(series, context);
        ASSERT_EQ(part.first_row, 1500 + context);
        ASSERT_EQ(part.n_rows, whole.n_rows - context);
        for (std::int64_t t = 0; t < part.n_rows; ++t) {
            const double expected = whole.scores[static_cast<std::size_t>(t + context)];
            ASSERT_NEAR(part.scores[static_cast<std::size_t>(t)], expected, 1e-5 * std::max(1.0, std::abs(expected))) << "row " << t;
        }
        expect_same(part, stream(*detector_, series, context), 0.0);
        // A warm-up threshold is fitted on the scored rows only, in a stream too.
        const auto warm_part = warm.score(series, context);
        const std::vector<double> first(warm_part.scores.begin(), warm_part.scores.begin() + 200);
        EXPECT_DOUBLE_EQ(warm_part.threshold, lara::detect::fit_spot(first, lara::ThresholdConfig{}.risk, 1.0 - 20.0 / 200.0).threshold);
        expect_same(warm_part, stream(warm, series, context), 1e-4);
    }
    // Without its past the range's first w − 1 rows share the first window's steps, as at the start
    // of a series: what the context rows are for.
    const auto cut = detector_->score(series.slice(w, series.n_rows));
    double largest = 0;
    for (std::int64_t t = 0; t + 1 < w; ++t)
        largest = std::max(largest, std::abs(cut.scores[static_cast<std::size_t>(t)] - whole.scores[static_cast<std::size_t>(w + t)]));
    EXPECT_GT(largest, 1e-2);
    for (const std::int64_t bad : {std::int64_t{-1}, series.n_rows}) {
        try {
            detector_->score(series, bad);
            ADD_FAILURE() << bad << " context rows were accepted";
        } catch (const lara::Error& e) {
            EXPECT_EQ(e.kind(), lara::ErrorKind::usage) << e.what();
        }
    }
}

TEST_F(DetectorTest, StreamHandsOutRowsWhenTheirWindowIsComplete) {
    const auto w = detector_->model_config().window;
    const auto series = synthetic_->series.slice(1500, 1500 + w + 2);
    lara::StreamScorer scorer(*detector_, "test stream", {}, 1500);
    const auto push = [&](std::int64_t t) {
        const auto* row = series.values.data() + t * series.n_metrics;
        return scorer.push({row, row + series.n_metrics});
    };
    for (std::int64_t t = 0; t + 1 < w; ++t) EXPECT_TRUE(push(t).empty()) << "row " << t;
    const auto first = push(w - 1);  // the first window: its w rows at once
    ASSERT_EQ(static_cast<std::int64_t>(first.size()), w);
    EXPECT_EQ(first.front().row, 1500);
    EXPECT_EQ(first.back().row, 1500 + w - 1);
    for (std::int64_t t = w; t < w + 2; ++t) {
        const auto next = push(t);
        ASSERT_EQ(next.size(), 1u);
        EXPECT_EQ(next[0].row, 1500 + t);
    }
    EXPECT_TRUE(scorer.finish().empty());
}

TEST_F(DetectorTest, StreamAWarmUpThresholdWaitsForItsRowsAndMatchesTheBatchOne) {
    lara::RetrainConfig config;
    config.recalibrate = "warmup";
    config.warmup_rows = 100;
    const auto adapted = detector_->retrain(synthetic_->series.slice(2000, 2043), config).first;
    const auto series = synthetic_->series.slice(2043, 2343);

    lara::StreamScorer scorer(adapted, "test stream", {}, series.first_row);
    std::int64_t pushed = 0;
    std::vector<lara::ScoredRow> out;
    for (; pushed < series.n_rows && out.empty(); ++pushed) {
        const auto* row = series.values.data() + pushed * series.n_metrics;
        out = scorer.push({row, row + series.n_metrics});
    }
    EXPECT_EQ(pushed, 100);  // nothing before the 100 warm-up scores exist, then all of them
    EXPECT_EQ(out.size(), 100u);

    // SPOT fitted on scores that differ in float rounding: thresholds agree closely, not bit for bit.
    expect_same(adapted.score(series), stream(adapted, series), 1e-4);
    // A stream that ends before its warm-up rows fits on all it has, as score() does on a short series.
    const auto short_series = series.slice(0, 70);
    expect_same(adapted.score(short_series), stream(adapted, short_series), 1e-4);
}

TEST_F(DetectorTest, StreamRefusesShortStreamsRowsOfTheWrongWidthAndPushesAfterTheEnd) {
    const auto w = detector_->model_config().window;
    const auto kind_of = [](auto&& call) {
        try {
            call();
        } catch (const lara::Error& e) {
            return e.kind();
        }
        return lara::ErrorKind::internal;
    };
    lara::StreamScorer short_stream(*detector_, "short", {}, 0);
    for (std::int64_t t = 0; t + 1 < w; ++t) short_stream.push(std::vector<float>(6, 0.0f));
    EXPECT_EQ(kind_of([&] { short_stream.finish(); }), lara::ErrorKind::data);

    // A refused row (the wrong width, a value that is not finite) leaves the scorer as it was: the
    // window completes on the w-th accepted row.
    lara::StreamScorer scorer(*detector_, "narrow", {}, 0);
    EXPECT_EQ(kind_of([&] { scorer.push(std::vector<float>(5, 0.0f)); }), lara::ErrorKind::data);
    for (std::int64_t t = 0; t + 1 < w; ++t) scorer.push(std::vector<float>(6, 0.0f));
    auto bad = std::vector<float>(6, 0.0f);
    bad[2] = std::numeric_limits<float>::quiet_NaN();
    try {
        scorer.push(bad);
        ADD_FAILURE() << "a NaN was pushed";
    } catch (const lara::Error& e) {
        EXPECT_EQ(e.kind(), lara::ErrorKind::data);
        EXPECT_NE(std::string(e.what()).find("narrow: row " + std::to_string(w - 1) + ", metric 3 is not a finite number"), std::string::npos)
            << e.what();
    }
    EXPECT_EQ(static_cast<std::int64_t>(scorer.push(std::vector<float>(6, 0.0f)).size()), w);
    scorer.finish();
    EXPECT_EQ(kind_of([&] { scorer.push(std::vector<float>(6, 0.0f)); }), lara::ErrorKind::usage);
}
