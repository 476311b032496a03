#include "detect/spot.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "lara/error.h"

namespace lara::detect {
namespace {

// Uniform on (0, 1) from the raw 64-bit stream, which (unlike std::uniform_real_distribution) is
// the same on every standard library.
double uniform01(std::mt19937_64& rng) { return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53; }

// GPD(gamma, sigma) by inverse CDF: P(X > x) = (1 + gamma x / sigma)^(-1/gamma).
std::vector<double> gpd_sample(double gamma, double sigma, std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<double> out(n);
    for (double& x : out) x = sigma / gamma * (std::pow(uniform01(rng), -gamma) - 1);
    return out;
}

// The level-p quantile of GPD(gamma, sigma): the x with P(X > x) = 1 - p.
double gpd_quantile(double gamma, double sigma, double p) { return sigma / gamma * (std::pow(1 - p, -gamma) - 1); }

// Golden-section search for the maximum of a unimodal f on [a, b].
template <typename F>
double argmax(F f, double a, double b) {
    const double r = (std::sqrt(5.0) - 1) / 2;
    for (int i = 0; i < 100; ++i) {
        const double c = b - r * (b - a), d = a + r * (b - a);
        if (f(c) >= f(d)) b = d;
        else a = c;
    }
    return (a + b) / 2;
}

// The GPD log likelihood of excesses Y in (shape, scale) directly, without Grimshaw's reduction.
double gpd_log_likelihood(const std::vector<double>& Y, double gamma, double sigma) {
    double sum = 0;
    for (double y : Y) {
        const double u = 1 + gamma * y / sigma;
        if (!(u > 0)) return -std::numeric_limits<double>::infinity();
        sum += std::log(u);
    }
    return -static_cast<double>(Y.size()) * std::log(sigma) - (1 + 1 / gamma) * sum;
}

// An independent maximum-likelihood fit: the scale maximised for each shape (on log sigma), the
// shape over a grid on [-0.9, 2] and then refined around the best grid point.
std::pair<double, double> independent_gpd_fit(const std::vector<double>& Y) {
    const double y_max = *std::max_element(Y.begin(), Y.end());
    const auto best_sigma = [&](double gamma) {
        const double lo = gamma < 0 ? std::log(-gamma * y_max) + 1e-9 : std::log(y_max) - 20;
        return std::exp(argmax([&](double s) { return gpd_log_likelihood(Y, gamma, std::exp(s)); }, lo, std::log(y_max) + 20));
    };
    const auto profile = [&](double gamma) { return gpd_log_likelihood(Y, gamma, best_sigma(gamma)); };
    double best = -0.9, best_value = profile(best);
    for (int k = 1; k <= 290; ++k) {
        const double g = -0.9 + 0.01 * k;
        if (std::abs(g) < 1e-9) continue;  // the exponential's limit, not this formula's
        if (const double value = profile(g); value > best_value) best = g, best_value = value;
    }
    const double gamma = argmax(profile, best - 0.01, best + 0.01);
    return {gamma, best_sigma(gamma)};
}

ErrorKind kind_of(const std::vector<double>& scores, double risk, double init_quantile) {
    try {
        fit_spot(scores, risk, init_quantile);
    } catch (const Error& e) {
        return e.kind();
    }
    return ErrorKind::internal;
}

TEST(Spot, ExponentialTailWorkedExample) {
    // n = 10000 scores: 9800 bulk values in [0, 5), t = 5 itself at sorted index floor(0.98 n) = 9800,
    // then n_t = 199 peaks t + Y_i. Y_i are the Exp(lambda = 2) quantiles at (i - 0.5) / 199 for
    // i = 1..198; the largest is chosen so that mean(Y^2) = 2 mean(Y)^2, the exponential's moment
    // identity. The profile likelihood's slope at x = 0 is n (mean(Y^2) / (2 mean Y) - mean Y), so it
    // vanishes there and the maximum-likelihood fit is exactly exponential: gamma = 0, sigma = mean Y.
    const double t = 5, lambda = 2, q = 1e-3;
    const int n_t = 199;
    std::vector<double> scores;
    for (int i = 0; i < 9800; ++i) scores.push_back(t * i / 9800.0);
    scores.push_back(t);
    std::vector<double> excess;
    for (int i = 1; i < n_t; ++i) excess.push_back(-std::log(1 - (i - 0.5) / n_t) / lambda);
    double s1 = 0, s2 = 0;
    for (double y : excess) s1 += y, s2 += y * y;
    // n_t (s2 + y^2) = 2 (s1 + y)^2  <=>  (n_t - 2) y^2 - 4 s1 y + n_t s2 - 2 s1^2 = 0, larger root.
    const double a = n_t - 2, b = -4 * s1, c = n_t * s2 - 2 * s1 * s1;
    excess.push_back((-b + std::sqrt(b * b - 4 * a * c)) / (2 * a));
    for (double y : excess) scores.push_back(t + y);
    std::reverse(scores.begin(), scores.end());  // the fit must not rely on the input order

    double mean_excess = 0;
    for (double y : excess) mean_excess += y;
    mean_excess /= n_t;

    const SpotFit fit = fit_spot(scores, q, 0.98);
    EXPECT_EQ(fit.n, 10000);
    EXPECT_EQ(fit.n_peaks, n_t);
    EXPECT_DOUBLE_EQ(fit.init_threshold, t);
    // The likelihood is flat at its maximum, so x = gamma / sigma is only found to about
    // sqrt(machine epsilon) / max Y; sigma and z_q inherit a relative error of order 1e-8.
    EXPECT_NEAR(fit.gamma, 0, 1e-6);
    EXPECT_NEAR(fit.sigma, mean_excess, 1e-7);
    EXPECT_NEAR(fit.sigma, 1 / lambda, 0.01);
    // z_q = t + sigma log(n_t / (q n)) = 5 + 0.50026 * log(199 / 10) ≈ 6.4961.
    EXPECT_NEAR(fit.threshold, t + mean_excess * std::log(n_t / (q * 10000)), 1e-6);
}

TEST(Spot, HeavyTailRecoversShapeScaleAndQuantile) {
    // Excesses of GPD(gamma, sigma) over t are GPD(gamma, sigma + gamma t). With n_t ≈ 8000 peaks
    // the shape's standard error is about (1 + gamma) / sqrt(n_t) ≈ 0.014.
    const double gamma = 0.25, sigma = 1, q = 1e-3;
    const std::vector<double> scores = gpd_sample(gamma, sigma, 400000, 7);
    const SpotFit fit = fit_spot(scores, q, 0.98);
    EXPECT_NEAR(fit.init_threshold, gpd_quantile(gamma, sigma, 0.98), 0.1);
    EXPECT_NEAR(fit.gamma, gamma, 0.05);
    EXPECT_NEAR(fit.sigma / (sigma + gamma * fit.init_threshold), 1, 0.05);
    const double truth = gpd_quantile(gamma, sigma, 1 - q);  // 4 (1000^0.25 - 1) ≈ 18.49
    EXPECT_NEAR(fit.threshold / truth, 1, 0.1);
}

TEST(Spot, BoundedTailStaysBelowItsEndpoint) {
    // gamma = -0.3, sigma = 1: the support ends at sigma / |gamma| = 3.33.
    const double gamma = -0.3, sigma = 1, q = 1e-3;
    const std::vector<double> scores = gpd_sample(gamma, sigma, 400000, 11);
    const SpotFit fit = fit_spot(scores, q, 0.98);
    EXPECT_NEAR(fit.gamma, gamma, 0.05);
    EXPECT_NEAR(fit.sigma / (sigma + gamma * fit.init_threshold), 1, 0.05);
    const double truth = gpd_quantile(gamma, sigma, 1 - q);  // 3.33 (1 - 0.001^0.3) ≈ 2.914
    EXPECT_NEAR(fit.threshold / truth, 1, 0.02);
    EXPECT_LT(fit.threshold, fit.init_threshold + fit.sigma / -fit.gamma);
}

TEST(Spot, ThresholdFollowsAnAffineChangeOfScale) {
    // z_q of a X + b is a z_q(X) + b: the search must not depend on the scores' units.
    const std::vector<double> scores = gpd_sample(0.1, 1, 20000, 3);
    std::vector<double> moved;
    for (double x : scores) moved.push_back(1e4 * x - 300);
    const SpotFit base = fit_spot(scores, 1e-4, 0.95);
    const SpotFit scaled = fit_spot(moved, 1e-4, 0.95);
    EXPECT_NEAR(scaled.gamma, base.gamma, 1e-6);
    EXPECT_NEAR(scaled.threshold, 1e4 * base.threshold - 300, 1e-6 * std::abs(1e4 * base.threshold));
    // At the ends of the double range too: sums of 1000 peaks near 1e307 would overflow.
    for (double unit : {1e306, 1e-300}) {
        std::vector<double> extreme;
        for (double x : scores) extreme.push_back(unit * x);
        const SpotFit fit = fit_spot(extreme, 1e-4, 0.95);
        EXPECT_NEAR(fit.gamma, base.gamma, 1e-6) << unit;
        EXPECT_NEAR(fit.threshold / unit, base.threshold, 1e-6 * base.threshold) << unit;
    }
}

TEST(Spot, IdenticalPeaksGiveTheExponentialFit) {
    // 900 bulk values i / 1000 and 100 scores of 5: t = sorted[floor(0.8995 * 1000)] = 0.899 and every
    // excess is 4.101. The profile likelihood then has no interior maximum, so the exponential wins:
    // z_q = t + 4.101 log(100 / (1e-3 * 1000)).
    std::vector<double> scores;
    for (int i = 0; i < 900; ++i) scores.push_back(i / 1000.0);
    scores.insert(scores.end(), 100, 5.0);
    const SpotFit fit = fit_spot(scores, 1e-3, 0.8995);
    EXPECT_EQ(fit.n_peaks, 100);
    EXPECT_EQ(fit.gamma, 0);
    EXPECT_NEAR(fit.sigma, 4.101, 1e-12);
    EXPECT_NEAR(fit.threshold, 0.899 + 4.101 * std::log(100.0), 1e-9);
    // Near the top of the double range the same peaks still fit exactly: summed unscaled, 100
    // excesses of 4e306 would overflow and tilt the profile away from the exponential.
    for (double& x : scores) x *= 1e306;
    const SpotFit huge = fit_spot(scores, 1e-3, 0.8995);
    EXPECT_EQ(huge.gamma, 0);
    EXPECT_NEAR(huge.sigma / 1e306, 4.101, 1e-9);
}

TEST(Spot, MatchesAnIndependentMaximumLikelihoodFit) {
    // 980 scores below t = 0, then 19 peaks at the GPD(0.4, 1) quantiles (i - 0.5) / 20. Their
    // maximum-likelihood shape (about 0.03) is far from 0.4, so only an exact fit lands on it.
    std::vector<double> scores, peaks;
    for (int i = 0; i < 980; ++i) scores.push_back(-(i + 1) / 980.0);
    scores.push_back(0);
    for (int i = 1; i <= 19; ++i) peaks.push_back((std::pow(1 - (i - 0.5) / 20, -0.4) - 1) / 0.4);
    scores.insert(scores.end(), peaks.begin(), peaks.end());
    const double q = 1e-3;
    const SpotFit fit = fit_spot(scores, q, 0.98);
    ASSERT_EQ(fit.init_threshold, 0);
    ASSERT_EQ(fit.n_peaks, 19);
    const auto [gamma, sigma] = independent_gpd_fit(peaks);
    EXPECT_NEAR(fit.gamma, gamma, 1e-6);
    EXPECT_NEAR(fit.sigma, sigma, 1e-6 * sigma);
    EXPECT_NEAR(fit.threshold, sigma / gamma * (std::pow(q * 1000 / 19, -gamma) - 1), 1e-5);
}

TEST(Spot, ABoundedTailWithoutAnInteriorMaximumTakesTheExponential) {
    // Uniform scores: the profile likelihood rises towards shape -1 without a maximum inside, and
    // the fit falls back to the exponential, as SPOT's reference code does. Its threshold lies
    // above every score the tail can reach, so such a series raises no alarm at risk q.
    std::mt19937_64 rng(1);
    std::vector<double> scores(5000);
    for (double& x : scores) x = uniform01(rng);
    const SpotFit fit = fit_spot(scores, 1e-3, 0.98);
    EXPECT_EQ(fit.gamma, 0);
    EXPECT_GT(fit.threshold, 1.0);
}

TEST(Spot, RiskBelowTheInitialThresholdUsesTheEmpiricalQuantile) {
    // q n / n_t = 0.05 * 10000 / 200 = 2.5 >= 1: z_q would lie below t, outside the tail model.
    std::vector<double> scores = gpd_sample(0.2, 1, 10000, 5);
    const SpotFit fit = fit_spot(scores, 0.05, 0.98);
    std::sort(scores.begin(), scores.end());
    EXPECT_EQ(fit.threshold, scores[9500]);
    EXPECT_LT(fit.threshold, fit.init_threshold);
}

TEST(Spot, RejectsBadInput) {
    const std::vector<double> good = gpd_sample(0.1, 1, 1000, 1);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    EXPECT_EQ(kind_of({}, 1e-3, 0.98), ErrorKind::data);
    std::vector<double> bad = good;
    bad[17] = nan;
    EXPECT_EQ(kind_of(bad, 1e-3, 0.98), ErrorKind::data);
    bad[17] = inf;
    EXPECT_EQ(kind_of(bad, 1e-3, 0.98), ErrorKind::data);
    for (double risk : {0.0, 1.0, -0.1, nan}) EXPECT_EQ(kind_of(good, risk, 0.98), ErrorKind::usage);
    for (double level : {0.0, 1.0, 1.5, nan}) EXPECT_EQ(kind_of(good, 1e-3, level), ErrorKind::usage);
    // 1000 scores at level 0.995 leave 4 peaks; constant scores leave none.
    EXPECT_EQ(kind_of(good, 1e-3, 0.995), ErrorKind::data);
    EXPECT_EQ(kind_of(std::vector<double>(1000, 2.0), 1e-3, 0.9), ErrorKind::data);
    EXPECT_THROW(
        {
            try {
                fit_spot(good, 1e-3, 0.995);
            } catch (const Error& e) {
                EXPECT_NE(std::string(e.what()).find("at least 10"), std::string::npos) << e.what();
                throw;
            }
        },
        Error);
}

}  // namespace
}  // namespace lara::detect
