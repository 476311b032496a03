#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include "eval/paired.h"
#include "lara/error.h"

using lara::eval::Difference;
using lara::eval::paired_summary;

TEST(Paired, EntitiesAreAveragedFirstAndCountedAsBetterOrWorse) {
    // Entity means 0.2, −0.2 and 0.4: their mean is 0.4 / 3, not the mean of the five rows (0.2).
    const std::vector<Difference> d = {{"a", 0.1}, {"a", 0.3}, {"b", -0.2}, {"c", 0.4}, {"c", 0.4}};
    const auto s = paired_summary(d);
    EXPECT_EQ(s.entities, 3u);
    EXPECT_NEAR(s.mean, 0.4 / 3, 1e-12);
    EXPECT_EQ(s.better, 2u);
    EXPECT_EQ(s.worse, 1u);
    EXPECT_LE(s.low, s.mean);
    EXPECT_GE(s.high, s.mean);
}

TEST(Paired, DifferencesThatCancelAreNeitherBetterNorWorse) {
    // F1 0.8 against 0.7 on one seed and 0.2 against 0.3 on the other: in floating point the two
    // differences leave 5.55e-17, which is no win.
    const std::vector<Difference> d = {{"a", 0.8 - 0.7}, {"a", 0.2 - 0.3}, {"b", 0.1}};
    ASSERT_NE((0.8 - 0.7) + (0.2 - 0.3), 0.0) << "the rounding this case is about";
    const auto s = paired_summary(d);
    EXPECT_EQ(s.better, 1u);
    EXPECT_EQ(s.worse, 0u);
}

TEST(Paired, TheIntervalMatchesTheExactBootstrapDistribution) {
    // With 5 entities the bootstrap distribution of the mean has 5⁵ equally likely ordered
    // resamples: enumerate them, and the Monte Carlo 2.5% and 97.5% points must fall between the
    // exact 2% and 3%, and 97% and 98%, points (10,000 draws put them there almost surely).
    const std::vector<double> means = {-0.31, 0.02, 0.05, 0.4, 0.93};
    std::vector<Difference> d;
    for (std::size_t i = 0; i < means.size(); ++i) d.push_back({"entity" + std::to_string(i), means[i]});
    std::vector<double> exact;
    for (int code = 0; code < 3125; ++code) {
        double sum = 0;
        for (int digit = 0, c = code; digit < 5; ++digit, c /= 5) sum += means[c % 5];
        exact.push_back(sum / 5);
    }
    std::sort(exact.begin(), exact.end());
    const auto at = [&](double q) { return exact[static_cast<std::size_t>(std::ceil(q * 3125)) - 1]; };
    const auto s = paired_summary(d, 10000, 7);
    EXPECT_GE(s.low, at(0.02));
    EXPECT_LE(s.low, at(0.03));
    EXPECT_GE(s.high, at(0.97));
    EXPECT_LE(s.high, at(0.98));
    EXPECT_NEAR(s.mean, 0.218, 1e-12);
}

TEST(Paired, EqualDifferencesLeaveNoUncertaintyAndASeedReproducesTheInterval) {
    const auto flat = paired_summary({{"a", 0.25}, {"b", 0.25}, {"c", 0.25}});
    EXPECT_DOUBLE_EQ(flat.low, 0.25);
    EXPECT_DOUBLE_EQ(flat.high, 0.25);
    const std::vector<Difference> d = {{"a", 0.1}, {"b", -0.3}, {"c", 0.2}, {"d", 0.05}};
    const auto once = paired_summary(d, 500, 3), again = paired_summary(d, 500, 3);
    EXPECT_EQ(once.low, again.low);
    EXPECT_EQ(once.high, again.high);
}

TEST(Paired, WithTwoResamplesTheIntervalRunsFromTheSmallerToTheLarger) {
    // The q-quantile is the ⌈q·R⌉-th smallest of R resamples: with R = 2 the 2.5% point is the
    // ⌈0.05⌉ = 1st, the smaller, and the 97.5% point the ⌈1.95⌉ = 2nd, the larger. Entities 0 and 1
    // make each resample mean 0, 0.5 or 1, and two resamples differ with probability 5/8: over 20
    // seeds some interval must have low < high (all 20 equal has probability (3/8)^20 ≈ 3e-9).
    const std::vector<Difference> d = {{"a", 0.0}, {"b", 1.0}};
    int differ = 0;
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
        const auto s = paired_summary(d, 2, seed);
        for (const double v : {s.low, s.high}) EXPECT_TRUE(v == 0.0 || v == 0.5 || v == 1.0) << v;
        EXPECT_LE(s.low, s.high) << "seed " << seed;
        differ += s.low < s.high;
    }
    EXPECT_GT(differ, 0);
}

TEST(Paired, NoDifferencesOrTooFewResamplesAreRefused) {
    EXPECT_THROW(paired_summary({}), lara::Error);
    EXPECT_THROW(paired_summary({{"a", 1.0}}, 1), lara::Error);
}

TEST(Paired, FewerThanFiveEntitiesGiveNoInterval) {
    // Two entities: the percentile interval is exactly [min, max] of their means, which excludes 0
    // whenever both moved the same way. It is not reported.
    const auto two = paired_summary({{"a", 0.0066}, {"b", 0.1143}});
    EXPECT_DOUBLE_EQ(two.low, 0.0066);
    EXPECT_DOUBLE_EQ(two.high, 0.1143);
    EXPECT_FALSE(two.has_interval());
    EXPECT_FALSE(paired_summary({{"a", 1.0}, {"b", 2.0}, {"c", 3.0}, {"d", 4.0}}).has_interval());
    EXPECT_TRUE(paired_summary({{"a", 1.0}, {"b", 2.0}, {"c", 3.0}, {"d", 4.0}, {"e", 5.0}}).has_interval());
}
