// The ruminate block's target and its Laplace approximation (docs/method.md). The target of a new
// window is the posterior of z given the window and its n restored windows; its mode is far from
// the encoder mean and far narrower than q(z|x), so the default proposal is a Gaussian at the mode
// with the Fisher information as its precision.
#pragma once

#include <torch/torch.h>

#include "model/reconstructor.h"

namespace lara::retrain {

//! log p(z) + Σ_{j=0..n} log p(x_j | z) for the new windows x_0 and their n restored windows, from
//! their sufficient statistics: Σ_j (x_j − μ)² = S2 − 2μ S1 + (n+1) μ², so one decode scores all.
struct LogTarget {
    const model::Reconstructor& model;
    torch::Tensor S1, S2;  // [K, w·d]: Σ_j x_j and Σ_j x_j²
    double count;          // n + 1

    //! z: [B, K, m] → [B, K].
    torch::Tensor operator()(const torch::Tensor& z) const;
    //! The same from the decoder's output at z: mean and var [B, K, w·d].
    torch::Tensor of(const torch::Tensor& z, const torch::Tensor& mean, const torch::Tensor& var) const;
};

//! The log target at z [K, m] to second order: its value [K] (float32, as the target), gradient
//! [K, m] and Fisher information [K, m, m] (float64), I + Jμᵀ diag((n+1)/σ²) Jμ + Jσ²ᵀ diag((n+1)/2σ⁴) Jσ², which is
//! positive definite everywhere, unlike the Hessian.
struct Linearisation {
    torch::Tensor value, gradient, fisher;
};

//! The decoder's Jacobians come from forward differences along each latent axis: the m + 1 points
//! of every window are decoded as one batch, with no backward pass.
Linearisation linearise(const LogTarget& target, const torch::Tensor& z);

//! A Gaussian with a full precision matrix P = L Lᵀ per window (mean [K, m], L [K, m, m], float64:
//! the curvatures of the target span many orders of magnitude).
struct FullGaussian {
    torch::Tensor mean, chol;

    torch::Tensor sample(std::int64_t N) const;                // [N, K, m], float32, from the thread's generator
    torch::Tensor log_density(const torch::Tensor& z) const;   // z [N, K, m] → [N, K]
};

//! N(mode, F⁻¹) after `steps` Fisher-scoring steps from `start` [K, m] towards the mode.
FullGaussian laplace(const LogTarget& target, const torch::Tensor& start, std::int64_t steps);

}  // namespace lara::retrain
