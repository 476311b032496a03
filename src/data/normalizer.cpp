#include "data/normalizer.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "lara/error.h"

namespace lara::data {

Normalizer Normalizer::fit(const Series& series, double clip) {
    if (series.n_rows < 1) throw Error(ErrorKind::data, series.source + ": no rows to fit the normaliser on");
    const auto d = static_cast<std::size_t>(series.n_metrics);
    Normalizer n;
    n.clip_ = clip;
    n.mean_.assign(d, 0.0);
    n.scale_.assign(d, 0.0);
    // Two passes: the mean first, then squared deviations, which stays exact at 1e8 scales.
    for (std::int64_t r = 0; r < series.n_rows; ++r)
        for (std::size_t j = 0; j < d; ++j) n.mean_[j] += series.at(r, static_cast<std::int64_t>(j));
    for (auto& m : n.mean_) m /= static_cast<double>(series.n_rows);
    for (std::int64_t r = 0; r < series.n_rows; ++r)
        for (std::size_t j = 0; j < d; ++j) {
            const double dev = series.at(r, static_cast<std::int64_t>(j)) - n.mean_[j];
            n.scale_[j] += dev * dev;
        }
    for (std::size_t j = 0; j < d; ++j) {
        const double sd = std::sqrt(n.scale_[j] / static_cast<double>(series.n_rows));
        const double level = std::max(std::abs(n.mean_[j]), 1.0);
        n.scale_[j] = sd > 1e-7 * level ? sd : level;
    }
    return n;
}

namespace {

//! Where one metric too many is a first column of rising epoch seconds (2001 to 2100), which
//! `--timestamp detect` takes for a metric: the option that reads it as time.
std::string epoch_seconds_hint(const Series& series, std::int64_t expected) {
    if (series.n_metrics != expected + 1 || series.n_rows < 2 || !series.timestamps.empty()) return "";
    // Float32 keeps epoch seconds to 128 s: steps of a minute may read as equal.
    for (std::int64_t r = 0; r < series.n_rows; ++r) {
        const double t = series.at(r, 0);
        if (!(t >= 1e9 && t < 4.1e9) || (r > 0 && t < series.at(r - 1, 0))) return "";
    }
    if (!(series.at(series.n_rows - 1, 0) > series.at(0, 0))) return "";
    return " (its first column rises like epoch seconds: --timestamp first reads it as the time)";
}

}  // namespace

std::vector<DominatingRow> rows_dominating_spread(const Series& series, double ratio) {
    std::vector<DominatingRow> found;
    const auto n = series.n_rows;
    if (n < 3) return found;
    // A sentinel may repeat: up to 10 rows (and 1%) may be the few that hold the spread. More
    // would be a burst of the metric's own, which the public benchmarks have (their smallest
    // ratios: 0.02 without 1 row, 0.0014 without 10, 0.0003 without 38 of 5,760).
    const std::int64_t most = std::clamp<std::int64_t>(n / 100, 1, 10);
    std::vector<std::int64_t> order(static_cast<std::size_t>(n));
    for (std::int64_t j = 0; j < series.n_metrics; ++j) {
        double mean = 0.0, all = 0.0;
        for (std::int64_t r = 0; r < n; ++r) mean += series.at(r, j);
        mean /= static_cast<double>(n);
        for (std::int64_t r = 0; r < n; ++r) all += (series.at(r, j) - mean) * (series.at(r, j) - mean);
        if (!(all > 0.0)) continue;
        const double deviation = std::sqrt(all / static_cast<double>(n));
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
            return std::abs(series.at(a, j) - mean) < std::abs(series.at(b, j) - mean);
        });
        // Welford's sums over the rows nearest the mean first, so that the far ones never enter
        // the sums of the rows without them: each prefix of n − k rows gives the spread without
        // the k farthest. The fewest such rows that hide the rest are reported.
        double rest_mean = 0.0, rest_squares = 0.0;
        std::int64_t fewest = 0;
        double fewest_ratio = 0.0;
        for (std::int64_t c = 1; c < n; ++c) {
            const double x = series.at(order[static_cast<std::size_t>(c - 1)], j), step = x - rest_mean;
            rest_mean += step / static_cast<double>(c);
            rest_squares += step * (x - rest_mean);
            const std::int64_t left_out = n - c;
            if (left_out > most || !(rest_squares > 0.0)) continue;  // constant but for them: nothing hidden
            const double kept = std::sqrt(rest_squares / static_cast<double>(c)) / deviation;
            if (kept < ratio) fewest = left_out, fewest_ratio = kept;
        }
        if (fewest > 0) {
            const auto farthest = order.back();
            found.push_back({j, farthest, series.at(farthest, j), fewest_ratio, fewest});
        }
    }
    return found;
}

std::vector<float> Normalizer::transform(const Series& series) const {
    if (series.n_metrics != n_metrics())
        throw Error(ErrorKind::data, series.source + ": has " + std::to_string(series.n_metrics) + " metrics but the model was trained on " +
                                         std::to_string(n_metrics()) + epoch_seconds_hint(series, n_metrics()));
    std::vector<float> out(series.values.size());
    const auto d = static_cast<std::size_t>(n_metrics());
    for (std::size_t i = 0; i < out.size(); ++i) {
        const std::size_t j = i % d;
        const double z = (static_cast<double>(series.values[i]) - mean_[j]) / scale_[j];
        out[i] = static_cast<float>(std::clamp(z, -clip_, clip_));
    }
    return out;
}

nlohmann::json Normalizer::to_json() const { return {{"mean", mean_}, {"scale", scale_}, {"clip", clip_}}; }

Normalizer Normalizer::from_json(const nlohmann::json& json) {
    Normalizer n;
    n.mean_ = json.at("mean").get<std::vector<double>>();
    n.scale_ = json.at("scale").get<std::vector<double>>();
    n.clip_ = json.at("clip").get<double>();
    if (n.mean_.size() != n.scale_.size() || n.mean_.empty())
        throw Error(ErrorKind::model, "normaliser: mean and scale lengths differ");
    for (std::size_t j = 0; j < n.mean_.size(); ++j)
        if (!std::isfinite(n.mean_[j]) || !std::isfinite(n.scale_[j]) || n.scale_[j] <= 0)
            throw Error(ErrorKind::model, "normaliser: metric " + std::to_string(j) + " needs a finite mean and a positive scale");
    if (!(n.clip_ > 0)) throw Error(ErrorKind::model, "normaliser: clip must be positive");
    return n;
}

}  // namespace lara::data
