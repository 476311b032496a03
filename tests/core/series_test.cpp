#include <gtest/gtest.h>

#include "lara/error.h"
#include "lara/series.h"

namespace {

//! 10 rows × 2 metrics whose values name their row (row r holds r and 100 + r), from data row 5 of a file.
lara::Series numbered() {
    lara::Series s;
    s.n_rows = 10;
    s.n_metrics = 2;
    for (int r = 0; r < 10; ++r) s.values.insert(s.values.end(), {float(r), float(100 + r)});
    s.first_row = 5;
    s.source = "numbered.csv";
    return s;
}

}  // namespace

TEST(Series, ASliceWithPastTakesUpToThatManyRowsBeforeItsStart) {
    const auto s = numbered();
    const auto [inside, past] = s.slice_with_past(6, 9, 4);
    EXPECT_EQ(past, 4);
    EXPECT_EQ(inside.n_rows, 7);
    EXPECT_EQ(inside.at(0, 0), 2.0f);     // row 6 − 4
    EXPECT_EQ(inside.at(past, 1), 106.0f); // the first row asked for
    EXPECT_EQ(inside.first_row, 7);       // data row 5 + 2

    const auto [near_start, few] = s.slice_with_past(2, 5, 4);  // only 2 rows before row 2
    EXPECT_EQ(few, 2);
    EXPECT_EQ(near_start.n_rows, 5);
    EXPECT_EQ(near_start.at(0, 0), 0.0f);

    EXPECT_EQ(s.slice_with_past(0, 3, 4).second, 0);
    EXPECT_THROW(s.slice_with_past(8, 11, 4), lara::Error);  // the slice itself is checked
    EXPECT_THROW(s.slice_with_past(2, 5, -1), lara::Error);
}
