#include "retrain/ruminator.h"

#include <cmath>

namespace lara::retrain {

Rumination ruminate(const model::Reconstructor& model, const torch::Tensor& windows, const RuminateOptions& options) {
    torch::NoGradGuard no_grad;
    const auto K = windows.size(0), w = windows.size(1), d = windows.size(2);
    const auto m = model.config().latent;
    const auto N = options.n_samples, n = options.n_restored;
    const auto q = model.encode(windows);  // [K, m]

    // a. Restored historical windows: decoder means at draws from q(z|x_k).
    const auto z_restore = model::Vae::sample(q, n).transpose(0, 1).reshape({K * n, m});
    const auto restored = model.decode(z_restore).mean.view({K, n, w, d});

    // b. Self-normalised importance sampling of E[z | x_k, x̄^(1..n)]. The target combines n + 1
    // windows of evidence and is far narrower than q(z|x_k), so a single round from q leaves an
    // effective sample size near 1. Each adaptive round moves a diagonal Gaussian proposal to the
    // weighted moments of the last round (its spread shrinking at most 4x per round); the
    // estimate and the ESS come from the last round, an ordinary IS estimate under its proposal.
    const model::Gaussian prior{torch::zeros({1, 1, m}), torch::ones({1, 1, m})};
    model::Gaussian proposal = options.prior_proposal ? prior : model::Gaussian{q.mean.unsqueeze(0), q.var.unsqueeze(0)};
    const auto S1 = (windows + restored.sum(1)).unsqueeze(0);  // [1, K, w, d]
    const auto S2 = (windows.square() + restored.square().sum(1)).unsqueeze(0);
    const double count = static_cast<double>(n + 1);
    const double log_2pi = std::log(2.0 * M_PI);
    torch::Tensor z, w_norm;
    for (std::int64_t round = 0; round < std::max<std::int64_t>(options.n_rounds, 1); ++round) {
        z = proposal.mean + proposal.var.sqrt() * torch::randn({N, K, m});  // [N, K, m]
        auto log_w = model::gaussian_log_density(z, prior).sum(2) - model::gaussian_log_density(z, proposal).sum(2);
        // One decoder pass per proposal scores all n + 1 windows at once through sufficient
        // statistics: Σ_j (x_j − μ)² = S2 − 2μ S1 + (n+1) μ².
        const auto p = model.decode(z.reshape({N * K, m}));
        const auto mean = p.mean.view({N, K, w, d}), var = p.var.view({N, K, w, d});
        const auto squares = S2 - 2.0 * mean * S1 + count * mean.square();
        log_w = log_w - 0.5 * (count * (log_2pi + var.log()) + squares / var).sum({2, 3});
        w_norm = torch::softmax(log_w, 0).unsqueeze(2);  // [N, K, 1], normalised in log space
        const auto centre = (w_norm * z).sum(0, true);
        const auto spread = (w_norm * (z - centre).square()).sum(0, true);
        proposal = {centre.expand({1, K, m}), torch::maximum(spread, proposal.var.expand({1, K, m}) / 16.0)};
    }
    Rumination out;
    out.z_tilde = (w_norm * z).sum(0);
    out.ess = 1.0 / w_norm.squeeze(2).square().sum(0);
    out.restored = restored;
    return out;
}

}  // namespace lara::retrain
