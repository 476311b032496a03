// The ruminate block's target and its Laplace approximation (docs/method.md). The target of a new
// window is the posterior of z given the window and its n restored windows; its mode is far from
// the encoder mean and far narrower than q(z|x), so the default proposal is a Gaussian at the mode:
// Gauss-Newton steps find the mode, the Hessian there is the proposal's precision.
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
//! [K, m] and a precision [K, m, m] (float64): the observed information of the Gaussian terms
//! carried through the decoder's Jacobians (Gauss-Newton: the decoder's own second derivatives left
//! out), I + Σ_e [Jμ_e Jσ²_e] (−∇²ℓ_e) [Jμ_e Jσ²_e]ᵀ, made positive definite by taking its
//! eigenvalues in absolute value. The observed rather than the expected (Fisher) information: for
//! a new pattern the residuals are far larger than the decoder's variance, and Fisher scoring,
//! which ignores them, crept towards the mode (on JumpStarter services 0, 7 and 13 of a softplus
//! model, 15 of its steps left the ESS at 1.1–1.9 of 64).
struct Linearisation {
    torch::Tensor value, gradient, precision;
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

//! N(mode, (−H)⁻¹) after `steps` Gauss-Newton steps from `start` [K, m] towards the mode, H the
//! Hessian of the log target there (its eigenvalues taken in absolute value and floored at 10⁻³).
FullGaussian laplace(const LogTarget& target, const torch::Tensor& start, std::int64_t steps);

}  // namespace lara::retrain
