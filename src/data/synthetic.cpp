#include "data/synthetic.h"

#include <cmath>
#include <random>

#include "lara/error.h"

namespace lara::data {

SyntheticSeries make_synthetic(const SyntheticConfig& c) {
    if (c.n_rows < 1 || c.n_metrics < 2 || c.period < 2)
        throw Error(ErrorKind::usage, "synthetic series: n_rows ≥ 1, n_metrics ≥ 2 and period ≥ 2 are required");
    std::mt19937_64 rng(c.seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    const auto d = static_cast<std::size_t>(c.n_metrics);
    const std::size_t n_factors = 3;

    // Each metric mixes three daily factors (two harmonics and a slow drift), so metrics are correlated.
    std::vector<double> loading(d * n_factors), level(d), noise(d);
    for (std::size_t j = 0; j < d; ++j) {
        for (std::size_t f = 0; f < n_factors; ++f) loading[j * n_factors + f] = normal(rng);
        level[j] = 10.0 * uniform(rng);
        noise[j] = 0.05 + 0.1 * uniform(rng);
    }
    SyntheticSeries out;
    auto& s = out.series;
    s.n_rows = c.n_rows;
    s.n_metrics = c.n_metrics;
    s.values.resize(static_cast<std::size_t>(c.n_rows) * d);
    s.source = "synthetic(seed=" + std::to_string(c.seed) + ")";
    for (std::size_t j = 0; j < d; ++j) s.metric_names.push_back("metric" + std::to_string(j));
    out.labels.assign(static_cast<std::size_t>(c.n_rows), 0);

    double drift = 0.0;
    for (std::int64_t t = 0; t < c.n_rows; ++t) {
        const double phase = 2.0 * M_PI * static_cast<double>(t) / static_cast<double>(c.period);
        drift = 0.995 * drift + 0.05 * normal(rng);
        const double factors[3] = {std::sin(phase), 0.5 * std::sin(2.0 * phase + 1.0), drift};
        for (std::size_t j = 0; j < d; ++j) {
            double v = level[j] + noise[j] * normal(rng);
            for (std::size_t f = 0; f < n_factors; ++f) v += loading[j * n_factors + f] * factors[f];
            s.values[static_cast<std::size_t>(t) * d + j] = static_cast<float>(v);
        }
    }
    // The new normal: a third of the metrics change level and amplitude (a release that moves
    // traffic, a resized machine), which is an affine change of the old pattern.
    for (std::int64_t t = c.change_at; t < c.n_rows; ++t) {
        float* row = &s.values[static_cast<std::size_t>(t) * d];
        for (std::size_t j = 0; j < d; j += 3) row[j] = static_cast<float>(0.5 * row[j] + 3.0);
    }
    // Anomalies: segments of 5–20 steps where 1–3 metrics jump, or freeze, or lose their correlation.
    std::int64_t budget = static_cast<std::int64_t>(c.anomaly_fraction * static_cast<double>(c.n_rows - c.clean_until));
    std::uniform_int_distribution<std::int64_t> start(c.clean_until + 50, std::max(c.clean_until + 50, c.n_rows - 25));
    while (budget > 0 && c.n_rows - c.clean_until > 100) {
        const std::int64_t length = 5 + static_cast<std::int64_t>(uniform(rng) * 16.0);
        const std::int64_t at = start(rng);
        // The 43 rows after a change of pattern are kept clean: they are the retraining data.
        if (at + length > c.change_at - 5 && at < c.change_at + 60) continue;
        const int kind = static_cast<int>(uniform(rng) * 3.0);
        const std::size_t n_hit = 1 + static_cast<std::size_t>(uniform(rng) * 3.0);
        for (std::size_t h = 0; h < n_hit; ++h) {
            const auto j = static_cast<std::size_t>(uniform(rng) * static_cast<double>(d));
            const double jump = (uniform(rng) < 0.5 ? -1.0 : 1.0) * (2.0 + 2.0 * uniform(rng));
            const float frozen = s.values[static_cast<std::size_t>(at) * d + j];
            for (std::int64_t t = at; t < std::min(at + length, c.n_rows); ++t) {
                float& v = s.values[static_cast<std::size_t>(t) * d + j];
                if (kind == 0) v = static_cast<float>(v + jump);
                else if (kind == 1) v = frozen + static_cast<float>(jump);
                else v = static_cast<float>(level[j] + 2.0 * normal(rng));
            }
        }
        for (std::int64_t t = at; t < std::min(at + length, c.n_rows); ++t) out.labels[static_cast<std::size_t>(t)] = 1;
        budget -= length;
    }
    return out;
}

}  // namespace lara::data
