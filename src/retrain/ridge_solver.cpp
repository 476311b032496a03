#include "retrain/ridge_solver.h"

#include <cmath>
#include <limits>
#include <sstream>

#include "lara/error.h"

namespace lara::retrain {
namespace {

//! f(X) = Σ_batch [tr(Xᵀ G X) − 2 tr(Xᵀ R)] + c, with X the stacked [A b]ᵀ. The full map is one
//! batch of size (n+1)×n; the diagonal map is n independent 2×1 problems.
struct Quadratic {
    torch::Tensor G, R;  // [batch, p, p], [batch, p, q], float64
    double c = 0;

    //! f and ∇f at X from G·X: this expanded form cancels for a large ρ (c holds ρn), so the
    //! reported objective is computed from the definition instead (ridge_objective).
    double value_from(const torch::Tensor& X, const torch::Tensor& GX) const { return (X * (GX - 2.0 * R)).sum().item<double>() + c; }
    torch::Tensor gradient_from(const torch::Tensor& GX) const { return 2.0 * (GX - R); }
};

Quadratic build(const torch::Tensor& u_in, const torch::Tensor& v_in, const RidgeOptions& options) {
    const double rho = options.ridge, rho_b = options.ridge * options.bias_weight;
    const auto u = u_in.to(torch::kFloat64);
    const auto v = v_in.to(torch::kFloat64);
    const auto N = u.size(0), n = u.size(1);
    const double inv_n = N > 0 ? 1.0 / static_cast<double>(N) : 0.0;
    Quadratic q;
    q.c = (v.square().sum().item<double>() * inv_n) + rho * static_cast<double>(n);  // ρ‖[I 0]‖² = ρ n
    if (!options.diagonal) {
        const auto u1 = torch::cat({u, torch::ones({N, 1}, u.options())}, 1);
        auto penalty = torch::full({n + 1}, rho, u.options());
        penalty[n] = rho_b;
        auto G = torch::matmul(u1.t(), u1) * inv_n + torch::diag(penalty);
        auto prior = torch::cat({torch::eye(n, u.options()), torch::zeros({1, n}, u.options())}, 0);
        auto R = torch::matmul(u1.t(), v) * inv_n + rho * prior;
        q.G = G.unsqueeze(0);
        q.R = R.unsqueeze(0);
        return q;
    }
    const auto count = N > 0 ? 1.0 : 0.0;
    const auto suu = u.square().sum(0) * inv_n, su = u.sum(0) * inv_n;
    const auto suv = (u * v).sum(0) * inv_n, sv = v.sum(0) * inv_n;
    q.G = torch::stack({torch::stack({suu + rho, su}, 1), torch::stack({su, torch::full_like(su, count + rho_b)}, 1)}, 1);
    q.R = torch::stack({suv + rho, sv}, 1).unsqueeze(2);
    return q;
}

//! The map of X, in float64.
AffineMap to_map(const torch::Tensor& X, std::int64_t n, bool diagonal) {
    if (!diagonal) return {X[0].narrow(0, 0, n).t().contiguous(), X[0][n].contiguous()};
    return {torch::diag(X.select(1, 0).select(1, 0)), X.select(1, 1).select(1, 0).contiguous()};
}

//! X of the identity map, the prior the ridge pulls towards.
torch::Tensor prior_of(const Quadratic& q, std::int64_t n, bool diagonal) {
    const auto options = q.R.options();
    if (!diagonal) return torch::cat({torch::eye(n, options), torch::zeros({1, n}, options)}, 0).unsqueeze(0);
    return torch::stack({torch::ones({n}, options), torch::zeros({n}, options)}, 1).unsqueeze(2);
}

//! Nesterov's method from the prior, with one product by G an iteration: G·Y follows from G·X of
//! this iteration and the last, Y being their combination, so the gradient at Y, the value and the
//! gradient at X (the loss curve and the stopping test) cost no other. Starting at the prior
//! makes the first gradient, and so the stopping test, independent of ρ, which cancels there.
torch::Tensor accelerated_descent(const Quadratic& q, const torch::Tensor& prior, const RidgeOptions& options, RidgeFit& fit) {
    // Step 1/L with L = 2 λ_max(G); the Hessian 2G ⪰ 2 min(ρ, ρβ) I gives the strong-convexity momentum.
    const double L = 2.0 * torch::linalg::eigvalsh(q.G, "L").max().item<double>();
    const double mu = 2.0 * options.ridge * std::min(1.0, options.bias_weight);
    const double momentum = (std::sqrt(L) - std::sqrt(mu)) / (std::sqrt(L) + std::sqrt(mu));
    torch::Tensor X = prior, GX = torch::matmul(q.G, X), Y = X, GY = GX;
    // The gradient cannot be told from zero below its rounding: each element of G·X − R holds ρ
    // (λ_max(G) ≈ ρ for a large ridge) times a rounding of X, about 2·eps·L/2·max|X| each, which
    // for ρ ≳ 1e7 exceeds the relative tolerance, and the solver would run to its limit.
    const double rounding = 4.0 * std::numeric_limits<double>::epsilon() * L * std::sqrt(static_cast<double>(prior.numel())) *
                            std::max(1.0, prior.abs().max().item<double>());
    const double stop = options.tolerance * (1.0 + q.gradient_from(GX).norm().item<double>()) + rounding;
    fit.converged = false;
    for (std::int64_t it = 1; it <= options.max_iterations; ++it) {
        const auto next = Y - q.gradient_from(GY) / L;
        const auto G_next = torch::matmul(q.G, next);
        Y = next + momentum * (next - X);
        GY = (1.0 + momentum) * G_next - momentum * GX;
        X = next;
        GX = G_next;
        fit.loss_curve.push_back(q.value_from(X, GX));
        fit.iterations = it;
        if (q.gradient_from(GX).norm().item<double>() <= stop) {
            fit.converged = true;
            break;
        }
    }
    return X;
}

}  // namespace

RidgeFit fit_ridge(const torch::Tensor& u, const torch::Tensor& v, const RidgeOptions& options) {
    if (u.dim() != 2 || v.sizes() != u.sizes())
        throw Error(ErrorKind::internal, "fit_ridge: inputs and targets must both be [N, n]");
    if (!(options.ridge > 0)) throw Error(ErrorKind::usage, options.name + ": must be positive (inf keeps the identity)");
    if (!(options.bias_weight > 0) || std::isinf(options.bias_weight))
        throw Error(ErrorKind::usage, "the biases' ridge weight must be positive and finite");
    torch::NoGradGuard no_grad;
    const auto n = u.size(1);
    RidgeFit fit;
    if (std::isinf(options.ridge)) {
        fit.map = AffineMap::identity(n);
        RidgeOptions data_only = options;
        data_only.ridge = 0;
        fit.objective = ridge_objective(fit.map, u, v, data_only);
        return fit;
    }
    const Quadratic q = build(u, v, options);
    torch::Tensor X;
    if (options.solver == "iterative") {
        X = accelerated_descent(q, prior_of(q, n, options.diagonal), options, fit);
    } else {
        // ρ > 0 makes G positive definite, but a ρ below double precision's resolution of G's
        // scale leaves a rank-deficient G (fewer new windows than map coefficients) singular.
        const auto [chol, info] = torch::linalg_cholesky_ex(q.G);
        if (info.max().item<std::int64_t>() != 0) {
            std::ostringstream message;
            message << options.name << ": " << options.ridge
                    << " is too small for the new rows: the fit's normal equations are singular in double precision; use a larger ridge";
            throw Error(ErrorKind::usage, message.str());
        }
        X = torch::cholesky_solve(q.R, chol);
    }
    const auto optimum = to_map(X, n, options.diagonal);
    fit.objective = ridge_objective(optimum, u, v, options);
    fit.map = {optimum.A.to(torch::kFloat32).contiguous(), optimum.b.to(torch::kFloat32).contiguous()};
    return fit;
}

double ridge_objective(const AffineMap& map, const torch::Tensor& u, const torch::Tensor& v, const RidgeOptions& options) {
    torch::NoGradGuard no_grad;
    const auto A = map.A.to(torch::kFloat64), b = map.b.to(torch::kFloat64);
    const auto residual = torch::matmul(u.to(torch::kFloat64), A.t()) + b - v.to(torch::kFloat64);
    const double data = u.size(0) > 0 ? residual.square().sum().item<double>() / static_cast<double>(u.size(0)) : 0.0;
    if (options.ridge == 0) return data;
    const auto eye = torch::eye(A.size(0), A.options());
    const double matrix = (options.diagonal ? (torch::diagonal(A) - 1.0).square().sum() : (A - eye).square().sum()).item<double>();
    return data + options.ridge * (matrix + options.bias_weight * b.square().sum().item<double>());
}

}  // namespace lara::retrain
