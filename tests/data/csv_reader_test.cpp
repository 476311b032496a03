#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "lara/error.h"
#include "lara/series.h"
#include "support/test_support.h"

using lara::Error;
using lara::ErrorKind;
using lara::FillPolicy;
using lara::ReadOptions;
using lara::Series;
using lara::TimestampColumn;

namespace {

//! The error a read throws; fails the test when it throws none.
template <typename Read>
Error error_of(Read read) {
    try {
        read();
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "expected a lara::Error";
    return Error(ErrorKind::internal, "no error");
}

//! Reads `text` from a scratch file called `name` and returns the data error, checking its kind.
Error data_error(const std::string& name, const std::string& text, const ReadOptions& options = {}) {
    lara::test::TempDir dir;
    const std::string path = dir.write(name, text);
    Error e = error_of([&] { lara::read_series(path, options); });
    EXPECT_EQ(e.kind(), ErrorKind::data) << e.what();
    return e;
}

ReadOptions with_timestamp(TimestampColumn column) {
    ReadOptions options;
    options.timestamp = column;
    return options;
}

ReadOptions forward_fill() {
    ReadOptions options;
    options.fill = FillPolicy::forward;
    return options;
}

ReadOptions rows(std::int64_t from, std::int64_t to) {
    ReadOptions options;
    options.from = from;
    options.to = to;
    return options;
}

std::string ten_rows() {
    std::string text = "a,b\n";
    for (int r = 0; r < 10; ++r) text += std::to_string(r) + "," + std::to_string(r * 10) + "\n";
    return text;
}

// pandas' df.to_csv() writes its index first, under an empty name: a row counter, not a metric.
constexpr char pandas_csv[] = ",cpu,mem\n0,1.5,2.5\n1,3.5,4.5\n2,5.5,6.5\n";

}  // namespace

TEST(CsvReader, ReadsHeaderlessNumbers) {
    lara::test::TempDir dir;
    const std::string path = dir.write("plain.csv", "1,2.5,-3\n4e2,0.125,6\n");
    const Series s = lara::read_series(path);
    EXPECT_EQ(s.n_rows, 2);
    EXPECT_EQ(s.n_metrics, 3);
    EXPECT_EQ(s.values, (std::vector<float>{1.0f, 2.5f, -3.0f, 400.0f, 0.125f, 6.0f}));
    EXPECT_TRUE(s.metric_names.empty());
    EXPECT_TRUE(s.timestamps.empty());
    EXPECT_EQ(s.first_row, 0);
    EXPECT_EQ(s.source, path);
}

TEST(CsvReader, HeaderGivesMetricNames) {
    lara::test::TempDir dir;
    const Series s = lara::read_series(dir.write("h.csv", "cpu,mem,disk 1\n1,2,3\n"));
    EXPECT_EQ(s.metric_names, (std::vector<std::string>{"cpu", "mem", "disk 1"}));
    EXPECT_EQ(s.n_rows, 1);
    EXPECT_EQ(s.values, (std::vector<float>{1, 2, 3}));
}

TEST(CsvReader, FirstLineOfNumbersNanAndEmptyIsNotAHeader) {
    lara::test::TempDir dir;
    // nan and an empty field are missing values, not names, so this first line is data.
    const Error e = error_of([&] { lara::read_series(dir.write("d.csv", "1,nan,\n2,3,4\n")); });
    EXPECT_EQ(e.kind(), ErrorKind::data);
    EXPECT_NE(std::string(e.what()).find("d.csv:1:3: field 2 is NaN"), std::string::npos) << e.what();
}

TEST(CsvReader, AFirstLineOfNumbersAndTextIsRefusedNotTakenForAHeader) {
    lara::test::TempDir dir;
    // Taken for a header, "1,NA,3" would drop a row and shift every score against its label.
    const Error e = error_of([&] { lara::read_series(dir.write("d.csv", "1,NA,3\n2,3,4\n")); });
    EXPECT_EQ(e.kind(), ErrorKind::data);
    EXPECT_NE(std::string(e.what()).find("d.csv:1:3: the first line mixes names and numbers (\"NA\" and \"1\")"), std::string::npos) << e.what();
    // So is a header with a number for a name: it cannot be told from such a row.
    EXPECT_EQ(error_of([&] { lara::read_series(dir.write("h.csv", "cpu,mem,1\n1,2,3\n")); }).kind(), ErrorKind::data);
    // A time column's name starts a header even when the metric names are numbers (pandas).
    const Series s = lara::read_series(dir.write("t.csv", "timestamp,0,1\n2024-01-01T00:00:00,1,2\n2024-01-01T00:05:00,3,4\n"));
    EXPECT_EQ(s.n_rows, 2);
    EXPECT_EQ(s.metric_names, (std::vector<std::string>{"0", "1"}));
}

TEST(CsvReader, ADateNamesAMetricColumnWhenItIsNotTheFirstField) {
    lara::test::TempDir dir;
    // Only field 1 can be a timestamp, so in a table pivoted by day the dates of fields 2 and 3
    // are column names: this first line is all names, a header, not a mix of names and numbers.
    const Series s = lara::read_series(dir.write("days.csv", "host,2024-01-01,2024-01-02\n1,2,3\n"));
    EXPECT_EQ(s.metric_names, (std::vector<std::string>{"host", "2024-01-01", "2024-01-02"}));
    EXPECT_EQ(s.values, (std::vector<float>{1, 2, 3}));
    EXPECT_TRUE(s.timestamps.empty());
}

TEST(CsvReader, LinesEndingInACarriageReturnAloneAreRefused) {
    lara::test::TempDir dir;
    const Error e = error_of([&] { lara::read_series(dir.write("mac.csv", "a,b\r1,2\r3,4\r")); });
    EXPECT_EQ(e.kind(), ErrorKind::data);
    EXPECT_NE(std::string(e.what()).find("mac.csv: its lines end with a carriage return alone"), std::string::npos) << e.what();
}

TEST(CsvReader, ACarriageReturnBeforeTheLineFeedIsAFieldsNotClassicMacLineEnds) {
    // Lines ending "\r\r\n" (converted to CRLF twice) keep a carriage return in their last field.
    const Error e = data_error("crcrlf.csv", "a,b\r\r\n1,2\r\r\n");
    EXPECT_NE(std::string(e.what()).find("crcrlf.csv:2:3: field 2 is not a number: \"2\\x0d\""), std::string::npos) << e.what();
}

TEST(CsvReader, AcceptsWhitespacePlusSignCrlfAndBom) {
    lara::test::TempDir dir;
    const Series s = lara::read_series(dir.write("w.csv", "\xEF\xBB\xBF a , b\t\r\n 1 ,\t+2\r\n3,4\r\n"));
    EXPECT_EQ(s.metric_names, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(s.values, (std::vector<float>{1, 2, 3, 4}));
}

TEST(CsvReader, TrailingBlankLinesAndMissingFinalNewlineAreFine) {
    lara::test::TempDir dir;
    EXPECT_EQ(lara::read_series(dir.write("t1.csv", "1,2\n3,4\n\n  \r\n")).n_rows, 2);
    EXPECT_EQ(lara::read_series(dir.write("t2.csv", "1,2\n3,4")).n_rows, 2);
}

TEST(CsvReader, DetectsTimestampColumnByHeaderName) {
    lara::test::TempDir dir;
    const Series s = lara::read_series(dir.write("ts.csv", "Timestamp,cpu\n1704164645,1.5\n1704164945,2.5\n"));
    EXPECT_EQ(s.n_metrics, 1);
    EXPECT_EQ(s.metric_names, (std::vector<std::string>{"cpu"}));
    EXPECT_EQ(s.timestamps, (std::vector<double>{1704164645.0, 1704164945.0}));
    EXPECT_EQ(s.values, (std::vector<float>{1.5f, 2.5f}));
}

TEST(CsvReader, DetectsIsoTimestampsWithoutHeader) {
    lara::test::TempDir dir;
    const Series s = lara::read_series(dir.write("iso.csv",
                                                 "2024-01-02T03:04:05Z,1,2\n"
                                                 "2024-01-02 03:04:05,3,4\n"
                                                 "2024-01-02T04:04:05+01:00,5,6\n"
                                                 "2024-01-01T21:34:05.5-05:30,7,8\n"
                                                 "2024-02-29,9,10\n"));
    EXPECT_EQ(s.n_metrics, 2);
    EXPECT_TRUE(s.metric_names.empty());
    // 2024-01-02T03:04:05Z is 1704164645 s after the epoch.
    EXPECT_EQ(s.timestamps, (std::vector<double>{1704164645.0, 1704164645.0, 1704164645.0, 1704164645.5,
                                                 1709164800.0}));
    EXPECT_EQ(s.values, (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
}

TEST(CsvReader, DetectLeavesEpochNumbersAsMetricsWithoutTimeHeader) {
    lara::test::TempDir dir;
    const Series s = lara::read_series(dir.write("e.csv", "1704164645,1\n1704164945,2\n"));
    EXPECT_EQ(s.n_metrics, 2);
    EXPECT_TRUE(s.timestamps.empty());
}

TEST(CsvReader, FirstColumnTimestampTakesEpochSeconds) {
    lara::test::TempDir dir;
    const Series s = lara::read_series(dir.write("e.csv", "1704164645,1\n1704164945.5,2\n"),
                                       with_timestamp(TimestampColumn::first));
    EXPECT_EQ(s.n_metrics, 1);
    EXPECT_EQ(s.timestamps, (std::vector<double>{1704164645.0, 1704164945.5}));
    EXPECT_EQ(s.values, (std::vector<float>{1, 2}));
}

TEST(CsvReader, NoTimestampColumnKeepsTimeAsAMetric) {
    lara::test::TempDir dir;
    const Series s = lara::read_series(dir.write("n.csv", "time,a\n100,1\n200,2\n"), with_timestamp(TimestampColumn::none));
    EXPECT_EQ(s.metric_names, (std::vector<std::string>{"time", "a"}));
    EXPECT_TRUE(s.timestamps.empty());
    EXPECT_EQ(s.values, (std::vector<float>{100, 1, 200, 2}));
}

TEST(CsvReader, DropsPandasUnnamedIndexColumn) {
    lara::test::TempDir dir;
    const Series s = lara::read_series(dir.write("p.csv", pandas_csv));
    EXPECT_EQ(s.metric_names, (std::vector<std::string>{"cpu", "mem"}));
    EXPECT_EQ(s.n_metrics, 2);
    EXPECT_EQ(s.values, (std::vector<float>{1.5, 2.5, 3.5, 4.5, 5.5, 6.5}));
    EXPECT_TRUE(s.timestamps.empty());  // a counter is not a time
    // An index of dates (a DatetimeIndex) is a timestamp column.
    const Series dated = lara::read_series(dir.write("d.csv", ",cpu\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,2\n"));
    EXPECT_EQ(dated.metric_names, (std::vector<std::string>{"cpu"}));
    EXPECT_EQ(dated.timestamps, (std::vector<double>{1704067200.0, 1704067500.0}));
}

TEST(CsvReader, AHeaderThatIsNotUtf8IsReadAsItIs) {
    // Scoring such a file needs nothing of its names' encoding; training refuses them (they go
    // into the model's JSON), which the detector's tests check.
    lara::test::TempDir dir;
    const Series s = lara::read_series(dir.write("latin.csv", "cpu,m\xb0" "em,disk\n1,2,3\n"));
    EXPECT_EQ(s.metric_names[1], "m\xb0" "em");
}

TEST(CsvReader, PandasNumberedColumnsAfterItsIndexAreAHeader) {
    lara::test::TempDir dir;
    // df.to_csv() of a frame built from a bare array: the index, then the column numbers.
    const Series s = lara::read_series(dir.write("n.csv", ",0,1,2\n0,1.5,2.5,3.5\n1,4.5,5.5,6.5\n"));
    EXPECT_EQ(s.metric_names, (std::vector<std::string>{"0", "1", "2"}));
    EXPECT_EQ(s.values, (std::vector<float>{1.5, 2.5, 3.5, 4.5, 5.5, 6.5}));
    // Only the numbers 0, 1, 2, … in order make such a header: other lines keep their rules.
    EXPECT_EQ(error_of([&] { lara::read_series(dir.write("g.csv", ",0,2\n0,1,2\n")); }).kind(), ErrorKind::data);
    // Without the index, "0,1,2" is as likely a first row as a header, and is read as a row.
    EXPECT_EQ(lara::read_series(dir.write("r.csv", "0,1,2\n3,4,5\n")).n_rows, 2);
}

TEST(CsvReader, NoTimestampColumnRefusesPandasUnnamedIndexAsAMetric) {
    const Error e = data_error("p.csv", pandas_csv, with_timestamp(TimestampColumn::none));
    EXPECT_NE(std::string(e.what()).find("p.csv:1:1: field 1 has no name in the header, as pandas writes its index"),
              std::string::npos)
        << e.what();
}

TEST(CsvReader, SlicesRowsAndRecordsFirstRow) {
    lara::test::TempDir dir;
    const std::string path = dir.write("ten.csv", ten_rows());
    const Series s = lara::read_series(path, rows(3, 7));
    EXPECT_EQ(s.n_rows, 4);
    EXPECT_EQ(s.first_row, 3);
    EXPECT_EQ(s.values, (std::vector<float>{3, 30, 4, 40, 5, 50, 6, 60}));

    const Series tail = lara::read_series(path, rows(8, -1));
    EXPECT_EQ(tail.n_rows, 2);
    EXPECT_EQ(tail.values, (std::vector<float>{8, 80, 9, 90}));

    EXPECT_EQ(lara::read_series(path, rows(10, -1)).n_rows, 0);
    EXPECT_EQ(lara::read_series(path, rows(5, 50)).n_rows, 5);  // a `to` past the end is clamped
}

TEST(CsvReader, SlicesTimestampsWithRows) {
    lara::test::TempDir dir;
    const std::string path = dir.write("ts.csv", "ts,v\n10,1\n20,2\n30,3\n40,4\n");
    const Series s = lara::read_series(path, rows(1, 3));
    EXPECT_EQ(s.timestamps, (std::vector<double>{20, 30}));
    EXPECT_EQ(s.values, (std::vector<float>{2, 3}));
}

TEST(CsvReader, StopsParsingAtTo) {
    lara::test::TempDir dir;
    const Series s = lara::read_series(dir.write("stop.csv", "1,2\n3,4\nnot,numbers\n\n5,6\n"), rows(0, 2));
    EXPECT_EQ(s.values, (std::vector<float>{1, 2, 3, 4}));
}

TEST(CsvReader, RejectsBadRowRanges) {
    // A range that is wrong in itself is a usage error, found before reading; one that starts past
    // this file's end, a data error that says how many rows the file has.
    lara::test::TempDir dir;
    const std::string path = dir.write("ten.csv", ten_rows());
    for (const auto& [from, to] : std::vector<std::pair<std::int64_t, std::int64_t>>{{-1, -1}, {5, 4}, {11, -1}, {0, -2}, {11, 20}}) {
        const Error e = error_of([&] { lara::read_series(path, rows(from, to)); });
        const bool past_end = from == 11;
        EXPECT_EQ(e.kind(), past_end ? ErrorKind::data : ErrorKind::usage) << from << ".." << to;
        const std::string message = e.what();
        EXPECT_NE(message.find(path), std::string::npos) << message;
        EXPECT_EQ(message.find("10 data rows") != std::string::npos, past_end) << message;
    }
    const Error absent = error_of([&] { lara::read_series(dir.file("absent.csv"), rows(5, 4)); });
    EXPECT_EQ(absent.kind(), ErrorKind::usage) << absent.what();
}

TEST(CsvReader, RowsBeforeTheRangeAreNotCheckedButForwardFillCarriesTheirValues) {
    lara::test::TempDir dir;
    // Data rows 0-2 hold a NaN, text and an infinity, as rows after `to` may.
    const std::string text = "a,b\nnan,1\n2,abc\n3,inf\n4,40\n5,50\n";
    const Series s = lara::read_series(dir.write("bad-start.csv", text), rows(3, -1));
    EXPECT_EQ(s.values, (std::vector<float>{4, 40, 5, 50}));
    EXPECT_EQ(s.first_row, 3);
    const Error in_range = data_error("bad-start.csv", text, rows(2, -1));
    EXPECT_NE(std::string(in_range.what()).find("bad-start.csv:4:3: field 2 is infinite"), std::string::npos) << in_range.what();
    // But a line of another width may be no row at all (a comment, a repeated header): counted as
    // one, it would shift the range against its labels, so it is refused wherever it is.
    const Error comment = data_error("comment.csv", "a,b\n1,2\n# restarted\n3,4\n5,6\n", rows(2, -1));
    EXPECT_NE(std::string(comment.what()).find("comment.csv:3:12: expected 2 fields (as in the header), got 1 (comment lines are not read)"),
              std::string::npos) << comment.what();
    // Forward fill into the range's first row takes the last good value before it.
    auto fill = forward_fill();
    fill.from = 2;
    const std::string gap = dir.write("gap.csv", "a,b\n1,10\nnan,nan\n,30\n4,40\n");
    EXPECT_EQ(lara::read_series(gap, fill).values, (std::vector<float>{1, 30, 4, 40}));
    // A metric with no good value before a missing one is still refused, naming why.
    const std::string never = dir.write("never.csv", "a,b\nnan,10\nnan,20\n,30\n");
    const Error e = error_of([&] { lara::read_series(never, fill); });
    EXPECT_NE(std::string(e.what()).find("never.csv:4:1: field 1 is empty, and no row before it has a value to fill forward"), std::string::npos)
        << e.what();
}

TEST(CsvReader, ContextRowsAreTheRowsBeforeFromThatTheFileHas) {
    lara::test::TempDir dir;
    const std::string path = dir.write("ten.csv", ten_rows());
    auto options = rows(5, 8);
    options.context_rows = 3;
    const Series s = lara::read_series(path, options);
    EXPECT_EQ(s.first_row, 2);
    EXPECT_EQ(s.values, (std::vector<float>{2, 20, 3, 30, 4, 40, 5, 50, 6, 60, 7, 70}));
    options.from = 1;  // near the start only the rows there are
    EXPECT_EQ(lara::read_series(path, options).first_row, 0);
    EXPECT_EQ(lara::read_series(path, options).n_rows, 8);
    // Range errors still speak of `from`: 11 is past the end though rows 8 and 9 are in the file.
    options = rows(11, -1);
    options.context_rows = 3;
    const Error past = error_of([&] { lara::read_series(path, options); });
    EXPECT_EQ(past.kind(), ErrorKind::data);
    EXPECT_NE(std::string(past.what()).find("row range [11, end) does not fit"), std::string::npos) << past.what();
    options.context_rows = -1;
    EXPECT_EQ(error_of([&] { lara::read_series(path, options); }).kind(), ErrorKind::usage);
}

TEST(CsvReader, MissingFileIsADataError) {
    lara::test::TempDir dir;
    const std::string path = dir.file("absent.csv");
    const Error e = error_of([&] { lara::read_series(path); });
    EXPECT_EQ(e.kind(), ErrorKind::data);
    EXPECT_NE(std::string(e.what()).find(path + ": cannot open"), std::string::npos) << e.what();
}

TEST(CsvReader, FilesWithoutDataRowsAreDataErrors) {
    for (const std::string text : {"", "\n\n", "a,b,c\n", "a,b\n\n"}) {
        const Error e = data_error("empty.csv", text);
        EXPECT_NE(std::string(e.what()).find("no data rows"), std::string::npos) << e.what();
    }
}

TEST(CsvReader, NonNumericFieldNamesLineColumnAndField) {
    const Error e = data_error("data.csv", "a,b,c\n1,2,3\n4, 5,abc\n");
    EXPECT_NE(std::string(e.what()).find("data.csv:3:6: field 3 is not a number: \"abc\""), std::string::npos)
        << e.what();
}

TEST(CsvReader, SaysWhatAFieldThatIsNoNumberMostLikelyIs) {
    const auto message = [](const std::string& text) { return std::string(data_error("hint.csv", text).what()); };
    EXPECT_NE(message("a,b\n\"1\",\"2\"\n").find("quoted fields are not read"), std::string::npos) << message("a,b\n\"1\",\"2\"\n");
    EXPECT_NE(message("a,b\n1,2\n# note\n").find("comment lines are not read"), std::string::npos) << message("a,b\n1,2\n# note\n");
    EXPECT_NE(message("a,b,\n1,2,\n").find("hint.csv:2:5: field 3 is empty: the line ends with a comma"), std::string::npos)
        << message("a,b,\n1,2,\n");
    // A long field is cut to 40 bytes in the message.
    const std::string long_field(5000, 'x');
    EXPECT_LT(message("a,b\n1," + long_field + "\n").size(), 200u);
}

TEST(CsvReader, AQuotedHeaderOrACommentAsLineOneIsRefusedNotKeptAsNames) {
    // Names with their quotes would match no model's names, and order checks would pass any order.
    const Error quoted = data_error("r.csv", "\"a\",\"b\",\"c\"\n1,2,3\n");
    EXPECT_NE(std::string(quoted.what()).find("r.csv:1:1: the header's field 1 is quoted, and quoted fields are not read"), std::string::npos)
        << quoted.what();
    const Error later = data_error("r.csv", "a,'b',c\n1,2,3\n");
    EXPECT_NE(std::string(later.what()).find("r.csv:1:3: the header's field 2 is quoted"), std::string::npos) << later.what();
    const Error comment = data_error("c.csv", "# a,b,c\n1,2,3\n");
    EXPECT_NE(std::string(comment.what()).find("c.csv:1:1: line 1 is a comment"), std::string::npos) << comment.what();
    // A name with a quote or '#' inside it is a name.
    lara::test::TempDir dir;
    const auto series = lara::read_series(dir.write("ok.csv", "a#1,b\"2\n1,2\n"));
    EXPECT_EQ(series.metric_names, (std::vector<std::string>{"a#1", "b\"2"}));
}

TEST(CsvReader, ColumnsCountCharactersNotBytes) {
    // "°,2" is 4 bytes but 3 characters; the missing third field would start at character 4.
    const Error e = data_error("u.csv", "a,b,c\n°,2\n");
    EXPECT_NE(std::string(e.what()).find("u.csv:2:4: expected 3 fields"), std::string::npos) << e.what();
}

TEST(CsvReader, WrongFieldCountSaysExpectedAndGot) {
    const Error fewer = data_error("w.csv", "1,2,3\n4,5\n");
    EXPECT_NE(std::string(fewer.what()).find("w.csv:2:4: expected 3 fields"), std::string::npos) << fewer.what();
    EXPECT_NE(std::string(fewer.what()).find("got 2"), std::string::npos) << fewer.what();

    const Error more = data_error("w.csv", "a,b\n1,2\n3,4,5\n");
    EXPECT_NE(std::string(more.what()).find("w.csv:3:5: expected 2 fields"), std::string::npos) << more.what();
    EXPECT_NE(std::string(more.what()).find("got 3"), std::string::npos) << more.what();
}

TEST(CsvReader, BlankLineInTheMiddleIsAnError) {
    const Error e = data_error("b.csv", "a\n1\n\n2\n");
    EXPECT_NE(std::string(e.what()).find("b.csv:3:1: blank line"), std::string::npos) << e.what();
    const Error leading = data_error("b.csv", "\n1\n");
    EXPECT_NE(std::string(leading.what()).find("b.csv:1:1: blank line"), std::string::npos) << leading.what();
}

TEST(CsvReader, MissingValuesAreRejectedByDefault) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"1,2\n3,\n", "m.csv:2:3: field 2 is empty"},
        {"1,2\nNaN,4\n", "m.csv:2:1: field 1 is NaN"},
        {"1,2\n3, -inf\n", "m.csv:2:4: field 2 is infinite"},
    };
    for (const auto& [text, where] : cases) {
        const Error e = data_error("m.csv", text);
        const std::string message = e.what();
        EXPECT_NE(message.find(where), std::string::npos) << message;
        EXPECT_NE(message.find("--fill forward"), std::string::npos) << message;
    }
}

TEST(CsvReader, ForwardFillRepeatsThePreviousValueOfTheSameMetric) {
    lara::test::TempDir dir;
    const std::string path = dir.write("f.csv", "a,b\n1,10\n,20\nnan,inf\n4,\n");
    const Series s = lara::read_series(path, forward_fill());
    EXPECT_EQ(s.values, (std::vector<float>{1, 10, 1, 20, 1, 20, 4, 20}));

    // Rows before `from` still feed the fill.
    ReadOptions later = forward_fill();
    later.from = 2;
    EXPECT_EQ(lara::read_series(path, later).values, (std::vector<float>{1, 20, 4, 20}));
}

TEST(CsvReader, ForwardFillCannotFillTheFirstRow) {
    const Error e = data_error("f.csv", "a,b\n1,\n2,3\n", forward_fill());
    EXPECT_NE(std::string(e.what()).find("f.csv:2:3: field 2 is empty on the first data row"), std::string::npos)
        << e.what();
}

TEST(CsvReader, ValueTooLargeForFloatIsAnError) {
    const Error e = data_error("big.csv", "1,1e39\n");
    EXPECT_NE(std::string(e.what()).find("big.csv:1:3: field 2 does not fit"), std::string::npos) << e.what();
    const Error huge = data_error("big.csv", "1,1e400\n");
    EXPECT_NE(std::string(huge.what()).find("big.csv:1:3: field 2 does not fit"), std::string::npos) << huge.what();
}

TEST(CsvReader, TinyValuesUnderflowToZero) {
    lara::test::TempDir dir;
    EXPECT_EQ(lara::read_series(dir.write("tiny.csv", "1e-50,1e-400\n")).values, (std::vector<float>{0, 0}));
}

TEST(CsvReader, BadTimestampIsAnError) {
    const Error e = data_error("t.csv", "time,a\n2024-01-01T00:00:00Z,1\n2024-13-01T00:00:00Z,2\n");
    EXPECT_NE(std::string(e.what()).find("t.csv:3:1: field 1 is not a timestamp"), std::string::npos) << e.what();
}

TEST(CsvReader, ZeroMetricColumnsIsAnError) {
    const Error named = data_error("z.csv", "time\n2024-01-01T00:00:00Z\n");
    EXPECT_NE(std::string(named.what()).find("no metric columns"), std::string::npos) << named.what();
    const Error first = data_error("z.csv", "100\n200\n", with_timestamp(TimestampColumn::first));
    EXPECT_NE(std::string(first.what()).find("no metric columns"), std::string::npos) << first.what();
}

TEST(Labels, ReadsZerosAndOnesInAnyForm) {
    lara::test::TempDir dir;
    const std::string path = dir.write("l.csv", "0\r\n1\r\n 0.0 \r\n1.0\r\n1\r\n");
    EXPECT_EQ(lara::read_labels(path), (std::vector<int>{0, 1, 0, 1, 1}));
    EXPECT_EQ(lara::read_labels(path, 1, 3), (std::vector<int>{1, 0}));
    EXPECT_EQ(lara::read_labels(path, 3), (std::vector<int>{1, 1}));
}

TEST(Labels, RejectsOtherValuesWithFileAndLine) {
    lara::test::TempDir dir;
    for (const std::string bad : {"2", "0.5", "yes", "0,1", "-1", "nan"}) {
        const std::string path = dir.write("l.csv", "0\n1\n" + bad + "\n0\n");
        const Error e = error_of([&] { lara::read_labels(path); });
        EXPECT_EQ(e.kind(), ErrorKind::data);
        EXPECT_NE(std::string(e.what()).find("l.csv:3:1: label must be 0 or 1"), std::string::npos) << e.what();
    }
}

TEST(Labels, EmptyFileAndBadRangesAreErrors) {
    lara::test::TempDir dir;
    const Error empty = error_of([&] { lara::read_labels(dir.write("e.csv", "")); });
    EXPECT_EQ(empty.kind(), ErrorKind::data);
    EXPECT_NE(std::string(empty.what()).find("no data rows"), std::string::npos) << empty.what();

    const std::string path = dir.write("l.csv", "0\n1\n0\n");
    const Error range = error_of([&] { lara::read_labels(path, 4, -1); });
    EXPECT_EQ(range.kind(), ErrorKind::data);  // past this file's end
    EXPECT_NE(std::string(range.what()).find("3 data rows"), std::string::npos) << range.what();
    EXPECT_EQ(error_of([&] { lara::read_labels(path, 2, 1); }).kind(), ErrorKind::usage);

    const Error blank = error_of([&] { lara::read_labels(dir.write("b.csv", "0\n\n1\n")); });
    EXPECT_NE(std::string(blank.what()).find("b.csv:2:1: blank line"), std::string::npos) << blank.what();
}

TEST(CsvReaderRealData, JumpStarterService0) {
    LARA_REQUIRE_DATA();
    const auto path = (lara::test::data_dir() / "jumpstarter/Dataset2/train/service0.csv").string();
    const Series s = lara::read_series(path);
    EXPECT_EQ(s.n_rows, 5760);
    EXPECT_EQ(s.n_metrics, 19);
    EXPECT_TRUE(s.metric_names.empty());
    EXPECT_TRUE(s.timestamps.empty());
    EXPECT_FLOAT_EQ(s.at(0, 0), 6.2415f);
    EXPECT_NEAR(s.at(0, 10), 204471878.19, 16.0);  // float32 spacing at 2e8 is 16
    EXPECT_FLOAT_EQ(s.at(1, 0), 6.2315f);

    const Series tail = lara::read_series(path, rows(5716, -1));
    EXPECT_EQ(tail.n_rows, 44);
    EXPECT_EQ(tail.first_row, 5716);
    EXPECT_EQ(tail.at(0, 0), s.at(5716, 0));
}

TEST(CsvReaderRealData, SmdAndAsd) {
    LARA_REQUIRE_DATA();
    const Series smd = lara::read_series((lara::test::data_dir() / "smd/train/machine-1-4.txt").string());
    EXPECT_EQ(smd.n_rows, 23706);
    EXPECT_EQ(smd.n_metrics, 38);
    EXPECT_FLOAT_EQ(smd.at(0, 0), 0.060606f);
    EXPECT_FLOAT_EQ(smd.at(0, 8), 5.8e-05f);

    const Series asd = lara::read_series((lara::test::data_dir() / "asd/train/omi-1.txt").string());
    EXPECT_EQ(asd.n_rows, 8640);
    EXPECT_EQ(asd.n_metrics, 19);
    EXPECT_FLOAT_EQ(asd.at(0, 0), 0.49f);
}

TEST(CsvReaderRealData, JumpStarterLabels) {
    LARA_REQUIRE_DATA();
    const std::vector<int> labels =
        lara::read_labels((lara::test::data_dir() / "jumpstarter/Dataset2/test_label/service0.csv").string());
    EXPECT_EQ(labels.size(), 7200u);
    EXPECT_EQ(labels[0], 0);
    EXPECT_GT(std::count(labels.begin(), labels.end(), 1), 0);
}

TEST(RowReader, HandsOutEachRowOnceItsLineHasArrived) {
    std::stringstream pipe;
    pipe << "time,cpu,mem\n2024-01-01T00:00:00Z,1,2\n";
    lara::RowReader reader(pipe, "stdin");  // reads the header and the first row, which decides the timestamp
    EXPECT_EQ(reader.metric_names(), (std::vector<std::string>{"cpu", "mem"}));
    EXPECT_EQ(reader.n_metrics(), 2);
    EXPECT_TRUE(reader.has_timestamps());
    std::vector<float> row;
    double seconds = 0;
    ASSERT_TRUE(reader.next(row, seconds));
    EXPECT_EQ(row, (std::vector<float>{1, 2}));
    EXPECT_EQ(seconds, 1704067200.0);
    pipe << "2024-01-01T00:05:00Z,3,\n";  // arrives later; an empty field errs without --fill forward
    try {
        reader.next(row, seconds);
        FAIL() << "an empty field was read";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("stdin:3:24: field 3 is empty"), std::string::npos) << e.what();
    }
}

TEST(RowReader, ReadsWhatReadSeriesReadsAndStopsAtTheRange) {
    lara::test::TempDir dir;
    const std::string text = "a,b\n1,2\n3,4\n5,6\n7,8\n\n\n";
    const Series file = lara::read_series(dir.write("s.csv", text), rows(1, 3));
    std::stringstream in(text);
    lara::RowReader reader(in, "s.csv", rows(1, 3));
    std::vector<float> values, row;
    double seconds = 0;
    while (reader.next(row, seconds)) values.insert(values.end(), row.begin(), row.end());
    EXPECT_EQ(values, file.values);
    EXPECT_EQ(values, (std::vector<float>{3, 4, 5, 6}));
    EXPECT_FALSE(reader.has_timestamps());
}

TEST(RowReader, DropsPandasUnnamedIndexColumn) {
    std::stringstream in(pandas_csv);
    lara::RowReader reader(in, "stdin");
    EXPECT_EQ(reader.metric_names(), (std::vector<std::string>{"cpu", "mem"}));
    EXPECT_EQ(reader.n_metrics(), 2);
    EXPECT_FALSE(reader.has_timestamps());
    std::vector<float> values, row;
    double seconds = 0;
    while (reader.next(row, seconds)) values.insert(values.end(), row.begin(), row.end());
    EXPECT_EQ(values, (std::vector<float>{1.5, 2.5, 3.5, 4.5, 5.5, 6.5}));
    std::stringstream again(pandas_csv);
    const Error e = error_of([&] { lara::RowReader(again, "stdin", with_timestamp(TimestampColumn::none)); });
    EXPECT_NE(std::string(e.what()).find("stdin:1:1: field 1 has no name"), std::string::npos) << e.what();
}

TEST(RowReader, ABlankLineIsAnErrorOnlyOnceARowFollowsIt) {
    std::stringstream trailing("1,2\n3,4\n\n\n");
    lara::RowReader ends(trailing, "stdin");
    std::vector<float> row;
    double seconds = 0;
    int rows_read = 0;
    while (ends.next(row, seconds)) ++rows_read;
    EXPECT_EQ(rows_read, 2);

    std::stringstream gap("1,2\n\n3,4\n");
    lara::RowReader reader(gap, "stdin");
    ASSERT_TRUE(reader.next(row, seconds));
    const Error e = error_of([&] { reader.next(row, seconds); });
    EXPECT_NE(std::string(e.what()).find("stdin:2:1: blank line"), std::string::npos) << e.what();
}
