// Small order statistics shared by thresholds, recalibration and benchmarks.
#pragma once

#include <algorithm>
#include <vector>

namespace lara::core {

//! The upper median (element size/2 in sorted order) of a non-empty sample; takes a copy to reorder.
inline double median(std::vector<double> values) {
    const auto mid = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
    std::nth_element(values.begin(), mid, values.end());
    return *mid;
}

//! The median absolute deviation from the median: a spread that a few outliers do not move.
inline double median_absolute_deviation(const std::vector<double>& values) {
    const double centre = median(values);
    std::vector<double> deviations;
    deviations.reserve(values.size());
    for (double v : values) deviations.push_back(v > centre ? v - centre : centre - v);
    return median(std::move(deviations));
}

}  // namespace lara::core
