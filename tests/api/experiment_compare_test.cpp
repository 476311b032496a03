#include <filesystem>
#include <fstream>
#include <tuple>

#include <gtest/gtest.h>

#include "api/experiment_report.h"
#include "lara/error.h"
#include "lara/experiment.h"

namespace fs = std::filesystem;

namespace {

lara::ExperimentRow row(const std::string& entity, const std::string& method, std::uint64_t seed, double f1, double best_f1) {
    lara::ExperimentRow r;
    r.entity = entity;
    r.method = method;
    r.seed = seed;
    r.new_rows = 43;
    r.f1 = f1;
    r.best_f1 = best_f1;
    return r;
}

std::string write_results(const std::string& name, const std::vector<lara::ExperimentRow>& rows) {
    const auto path = (fs::temp_directory_path() / ("lara_compare_" + name + ".csv")).string();
    std::ofstream out(path);
    out << lara::csv_header(false);
    for (const auto& r : rows) out << lara::csv_row(r, false);
    return path;
}

}  // namespace

TEST(CompareExperiments, PairsRowsOnEntitySeedAndKAndAveragesSeedsFirst) {
    // Run A against run B: entity e1 gains 0.10 and 0.20 on its two seeds (mean 0.15), e2 loses
    // 0.05; e3 is only in A and pairs with nothing. Mean over entities: (0.15 − 0.05) / 2 = 0.05.
    const auto a = write_results("a", {row("e1", "lara", 0, 0.30, 0.5), row("e1", "lara", 1, 0.40, 0.5), row("e2", "lara", 0, 0.25, 0.6),
                                       row("e3", "lara", 0, 0.90, 0.9), row("e1", "random", 0, 0.0, 0.1)});
    const auto b = write_results("b", {row("e1", "lara", 0, 0.20, 0.4), row("e1", "lara", 1, 0.20, 0.4), row("e2", "lara", 0, 0.30, 0.6),
                                       row("e1", "random", 0, 0.0, 0.1)});
    const auto md = lara::compare_experiments(a, b);
    EXPECT_NE(md.find("## K = 43"), std::string::npos) << md;
    EXPECT_NE(md.find("| lara | 2 | +0.050 (no interval below 5 entities) | 1 / 1 |"), std::string::npos) << md;
    EXPECT_NE(md.find("| 1 / 1 | +0.050 (no interval below 5 entities) | 1 / 0 |"), std::string::npos) << md;  // best_f1: e1 +0.1, e2 0
    EXPECT_EQ(md.find("| random |"), std::string::npos) << md;              // not compared unless asked

    // One entity only: too few for an interval.
    const auto e1 = lara::compare_experiments(a, b, {"lara"}, {"e1"});
    EXPECT_NE(e1.find("| lara | 1 | +0.150 (no interval below 5 entities) | 1 / 0 |"), std::string::npos) << e1;

    try {
        lara::compare_experiments(a, b, {"lara"}, {"e3"});
        FAIL() << "e3 has no pair";
    } catch (const lara::Error& e) {
        EXPECT_EQ(e.kind(), lara::ErrorKind::usage);
    }
}

TEST(CompareExperiments, RefusesPairsThatScoredOtherRowsAndNamesWhatIsMissing) {
    auto a_row = row("e1", "lara", 0, 0.3, 0.5);
    auto b_row = a_row;
    a_row.n_rows = 6700;  // --eval-from 500
    b_row.n_rows = 7200;
    const auto a = write_results("rows_a", {a_row, row("e2", "lara", 0, 0.3, 0.5)});
    const auto b = write_results("rows_b", {b_row, row("e2", "lara", 0, 0.3, 0.5), row("e2", "lara", 1, 0.3, 0.5)});
    try {
        lara::compare_experiments(a, b);
        FAIL() << "paired rows that scored different test rows";
    } catch (const lara::Error& e) {
        EXPECT_EQ(e.kind(), lara::ErrorKind::data);
        EXPECT_NE(std::string(e.what()).find("e1, seed 0, K 43: A scored 6700 rows"), std::string::npos) << e.what();
    }
    // On e2 alone the rows match; B's second seed has no partner, and the output says so.
    const auto md = lara::compare_experiments(a, b, {}, {"e2"});
    EXPECT_NE(md.find("Left out, without a partner of the same entity, method, seed and K: 0 rows of A and 1 rows of B"),
              std::string::npos) << md;
    for (const auto& [methods, entities, missing] :
         std::vector<std::tuple<std::vector<std::string>, std::vector<std::string>, std::string>>{
             {{"lara", "lara-typo"}, {}, "has no method \"lara-typo\""}, {{}, {"e2", "e9"}, "has no entity \"e9\""}}) {
        try {
            lara::compare_experiments(a, b, methods, entities);
            FAIL() << missing;
        } catch (const lara::Error& e) {
            EXPECT_EQ(e.kind(), lara::ErrorKind::usage);
            EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
        }
    }
}

TEST(CompareExperiments, RefusesAFileThatIsNotAResultsFile) {
    const auto b = write_results("b2", {row("e1", "lara", 0, 0.2, 0.4)});
    const auto foreign = (fs::temp_directory_path() / "lara_compare_foreign.csv").string();
    std::ofstream(foreign) << "timestamp,cpu\n1,2\n";
    try {
        lara::compare_experiments(foreign, b);
        FAIL() << "accepted a foreign file";
    } catch (const lara::Error& e) {
        EXPECT_EQ(e.kind(), lara::ErrorKind::data);
        EXPECT_NE(std::string(e.what()).find(foreign + ":1: not a results.csv"), std::string::npos) << e.what();
    }
}
