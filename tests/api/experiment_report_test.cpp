#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/experiment_plan.h"
#include "api/experiment_report.h"
#include "lara/experiment.h"

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

//! A row whose metrics, precision to hit rates, are all `metric` (NaN: no labelled scored row).
lara::ExperimentRow row(const std::string& entity, const std::string& method, std::int64_t k, double metric) {
    lara::ExperimentRow r;
    r.entity = entity;
    r.method = method;
    r.new_rows = k;
    r.n_labelled = std::isnan(metric) ? 0 : 10;
    r.precision = std::isnan(metric) ? 0.0 : metric;  // precision stays defined
    r.recall = r.f1 = r.best_f1 = r.pa_f1 = r.auc_pr = metric;
    return r;
}

}  // namespace

TEST(ExperimentSummary, CellsAreMeanAndSampleSdOverTheDefinedValues) {
    lara::ExperimentPlan plan;
    plan.spec.protocol = "shift";
    plan.spec.new_rows = {43, 60};  // a sweep: summary.md also has the F1-against-K table
    plan.spec.methods = {"old"};
    const std::vector<lara::ExperimentRow> rows = {row("e1", "old", 43, 0.2), row("e2", "old", 43, 0.4),
                                                   row("e1", "old", 60, 0.5), row("e2", "old", 60, kNaN)};
    const auto md = lara::summary(plan, rows);
    // K = 43: F1 0.2 and 0.4, mean 0.3, sample sd √((0.1² + 0.1²) / (2 − 1)) = 0.141 (the population sd would be 0.100).
    // K = 60: e2 is unlabelled, its NaN is left out: 0.5 alone, sd 0.
    EXPECT_NE(md.find("| old | 0.300 ± 0.141 | 0.500 ± 0.000 |\n"), std::string::npos) << md;
    EXPECT_NE(md.find("| old | 2 | 0.300 ± 0.141 | 0.300 ± 0.141 | 0.300 ± 0.141 |"), std::string::npos) << md;
    EXPECT_NE(md.find("| old | 2 | 0.250 ± 0.354 | 0.500 ± 0.000 | 0.500 ± 0.000 |"), std::string::npos) << md;  // precision 0.5 and 0
}

TEST(ExperimentSummary, PairedLinesLeaveOutEntitiesWhoseF1IsUndefined) {
    // e2 has no labelled scored row under lara: its F1 difference is undefined and out of the F1
    // columns (1 entity, +0.2), while its best_f1 difference, 0, still counts: (0.1 + 0) / 2 = 0.05.
    auto lara_e1 = row("e1", "lara", 43, 0.3), lara_e2 = row("e2", "lara", 43, kNaN);
    lara_e1.best_f1 = 0.5;
    lara_e2.best_f1 = 0.6;
    auto old_e1 = row("e1", "old", 43, 0.1), old_e2 = row("e2", "old", 43, 0.2);
    old_e1.best_f1 = 0.4;
    old_e2.best_f1 = 0.6;
    EXPECT_EQ(lara::paired_lines({lara_e1, lara_e2}, {old_e1, old_e2}),
              "| lara | 1 | +0.200 (no interval below 5 entities) | 1 / 0 | +0.050 (no interval below 5 entities) | 1 / 0 |\n");
}
