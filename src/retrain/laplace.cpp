#include "retrain/laplace.h"

#include <cmath>

#include "model/random.h"

namespace lara::retrain {
namespace {
const double kLog2Pi = std::log(2.0 * M_PI);

//! A symmetric matrix [K, m, m] with each eigenvalue replaced by its absolute value, floored at
//! 10⁻³: positive definite, and where the target curves upwards (away from the mode) it still
//! points uphill ("saddle-free" Newton).
torch::Tensor saddle_free(const torch::Tensor& symmetric) {
    const auto [values, vectors] = torch::linalg_eigh(symmetric);
    return torch::matmul(vectors * values.abs().clamp_min(1e-3).unsqueeze(1), vectors.transpose(1, 2));
}

// Forward differences along each latent axis: z and z + h e_i, i = 1..m, as [m + 1, K, m].
constexpr double kStep = 1e-3;
torch::Tensor probe_points(const torch::Tensor& z) {
    return torch::cat({z.unsqueeze(0), z.unsqueeze(0) + kStep * torch::eye(z.size(1)).unsqueeze(1)});
}

}  // namespace

LogTarget LogTarget::of_windows(const model::Reconstructor& model, const torch::Tensor& windows) {
    const auto x = windows.to(torch::kFloat64);
    const auto centre = x.mean(1);
    const auto scatter = (x - centre.unsqueeze(1)).square().sum(1);
    return {model, centre.to(torch::kFloat32), scatter.to(torch::kFloat32), static_cast<double>(windows.size(1))};
}

torch::Tensor LogTarget::operator()(const torch::Tensor& z) const {
    const auto B = z.size(0), K = z.size(1), m = z.size(2);
    const auto p = model.decode(z.reshape({B * K, m}));
    return of(z, p.mean.view({B, K, -1}), p.var.view({B, K, -1}));
}

torch::Tensor LogTarget::of(const torch::Tensor& z, const torch::Tensor& mean, const torch::Tensor& var) const {
    const auto squares = scatter + count * (centre - mean).square();
    const auto log_likelihood = -0.5 * (count * (kLog2Pi + var.log()) + squares / var).sum(2);
    return -0.5 * (z.square().sum(2) + static_cast<double>(z.size(2)) * kLog2Pi) + log_likelihood;
}

torch::Tensor FullGaussian::sample(std::int64_t N) const {  // z = μ + L⁻ᵀ ε
    const auto eps = torch::randn({mean.size(0), mean.size(1), N}, model::thread_random()).to(torch::kFloat64);
    const auto offset = torch::linalg_solve_triangular(chol.transpose(1, 2), eps, /*upper=*/true);  // [K, m, N]
    return (mean.unsqueeze(0) + offset.permute({2, 0, 1})).to(torch::kFloat32);
}

torch::Tensor FullGaussian::log_density(const torch::Tensor& z) const {
    const auto m = static_cast<double>(mean.size(1));
    const auto diff = (z.to(torch::kFloat64) - mean.unsqueeze(0)).permute({1, 2, 0});  // [K, m, N]
    const auto white = torch::matmul(chol.transpose(1, 2), diff);                       // Lᵀ (z − μ)
    const auto log_det = 2.0 * chol.diagonal(0, 1, 2).log().sum(1);                     // log det P, [K]
    return (-0.5 * (white.square().sum(1) + m * kLog2Pi - log_det.unsqueeze(1))).transpose(0, 1).to(torch::kFloat32);
}

//! Where the decoder has no closed-form derivatives: the Hessian as forward differences of autograd
//! gradients, which costs about 2.9 decoder passes at the m + 1 points. Gauss-Newton, from forward
//! differences of the decoder's outputs alone, would be cheaper but leaves out the decoder's own
//! curvature, and near the mode its steps crept (15 of them left the ESS of a softplus model at 47
//! of 64 on JumpStarter service 0; 7 Newton steps reach 63.7).
SecondOrder expand_numerically(const LogTarget& target, const torch::Tensor& z) {
    const auto m = z.size(1);
    torch::AutoGradMode grad_mode(true);
    const auto points = probe_points(z).detach().requires_grad_();
    const auto values = target(points);
    const auto g = torch::autograd::grad({values.sum()}, {points})[0].to(torch::kFloat64);  // [m + 1, K, m]
    const auto hessian = ((g.narrow(0, 1, m) - g[0].unsqueeze(0)) / kStep).permute({1, 0, 2});   // [K, m, m]
    return {values[0].detach(), g[0], saddle_free(-0.5 * (hessian + hessian.transpose(1, 2)))};
}

//! With the decoder's jet, exactly: per output, the log-likelihood's derivatives in (mean, var),
//! through the Jacobians (the Gauss-Newton part) and the decoder's curvature weighted by the first
//! derivatives: one Jacobian product at the K points, about 60% of the finite differences' time
//! (`lara_microbench`).
SecondOrder expand(const LogTarget& target, const torch::Tensor& z) {
    torch::NoGradGuard no_grad;  // the derivatives are all in the jet
    const auto jet = target.model.decode_jet(z);
    if (!jet) return expand_numerically(target, z);
    const auto n = target.count;
    const auto mean = jet->at.mean.to(torch::kFloat64), var = jet->at.var.to(torch::kFloat64);
    const auto gap = target.centre.to(torch::kFloat64) - mean;
    const auto squares = target.scatter.to(torch::kFloat64) + n * gap.square();
    // ℓ = −½ Σ_o n log var + squares / var (+ constants).
    const auto g_mean = n * gap / var;
    const auto g_var = 0.5 * (squares / var - n) / var;
    const auto h_mean = -n / var, h_cross = -g_mean / var, h_var = (0.5 * n - squares / var) / var.square();
    // D J beside the gradient's weights, for the Gauss-Newton part Jᵀ D J and the gradient Jᵀ g in
    // one product: D holds each output's 2 × 2 block of second derivatives in (mean, var).
    const auto m = z.size(1), wd = mean.size(1);
    const auto& J = jet->jacobian;  // [K, m, 2·w·d]
    const auto Jm = J.narrow(2, 0, wd), Jv = J.narrow(2, wd, wd);
    const auto row = [](const torch::Tensor& h) { return h.unsqueeze(1); };
    const auto DJ = torch::cat({row(h_mean) * Jm + row(h_cross) * Jv, row(h_cross) * Jm + row(h_var) * Jv}, 2);
    const auto products = torch::bmm(J, torch::cat({DJ, row(torch::cat({g_mean, g_var}, 1))}, 1).transpose(1, 2));  // [K, m, m + 1]
    const auto hessian = products.narrow(2, 0, m) + jet->curvature(g_mean, g_var) - torch::eye(m, torch::kFloat64);
    const auto gradient = products.select(2, m) - z.to(torch::kFloat64);
    return {target.of(z.unsqueeze(0), jet->at.mean.unsqueeze(0), jet->at.var.unsqueeze(0))[0], gradient,
            saddle_free(-0.5 * (hessian + hessian.transpose(1, 2)))};
}

//! The Laplace approximation of the target: Newton steps from the encoder mean towards the mode,
//! then a Gaussian there with the Hessian's precision. Each step solves (P + λI) δ = ∇ with λ a
//! Levenberg-Marquardt damping per window, decodes z + sδ for s = 4, 1, 1/4, 1/16, 1/64 in one batch
//! and moves to the best of them if it raises the target: far from the mode whole steps are too
//! short, near it they can overshoot. It stops once every window's Newton decrement ∇ᵀP⁻¹∇, the
//! squared distance to the mode in the proposal's own metric, is below kConverged: a proposal that
//! far off the mode loses about that fraction of its ESS. The last step's precision is then the
//! proposal's, at no extra cost.
LaplaceFit laplace(const LogTarget& target, const torch::Tensor& start, std::int64_t max_steps) {
    constexpr double kConverged = 1e-2;
    const auto K = start.size(0), m = start.size(1);
    const auto eye = torch::eye(m, torch::kFloat64);
    const auto scales = torch::tensor({4.0f, 1.0f, 0.25f, 0.0625f, 0.015625f}).view({-1, 1, 1});
    constexpr std::int64_t kWholeStep = 1;  // index of s = 1 in scales
    auto z = start.clone();
    auto damping = torch::ones({K, 1, 1}, torch::kFloat64);
    for (std::int64_t step = 0;; ++step) {
        const auto local = expand(target, z);
        const auto chol = torch::linalg_cholesky(local.precision);
        const auto decrement = (local.gradient * torch::cholesky_solve(local.gradient.unsqueeze(2), chol).squeeze(2)).sum(1);
        if (step == max_steps || decrement.max().item<double>() < kConverged) return {{z.to(torch::kFloat64), chol}, step};
        const auto delta = torch::cholesky_solve(local.gradient.unsqueeze(2), torch::linalg_cholesky(local.precision + damping * eye)).squeeze(2);
        const auto candidates = z.unsqueeze(0) + scales * delta.to(torch::kFloat32).unsqueeze(0);  // [5, K, m]
        const auto [best, which] = target(candidates).max(0);                                      // [K]
        const auto moved = best > local.value;
        z = torch::where(moved.unsqueeze(1), candidates.gather(0, which.view({1, K, 1}).expand({1, K, m})).squeeze(0), z);
        // Trust the model more after a whole (or longer) step, less after a cut one.
        damping = torch::where((moved & (which <= kWholeStep)).view({K, 1, 1}), damping * 0.3, damping * 4.0);
    }
}

}  // namespace lara::retrain
