// StreamScorer against Detector::score() on the same rows: the same rows, scores, thresholds and
// flags, handed out as soon as each row's window is complete.
#include <cmath>

#include <gtest/gtest.h>

#include "data/synthetic.h"
#include "lara/lara.h"
#include "support/test_support.h"

namespace {

using lara::ScoredRow;
using lara::StreamScorer;

class StreamScorerTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        lara::data::SyntheticConfig c;
        c.n_rows = 2500;
        c.n_metrics = 6;
        c.change_at = 2000;
        c.clean_until = 1500;
        synthetic_ = new lara::data::SyntheticSeries(lara::data::make_synthetic(c));
        lara::TrainConfig train;
        train.epochs = 5;
        detector_ = new lara::Detector(lara::Detector::train(synthetic_->series.slice(0, 1500), lara::test::small_model(), train, {}));
    }
    static void TearDownTestSuite() {
        delete detector_;
        delete synthetic_;
    }

    //! Every row of `series` pushed one at a time, then finish(): all the rows handed out.
    static std::vector<ScoredRow> stream(const lara::Detector& detector, const lara::Series& series) {
        StreamScorer scorer(detector, "test stream", {}, series.first_row);
        std::vector<ScoredRow> out;
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
    static void expect_same(const lara::ScoreResult& batch, const std::vector<ScoredRow>& streamed, double threshold_tolerance) {
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

    static lara::data::SyntheticSeries* synthetic_;
    static lara::Detector* detector_;
};

lara::data::SyntheticSeries* StreamScorerTest::synthetic_ = nullptr;
lara::Detector* StreamScorerTest::detector_ = nullptr;

}  // namespace

TEST_F(StreamScorerTest, GivesTheScoresOfTheWholeSeries) {
    const auto series = synthetic_->series.slice(1500, 2500);  // injected anomalies and the change of pattern
    const auto batch = detector_->score(series);
    ASSERT_GT(std::count(batch.anomalies.begin(), batch.anomalies.end(), 1), 0);
    expect_same(batch, stream(*detector_, series), 0.0);
}

TEST_F(StreamScorerTest, HandsOutRowsWhenTheirWindowIsComplete) {
    const auto w = detector_->model_config().window;
    const auto series = synthetic_->series.slice(1500, 1500 + w + 2);
    StreamScorer scorer(*detector_, "test stream", {}, 1500);
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

TEST_F(StreamScorerTest, AWarmUpThresholdWaitsForItsRowsAndMatchesTheBatchOne) {
    lara::RetrainConfig config;
    config.recalibrate = "warmup";
    config.warmup_rows = 100;
    const auto adapted = detector_->retrain(synthetic_->series.slice(2000, 2043), config).first;
    const auto series = synthetic_->series.slice(2043, 2343);

    StreamScorer scorer(adapted, "test stream", {}, series.first_row);
    std::int64_t pushed = 0;
    std::vector<ScoredRow> out;
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

TEST_F(StreamScorerTest, RefusesShortStreamsRowsOfTheWrongWidthAndPushesAfterTheEnd) {
    const auto w = detector_->model_config().window;
    const auto kind_of = [](auto&& call) {
        try {
            call();
        } catch (const lara::Error& e) {
            return e.kind();
        }
        return lara::ErrorKind::internal;
    };
    StreamScorer short_stream(*detector_, "short", {}, 0);
    for (std::int64_t t = 0; t + 1 < w; ++t) short_stream.push(std::vector<float>(6, 0.0f));
    EXPECT_EQ(kind_of([&] { short_stream.finish(); }), lara::ErrorKind::data);

    StreamScorer scorer(*detector_, "narrow", {}, 0);
    EXPECT_EQ(kind_of([&] { scorer.push(std::vector<float>(5, 0.0f)); }), lara::ErrorKind::data);
    for (std::int64_t t = 0; t < w; ++t) scorer.push(std::vector<float>(6, 0.0f));
    scorer.finish();
    EXPECT_EQ(kind_of([&] { scorer.push(std::vector<float>(6, 0.0f)); }), lara::ErrorKind::usage);
}

TEST_F(StreamScorerTest, RefusesAHeaderThatOrdersTheMetricsDifferently) {
    auto named = synthetic_->series.slice(0, 1500);
    named.metric_names = {"cpu", "mem", "net", "disk", "io", "tcp"};
    lara::TrainConfig train;
    train.epochs = 1;
    const auto trained = lara::Detector::train(named, lara::test::small_model(), train, {});
    EXPECT_NO_THROW(StreamScorer(trained, "stdin", named.metric_names));
    try {
        StreamScorer(trained, "stdin", {"mem", "cpu", "net", "disk", "io", "tcp"});
        FAIL() << "a header with two metrics swapped was accepted";
    } catch (const lara::Error& e) {
        EXPECT_EQ(e.kind(), lara::ErrorKind::data);
        EXPECT_NE(std::string(e.what()).find("stdin: metric 1 is \"mem\""), std::string::npos) << e.what();
    }
}
