// lara/evaluate.h: accuracy of a `lara score` CSV against label files (what `lara evaluate` prints).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "lara/config.h"  // its guard on the json objects this API passes

namespace lara {

struct EvaluateSpec {
    std::string scores;          // CSV from `lara score`: index,score,threshold,anomaly,top_metrics
    std::string labels;          // one 0/1 per line for every data row of the scored file
    std::string interpretation;  // optional ("" = none): lines `a-b:d1,d2,...` naming each segment's causes
    int n_metrics = 0;           // optional (0 = unknown): the scored file's metrics, past which a dimension is an error
};

//! Compares the score file's rows with labels[index] (the label file is read whole, so `index` is
//! its line) and returns one JSON object:
//!   precision, recall, f1  point-wise, of the file's own `anomaly` column: the model's label-free
//!                          threshold, the headline numbers
//!   best_f1                the best point-wise F1 over every threshold; picks it with the test labels
//!   pa_f1                  point-adjusted F1 of `anomaly`: inflated, for comparison with older papers
//!   auc_pr                 average precision of the scores; null when no scored row is labelled
//!   n_rows, n_anomalies, anomaly_ratio   scored rows, labelled ones among them, their ratio
//!   notes                  a sentence per metric saying what it is and whether it uses labels
// With an interpretation file it adds hitrate_100 and hitrate_150 (HitRate@P%, ranking by
// top_metrics; ranks past `lara score --top K` count as misses) and interpretation_end. Only the
// segment rows inside [first index, last index] of the score file count, as no other row is
// ranked. Whether `a-b` means rows [a, b) (SMD) or [a, b] (ASD) is told from the labels: the
// reading under which the union of the segments disagrees with the labels on fewer rows wins,
// exclusive on a tie.
// Throws lara::Error (data) for a bad file, an index past the label file, an interpretation that
// agrees with the labels under neither convention, one with a segment past the label file's rows or
// a dimension past n_metrics, or one with no segment in the scored rows.
nlohmann::json evaluate(const EvaluateSpec& spec);

}  // namespace lara
