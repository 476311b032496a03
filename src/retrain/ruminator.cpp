#include "retrain/ruminator.h"

#include <cmath>

#include "model/random.h"

namespace lara::retrain {
namespace {

// Windows ruminated at once: memory grows as N × windows × w × d, so many new windows are taken
// in chunks (32 windows of 40 × 19 with N = 64 hold about 6 MiB per tensor).
constexpr std::int64_t kWindowsPerChunk = 32;
// Laplace proposal: the smallest curvature kept makes the final covariance positive definite.
constexpr double kMinCurvature = 1e-3;

//! log p(z) + Σ_{j=0..n} log p(x_j | z) for the new window x_0 and its n restored windows, from
//! their sufficient statistics: Σ_j (x_j − μ)² = S2 − 2μ S1 + (n+1) μ², so one decode scores all.
struct LogTarget {
    const model::Reconstructor& model;
    torch::Tensor S1, S2;  // [K, w, d]
    double count;          // n + 1

    //! z: [B, K, m] → [B, K].
    torch::Tensor operator()(const torch::Tensor& z) const {
        const auto B = z.size(0), K = z.size(1), m = z.size(2);
        const auto p = model.decode(z.reshape({B * K, m}));
        const auto shape = std::vector<std::int64_t>{B, K, S1.size(1), S1.size(2)};
        const auto mean = p.mean.view(shape), var = p.var.view(shape);
        const auto squares = S2.unsqueeze(0) - 2.0 * mean * S1.unsqueeze(0) + count * mean.square();
        static const double log_2pi = std::log(2.0 * M_PI);
        const auto log_likelihood = -0.5 * (count * (log_2pi + var.log()) + squares / var).sum({2, 3});
        return -0.5 * (z.square().sum(2) + static_cast<double>(m) * log_2pi) + log_likelihood;
    }
};

//! A Gaussian proposal with a full precision matrix P = L Lᵀ per window (mean [K, m], L [K, m, m],
//! float64: the curvatures of the target span many orders of magnitude).
struct FullGaussian {
    torch::Tensor mean, chol;

    torch::Tensor sample(std::int64_t N) const {  // [N, K, m]: z = μ + L⁻ᵀ ε
        const auto eps = torch::randn({mean.size(0), mean.size(1), N}, model::thread_random()).to(torch::kFloat64);
        const auto offset = torch::linalg_solve_triangular(chol.transpose(1, 2), eps, /*upper=*/true);  // [K, m, N]
        return (mean.unsqueeze(0) + offset.permute({2, 0, 1})).to(torch::kFloat32);
    }
    torch::Tensor log_density(const torch::Tensor& z) const {  // [N, K]
        const auto m = static_cast<double>(mean.size(1));
        const auto diff = (z.to(torch::kFloat64) - mean.unsqueeze(0)).permute({1, 2, 0});     // [K, m, N]
        const auto white = torch::matmul(chol.transpose(1, 2), diff);                          // Lᵀ (z − μ)
        const auto log_det = 2.0 * chol.diagonal(0, 1, 2).log().sum(1);                        // log det P, [K]
        return (-0.5 * (white.square().sum(1) + m * std::log(2.0 * M_PI) - log_det.unsqueeze(1))).transpose(0, 1).to(torch::kFloat32);
    }
};

//! The gradient [K, m] and Hessian [K, m, m] of the log target at z [K, m]. The Hessian is the
//! forward difference of the gradient along each latent axis: the m + 1 points of every window go
//! through the decoder as one batch and one backward pass (the windows and points are independent),
//! which is several times faster than m double-backward passes.
std::pair<torch::Tensor, torch::Tensor> derivatives(const LogTarget& target, const torch::Tensor& z) {
    constexpr double kStep = 1e-3;
    const auto m = z.size(1);
    const auto points = torch::cat({z.unsqueeze(0), z.unsqueeze(0) + kStep * torch::eye(m).unsqueeze(1)}).detach().requires_grad_();
    const auto g = torch::autograd::grad({target(points).sum()}, {points})[0].to(torch::kFloat64);  // [m + 1, K, m]
    const auto hessian = ((g.narrow(0, 1, m) - g[0].unsqueeze(0)) / kStep).permute({1, 0, 2});   // [K, m, m]
    return {g[0].to(torch::kFloat32), 0.5 * (hessian + hessian.transpose(1, 2))};
}

//! The precision of the Laplace approximation: −H with each eigenvalue replaced by its absolute
//! value plus `damping` (so that it is positive definite even away from the mode, where −H need
//! not be: "saddle-free" Newton), in float64. hessian: [K, m, m], symmetric; damping: [K].
torch::Tensor precision_of(const torch::Tensor& hessian, const torch::Tensor& damping) {
    const auto [values, vectors] = torch::linalg_eigh(-hessian);
    const auto floored = values.abs() + damping.unsqueeze(1);
    return torch::matmul(vectors * floored.unsqueeze(1), vectors.transpose(1, 2));
}

//! The Laplace approximation of the target: damped saddle-free Newton steps (Levenberg-Marquardt
//! damping per window, with backtracking) from the encoder mean towards the mode, then
//! N(mode, (−H)⁻¹) with the full Hessian, which includes how the decoder's variance moves with z
//! (Gauss-Newton leaves that out).
FullGaussian laplace(const LogTarget& target, const torch::Tensor& start, std::int64_t steps) {
    torch::AutoGradMode grad_mode(true);
    auto z = start.detach().clone();
    auto value = target(z.unsqueeze(0)).squeeze(0).detach();
    auto damping = torch::full({z.size(0)}, 1.0, torch::kFloat64);
    for (std::int64_t step = 0; step < steps; ++step) {
        const auto [g, H] = derivatives(target, z);
        const auto delta = torch::linalg_solve(precision_of(H, damping), g.to(torch::kFloat64)).to(torch::kFloat32);  // [K, m]
        // Backtrack along the step (a decode each, far cheaper than new derivatives).
        auto scale = torch::ones({z.size(0), 1});
        auto full = torch::zeros({z.size(0)}, torch::kBool), moved = torch::zeros({z.size(0)}, torch::kBool);
        for (int trial = 0; trial < 4; ++trial) {
            const auto candidate = z + scale * delta;
            const auto next = target(candidate.unsqueeze(0)).squeeze(0).detach();
            const auto better = (next > value) & ~moved;
            if (trial == 0) full = better.clone();
            z = torch::where(better.unsqueeze(1), candidate, z);
            value = torch::where(better, next, value);
            moved = moved | better;
            if (moved.all().item<bool>()) break;
            scale = scale * 0.25;
        }
        damping = torch::where(full, damping * 0.3, damping * 4.0);  // trust a whole step more, a cut one less
    }
    const auto hessian = derivatives(target, z).second;
    return {z.to(torch::kFloat64), torch::linalg_cholesky(precision_of(hessian, torch::full({z.size(0)}, kMinCurvature, torch::kFloat64)))};
}

Rumination ruminate_chunk(const model::Reconstructor& model, const torch::Tensor& windows, const RuminateOptions& options) {
    const auto K = windows.size(0), w = windows.size(1), d = windows.size(2);
    const auto m = model.config().latent;
    const auto N = options.n_samples, n = options.n_restored;
    const auto q = model.encode(windows);  // [K, m]

    // a. Restored historical windows: decoder means at draws from q(z|x_k).
    const auto z_restore = model::Vae::sample(q, n).transpose(0, 1).reshape({K * n, m});
    const auto restored = model.decode(z_restore).mean.view({K, n, w, d});
    const LogTarget target{model, windows + restored.sum(1), windows.square() + restored.square().sum(1), static_cast<double>(n + 1)};

    // b. Self-normalised importance sampling of E[z | x_k, x̄^(1..n)], in log space.
    torch::Tensor z, log_proposal;
    if (options.proposal == "laplace") {
        const auto proposal = laplace(target, q.mean, options.newton_steps);
        z = proposal.sample(N);
        log_proposal = proposal.log_density(z);
    } else {
        const model::Gaussian prior{torch::zeros({1, 1, m}), torch::ones({1, 1, m})};
        const model::Gaussian proposal = options.proposal == "prior" ? prior : model::Gaussian{q.mean.unsqueeze(0), q.var.unsqueeze(0)};
        z = proposal.mean + proposal.var.sqrt() * torch::randn({N, K, m}, model::thread_random());  // [N, K, m]
        log_proposal = model::gaussian_log_density(z, proposal).sum(2);
    }
    const auto w_norm = torch::softmax(target(z) - log_proposal, 0);  // [N, K]

    Rumination out;
    out.z_tilde = (w_norm.unsqueeze(2) * z).sum(0);
    out.ess = 1.0 / w_norm.square().sum(0);
    return out;
}

}  // namespace

Rumination ruminate(const model::Reconstructor& model, const torch::Tensor& windows, const RuminateOptions& options) {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> z_tilde, ess;
    for (std::int64_t i = 0; i < windows.size(0); i += kWindowsPerChunk) {
        const auto part = ruminate_chunk(model, windows.narrow(0, i, std::min(kWindowsPerChunk, windows.size(0) - i)), options);
        z_tilde.push_back(part.z_tilde);
        ess.push_back(part.ess);
    }
    return {torch::cat(z_tilde), torch::cat(ess)};
}

}  // namespace lara::retrain
