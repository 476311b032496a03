// eval/score_file.h: a strict reader of the CSV that `lara score` writes,
//   index,score,threshold,anomaly,top_metrics
//   300,12.3456789,20.5,0,3;0;2
// so that it can be evaluated against label files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lara::eval {

//! One entry per data row, in file order.
struct ScoreFile {
    std::vector<std::int64_t> index;            // 0-based data row of the scored file, consecutive
    std::vector<double> score;
    std::vector<double> threshold;
    std::vector<int> anomaly;                   // 0 or 1
    std::vector<std::vector<int>> top_metrics;  // 0-based metrics, most anomalous first; empty unless asked for
};

//! Reads the exact header and at least one row; `\r\n` line ends are accepted, nothing else is
//! forgiven (no blank lines, spaces, NaN scores or `+` signs). Indices must be consecutive, as
//! `lara score` writes them, so that the rows cover one range of the label file without gaps or
//! repeats. Throws lara::Error (data) with "file:line:column: ..." (1-based) for anything else.
//! top_metrics is read (as 0-based indices) only `with_top_metrics`: only interpretation needs it,
//! and `lara score --top-names` writes names there.
ScoreFile read_score_file(const std::string& path, bool with_top_metrics = false);

}  // namespace lara::eval
