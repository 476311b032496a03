#include "eval/interpretation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "lara/error.h"
#include "support/test_support.h"

namespace lara::eval {
namespace {

std::string error_of(const std::string& path, SegmentEnd end = SegmentEnd::exclusive) {
    try {
        read_interpretation(path, end);
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::data);
        return e.what();
    }
    return "no error";
}

// The rows labelled 1 in a test_label file (one 0/1 per line).
std::vector<std::int64_t> labelled_rows(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::int64_t> rows;
    int value = 0;
    for (std::int64_t row = 0; in >> value; ++row) {
        if (value != 0) rows.push_back(row);
    }
    return rows;
}

std::vector<std::int64_t> covered_rows(const std::vector<InterpretationSegment>& segments) {
    std::vector<std::int64_t> rows;
    for (const auto& s : segments) {
        for (std::int64_t t = s.begin; t < s.end; ++t) rows.push_back(t);
    }
    std::sort(rows.begin(), rows.end());  // the files do not list segments in order
    return rows;
}

TEST(ReadInterpretation, ParsesSegmentsAndMetrics) {
    test::TempDir dir;
    const std::string path = dir.write("labels.txt", "385-417:12,15,16\n\n 5-7: 3 ,1,3\r\n");
    const auto segments = read_interpretation(path);
    ASSERT_EQ(segments.size(), 2u);
    EXPECT_EQ(segments[0].begin, 385);
    EXPECT_EQ(segments[0].end, 417);
    EXPECT_EQ(segments[0].metrics, (std::vector<int>{11, 14, 15}));
    EXPECT_EQ(segments[1].begin, 5);
    EXPECT_EQ(segments[1].end, 7);
    EXPECT_EQ(segments[1].metrics, (std::vector<int>{0, 2}));  // 1-based {3, 1, 3}: sorted, unique
    // ASD's inclusive end: 5-7 is rows 5, 6, 7.
    EXPECT_EQ(read_interpretation(path, SegmentEnd::inclusive)[1].end, 8);
}

TEST(ReadInterpretation, ReportsFileLineAndColumn) {
    test::TempDir dir;
    const auto check = [&](const std::string& text, int column, const std::string& expected,
                           SegmentEnd end = SegmentEnd::exclusive) {
        const std::string path = dir.write("bad.txt", "1-3:1\n" + text + "\n");
        const std::string message = error_of(path, end);
        EXPECT_NE(message.find(path + ":2:" + std::to_string(column) + ": "), std::string::npos) << message;
        EXPECT_NE(message.find(expected), std::string::npos) << message;
    };
    check("garbage", 1, "expected 'begin-end");
    check("  3-9", 3, "expected 'begin-end");
    check("a-9:1", 1, "\"a\" is not");
    check("1- b:1", 4, "\"b\" is not");
    check("5-5:1", 1, "is empty");
    check("5-4:1", 1, "is empty", SegmentEnd::inclusive);
    check("1-3:", 5, "names no dimension");
    check("1-3:0", 5, "not a 1-based");
    check("1-3:2,x", 7, "\"x\" is not");
    check(" 1-3: 2 , x ", 11, "\"x\" is not");
    check("-1-3:2", 1, "is not");
    EXPECT_NE(error_of(dir.file("missing.txt")).find("cannot open"), std::string::npos);
}

TEST(ReadInterpretation, RefusesSegmentsAndDimensionsOutsideTheSeries) {
    test::TempDir dir;
    const InterpretationBounds bounds{10, "labels.txt", 4};
    // Up to the last row (exclusive end 10, inclusive 9) and up to the last metric are the series'.
    EXPECT_EQ(read_interpretation(dir.write("last.txt", "2-10:1,4\n"), SegmentEnd::exclusive, bounds)[0].end, 10);
    EXPECT_EQ(read_interpretation(dir.write("last.txt", "2-9:1,4\n"), SegmentEnd::inclusive, bounds)[0].end, 10);
    const auto check = [&](const std::string& text, SegmentEnd end, const std::string& expected) {
        const std::string path = dir.write("bad.txt", "1-3:1\n" + text + "\n");
        try {
            read_interpretation(path, end, bounds);
            ADD_FAILURE() << "no error for " << text;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::data);
            EXPECT_EQ(std::string(e.what()), path + ":2:" + expected);
        }
    };
    check("4-11:1", SegmentEnd::exclusive,
          "3: segment end 11 is past the 10 rows of labels.txt: expected an end in [5, 10], as 'a-b' is rows [a, b) here");
    check("4-10:1", SegmentEnd::inclusive,
          "3: segment end 10 is past the 10 rows of labels.txt: expected an end in [4, 9], as 'a-b' is rows [a, b] here");
    check("10-12:1", SegmentEnd::exclusive, "1: segment begin 10 is past the 10 rows of labels.txt: expected a row in [0, 9]");
    check("1-3:2, 5", SegmentEnd::exclusive, "8: dimension 5 is not one of the 4 metrics: expected a 1-based dimension in [1, 4]");
    check("1-3:0", SegmentEnd::exclusive, "5: dimension 0 is not one of the 4 metrics: expected a 1-based dimension in [1, 4]");
}

TEST(ReadInterpretation, ReadsAFileSavedWithAByteOrderMark) {
    test::TempDir dir;
    const auto segments = read_interpretation(dir.write("bom.txt", "\xEF\xBB\xBF" "1-3:1\n"), SegmentEnd::exclusive);
    ASSERT_EQ(segments.size(), 1u);
    EXPECT_EQ(segments[0].begin, 1);
}

TEST(HitRate, HandWorked) {
    // Segments [1, 3) caused by {0, 2} and [4, 6) caused by {1, 3, 4}; rows 0 and 3 are not scored.
    const std::vector<InterpretationSegment> segments{{1, 3, {0, 2}}, {4, 6, {1, 3, 4}}};
    const std::vector<std::vector<int>> ranked{
        {0, 1, 2},        // t = 0: outside every segment
        {2, 1, 0, 3},     // t = 1, G = {0, 2}
        {0, 2, 4},        // t = 2, G = {0, 2}
        {},               // t = 3: outside
        {4, 0, 1, 2, 3},  // t = 4, G = {1, 3, 4}
        {3},              // t = 5, G = {1, 3, 4}; a short list: missing ranks are misses
    };
    // P = 100: top |G| ranks.
    //   t = 1: top 2 {2, 1} -> 1 of 2 = 1/2;  t = 2: {0, 2} -> 1
    //   t = 4: top 3 {4, 0, 1} -> 2 of 3;     t = 5: {3} -> 1 of 3
    //   HitRate@100% = (1/2 + 1 + 2/3 + 1/3) / 4 = 5/8
    EXPECT_DOUBLE_EQ(hit_rate(ranked, segments, 100), 0.625);
    // P = 150: top floor(1.5 |G|) ranks: 3 for |G| = 2, 4 for |G| = 3.
    //   t = 1: {2, 1, 0} -> 1;  t = 2: {0, 2, 4} -> 1
    //   t = 4: {4, 0, 1, 2} -> 2/3;  t = 5: {3} -> 1/3
    //   HitRate@150% = (1 + 1 + 2/3 + 1/3) / 4 = 3/4
    EXPECT_DOUBLE_EQ(hit_rate(ranked, segments, 150), 0.75);
}

TEST(HitRate, OverlapsUniteAndRepeatsCountOnce) {
    // Rows 0..1 belong to both segments, so G = {0, 1, 2} there; row 2 only to the second, G = {2}.
    // Row 0 ranks 2, 2, 0: top 3 holds {0, 2} -> 2/3; row 1 ranks 1, 0, 2 -> 1; row 2 ranks 2 -> 1.
    const std::vector<InterpretationSegment> segments{{0, 2, {0, 1}}, {0, 3, {2}}};
    const std::vector<std::vector<int>> ranked{{2, 2, 0}, {1, 0, 2}, {2}};
    EXPECT_DOUBLE_EQ(hit_rate(ranked, segments, 100), (2.0 / 3 + 1 + 1) / 3);
}

TEST(HitRate, ACauseOfTwoOverlappingSegmentsCountsOnceInG) {
    // [0, 2) caused by {0, 1} and [1, 3) by {1, 2} both name metric 1 at t = 1: G = {0, 1, 2}, |G| = 3.
    //   t = 0: G = {0, 1}, top 2 {1, 0} -> 1;  t = 1: top 3 {1, 0, 2} -> 1;  t = 2: G = {1, 2}, top 2 {2, 0} -> 1/2
    //   HitRate@100% = (1 + 1 + 1/2) / 3 = 5/6 (with metric 1 counted twice, t = 1 would score 3/4)
    const std::vector<InterpretationSegment> segments{{0, 2, {0, 1}}, {1, 3, {1, 2}}};
    const std::vector<std::vector<int>> ranked{{1, 0, 2}, {1, 0, 2}, {2, 0, 1}};
    EXPECT_DOUBLE_EQ(hit_rate(ranked, segments, 100), 5.0 / 6);
}

TEST(HitRate, RejectsBadInput) {
    const std::vector<std::vector<int>> ranked(5, std::vector<int>{0});
    try {
        hit_rate(ranked, {{3, 6, {0}}}, 100);
        FAIL() << "expected lara::Error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::data);
    }
    EXPECT_THROW(hit_rate(ranked, {}, 100), Error);
    try {
        hit_rate(ranked, {{0, 2, {0}}}, 0);
        FAIL() << "expected lara::Error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::usage);
    }
}

TEST(ReadInterpretation, SmdSegmentsAreHalfOpen) {
    LARA_REQUIRE_DATA();
    const auto smd = test::data_dir() / "smd";
    const auto segments = read_interpretation((smd / "interpretation_label" / "machine-1-4.txt").string());
    ASSERT_EQ(segments.size(), 12u);
    // First line `385-417:12,15,16`; test_label is 1 on rows 385 … 416.
    EXPECT_EQ(segments[0].begin, 385);
    EXPECT_EQ(segments[0].end, 417);
    EXPECT_EQ(segments[0].metrics, (std::vector<int>{11, 14, 15}));
    EXPECT_EQ(covered_rows(segments), labelled_rows((smd / "test_label" / "machine-1-4.txt").string()));
}

TEST(ReadInterpretation, AsdSegmentsAreInclusive) {
    LARA_REQUIRE_DATA();
    const auto asd = test::data_dir() / "asd";
    const auto segments =
        read_interpretation((asd / "interpretation_label" / "omi-1.txt").string(), SegmentEnd::inclusive);
    ASSERT_EQ(segments.size(), 7u);
    // First line `760-765:4,5,...`; test_label is 1 on rows 760 … 765.
    EXPECT_EQ(segments[0].begin, 760);
    EXPECT_EQ(segments[0].end, 766);
    EXPECT_EQ(covered_rows(segments), labelled_rows((asd / "test_label" / "omi-1.txt").string()));
}

}  // namespace
}  // namespace lara::eval
