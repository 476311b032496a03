#include "data/normalizer.h"

#include <algorithm>
#include <cmath>

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

std::vector<DominatingRow> rows_dominating_spread(const Series& series, double ratio) {
    std::vector<DominatingRow> found;
    const auto n = series.n_rows;
    if (n < 3) return found;
    // Each deviation from the mean of the rows but `skip`, squared and summed, in two passes.
    const auto sum_of_squares = [&](std::int64_t j, std::int64_t skip) {
        double mean = 0.0;
        for (std::int64_t r = 0; r < n; ++r) mean += r == skip ? 0.0 : series.at(r, j);
        mean /= static_cast<double>(skip < 0 ? n : n - 1);
        double sum = 0.0;
        for (std::int64_t r = 0; r < n; ++r)
            if (r != skip) sum += (series.at(r, j) - mean) * (series.at(r, j) - mean);
        return std::pair{sum, mean};
    };
    for (std::int64_t j = 0; j < series.n_metrics; ++j) {
        const auto [all, mean] = sum_of_squares(j, -1);
        std::int64_t farthest = 0;
        for (std::int64_t r = 1; r < n; ++r)
            if (std::abs(series.at(r, j) - mean) > std::abs(series.at(farthest, j) - mean)) farthest = r;
        const double rest = sum_of_squares(j, farthest).first;
        if (!(all > 0.0) || !(rest > 0.0)) continue;  // constant, or constant but for one row: nothing hidden
        const double kept = std::sqrt((rest / static_cast<double>(n - 1)) / (all / static_cast<double>(n)));
        if (kept < ratio) found.push_back({j, farthest, series.at(farthest, j), kept});
    }
    return found;
}

std::vector<float> Normalizer::transform(const Series& series) const {
    if (series.n_metrics != n_metrics())
        throw Error(ErrorKind::data, series.source + ": has " + std::to_string(series.n_metrics) +
                                         " metrics but the model was trained on " + std::to_string(n_metrics()));
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
