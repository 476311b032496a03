#include "eval/metrics.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <vector>

#include "lara/error.h"

namespace lara::eval {
namespace {

TEST(PointMetrics, CountsAndScores) {
    // index:     0  1  2  3  4  5
    // predicted: 1  1  0  0  1  0
    // labels:    1  0  1  0  1  1
    // tp = {0, 4} = 2, fp = {1} = 1, fn = {2, 5} = 2
    // precision = 2/3, recall = 2/4, F1 = 2 (2/3)(1/2) / (2/3 + 1/2) = (2/3) / (7/6) = 4/7
    const PointMetrics m = point_metrics({1, 1, 0, 0, 1, 0}, {1, 0, 1, 0, 1, 1});
    EXPECT_EQ(m.tp, 2);
    EXPECT_EQ(m.fp, 1);
    EXPECT_EQ(m.fn, 2);
    EXPECT_DOUBLE_EQ(m.precision, 2.0 / 3);
    EXPECT_DOUBLE_EQ(m.recall, 0.5);
    EXPECT_DOUBLE_EQ(m.f1, 4.0 / 7);
}

TEST(PointMetrics, ZeroConventions) {
    // Nothing predicted: precision 0 (not 0/0), recall 0, F1 0.
    const PointMetrics none = point_metrics({0, 0, 0}, {0, 1, 1});
    EXPECT_EQ(none.precision, 0);
    EXPECT_EQ(none.recall, 0);
    EXPECT_EQ(none.f1, 0);
    EXPECT_EQ(none.fn, 2);
    // Nothing labelled: recall 0; all predictions are false alarms.
    const PointMetrics unlabelled = point_metrics({1, 0, 1}, {0, 0, 0});
    EXPECT_EQ(unlabelled.fp, 2);
    EXPECT_EQ(unlabelled.recall, 0);
    EXPECT_EQ(unlabelled.f1, 0);
    // Any nonzero value counts as anomalous.
    EXPECT_EQ(point_metrics({2, 0}, {-1, 0}).tp, 1);
}

TEST(PointMetrics, RejectsLengthMismatch) {
    try {
        point_metrics({1, 0}, {1, 0, 0});
        FAIL() << "expected lara::Error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::data);
    }
    EXPECT_THROW(point_adjust({1}, {1, 1}), Error);
}

TEST(PointAdjust, PartialDetectionBecomesFull) {
    // index:     0  1  2  3  4  5  6  7  8  9
    // labels:    0  1  1  1  0  0  1  1  0  1
    // predicted: 0  0  1  0  0  1  0  0  0  1
    // Segment [1, 4) is hit at 2, so 1..3 become 1; segment [6, 8) is missed and stays 0; the false
    // alarm at 5 stays; the one-point segment at the end, 9, is hit.
    const std::vector<int> labels{0, 1, 1, 1, 0, 0, 1, 1, 0, 1};
    const std::vector<int> predicted{0, 0, 2, 0, 0, 1, 0, 0, 0, 1};
    const std::vector<int> adjusted = point_adjust(predicted, labels);
    EXPECT_EQ(adjusted, (std::vector<int>{0, 1, 1, 1, 0, 1, 0, 0, 0, 1}));
    // Before: tp = {2, 9} = 2, fp = 1, fn = 4: precision 2/3, recall 2/6, F1 = (4/9) / 1 = 4/9.
    const PointMetrics before = point_metrics(predicted, labels);
    EXPECT_DOUBLE_EQ(before.f1, 4.0 / 9);
    // After: tp = 4, fp = 1, fn = 2: precision 4/5, recall 4/6, F1 = (16/15) / (22/15) = 8/11.
    const PointMetrics after = point_metrics(adjusted, labels);
    EXPECT_EQ(after.tp, 4);
    EXPECT_EQ(after.fp, 1);
    EXPECT_EQ(after.fn, 2);
    EXPECT_DOUBLE_EQ(after.f1, 8.0 / 11);
}

TEST(PointAdjust, ASegmentHitOnlyAtItsLastPointIsWhollyDetected) {
    // index:     0  1  2  3  4
    // labels:    0  1  1  1  0
    // predicted: 0  0  0  1  0
    // The segment [1, 4) is hit only at 3, its last point, so 1..3 all become 1.
    EXPECT_EQ(point_adjust({0, 0, 0, 1, 0}, {0, 1, 1, 1, 0}), (std::vector<int>{0, 1, 1, 1, 0}));
}

TEST(BestF1, TinyCaseByHand) {
    // scores: 0.1  0.4  0.35 0.8  0.4  0.2
    // labels: 0    1    0    1    0    1      (3 positives)
    // >= 0.8 : tp 1 fp 0  P 1    R 1/3  F1 1/2
    // >= 0.4 : tp 2 fp 1  P 2/3  R 2/3  F1 2/3   (both 0.4s enter together)
    // >= 0.35: tp 2 fp 2  P 1/2  R 2/3  F1 4/7
    // >= 0.2 : tp 3 fp 2  P 3/5  R 1    F1 3/4   <- best
    // >= 0.1 : tp 3 fp 3  P 1/2  R 1    F1 2/3
    const BestF1 best = best_f1({0.1, 0.4, 0.35, 0.8, 0.4, 0.2}, {0, 1, 0, 1, 0, 1});
    EXPECT_DOUBLE_EQ(best.f1, 0.75);
    EXPECT_DOUBLE_EQ(best.precision, 0.6);
    EXPECT_DOUBLE_EQ(best.recall, 1);
    EXPECT_EQ(best.threshold, 0.2);
}

TEST(BestF1, MatchesBruteForceOverThresholds) {
    // Coarse scores force many ties; every score is tried as a threshold with point_metrics.
    std::mt19937_64 rng(42);
    std::vector<double> scores(300);
    std::vector<int> labels(300);
    for (std::size_t i = 0; i < scores.size(); ++i) {
        labels[i] = rng() % 5 == 0;
        scores[i] = static_cast<double>(rng() % 40) + (labels[i] ? 8 : 0);
    }
    double brute = 0, brute_threshold = 0;
    for (double threshold : scores) {
        std::vector<int> predicted(scores.size());
        for (std::size_t i = 0; i < scores.size(); ++i) predicted[i] = scores[i] >= threshold;
        const double f1 = point_metrics(predicted, labels).f1;
        if (f1 > brute || (f1 == brute && threshold > brute_threshold)) brute = f1, brute_threshold = threshold;
    }
    const BestF1 best = best_f1(scores, labels);
    EXPECT_DOUBLE_EQ(best.f1, brute);
    EXPECT_EQ(best.threshold, brute_threshold);
}

TEST(BestF1, HighestThresholdWinsTies) {
    // scores 4 3 2 1, labels 1 0 0 1 (2 positives):
    // >= 4: P 1 R 1/2 F1 2/3; >= 3: P 1/2 R 1/2 F1 1/2; >= 2: P 1/3 R 1/2 F1 2/5; >= 1: P 1/2 R 1 F1 2/3.
    // 4 and 1 tie at 2/3; the higher threshold, with fewer alarms, wins.
    const BestF1 tie = best_f1({4, 3, 2, 1}, {1, 0, 0, 1});
    EXPECT_EQ(tie.threshold, 4);
    EXPECT_DOUBLE_EQ(tie.f1, 2.0 / 3);
    // No labelled point: F1 is 0 everywhere and the largest score is returned.
    const BestF1 none = best_f1({0.5, 2, 1}, {0, 0, 0});
    EXPECT_EQ(none.f1, 0);
    EXPECT_EQ(none.threshold, 2);
}

TEST(BestF1, RejectsBadScores) {
    EXPECT_THROW(best_f1({}, {}), Error);
    EXPECT_THROW(best_f1({1, 2}, {1}), Error);
    EXPECT_THROW(best_f1({1, std::numeric_limits<double>::quiet_NaN()}, {1, 0}), Error);
}

TEST(AucPr, TiesByHand) {
    // scores: 0.9 0.8 0.8 0.7 0.6 0.6 0.3; labels: 1 0 1 1 0 1 0 (4 positives)
    // >= 0.9: tp 1 fp 0  R 1/4  P 1    area += 1/4 * 1   = 12/48
    // >= 0.8: tp 2 fp 1  R 2/4  P 2/3  area += 1/4 * 2/3 =  8/48
    // >= 0.7: tp 3 fp 1  R 3/4  P 3/4  area += 1/4 * 3/4 =  9/48
    // >= 0.6: tp 4 fp 2  R 1    P 2/3  area += 1/4 * 2/3 =  8/48
    // >= 0.3: tp 4 fp 3  R 1           area += 0
    // AP = 37/48
    const std::vector<double> scores{0.9, 0.8, 0.8, 0.7, 0.6, 0.6, 0.3};
    const std::vector<int> labels{1, 0, 1, 1, 0, 1, 0};
    EXPECT_DOUBLE_EQ(auc_pr(scores, labels), 37.0 / 48);
    // The order of the input does not matter, even inside a tie.
    EXPECT_DOUBLE_EQ(auc_pr({0.3, 0.6, 0.6, 0.7, 0.8, 0.8, 0.9}, {0, 1, 0, 1, 1, 0, 1}), 37.0 / 48);
}

TEST(AucPr, Extremes) {
    EXPECT_DOUBLE_EQ(auc_pr({4, 3, 2, 1}, {1, 1, 0, 0}), 1);
    // One tie over everything: a single threshold with P = 2/5, R = 1.
    EXPECT_DOUBLE_EQ(auc_pr({1, 1, 1, 1, 1}, {1, 0, 1, 0, 0}), 0.4);
}

TEST(AucPr, RejectsNoPositives) {
    try {
        auc_pr({0.1, 0.2}, {0, 0});
        FAIL() << "expected lara::Error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::data);
    }
    EXPECT_THROW(auc_pr({0.1}, {1, 0}), Error);
}

}  // namespace
}  // namespace lara::eval
