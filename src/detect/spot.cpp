#include "detect/spot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "lara/error.h"

namespace lara::detect {
namespace {

constexpr std::int64_t min_peaks = 10;

//! A number as %g writes it: std::to_string would print a risk of 1e-6 as 0.000001 and 1e-9 as 0.
std::string text(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", value);
    return buffer;
}

double empirical_quantile(const std::vector<double>& sorted, double level) {
    const auto index = static_cast<std::size_t>(std::floor(level * static_cast<double>(sorted.size())));
    return sorted[std::min(index, sorted.size() - 1)];
}

struct Candidate {
    double x = 0, gamma = 0, sigma = 0;
    double log_likelihood = -std::numeric_limits<double>::infinity();
};

// Grimshaw's reduction: for a fixed x = gamma / sigma the GPD likelihood is maximised by
// gamma(x) = mean(log(1 + x Y)) and sigma = gamma / x, which leaves
// log L(x) = -n log sigma - (1 + 1/gamma) sum log(1 + x Y) = -n log sigma - n (1 + gamma).
// It is continuous through x = 0, where it is the exponential tail's (gamma = 0, sigma = mean Y).
class ProfileLikelihood {
public:
    explicit ProfileLikelihood(const std::vector<double>& peaks) : peaks_(peaks) {
        for (double y : peaks_) mean_ += y;
        mean_ /= static_cast<double>(peaks_.size());
    }

    Candidate at(double x) const {
        const auto n = static_cast<double>(peaks_.size());
        Candidate c;
        c.x = x;
        if (x == 0) {
            c.sigma = mean_;
        } else {
            for (double y : peaks_) c.gamma += std::log1p(x * y);
            c.gamma /= n;
            c.sigma = c.gamma / x;
        }
        const double ll = -n * std::log(c.sigma) - n * (1 + c.gamma);
        // Rounding can break sigma > 0 very near the domain's edge; such points simply lose.
        if (c.sigma > 0 && std::isfinite(ll)) c.log_likelihood = ll;
        return c;
    }

    double mean() const { return mean_; }

private:
    const std::vector<double>& peaks_;
    double mean_ = 0;
};

const Candidate& better(const Candidate& a, const Candidate& b) {
    return b.log_likelihood > a.log_likelihood ? b : a;
}

// Golden-section search for the maximum in [lo, hi], a grid bracket around a local maximum.
Candidate refine(const ProfileLikelihood& profile, double lo, double hi, Candidate best) {
    const double inv_phi = (std::sqrt(5.0) - 1) / 2;
    double a = lo, b = hi;
    Candidate c = profile.at(b - inv_phi * (b - a));
    Candidate d = profile.at(a + inv_phi * (b - a));
    for (int iteration = 0; iteration < 200 && b - a > 1e-14 * (std::abs(a) + std::abs(b)); ++iteration) {
        if (c.log_likelihood >= d.log_likelihood) {
            b = d.x;
            d = c;
            c = profile.at(b - inv_phi * (b - a));
        } else {
            a = c.x;
            c = d;
            d = profile.at(a + inv_phi * (b - a));
        }
    }
    return better(best, better(c, d));
}

// The grid of x over (-1/max Y, upper]: dense near both ends of the negative side and log-spaced
// on the positive side, since the maximum can sit many orders of magnitude from 1/max Y.
// Grimshaw (1993) shows every stationary point with x > 0 lies below 2 (mean Y - min Y) / min Y²;
// past e^50 / min Y the shape exceeds 50, so that caps the grid when min Y is tiny. The positive
// side is spaced in log x so that extreme ratios of max Y to min Y cannot overflow.
std::vector<double> search_grid(double y_min, double y_mean, double y_max) {
    std::vector<double> grid{0.0};
    // x · max Y from -1.5e-8 to -1 + 7e-13, logistic in k so that both ends are dense.
    for (int k = -144; k <= 224; ++k) grid.push_back(-1 / (1 + std::exp(-k / 8.0)) / y_max);
    const double log_lo = std::log(1e-8) - std::log(y_max);
    const double log_hi =
        std::min(std::log(2.0) + std::log(y_mean - y_min) - 2 * std::log(y_min), 50 - std::log(y_min));
    if (y_mean > y_min && log_hi > log_lo) {
        const int steps = static_cast<int>(std::ceil(16 * (log_hi - log_lo) / std::log(10.0)));
        for (int k = 0; k <= steps; ++k) grid.push_back(std::exp(log_lo + (log_hi - log_lo) * k / steps));
    }
    std::sort(grid.begin(), grid.end());
    grid.erase(std::unique(grid.begin(), grid.end()), grid.end());
    return grid;
}

// The maximum-likelihood GPD over the interior local maxima of the profile and the exponential.
// Only interior maxima count: the likelihood grows without bound as x approaches -1/max Y
// (shape below -1), which is not a usable fit. The peaks are fitted in units of their maximum, so
// that no sum overflows and the fit is the same at any scale of the scores.
Candidate fit_gpd(const std::vector<double>& peaks_in) {
    const double unit = *std::max_element(peaks_in.begin(), peaks_in.end());
    std::vector<double> peaks;
    peaks.reserve(peaks_in.size());
    for (double y : peaks_in) peaks.push_back(y / unit);
    const ProfileLikelihood profile(peaks);
    const std::vector<double> grid = search_grid(*std::min_element(peaks.begin(), peaks.end()), profile.mean(), 1.0);
    std::vector<Candidate> values;
    values.reserve(grid.size());
    for (double x : grid) values.push_back(profile.at(x));

    Candidate best = profile.at(0);
    for (std::size_t i = 1; i + 1 < values.size(); ++i) {
        if (values[i].log_likelihood > values[i - 1].log_likelihood &&
            values[i].log_likelihood >= values[i + 1].log_likelihood)
            best = better(best, refine(profile, grid[i - 1], grid[i + 1], values[i]));
    }
    best.sigma *= unit;
    return best;
}

}  // namespace

SpotFit fit_spot(const std::vector<double>& scores, double risk, double init_quantile) {
    if (!(risk > 0 && risk < 1))
        throw Error(ErrorKind::usage, "SPOT risk q must be in (0, 1), got " + text(risk));
    if (!(init_quantile > 0 && init_quantile < 1))
        throw Error(ErrorKind::usage, "SPOT initial quantile must be in (0, 1), got " + text(init_quantile));
    if (scores.empty()) throw Error(ErrorKind::data, "SPOT needs scores to fit, got none");
    for (std::size_t i = 0; i < scores.size(); ++i) {
        if (!std::isfinite(scores[i]))
            throw Error(ErrorKind::data, "SPOT score " + std::to_string(i) + " is not finite");
    }

    std::vector<double> sorted = scores;
    std::sort(sorted.begin(), sorted.end());
    SpotFit fit;
    fit.n = static_cast<std::int64_t>(sorted.size());
    fit.init_threshold = empirical_quantile(sorted, init_quantile);

    std::vector<double> peaks;
    for (auto it = std::upper_bound(sorted.begin(), sorted.end(), fit.init_threshold); it != sorted.end(); ++it)
        peaks.push_back(*it - fit.init_threshold);
    fit.n_peaks = static_cast<std::int64_t>(peaks.size());
    if (fit.n_peaks < min_peaks)
        throw Error(ErrorKind::data, "SPOT needs at least " + std::to_string(min_peaks) + " scores above the initial " +
                                         "threshold, got " + std::to_string(fit.n_peaks) + " of " +
                                         std::to_string(fit.n) + "; use more scores or a lower initial quantile");

    const Candidate gpd = fit_gpd(peaks);
    fit.gamma = gpd.gamma;
    fit.sigma = gpd.sigma;

    const double ratio = risk * static_cast<double>(fit.n) / static_cast<double>(fit.n_peaks);
    if (ratio >= 1) {
        fit.threshold = empirical_quantile(sorted, 1 - risk);
        return fit;
    }
    // (sigma/gamma)(ratio^-gamma - 1), written with expm1 so that it tends to -sigma log(ratio) as gamma -> 0.
    const double log_ratio = std::log(ratio);
    const double excess = fit.gamma == 0 ? -log_ratio : std::expm1(-fit.gamma * log_ratio) / fit.gamma;
    fit.threshold = fit.init_threshold + fit.sigma * excess;
    if (!std::isfinite(fit.threshold))
        throw Error(ErrorKind::data, "SPOT tail is too heavy (shape " + text(fit.gamma) +
                                         ") to give a finite threshold at risk " + text(risk));
    return fit;
}

}  // namespace lara::detect
