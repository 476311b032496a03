#include "lara/evaluate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "eval/interpretation.h"
#include "eval/score_file.h"
#include "lara/error.h"
#include "support/test_support.h"

namespace lara {
namespace {

const std::string header = "index,score,threshold,anomaly,top_metrics\n";

// Runs `f`, expects a lara::Error of kind data, and returns its message.
template <typename F>
std::string data_error(F f) {
    try {
        f();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::data);
        return e.what();
    }
    return "no error";
}

// Labels of rows 0..11, one per line. Row 0 is labelled but lies before the scored rows 2..11.
const std::string labels_text = "1\n0\n0\n0\n1\n1\n1\n1\n0\n0\n1\n0\n";

// Rows 2..11 scored against threshold 0.55 (anomaly = score > threshold):
//   index   2    3    4    5    6    7    8    9     10   11
//   label   0    0    1    1    1    1    0    0     1    0
//   score   .1   .5   .4   .9   .3   .2   .6   .05   .7   .15
//   anomaly 0    0    0    1    0    0    1    0     1    0
// top_metrics matter on the interpretation rows 4..7 and 10 only (see HitRate below).
const std::vector<std::string> scored_rows{
    "2,0.1,0.55,0,0;1;2",  "3,0.5,0.55,0,0;1;2", "4,0.4,0.55,0,1;2;0",  "5,0.9,0.55,1,0;1;2",
    "6,0.3,0.55,0,2;3;0",  "7,0.2,0.55,0,",      "8,0.6,0.55,1,0;1;2",  "9,0.05,0.55,0,0;1;2",
    "10,0.7,0.55,1,2;0;1", "11,0.15,0.55,0,0;1;2",
};

// The score file of scored_rows[from, to).
std::string score_text(std::size_t from, std::size_t to) {
    std::string text = header;
    for (std::size_t i = from; i < to; ++i) text += scored_rows[i] + "\n";
    return text;
}

TEST(Evaluate, HandWorkedMetrics) {
    test::TempDir dir;
    const auto result = evaluate({dir.write("scores.csv", score_text(0, 10)), dir.write("labels.txt", labels_text), ""});
    // Point-wise on the anomaly column: predicted {5, 8, 10}, labelled {4, 5, 6, 7, 10}.
    //   TP = {5, 10} = 2, FP = {8} = 1, FN = {4, 6, 7} = 3; row 0 is not scored, so it is no miss.
    //   precision = 2/3, recall = 2/5, F1 = 2 TP / (2 TP + FP + FN) = 4/8 = 1/2.
    EXPECT_DOUBLE_EQ(result["precision"].get<double>(), 2.0 / 3);
    EXPECT_DOUBLE_EQ(result["recall"].get<double>(), 0.4);
    EXPECT_DOUBLE_EQ(result["f1"].get<double>(), 0.5);
    // Point adjustment: row 5 hits the segment 4..7, so all of it counts as found; row 10 is found.
    //   Predicted {4, 5, 6, 7, 8, 10}: TP = 5, FP = 1, FN = 0, F1 = 10/11 ≈ 0.91, inflated from 0.5
    //   although the model found one row of four in the long segment.
    EXPECT_DOUBLE_EQ(result["pa_f1"].get<double>(), 10.0 / 11);
    // Best F1, thresholds highest first (score: label -> TP, FP -> F1 = 2 TP / (2 TP + FP + FN)):
    //   .9:1 -> 1,0 -> 2/6    .7:1 -> 2,0 -> 4/7   .6:0 -> 2,1 -> 4/8   .5:0 -> 2,2 -> 4/9
    //   .4:1 -> 3,2 -> 6/10   .3:1 -> 4,2 -> 8/11  .2:1 -> 5,2 -> 10/12  .15:0 -> 5,3 -> 10/13 ...
    //   the best is 5/6, at threshold 0.2.
    EXPECT_DOUBLE_EQ(result["best_f1"].get<double>(), 5.0 / 6);
    // Average precision: sum of (recall step) x precision where recall grows, 5 labelled rows:
    //   .9: 1/5 x 1   .7: 1/5 x 1   .4: 1/5 x 3/5   .3: 1/5 x 4/6   .2: 1/5 x 5/7
    //   = (1 + 1 + 3/5 + 2/3 + 5/7) / 5 = (418/105) / 5 = 418/525.
    EXPECT_NEAR(result["auc_pr"].get<double>(), 418.0 / 525, 1e-12);
    EXPECT_EQ(result["n_rows"].get<std::int64_t>(), 10);
    EXPECT_EQ(result["n_anomalies"].get<std::int64_t>(), 5);
    EXPECT_DOUBLE_EQ(result["anomaly_ratio"].get<double>(), 0.5);
    for (const char* key : {"f1", "best_f1", "pa_f1", "auc_pr"}) EXPECT_TRUE(result["notes"].contains(key)) << key;
    EXPECT_NE(result["notes"]["best_f1"].get<std::string>().find("test labels"), std::string::npos);
    EXPECT_FALSE(result.contains("hitrate_100"));
}

TEST(Evaluate, WhatNoLabelledRowOrNoFlaggedRowLeavesUndefinedIsNullNotZero) {
    test::TempDir dir;
    const std::string labels = dir.write("labels.txt", labels_text);
    // Rows 2..3 are both unlabelled (row 0's label is outside them) and neither is flagged:
    // nothing is defined. A 0 would pull any mean over entities towards 0.
    const auto result = evaluate({dir.write("scores.csv", score_text(0, 2)), labels, ""});
    EXPECT_EQ(result["n_anomalies"].get<std::int64_t>(), 0);
    EXPECT_EQ(result["n_flagged"].get<std::int64_t>(), 0);
    for (const char* key : {"precision", "recall", "f1", "best_f1", "pa_f1", "auc_pr"}) EXPECT_TRUE(result[key].is_null()) << key;
    // Rows 8..9, unlabelled, row 8 flagged: a false alarm, so precision is 0, and defined.
    const auto alarm = evaluate({dir.write("alarm.csv", score_text(6, 8)), labels, ""});
    EXPECT_EQ(alarm["n_flagged"].get<std::int64_t>(), 1);
    EXPECT_DOUBLE_EQ(alarm["precision"].get<double>(), 0.0);
    EXPECT_TRUE(alarm["f1"].is_null());
    // Rows 0..1, row 0 labelled, nothing flagged: precision is 0/0, recall and F1 are 0.
    const auto quiet = evaluate({dir.write("quiet.csv", header + "0,1,2,0,\n1,1,2,0,\n"), labels, ""});
    EXPECT_TRUE(quiet["precision"].is_null());
    EXPECT_DOUBLE_EQ(quiet["recall"].get<double>(), 0.0);
    EXPECT_DOUBLE_EQ(quiet["f1"].get<double>(), 0.0);
}

TEST(Evaluate, IndexPastTheLabelsNamesBothFiles) {
    test::TempDir dir;
    const std::string scores = dir.write("scores.csv", header + "11,1,2,0,\n12,1,2,0,\n");
    const std::string labels = dir.write("labels.txt", labels_text);
    const std::string message = data_error([&] { evaluate({scores, labels, ""}); });
    EXPECT_NE(message.find(scores), std::string::npos) << message;
    EXPECT_NE(message.find(labels), std::string::npos) << message;
    EXPECT_NE(message.find("12"), std::string::npos) << message;
}

// HitRate on the hand-worked rows, with causes (1-based in the file) {1, 2} -> 0-based {0, 1} on
// rows 4..7 and {3} -> {2} on row 10. Per row, top_metrics and hits (top |G|; top ⌊1.5 |G|⌋):
//   row 4  G {0,1}  1;2;0  top 2 {1,2} -> 1/2   top 3 {1,2,0} -> 1
//   row 5  G {0,1}  0;1;2  -> 1                 -> 1
//   row 6  G {0,1}  2;3;0  top 2 {2,3} -> 0     top 3 {2,3,0} -> 1/2
//   row 7  G {0,1}  empty  -> 0                 -> 0
//   row 10 G {2}    2;0;1  top 1 {2} -> 1       top ⌊1.5⌋ = 1 -> 1
//   HitRate@100% = 2.5 / 5 = 0.5, HitRate@150% = 3.5 / 5 = 0.7.
TEST(Evaluate, HitRateSmdConvention) {
    test::TempDir dir;
    const std::string labels = dir.write("labels.txt", labels_text);
    // SMD writes [a, b): `4-8` is rows 4..7. `0-1` (row 0) lies before the scored rows and is left out.
    const std::string interpretation = dir.write("smd.txt", "0-1:1\n4-8:1,2\n10-11:3\n");
    const auto result = evaluate({dir.write("scores.csv", score_text(0, 10)), labels, interpretation});
    EXPECT_EQ(result["interpretation_end"], "exclusive");
    EXPECT_DOUBLE_EQ(result["hitrate_100"].get<double>(), 0.5);
    EXPECT_DOUBLE_EQ(result["hitrate_150"].get<double>(), 0.7);
    EXPECT_TRUE(result["notes"].contains("hitrate"));

    // Scored rows 2..5 only: the segment 4..7 is cut to rows 4, 5 (1/2 and 1), row 10 is left out.
    const auto prefix = evaluate({dir.write("prefix.csv", score_text(0, 4)), labels, interpretation});
    EXPECT_DOUBLE_EQ(prefix["hitrate_100"].get<double>(), 0.75);

    // Rows 8..9 are in no segment: row 8 would be, were `4-8` read as [4, 8].
    const std::string gap = dir.write("gap.csv", score_text(6, 8));
    const std::string message = data_error([&] { evaluate({gap, labels, interpretation}); });
    EXPECT_NE(message.find("no segment overlaps the scored rows [8, 9]"), std::string::npos) << message;
}

TEST(Evaluate, HitRateAsdConvention) {
    test::TempDir dir;
    // ASD writes [a, b]: `4-7` is rows 4..7 and `10-10` the one row 10; same rows, same hit rates.
    const auto result = evaluate({dir.write("scores.csv", score_text(0, 10)), dir.write("labels.txt", labels_text),
                                  dir.write("asd.txt", "4-7:1,2\n10-10:3\n")});
    EXPECT_EQ(result["interpretation_end"], "inclusive");
    EXPECT_DOUBLE_EQ(result["hitrate_100"].get<double>(), 0.5);
    EXPECT_DOUBLE_EQ(result["hitrate_150"].get<double>(), 0.7);
}

TEST(Evaluate, OverlappingSegmentsDoNotOutvoteTheConventionTheirUnionFits) {
    test::TempDir dir;
    // Rows 39..42 labelled. Read as [a, b), `40-42`, `41-43` and `39-42` cover exactly them; read
    // as [a, b], they cover row 43 too. Yet two of the three segments end, as [a, b], on row 42,
    // where the labelled run ends: a vote of last rows would pick the wrong reading.
    std::string labels_text;
    for (int row = 0; row < 50; ++row) labels_text += (row >= 39 && row <= 42) ? "1\n" : "0\n";
    std::string scores = header;
    for (int row = 0; row < 50; ++row) scores += std::to_string(row) + ",0.5,0.6,0,0;1\n";
    const auto result = evaluate({dir.write("scores.csv", scores), dir.write("labels.txt", labels_text),
                                  dir.write("overlap.txt", "40-42:1\n41-43:1\n39-42:1\n")});
    EXPECT_EQ(result["interpretation_end"], "exclusive");
}

TEST(Evaluate, InterpretationThatFitsNoConventionIsRejected) {
    test::TempDir dir;
    // Rows 1..3 are unlabelled, so `1-3` ends no labelled run either way.
    const std::string interpretation = dir.write("bad.txt", "1-3:1\n");
    const std::string message = data_error([&] {
        evaluate({dir.write("scores.csv", score_text(0, 10)), dir.write("labels.txt", labels_text), interpretation});
    });
    EXPECT_NE(message.find(interpretation + ": no segment ends"), std::string::npos) << message;
}

TEST(Evaluate, InterpretationOutsideTheSeriesIsRejected) {
    test::TempDir dir;
    // labels_text with its last row, 11, labelled: `10-12` read as [a, b) ends exactly there.
    const std::string labels = dir.write("labels.txt", labels_text.substr(0, labels_text.size() - 2) + "1\n");
    const std::string scores = dir.write("scores.csv", score_text(0, 10));
    const auto last = evaluate({scores, labels, dir.write("last.txt", "4-8:1,2\n10-12:3\n"), 4});
    EXPECT_EQ(last["interpretation_end"], "exclusive");
    // The score file ranks metric 3 (0-based) at row 6: not scores of data with 3 metrics, and
    // counted as a miss it would lower HitRate silently.
    EXPECT_EQ(data_error([&] { evaluate({scores, labels, dir.file("last.txt"), 3}); }),
              scores + ": row 6 ranks metric 3 (0-based), past the 3 metrics");

    const std::string past = dir.write("past.txt", "4-8:1,2\n10-13:3\n");
    EXPECT_EQ(data_error([&] { evaluate({scores, labels, past}); }),
              past + ":2:4: segment end 13 is past the 12 rows of " + labels +
                  ": expected an end in [11, 12], as 'a-b' is rows [a, b) here");
    const std::string dimension = dir.write("dimension.txt", "4-8:1,5\n10-12:3\n");
    EXPECT_EQ(data_error([&] { evaluate({scores, labels, dimension, 4}); }),
              dimension + ":1:7: dimension 5 is not one of the 4 metrics: expected a 1-based dimension in [1, 4]");
    // A score file ranks only its top metrics, so without the count a dimension has no upper bound.
    EXPECT_NO_THROW(evaluate({scores, labels, dimension}));
}

// A score file over every row of a real label file, with score = anomaly = label and, as
// top_metrics, exactly the causes of the segments (read with the known convention) at each row:
// every metric is then perfect, and so is HitRate if and only if the detected convention is right.
nlohmann::json evaluate_perfect(const std::string& labels, const std::string& interpretation, eval::SegmentEnd end) {
    std::vector<int> label;
    {
        std::ifstream in(labels);
        for (int v = 0; in >> v;) label.push_back(v);
    }
    std::vector<std::vector<int>> causes(label.size());
    for (const auto& s : eval::read_interpretation(interpretation, end)) {
        for (auto t = s.begin; t < s.end; ++t) causes[static_cast<std::size_t>(t)] = s.metrics;
    }
    std::ostringstream text;
    text << header;
    for (std::size_t t = 0; t < label.size(); ++t) {
        text << t << ',' << label[t] << ",0.5," << label[t] << ',';
        for (std::size_t i = 0; i < causes[t].size(); ++i) text << (i ? ";" : "") << causes[t][i];
        text << '\n';
    }
    test::TempDir dir;
    return evaluate({dir.write("scores.csv", text.str()), labels, interpretation});
}

TEST(Evaluate, DetectsSmdConventionOnRealData) {
    LARA_REQUIRE_DATA();
    const auto smd = test::data_dir() / "smd";
    const auto result = evaluate_perfect((smd / "test_label" / "machine-1-4.txt").string(),
                                         (smd / "interpretation_label" / "machine-1-4.txt").string(),
                                         eval::SegmentEnd::exclusive);
    EXPECT_EQ(result["interpretation_end"], "exclusive");
    EXPECT_DOUBLE_EQ(result["hitrate_100"].get<double>(), 1.0);
    EXPECT_DOUBLE_EQ(result["hitrate_150"].get<double>(), 1.0);
    EXPECT_DOUBLE_EQ(result["f1"].get<double>(), 1.0);
    EXPECT_DOUBLE_EQ(result["auc_pr"].get<double>(), 1.0);
}

TEST(Evaluate, DetectsAsdConventionOnRealData) {
    LARA_REQUIRE_DATA();
    const auto asd = test::data_dir() / "asd";
    const auto result = evaluate_perfect((asd / "test_label" / "omi-1.txt").string(),
                                         (asd / "interpretation_label" / "omi-1.txt").string(),
                                         eval::SegmentEnd::inclusive);
    EXPECT_EQ(result["interpretation_end"], "inclusive");
    EXPECT_DOUBLE_EQ(result["hitrate_100"].get<double>(), 1.0);
    EXPECT_DOUBLE_EQ(result["hitrate_150"].get<double>(), 1.0);
    EXPECT_DOUBLE_EQ(result["pa_f1"].get<double>(), 1.0);
}

TEST(ReadScoreFile, ReadsWhatLaraScoreWrites) {
    test::TempDir dir;
    // Windows line ends, an empty top_metrics (`lara score --top 0`), exponents and infinity.
    const auto file = eval::read_score_file(
        dir.write("scores.csv", "index,score,threshold,anomaly,top_metrics\r\n300,12.3456789,20.5,0,3;0;2\r\n"
                                "301,2.5e1,20.5,1,\r\n302,inf,-1,1,7\r\n"),
        /*with_top_metrics=*/true);
    EXPECT_EQ(file.index, (std::vector<std::int64_t>{300, 301, 302}));
    EXPECT_EQ(file.score[0], 12.3456789);
    EXPECT_EQ(file.score[1], 25.0);
    EXPECT_TRUE(std::isinf(file.score[2]));
    EXPECT_EQ(file.threshold, (std::vector<double>{20.5, 20.5, -1}));
    EXPECT_EQ(file.anomaly, (std::vector<int>{0, 1, 1}));
    EXPECT_EQ(file.top_metrics, (std::vector<std::vector<int>>{{3, 0, 2}, {}, {7}}));
}

TEST(ReadScoreFile, ReadsTopMetricsOnlyWhenAskedSoThatNamesDoNotStopAnEvaluation) {
    // `lara score --top-names` writes metric names there; only interpretation reads the column.
    test::TempDir dir;
    const std::string path = dir.write("names.csv", header + "0,1.5,2,0,cpu;mem\n");
    const auto file = eval::read_score_file(path);
    EXPECT_EQ(file.score, (std::vector<double>{1.5}));
    EXPECT_TRUE(file.top_metrics.empty());
    EXPECT_NE(data_error([&] { eval::read_score_file(path, /*with_top_metrics=*/true); }).find("top_metrics entry \"cpu\""), std::string::npos);
}

TEST(ReadScoreFile, ReadsAFileSavedWithAByteOrderMark) {
    // A spreadsheet that saved the scores again writes one; the data and label readers accept it too.
    test::TempDir dir;
    const auto file = eval::read_score_file(dir.write("bom.csv", "\xEF\xBB\xBF" + header + "0,1.5,2,0,\n"));
    EXPECT_EQ(file.score, (std::vector<double>{1.5}));
}

TEST(ReadScoreFile, ReportsFileLineAndColumn) {
    test::TempDir dir;
    const auto check = [&](const std::string& text, const std::string& where, const std::string& expected) {
        const std::string path = dir.write("bad.csv", text);
        const std::string message = data_error([&] { eval::read_score_file(path, /*with_top_metrics=*/true); });
        EXPECT_NE(message.find(path + ":" + where + ": "), std::string::npos) << message;
        EXPECT_NE(message.find(expected), std::string::npos) << message;
    };
    check("", "1:1", "empty file");
    check("index,score,thresh,anomaly,top_metrics\n0,1,2,0,\n", "1:19", "expected the header");
    check(header, "2:1", "no data rows");
    check(header + "0,1,2,0\n", "2:8", "expected 5 fields");
    check(header + "0,1,2,0,,x\n", "2:10", "got 6");
    check(header + "x,1,2,0,\n", "2:1", "index \"x\"");
    check(header + "-1,1,2,0,\n", "2:1", "index \"-1\"");
    check(header + "0,1,2,0,\n1,abc,2,0,\n", "3:3", "score \"abc\" is not a number");
    check(header + "0,nan,2,0,\n", "2:3", "score \"nan\"");
    check(header + "0, 1,2,0,\n", "2:3", "score \" 1\"");
    check(header + "0,1,2x,0,\n", "2:5", "threshold \"2x\"");
    check(header + "0,1,2,2,\n", "2:7", "anomaly must be 0 or 1, got \"2\"");
    check(header + "0,1,2,1,1;x\n", "2:11", "top_metrics entry \"x\"");
    check(header + "0,1,2,1,1;;2\n", "2:11", "top_metrics entry \"\"");
    check(header + "0,1,2,1,-3\n", "2:9", "top_metrics entry \"-3\"");
    check(header + "0,1,2,0,\n5,1,2,0,\n", "3:1", "index 5 does not follow 0");
    check(header + "0,1,2,0,\n\n1,1,2,0,\n", "3:1", "blank line");
    // The first bad field of a row is the one named, and columns count characters, not bytes.
    check(header + "0,abc,2,x,\n", "2:3", "score \"abc\"");
    check(header + "0,1,2,0,\u00e9,x\n", "2:11", "got 6");  // byte 12
    check(header + "0,1,\u00e9,0,\n", "2:5", "threshold \"\u00e9\"");
    EXPECT_NE(data_error([&] { eval::read_score_file(dir.file("missing.csv")); }).find("cannot open"),
              std::string::npos);
}

}  // namespace
}  // namespace lara
