#include "retrain/laplace.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "lara/error.h"
#include "model/gemm.h"
#include "model/random.h"

// LAPACK's symmetric eigensolver (the library LibTorch's linalg_eigh calls), called directly: on
// a few 8 × 8 matrices LibTorch's checks and copies cost several times the solve.
extern "C" void dsyev_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w, double* work, const int* lwork,
                       int* info);

namespace lara::retrain {
namespace {
const double kLog2Pi = std::log(2.0 * M_PI);

//! The expansion at gradient with minus the Hessian (symmetric, [K, m, m] float64) made positive
//! definite: each eigenvalue replaced by its absolute value, floored at 10⁻³, so that where the
//! target curves upwards (away from the mode) the step still points uphill ("saddle-free" Newton).
//! The Newton step solves in the eigenvectors.
SecondOrder saddle_free(torch::Tensor gradient, const torch::Tensor& minus_hessian) {
    const auto hessian = minus_hessian.to(torch::kFloat64).contiguous();
    const auto K = hessian.size(0);
    const int n = static_cast<int>(hessian.size(1)), lwork = 64 * n;
    auto values = torch::empty({K, n}, torch::kFloat64), vectors = torch::empty({K, n, n}, torch::kFloat64);
    std::vector<double> a(static_cast<std::size_t>(n * n)), work(static_cast<std::size_t>(lwork));
    for (std::int64_t k = 0; k < K; ++k) {
        const double* block = hessian.data_ptr<double>() + k * n * n;
        std::copy(block, block + n * n, a.begin());  // symmetric: row-major is its own column-major
        double* lambda = values.data_ptr<double>() + k * n;
        int info = 0;
        dsyev_("V", "U", &n, a.data(), &n, lambda, work.data(), &lwork, &info);
        if (info != 0) throw Error(ErrorKind::internal, "the Newton step's eigendecomposition failed (LAPACK dsyev info " + std::to_string(info) + ")");
        double* V = vectors.data_ptr<double>() + k * n * n;
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < n; ++j) V[i * n + j] = a[static_cast<std::size_t>(j * n + i)];  // LAPACK's columns are the eigenvectors
        for (int j = 0; j < n; ++j) lambda[j] = std::max(std::abs(lambda[j]), 1e-3);
    }
    return {std::move(gradient), values, vectors};
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
    const double m = static_cast<double>(z.size(2));
    if (torch::GradMode::is_enabled() && (z.requires_grad() || mean.requires_grad() || var.requires_grad())) {  // differentiable
        const auto squares = scatter + count * (centre - mean).square();
        const auto log_likelihood = -0.5 * (count * (kLog2Pi + var.log()) + squares / var).sum(2);
        return -0.5 * (z.square().sum(2) + m * kLog2Pi) + log_likelihood;
    }
    // The same sum in one pass over the outputs, accumulated in float64: it is the inner loop of the
    // Newton steps' line search and of the importance sampling, where a dozen LibTorch operations
    // on [B, K, w·d] cost more in dispatch than in arithmetic.
    const auto B = mean.size(0), K = mean.size(1), wd = mean.size(2), latent = z.size(2);
    const auto c = centre.to(torch::kFloat32).contiguous(), s = scatter.to(torch::kFloat32).contiguous();  // float32 already (of_windows)
    auto out = torch::empty({B, K});
    const double constant = m * kLog2Pi + count * static_cast<double>(wd) * kLog2Pi;
    AT_DISPATCH_FLOATING_TYPES(mean.scalar_type(), "LogTarget::of", [&] {  // the model's precision
        const auto log_var = var.log();  // the one transcendental per output, vectorised
        const auto mu = mean.accessor<scalar_t, 3>(), v = var.accessor<scalar_t, 3>(), lv = log_var.accessor<scalar_t, 3>();
        const auto z_typed = z.to(mean.scalar_type());
        const auto zs = z_typed.accessor<scalar_t, 3>();
        const auto cs = c.accessor<float, 2>(), ss = s.accessor<float, 2>();
        auto o = out.accessor<float, 2>();
        for (std::int64_t b = 0; b < B; ++b) {
            for (std::int64_t k = 0; k < K; ++k) {
                double sum = constant;
                for (std::int64_t i = 0; i < latent; ++i) sum += double(zs[b][k][i]) * double(zs[b][k][i]);
                for (std::int64_t j = 0; j < wd; ++j) {
                    const double gap = double(cs[k][j]) - double(mu[b][k][j]);
                    sum += count * double(lv[b][k][j]) + (double(ss[k][j]) + count * gap * gap) / double(v[b][k][j]);
                }
                o[b][k] = static_cast<float>(-0.5 * sum);
            }
        }
    });
    return out;
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
    return saddle_free(g[0], -0.5 * (hessian + hessian.transpose(1, 2)));
}

namespace {

//! The per-output derivatives of the log-likelihood ℓ = −½ Σ_o n log var + squares / var, and
//! beside them the Jacobian's columns weighted for the Gauss-Newton part Jᵀ D J and the gradient
//! Jᵀ g (D holds each output's 2 × 2 block of second derivatives in (mean, var)), in one pass over
//! the outputs: at these sizes each LibTorch operation costs more in dispatch than in arithmetic.
struct OutputDerivatives {
    torch::Tensor g_mean, g_var;  // [K, w·d]
    torch::Tensor weighted;       // [K, m + 1, 2·w·d]: rows D Jᵢ for each latent axis i, then g
};
OutputDerivatives output_derivatives(const LogTarget& target, const model::DecoderJet& jet) {
    const auto K = jet.jacobian.size(0), m = jet.jacobian.size(1), wd = jet.at.mean.size(1);
    const double n = target.count;
    const auto options = torch::TensorOptions().dtype(torch::kFloat64);
    OutputDerivatives out{torch::empty({K, wd}, options), torch::empty({K, wd}, options), torch::empty({K, m + 1, 2 * wd}, options)};
    const auto c = target.centre.to(torch::kFloat32).contiguous(), s = target.scatter.to(torch::kFloat32).contiguous();
    const auto centre = c.accessor<float, 2>(), scatter = s.accessor<float, 2>();
    const auto jacobian = jet.jacobian.contiguous();
    std::vector<double> h_mean(static_cast<std::size_t>(wd)), h_cross(h_mean.size()), h_var(h_mean.size());
    AT_DISPATCH_FLOATING_TYPES(jet.at.mean.scalar_type(), "output_derivatives", [&] {  // the model's precision
        const auto mean = jet.at.mean.accessor<scalar_t, 2>(), var = jet.at.var.accessor<scalar_t, 2>();
        for (std::int64_t k = 0; k < K; ++k) {
            double* g_mean = out.g_mean.data_ptr<double>() + k * wd;
            double* g_var = out.g_var.data_ptr<double>() + k * wd;
            for (std::int64_t o = 0; o < wd; ++o) {
                const double v = var[k][o], gap = double(centre[k][o]) - double(mean[k][o]);
                const double squares = double(scatter[k][o]) + n * gap * gap;
                const auto at = static_cast<std::size_t>(o);
                g_mean[o] = n * gap / v;
                g_var[o] = 0.5 * (squares / v - n) / v;
                h_mean[at] = -n / v;
                h_cross[at] = -g_mean[o] / v;
                h_var[at] = (0.5 * n - squares / v) / (v * v);
            }
            const double* J = jacobian.data_ptr<double>() + k * m * 2 * wd;
            double* weighted = out.weighted.data_ptr<double>() + k * (m + 1) * 2 * wd;
            for (std::int64_t i = 0; i < m; ++i, J += 2 * wd, weighted += 2 * wd) {
                for (std::int64_t o = 0; o < wd; ++o) {
                    const auto at = static_cast<std::size_t>(o);
                    weighted[o] = h_mean[at] * J[o] + h_cross[at] * J[wd + o];
                    weighted[wd + o] = h_cross[at] * J[o] + h_var[at] * J[wd + o];
                }
            }
            std::copy(g_mean, g_mean + wd, weighted);
            std::copy(g_var, g_var + wd, weighted + wd);
        }
    });
    return out;
}

}  // namespace

//! With the decoder's jet, exactly: per output, the log-likelihood's derivatives in (mean, var),
//! through the Jacobians (the Gauss-Newton part) and the decoder's curvature weighted by the first
//! derivatives: one Jacobian product at the K points, about 35% of the finite differences' time
//! (`lara_microbench`).
SecondOrder expand(const LogTarget& target, const torch::Tensor& z) {
    torch::NoGradGuard no_grad;  // the derivatives are all in the jet
    const auto jet = target.model.decode_jet(z);
    if (!jet) return expand_numerically(target, z);
    const auto m = z.size(1);
    const auto d = output_derivatives(target, *jet);
    const auto K = z.size(0);
    // Jᵀ (D J) and Jᵀ g: [K, m, m + 1], in float64, one BLAS product per window.
    auto products = torch::empty({K, m, m + 1}, torch::kFloat64);
    const auto jacobian = jet->jacobian.contiguous();
    const auto two_wd = jacobian.size(2);
    for (std::int64_t k = 0; k < K; ++k)
        model::gemm<double>(CblasNoTrans, CblasTrans, m, m + 1, two_wd, jacobian.data_ptr<double>() + k * m * two_wd, two_wd,
                            d.weighted.data_ptr<double>() + k * (m + 1) * two_wd, two_wd, 0.0, products.data_ptr<double>() + k * m * (m + 1), m + 1);
    const auto curvature = jet->curvature(d.g_mean, d.g_var).contiguous();
    const auto at = z.to(torch::kFloat64).contiguous();
    const double* zs = at.data_ptr<double>();
    // Gradient Jᵀg − z and minus the Hessian −(Jᵀ D J + curvature − I) (the prior's −z and −I),
    // symmetrised: in loops over K × m × m numbers.
    auto gradient = torch::empty({K, m}, torch::kFloat64), minus_hessian = torch::empty({K, m, m}, torch::kFloat64);
    for (std::int64_t k = 0; k < K; ++k) {
        const double *p = products.data_ptr<double>() + k * m * (m + 1), *c = curvature.data_ptr<double>() + k * m * m;
        double *g = gradient.data_ptr<double>() + k * m, *h = minus_hessian.data_ptr<double>() + k * m * m;
        for (std::int64_t i = 0; i < m; ++i) {
            g[i] = p[i * (m + 1) + m] - zs[k * m + i];
            for (std::int64_t j = 0; j < m; ++j)
                h[i * m + j] = (i == j ? 1.0 : 0.0) - 0.5 * (p[i * (m + 1) + j] + p[j * (m + 1) + i] + c[i * m + j] + c[j * m + i]);
        }
    }
    return saddle_free(gradient, minus_hessian);
}

torch::Tensor SecondOrder::precision() const {
    return torch::matmul(eigenvectors * eigenvalues.unsqueeze(1), eigenvectors.transpose(1, 2));
}

//! The Laplace approximation of the target: Newton steps from the encoder mean towards the mode,
//! then a Gaussian there with the Hessian's precision. Each step solves (P + λI) δ = ∇ with λ a
//! Levenberg-Marquardt damping per window, decodes z + sδ for s = 4, 1, 1/4, 1/16 with z itself in
//! one batch and moves to the best of them if it raises the target: far from the mode whole steps are too
//! short, near it they can overshoot. It stops once every window's Newton decrement ∇ᵀP⁻¹∇, the
//! squared distance to the mode in the proposal's own metric, is below kConverged: a proposal that
//! far off the mode loses about that fraction of its ESS. The last step's precision is then the
//! proposal's, at no extra cost.
LaplaceFit laplace(const LogTarget& target, const torch::Tensor& start, std::int64_t max_steps) {
    constexpr double kConverged = 1e-2;
    // s = 0 is the current point, decoded with the candidates so that all are compared through
    // one decoder pass: the jet's outputs equal the decoder's only up to rounding. (s = 1/64 was
    // never the best in the Newton steps of 12 JumpStarter services; the damping shortens the
    // step further where none of these raises the target.)
    constexpr std::array<double, 5> kScales = {0.0, 4.0, 1.0, 0.25, 0.0625};
    constexpr std::int64_t kWholeStep = 2;  // index of s = 1 in kScales
    const auto K = start.size(0), m = start.size(1);
    const auto um = static_cast<std::size_t>(m);
    // The per-window algebra below is on K × m numbers: plain loops, where tensor operations would
    // cost more in dispatch than the Newton step's decoder passes (docs/method.md).
    auto z = start.to(torch::kFloat32).contiguous().clone();
    std::vector<double> damping(static_cast<std::size_t>(K), 1.0), rotated(um);
    for (std::int64_t step = 0;; ++step) {
        const auto local = expand(target, z);
        const auto gradient = local.gradient.contiguous(), vectors = local.eigenvectors.contiguous(), values = local.eigenvalues.contiguous();
        auto candidates = torch::empty({static_cast<std::int64_t>(kScales.size()), K, m});  // z + s·δ for each s
        float* next = candidates.data_ptr<float>();
        double worst = 0;
        for (std::int64_t k = 0; k < K; ++k) {
            // In the precision's eigenvectors V (P = V Λ Vᵀ) both solves are divisions: the Newton
            // decrement ∇ᵀP⁻¹∇ = Σ (Vᵀ∇)²/λ and the damped step δ = V (Vᵀ∇ / (λ + damping)).
            const double* g = gradient.data_ptr<double>() + k * m;
            const double* V = vectors.data_ptr<double>() + k * m * m;
            const double* lambda = values.data_ptr<double>() + k * m;
            double decrement = 0;
            for (std::size_t j = 0; j < um; ++j) {
                rotated[j] = 0;
                for (std::size_t i = 0; i < um; ++i) rotated[j] += g[i] * V[i * um + j];
                decrement += rotated[j] * rotated[j] / lambda[j];
            }
            worst = std::max(worst, decrement);
            const float* zk = z.data_ptr<float>() + k * m;
            for (std::size_t i = 0; i < um; ++i) {
                double delta = 0;
                for (std::size_t j = 0; j < um; ++j) delta += V[i * um + j] * rotated[j] / (lambda[j] + damping[static_cast<std::size_t>(k)]);
                for (std::size_t s = 0; s < kScales.size(); ++s)
                    next[(static_cast<std::int64_t>(s) * K + k) * m + static_cast<std::int64_t>(i)] = zk[i] + static_cast<float>(kScales[s] * delta);
            }
        }
        if (step == max_steps || worst < kConverged) return {{z.to(torch::kFloat64), torch::linalg_cholesky(local.precision())}, step};
        const auto scored = target(candidates).to(torch::kFloat32).contiguous();  // [5, K]
        const float *at = scored.data_ptr<float>(), *moves = candidates.data_ptr<float>();
        float* zs = z.data_ptr<float>();
        for (std::int64_t k = 0; k < K; ++k) {
            std::int64_t best = 0;
            for (std::int64_t s = 1; s < static_cast<std::int64_t>(kScales.size()); ++s)
                if (at[s * K + k] > at[best * K + k]) best = s;
            const bool moved = best != 0;
            if (moved) std::copy_n(moves + (best * K + k) * m, m, zs + k * m);
            // Trust the model more after a whole (or longer) step, less after a cut one.
            damping[static_cast<std::size_t>(k)] *= moved && best <= kWholeStep ? 0.3 : 4.0;
        }
    }
}

}  // namespace lara::retrain
