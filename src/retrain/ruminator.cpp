#include "retrain/ruminator.h"

#include <algorithm>

#include "model/random.h"
#include "retrain/laplace.h"

namespace lara::retrain {
namespace {

// Windows ruminated at once: memory grows as N × windows × w × d, so many new windows are taken
// in chunks (N × windows ≤ 2048: 6 MiB per tensor with windows of 40 × 19), fewer when N is larger.
std::int64_t windows_per_chunk(std::int64_t n_samples) { return std::clamp<std::int64_t>(2048 / n_samples, 1, 64); }

Rumination ruminate_chunk(const model::Reconstructor& model, const torch::Tensor& windows, const RuminateOptions& options) {
    const auto K = windows.size(0), w = windows.size(1), d = windows.size(2);
    const auto m = model.config().latent;
    const auto N = options.n_samples, n = options.n_restored;
    const auto q = model.encode(windows);  // [K, m]

    // a. Restored historical windows: decoder means at draws from q(z|x_k).
    const auto z_restore = model::Vae::sample(q, n).transpose(0, 1).reshape({K * n, m});
    const auto restored = model.decode(z_restore).mean.view({K, n, w, d});
    const auto target = LogTarget::of_windows(model, torch::cat({windows.unsqueeze(1), restored}, 1).flatten(2));

    // b. Self-normalised importance sampling of E[z | x_k, x̄^(1..n)], in log space.
    Rumination out;
    torch::Tensor z, log_proposal;
    if (options.proposal == "laplace") {
        const auto fit = laplace(target, q.mean, options.newton_steps);
        out.newton_steps = fit.steps;
        z = fit.proposal.sample(N);
        log_proposal = fit.proposal.log_density(z);
    } else {
        const model::Gaussian prior{torch::zeros({1, 1, m}), torch::ones({1, 1, m})};
        const model::Gaussian proposal = options.proposal == "prior" ? prior : model::Gaussian{q.mean.unsqueeze(0), q.var.unsqueeze(0)};
        z = proposal.mean + proposal.var.sqrt() * torch::randn({N, K, m}, model::thread_random());  // [N, K, m]
        log_proposal = model::gaussian_log_density(z, proposal).sum(2);
    }
    const auto w_norm = torch::softmax(target(z) - log_proposal, 0);  // [N, K]
    out.z_tilde = (w_norm.unsqueeze(2) * z).sum(0);
    out.ess = 1.0 / w_norm.square().sum(0);
    return out;
}

}  // namespace

Rumination ruminate(const model::Reconstructor& model, const torch::Tensor& windows, const RuminateOptions& options) {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> z_tilde, ess;
    std::int64_t newton_steps = 0;
    const auto chunk = windows_per_chunk(options.n_samples);
    for (std::int64_t i = 0; i < windows.size(0); i += chunk) {
        const auto part = ruminate_chunk(model, windows.narrow(0, i, std::min(chunk, windows.size(0) - i)), options);
        z_tilde.push_back(part.z_tilde);
        ess.push_back(part.ess);
        newton_steps = std::max(newton_steps, part.newton_steps);
    }
    return {torch::cat(z_tilde), torch::cat(ess), newton_steps};
}

}  // namespace lara::retrain
