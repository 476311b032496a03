#include <cmath>

#include <gtest/gtest.h>

#include "data/normalizer.h"
#include "lara/error.h"

namespace {

lara::Series make_series(std::vector<float> values, std::int64_t d) {
    lara::Series s;
    s.n_metrics = d;
    s.n_rows = static_cast<std::int64_t>(values.size()) / d;
    s.values = std::move(values);
    s.source = "test";
    return s;
}

}  // namespace

TEST(Normalizer, StandardisesEachMetricWithTrainingStatistics) {
    // metric 0: 1, 2, 3, 4 → mean 2.5, population sd sqrt(1.25)
    const auto train = make_series({1, 10, 2, 20, 3, 30, 4, 40}, 2);
    const auto n = lara::data::Normalizer::fit(train);
    EXPECT_DOUBLE_EQ(n.mean()[0], 2.5);
    EXPECT_DOUBLE_EQ(n.mean()[1], 25.0);
    EXPECT_NEAR(n.scale()[0], std::sqrt(1.25), 1e-12);
    const auto out = n.transform(make_series({4, 25}, 2));
    EXPECT_NEAR(out[0], 1.5 / std::sqrt(1.25), 1e-6);
    EXPECT_NEAR(out[1], 0.0, 1e-6);
}

TEST(Normalizer, ConstantMetricIsScaledByItsLevelNotZero) {
    const auto train = make_series({5, 0, 5, 0, 5, 0}, 2);
    const auto n = lara::data::Normalizer::fit(train);
    EXPECT_DOUBLE_EQ(n.scale()[0], 5.0);  // |mean|
    EXPECT_DOUBLE_EQ(n.scale()[1], 1.0);  // max(|0|, 1)
    const auto out = n.transform(make_series({6, 0.5f}, 2));
    EXPECT_NEAR(out[0], 0.2, 1e-6);
    EXPECT_NEAR(out[1], 0.5, 1e-6);
    for (float v : out) EXPECT_TRUE(std::isfinite(v));
}

TEST(Normalizer, AMetricMovingOnlyInTheLastBitOfAFloatCountsAsConstant) {
    // At 1e8 adjacent floats are 8 apart. 1e8 and 1e8 + 8 alternating: sd 4, under 1e-7 of the
    // level 1e8 + 4 (about 10), so it is float rounding, not movement, and the level is the scale.
    const auto flat = lara::data::Normalizer::fit(make_series({1e8f, 1e8f + 8, 1e8f, 1e8f + 8}, 1));
    EXPECT_DOUBLE_EQ(flat.scale()[0], 1e8 + 4);
    // 1e8 and 1e8 + 24: sd 12, above that bound, is a spread of its own.
    const auto moving = lara::data::Normalizer::fit(make_series({1e8f, 1e8f + 24, 1e8f, 1e8f + 24}, 1));
    EXPECT_DOUBLE_EQ(moving.scale()[0], 12.0);
}

TEST(Normalizer, TheMeanIsAccumulatedInDouble) {
    // 2^24 and 2^24 + 6 alternating: the mean 2^24 + 3 is no float, and a float running sum
    // rounds off units past 2^25. In double the sum is exact: mean 16777219, sd exactly 3 (above
    // 1e-7 of the level, so it is the scale).
    std::vector<float> values;
    for (int i = 0; i < 1000; ++i) values.push_back(i % 2 ? 16777222.0f : 16777216.0f);
    const auto n = lara::data::Normalizer::fit(make_series(values, 1));
    EXPECT_EQ(n.mean()[0], 16777219.0);
    EXPECT_EQ(n.scale()[0], 3.0);
}

TEST(Normalizer, KeepsPrecisionAtJumpStarterScales) {
    // A metric near 2e8 with a spread of ~1e6 must not lose its variation to float rounding.
    std::vector<float> values;
    for (int i = 0; i < 1000; ++i) values.push_back(2.0e8f + static_cast<float>((i % 10) * 2.5e5));
    const auto n = lara::data::Normalizer::fit(make_series(values, 1));
    const auto out = n.transform(make_series(values, 1));
    double mean = 0, sq = 0;
    for (float v : out) mean += v;
    mean /= static_cast<double>(out.size());
    for (float v : out) sq += (v - mean) * (v - mean);
    EXPECT_NEAR(mean, 0.0, 1e-3);
    EXPECT_NEAR(std::sqrt(sq / static_cast<double>(out.size())), 1.0, 1e-3);
}

TEST(Normalizer, ClipsExtremeValues) {
    const auto n = lara::data::Normalizer::fit(make_series({0, 1, 0, 1}, 1), 3.0);
    const auto out = n.transform(make_series({1e9f, -1e9f}, 1));
    EXPECT_FLOAT_EQ(out[0], 3.0f);
    EXPECT_FLOAT_EQ(out[1], -3.0f);
}

TEST(Normalizer, TheDefaultClipIsTen) {
    // docs/method.md: values are clipped to ±10. Fitted on 0 and 2: mean 1, sd 1, so z = x − 1.
    const auto n = lara::data::Normalizer::fit(make_series({0, 2}, 1));
    EXPECT_EQ(n.clip(), 10.0);
    const auto out = n.transform(make_series({10.5f, 12, -8.5f, -20}, 1));
    EXPECT_FLOAT_EQ(out[0], 9.5f);    // inside: kept
    EXPECT_FLOAT_EQ(out[1], 10.0f);   // z = 11
    EXPECT_FLOAT_EQ(out[2], -9.5f);   // inside: kept
    EXPECT_FLOAT_EQ(out[3], -10.0f);  // z = −21
}

TEST(Normalizer, RejectsAMetricCountMismatchNamingTheSource) {
    const auto n = lara::data::Normalizer::fit(make_series({1, 2, 3, 4}, 2));
    try {
        n.transform(make_series({1, 2, 3}, 3));
        FAIL() << "expected an error";
    } catch (const lara::Error& e) {
        EXPECT_EQ(e.kind(), lara::ErrorKind::data);
        EXPECT_NE(std::string(e.what()).find("test: has 3 metrics but the model was trained on 2"), std::string::npos) << e.what();
    }
}

TEST(Normalizer, JsonRoundTripIsExact) {
    const auto n = lara::data::Normalizer::fit(make_series({1.5f, 1e8f, 2.25f, 3e8f, 7.0f, 2e8f}, 2));
    const auto back = lara::data::Normalizer::from_json(nlohmann::json::parse(n.to_json().dump()));
    EXPECT_EQ(back.mean(), n.mean());
    EXPECT_EQ(back.scale(), n.scale());
    EXPECT_EQ(back.clip(), n.clip());
}

TEST(Normalizer, FindsARowThatHoldsNearlyAllOfAMetricsSpread) {
    // Metric 0 varies by about 1 with one row at 1e30; metric 1 has an ordinary spike (50 times
    // its spread); metric 2 is constant but for one row, which hides nothing.
    std::vector<float> values;
    for (int r = 0; r < 200; ++r) {
        values.push_back(r == 120 ? 1e30f : static_cast<float>(std::sin(r)));
        values.push_back(r == 60 ? 50.0f : static_cast<float>(std::cos(r)));
        values.push_back(r == 7 ? 1.0f : 0.0f);
    }
    const auto found = lara::data::rows_dominating_spread(make_series(values, 3));
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].metric, 0);
    EXPECT_EQ(found[0].row, 120);
    EXPECT_FLOAT_EQ(static_cast<float>(found[0].value), 1e30f);
    // Without the row the deviation is that of sin over 199 rows, about 0.71; with it, 1e30 / √200 · √(199/200).
    double sum = 0, squares = 0;
    for (int r = 0; r < 200; ++r)
        if (r != 120) sum += std::sin(r), squares += std::sin(r) * std::sin(r);
    const double rest = std::sqrt(squares / 199 - (sum / 199) * (sum / 199));
    EXPECT_NEAR(found[0].ratio, rest / (1e30 * std::sqrt(199.0) / 200.0), 1e-3 * found[0].ratio);
    EXPECT_TRUE(lara::data::rows_dominating_spread(make_series(values, 3), 1e-40).empty());
    // A sentinel that repeats (1% of the rows at most) hides the metric as well.
    values[3 * 150] = 1e30f;
    const auto twice = lara::data::rows_dominating_spread(make_series(values, 3));
    ASSERT_EQ(twice.size(), 1u);
    EXPECT_EQ(twice[0].rows, 2);
    EXPECT_TRUE(twice[0].row == 120 || twice[0].row == 150) << twice[0].row;
    values[3 * 180] = 1e30f;  // 3 of 200 rows: more than 1%, a level of its own rather than a sentinel
    EXPECT_TRUE(lara::data::rows_dominating_spread(make_series(values, 3)).empty());
}

TEST(Normalizer, AMetricTooManyThatRisesLikeEpochSecondsIsNamedAsSuch) {
    const auto n = lara::data::Normalizer::fit(make_series({1, 2, 3, 4}, 2));
    const auto message = [&n](std::vector<float> values) {
        try {
            n.transform(make_series(std::move(values), 3));
        } catch (const lara::Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    const auto epoch = message({1.7e9f, 1, 2, 1.7e9f + 60, 3, 4, 1.7e9f + 300, 5, 6});
    EXPECT_NE(epoch.find("has 3 metrics but the model was trained on 2 (its first column rises like epoch seconds: --timestamp first"),
              std::string::npos) << epoch;
    const auto plain = message({5, 1, 2, 6, 3, 4, 7, 5, 6});
    EXPECT_NE(plain.find("trained on 2"), std::string::npos) << plain;
    EXPECT_EQ(plain.find("epoch"), std::string::npos) << plain;
}
