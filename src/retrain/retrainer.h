// The retraining methods on K new windows, in one code path so that comparisons are fair:
// LARA (ruminate, then the two convex fits) with its ablations as RetrainConfig switches, and
// the baselines finetune and scratch. (renorm changes only the normaliser; see api/detector.)
#pragma once

#include <cmath>

#include <vector>

#include "lara/config.h"
#include "retrain/adjusted_model.h"

namespace lara::retrain {

struct LaraFit {
    explicit LaraFit(AdjustedModel start) : model(std::move(start)) {}
    AdjustedModel model;
    double ruminate_ms = 0, fit_ms = 0;
    // NaN where a stage was not fitted (an infinite ridge, --no-fit-z/x) or nothing was ruminated.
    double objective_z = std::nan(""), objective_x = std::nan("");  // f at the optimum of each stage
    double ess_mean = std::nan(""), ess_min = std::nan("");         // effective sample size over the ruminated windows
    std::int64_t newton_steps = 0;             // laplace proposal: steps taken to the target's mode
    std::int64_t n_ruminated = 0;              // windows that went through the ruminate block
    std::int64_t iterations = 0;               // iterative solver only, both stages
    bool converged = true;                     // iterative solver: both stages met the tolerance
    std::vector<double> loss_curve_z, loss_curve_x;
};

//! Fits new maps on top of `current` and returns it composed with them (same size).
LaraFit retrain_lara(const AdjustedModel& current, const torch::Tensor& windows, const RetrainConfig& config);

//! Every VAE weight of a copy of the base model fine-tuned on the windows (identity maps).
//! Throws lara::Error (usage) when `current` carries maps of an earlier LARA retraining.
AdjustedModel retrain_finetune(const AdjustedModel& current, const torch::Tensor& windows, const RetrainConfig& config);

//! A new VAE of the same architecture trained on the windows only; the maps of `current` are not
//! carried over. The caller keeps the old normaliser (docs/method.md says why).
AdjustedModel retrain_scratch(const AdjustedModel& current, const torch::Tensor& windows, const RetrainConfig& config);

}  // namespace lara::retrain
