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

}  // namespace lara::core
