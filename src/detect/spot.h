// detect/spot.h: the SPOT anomaly threshold (Siffer et al., KDD 2017), batch version: a generalised
// Pareto tail fitted by maximum likelihood to the excesses of the scores over a high quantile.
#pragma once

#include <cstdint>
#include <vector>

namespace lara::detect {

struct SpotFit {
    double threshold = 0;         // z_q: a score above it has probability about q
    double init_threshold = 0;    // t: the empirical init_quantile of the scores
    double gamma = 0, sigma = 0;  // GPD shape and scale fitted to the excesses over t
    std::int64_t n = 0;           // number of scores
    std::int64_t n_peaks = 0;     // n_t: scores strictly above t
};

//! Fits the GPD tail of `scores` and returns the threshold z_q with P(X > z_q) = risk.
//! t = sorted[floor(init_quantile · n)] (the SPOT reference code's quantile); the peaks are the
//! scores strictly above t. Shape and scale are the maximum-likelihood estimates found through
//! Grimshaw's one-variable reduction, with the exponential tail (gamma = 0) as a candidate too.
//! A bounded tail whose profile likelihood has no maximum above shape -1 (uniform scores, say)
//! gets the exponential fit, as in SPOT's reference code: its threshold lies above every score
//! the tail reaches, so such a series raises no alarm at risk q (fewer false alarms, not more).
//! The fit is the same at any scale of the scores (the excesses are fitted in units of their largest).
//! When risk ≥ n_t / n the requested quantile lies below t, where the tail model does not apply;
//! the threshold is then the empirical (1 − risk) quantile, sorted[floor((1 − risk) · n)].
//! Throws lara::Error: usage for risk or init_quantile outside (0, 1); data for no scores, a
//! non-finite score, or fewer than 10 peaks.
SpotFit fit_spot(const std::vector<double>& scores, double risk, double init_quantile);

}  // namespace lara::detect
