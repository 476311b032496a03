#include "eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "lara/error.h"

namespace lara::eval {
namespace {

void check_lengths(std::size_t got, std::size_t labels, const char* what) {
    if (got != labels)
        throw Error(ErrorKind::data, std::string(what) + " has " + std::to_string(got) +
                                         " points but the labels have " + std::to_string(labels));
}

void check_scores(const std::vector<double>& scores, const std::vector<int>& labels) {
    check_lengths(scores.size(), labels.size(), "the score series");
    if (scores.empty()) throw Error(ErrorKind::data, "no scores to evaluate");
    for (std::size_t i = 0; i < scores.size(); ++i) {
        if (std::isnan(scores[i])) throw Error(ErrorKind::data, "score " + std::to_string(i) + " is NaN");
    }
}

double ratio(std::int64_t part, std::int64_t whole) {
    return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

double f1_of(double precision, double recall) {
    return precision + recall == 0 ? 0.0 : 2 * precision * recall / (precision + recall);
}

// Calls visit(threshold, tp, fp) for each distinct score, highest first, with the counts of
// "score >= threshold" predictions; equal scores are passed over together.
template <typename Visit>
void sweep_thresholds(const std::vector<double>& scores, const std::vector<int>& labels, Visit visit) {
    std::vector<std::size_t> order(scores.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
    std::int64_t tp = 0, fp = 0;
    for (std::size_t i = 0; i < order.size(); ++i) {
        (labels[order[i]] != 0 ? tp : fp) += 1;
        if (i + 1 == order.size() || scores[order[i + 1]] != scores[order[i]]) visit(scores[order[i]], tp, fp);
    }
}

std::int64_t count_positive(const std::vector<int>& labels) {
    return std::count_if(labels.begin(), labels.end(), [](int v) { return v != 0; });
}

}  // namespace

PointMetrics point_metrics(const std::vector<int>& predicted, const std::vector<int>& labels) {
    check_lengths(predicted.size(), labels.size(), "the prediction series");
    PointMetrics m;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const bool p = predicted[i] != 0, l = labels[i] != 0;
        m.tp += p && l;
        m.fp += p && !l;
        m.fn += !p && l;
    }
    m.precision = ratio(m.tp, m.tp + m.fp);
    m.recall = ratio(m.tp, m.tp + m.fn);
    m.f1 = f1_of(m.precision, m.recall);
    return m;
}

std::vector<int> point_adjust(const std::vector<int>& predicted, const std::vector<int>& labels) {
    check_lengths(predicted.size(), labels.size(), "the prediction series");
    std::vector<int> out(predicted.size());
    for (std::size_t i = 0; i < predicted.size(); ++i) out[i] = predicted[i] != 0;
    for (std::size_t begin = 0; begin < labels.size();) {
        if (labels[begin] == 0) {
            ++begin;
            continue;
        }
        std::size_t end = begin;
        while (end < labels.size() && labels[end] != 0) ++end;
        if (std::any_of(out.begin() + begin, out.begin() + end, [](int v) { return v != 0; }))
            std::fill(out.begin() + begin, out.begin() + end, 1);
        begin = end;
    }
    return out;
}

BestF1 best_f1(const std::vector<double>& scores, const std::vector<int>& labels) {
    check_scores(scores, labels);
    const std::int64_t positives = count_positive(labels);
    BestF1 best;
    bool first = true;
    sweep_thresholds(scores, labels, [&](double threshold, std::int64_t tp, std::int64_t fp) {
        const double precision = ratio(tp, tp + fp), recall = ratio(tp, positives);
        const double f1 = f1_of(precision, recall);
        if (first || f1 > best.f1) best = {f1, precision, recall, threshold};
        first = false;
    });
    return best;
}

double auc_pr(const std::vector<double>& scores, const std::vector<int>& labels) {
    check_scores(scores, labels);
    const std::int64_t positives = count_positive(labels);
    if (positives == 0) throw Error(ErrorKind::data, "average precision is undefined without a labelled anomaly");
    double area = 0, previous_recall = 0;
    sweep_thresholds(scores, labels, [&](double, std::int64_t tp, std::int64_t fp) {
        const double recall = ratio(tp, positives);
        area += (recall - previous_recall) * ratio(tp, tp + fp);
        previous_recall = recall;
    });
    return area;
}

}  // namespace lara::eval
