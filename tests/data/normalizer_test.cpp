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
