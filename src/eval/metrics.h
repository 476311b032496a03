// eval/metrics.h: detection accuracy against 0/1 labels: point-wise precision, recall and F1,
// point adjustment, the best F1 over all thresholds, and average precision (area under PR).
#pragma once

#include <cstdint>
#include <vector>

namespace lara::eval {

// Everywhere here a nonzero label or prediction means "anomalous". Precision is 0 when nothing is
// predicted, recall is 0 when nothing is labelled, and F1 is 0 when precision + recall = 0.
// Vectors of different lengths throw lara::Error (kind data).

struct PointMetrics {
    double precision = 0, recall = 0, f1 = 0;
    std::int64_t tp = 0, fp = 0, fn = 0;
};

//! Point-wise counts and scores.
PointMetrics point_metrics(const std::vector<int>& predicted, const std::vector<int>& labels);

//! The usual point adjustment (Xu et al., WWW 2018): when any point of a contiguous labelled
//! segment is predicted, the whole segment counts as predicted. Returns 0/1 predictions.
std::vector<int> point_adjust(const std::vector<int>& predicted, const std::vector<int>& labels);

struct BestF1 {
    double f1 = 0, precision = 0, recall = 0;
    double threshold = 0;  // predictions are score >= threshold
};

//! The best point-wise F1 over every threshold that is one of the scores (O(n log n)). Of equally
//! good thresholds the highest wins, so with no labelled point it is the largest score, F1 = 0.
//! Throws lara::Error (data) for no scores or a NaN score.
BestF1 best_f1(const std::vector<double>& scores, const std::vector<int>& labels);

//! Average precision as scikit-learn's average_precision_score: sum over the distinct score values,
//! highest first, of (R_k - R_{k-1}) P_k, where equal scores enter together as one threshold.
//! Throws lara::Error (data) for no labelled point, no scores or a NaN score.
double auc_pr(const std::vector<double>& scores, const std::vector<int>& labels);

}  // namespace lara::eval
