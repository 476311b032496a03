// A deterministic synthetic service: correlated metrics with daily seasonality and noise,
// injected anomalies, and a change of normal pattern late in the series. It serves `lara demo`,
// the tests and the benchmarks alike.
#pragma once

#include <vector>

#include "lara/series.h"

namespace lara::data {

struct SyntheticConfig {
    std::int64_t n_rows = 8000;      // time steps (5-minute slots: 288 a day)
    std::int64_t n_metrics = 12;     // 10–20 is typical of a service
    std::int64_t period = 288;       // steps per day
    std::int64_t change_at = 6000;   // first row of the new normal pattern; n_rows or more: no change
    std::int64_t clean_until = 4000; // no anomalies are injected before this row (the training part)
    double anomaly_fraction = 0.05;  // share of rows inside injected anomaly segments, after clean_until
    std::uint64_t seed = 7;
};

struct SyntheticSeries {
    Series series;
    std::vector<int> labels;  // 1 inside injected anomaly segments
};

//! The new pattern is a fixed affine change of a third of the metrics (their level and amplitude
//! move): the kind of change LARA's linear maps are designed for.
SyntheticSeries make_synthetic(const SyntheticConfig& config);

}  // namespace lara::data
