#include "eval/paired.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "lara/error.h"

namespace lara::eval {

PairedSummary paired_summary(const std::vector<Difference>& differences, std::size_t resamples, std::uint64_t seed) {
    if (differences.empty()) throw Error(ErrorKind::usage, "paired summary: no differences");
    if (resamples < 2) throw Error(ErrorKind::usage, "paired summary: at least 2 resamples");
    std::map<std::string, std::pair<double, std::size_t>> sums;  // entity → (sum, count)
    for (const auto& d : differences) {
        auto& [sum, count] = sums[d.entity];
        sum += d.value;
        ++count;
    }
    std::vector<double> means;
    for (const auto& [entity, sum_count] : sums) means.push_back(sum_count.first / static_cast<double>(sum_count.second));

    PairedSummary out;
    out.entities = means.size();
    // A mean of differences that cancel exactly (+0.1 and −0.1) is rounding, not a win or a loss.
    constexpr double kTie = 1e-12;
    for (double m : means) {
        out.mean += m;
        out.better += m > kTie;
        out.worse += m < -kTie;
    }
    out.mean /= static_cast<double>(means.size());

    std::mt19937_64 generator(seed);
    std::uniform_int_distribution<std::size_t> pick(0, means.size() - 1);
    std::vector<double> resampled(resamples);
    for (auto& r : resampled) {
        double sum = 0;
        for (std::size_t i = 0; i < means.size(); ++i) sum += means[pick(generator)];
        r = sum / static_cast<double>(means.size());
    }
    std::sort(resampled.begin(), resampled.end());
    // The q-quantile as the ⌈q·R⌉-th smallest resample (the inverse of the empirical distribution).
    const auto quantile = [&](double q) {
        const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(resamples)));
        return resampled[std::clamp<std::size_t>(rank, 1, resamples) - 1];
    };
    out.low = quantile(0.025);
    out.high = quantile(0.975);
    return out;
}

}  // namespace lara::eval
