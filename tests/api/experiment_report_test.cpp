#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/experiment_plan.h"
#include "api/experiment_report.h"
#include "lara/error.h"
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
    // K = 60: e2 is unlabelled, its NaN is left out: 0.5 alone has no spread, and the cell says
    // that it averages 1 of the 2 rows.
    EXPECT_NE(md.find("| old | 0.300 ± 0.141 | 0.500 ± — (1) |\n"), std::string::npos) << md;
    EXPECT_NE(md.find("| old | 2 | 0.300 ± 0.141 | 0.300 ± 0.141 | 0.300 ± 0.141 |"), std::string::npos) << md;
    EXPECT_NE(md.find("| old | 2 | 0.250 ± 0.354 | 0.500 ± — (1) | 0.500 ± — (1) |"), std::string::npos) << md;  // precision 0.5 and 0
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

namespace {
const std::string kHeader = "entity,method,seed,new_rows,n_rows,n_labelled,n_flagged,precision,recall,f1,best_f1,pa_f1,auc_pr,wall_ms,"
                            "peak_rss_mib,first_epoch_kept\n";

std::string parse_error(const std::string& text) {
    try {
        lara::parse_rows(kHeader + text, "r.csv", false);
    } catch (const lara::Error& e) {
        EXPECT_EQ(e.kind(), lara::ErrorKind::data);
        return e.what();
    }
    return "no error";
}
}  // namespace

TEST(ExperimentResults, ReadsRowsAsWrittenAndRefusesAnyFieldThatIsNotWhole) {
    const auto rows = lara::parse_rows(kHeader + "e1,lara,2,43,100,5,3,0.5,,0.25,0.3,0.4,0.2,12.5,240,0\n", "r.csv", false);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].seed, 2u);
    EXPECT_EQ(rows[0].n_flagged, 3);
    EXPECT_DOUBLE_EQ(rows[0].precision, 0.5);
    EXPECT_TRUE(std::isnan(rows[0].recall));  // empty: undefined
    EXPECT_DOUBLE_EQ(rows[0].wall_ms, 12.5);

    // A seed of -1 would wrap to 2⁶⁴ − 1, "0.5x" read as 0.5, "inf" poison a mean: each is named
    // with its line, column and field.
    const auto expect = [](const std::string& message, const std::string& part) { EXPECT_NE(message.find(part), std::string::npos) << message; };
    expect(parse_error("e1,lara,-1,43,100,5,3,0.5,,0.25,0.3,0.4,0.2,12.5,240,0\n"), "r.csv:2:9: seed \"-1\" is not a count");
    expect(parse_error("e1,lara,0,43,100,-5,3,0.5,,0.25,0.3,0.4,0.2,12.5,240,0\n"), "r.csv:2:18: n_labelled \"-5\" is not a count");
    expect(parse_error("e1,lara,0,43,100,5,3,0.5x,,0.25,0.3,0.4,0.2,12.5,240,0\n"), "r.csv:2:22: precision \"0.5x\" is not a finite number");
    expect(parse_error("e1,lara,0,43,100,5,3,0.5,,inf,0.3,0.4,0.2,12.5,240,0\n"), "r.csv:2:27: f1 \"inf\" is not a finite number");
    expect(parse_error("e1,lara,0,43,100,5,3,0.5,,0.25,0.3,0.4,0.2,12.5,240\n"), "r.csv:2: expected 16 fields");
    // Two rows for one entity, method, seed and K: which one a comparison would pair is a guess.
    const std::string line = "e1,lara,0,43,100,5,3,0.5,,0.25,0.3,0.4,0.2,12.5,240,0\n";
    expect(parse_error(line + line), "r.csv:3: a second row for entity e1, method lara, seed 0, K 43");
}
