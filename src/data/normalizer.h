// Per-metric standardisation fitted on training rows only and saved with the model.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "lara/series.h"

namespace lara::data {

//! x' = clip((x − mean) / scale, ±clip). Statistics are accumulated in double because
//! JumpStarter's raw metrics reach 1e8. A constant metric gets scale max(|mean|, 1), so any later
//! departure shows up relative to its level instead of dividing by zero. Clipping keeps one wild
//! value from dominating a window; a clipped value is still far outside the training range.
class Normalizer {
public:
    static constexpr double kDefaultClip = 10.0;

    static Normalizer fit(const Series& series, double clip = kDefaultClip);
    //! Normalised copy of the values, row-major like Series::values. Throws Error(data) on a metric-count mismatch.
    std::vector<float> transform(const Series& series) const;

    std::int64_t n_metrics() const { return static_cast<std::int64_t>(mean_.size()); }
    const std::vector<double>& mean() const { return mean_; }
    const std::vector<double>& scale() const { return scale_; }
    double clip() const { return clip_; }

    nlohmann::json to_json() const;
    static Normalizer from_json(const nlohmann::json& json);

private:
    std::vector<double> mean_, scale_;
    double clip_ = kDefaultClip;
};

//! A metric whose spread over a series is a few rows': without them (at most 10, and 1% of the
//! rows) its standard deviation is below `ratio` of the whole one, yet not zero. Scaled by it, the
//! other rows' variation shrinks to nearly nothing and the model cannot see that metric change (a
//! sentinel value or a unit error, such as 1e30). On the public benchmarks (JumpStarter, SMD, ASD;
//! train and test files) the smallest such ratio is 0.0014, 14 times the default.
struct DominatingRow {
    std::int64_t metric = 0, row = 0;  // row: the farthest of them, within the series (0-based)
    double value = 0, ratio = 0;       // its value; the deviation without them over the one with them
    std::int64_t rows = 1;             // how many rows hold the spread (the fewest that do)
};
std::vector<DominatingRow> rows_dominating_spread(const Series& series, double ratio = 1e-4);

}  // namespace lara::data
