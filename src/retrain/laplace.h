// The ruminate block's target and its Laplace approximation (docs/method.md). The target of a new
// window is the posterior of z given the window and its n restored windows; its mode is far from
// the encoder mean and far narrower than q(z|x), so the default proposal is a Gaussian at the mode:
// Newton steps find the mode, the Hessian there is the proposal's precision.
#pragma once

#include <torch/torch.h>

#include "model/reconstructor.h"

namespace lara::retrain {

//! log p(z) + Σ_{j=0..n} log p(x_j | z) for the new windows x_0 and their n restored windows, from
//! their sufficient statistics: Σ_j (x_j − μ)² = scatter + (n+1)(x̄ − μ)², so one decode scores all.
//! Both terms are non-negative; the expanded form S2 − 2μ S1 + (n+1)μ² cancels in float32 and was
//! off by about a nat for windows near the normaliser's clip.
struct LogTarget {
    const model::Reconstructor& model;
    torch::Tensor centre, scatter;  // [K, w·d]: x̄ = Σ_j x_j / (n+1) and Σ_j (x_j − x̄)²
    double count;                   // n + 1

    //! windows: [K, n + 1, w·d], each new window with its restored ones (float64 sums, float32 kept).
    static LogTarget of_windows(const model::Reconstructor& model, const torch::Tensor& windows);

    //! z: [B, K, m] → [B, K].
    torch::Tensor operator()(const torch::Tensor& z) const;
    //! The same from the decoder's output at z: mean and var [B, K, w·d].
    torch::Tensor of(const torch::Tensor& z, const torch::Tensor& mean, const torch::Tensor& var) const;
};

//! The log target at z [K, m] to second order: its gradient [K, m] and the precision [K, m, m]
//! (float64): minus the Hessian, made positive definite by
//! taking its eigenvalues in absolute value, floored at 10⁻³. Exact from the decoder's jet where it
//! has one (the MLP); else the autograd gradient and the forward difference of it along each latent
//! axis (the m + 1 points of every window in one batched backward pass).
struct SecondOrder {
    torch::Tensor gradient;
    torch::Tensor eigenvalues, eigenvectors;  // of the precision, [K, m] (each ≥ 10⁻³) and [K, m, m]
    torch::Tensor precision() const;          // V diag(eigenvalues) Vᵀ
};
SecondOrder expand(const LogTarget& target, const torch::Tensor& z);
//! The finite-difference expansion whatever the decoder (what expand falls back to).
SecondOrder expand_numerically(const LogTarget& target, const torch::Tensor& z);

//! A Gaussian with a full precision matrix P = L Lᵀ per window (mean [K, m], L [K, m, m], float64:
//! the curvatures of the target span many orders of magnitude).
struct FullGaussian {
    torch::Tensor mean, chol;

    torch::Tensor sample(std::int64_t N) const;                // [N, K, m], float32, from the thread's generator
    torch::Tensor log_density(const torch::Tensor& z) const;   // z [N, K, m] → [N, K]
};

//! The proposal N(mode, P⁻¹) and the Newton steps that found the mode.
struct LaplaceFit {
    FullGaussian proposal;
    std::int64_t steps = 0;
};

//! Newton steps from `start` [K, m] towards the mode, at most `max_steps`, until every window's
//! Newton decrement ∇ᵀP⁻¹∇ is below 10⁻² (docs/method.md); P, the precision of expand() there.
LaplaceFit laplace(const LogTarget& target, const torch::Tensor& start, std::int64_t max_steps);

}  // namespace lara::retrain
