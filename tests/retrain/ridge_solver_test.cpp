#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "lara/error.h"
#include "retrain/ridge_solver.h"

namespace {

using lara::retrain::AffineMap;
using lara::retrain::fit_ridge;
using lara::retrain::ridge_objective;
using lara::retrain::RidgeOptions;

struct Problem {
    torch::Tensor u, v;
};

Problem random_problem(std::int64_t N, std::int64_t n, std::uint64_t seed) {
    torch::manual_seed(seed);
    const auto u = torch::randn({N, n}) * 2.0 + 0.5;
    const auto A = torch::eye(n) + 0.3 * torch::randn({n, n});
    return {u, torch::matmul(u, A.t()) + 0.7 + 0.1 * torch::randn({N, n})};
}

AffineMap random_map(std::int64_t n) { return {torch::randn({n, n}), torch::randn({n})}; }

//! The norm of the gradient of the ridge objective at `map`, from the objective's definition, in
//! float64: ∂f/∂A = (2/N) rᵀu + 2ρ(A − I) (its diagonal alone for the diagonal form) and
//! ∂f/∂b = 2 mean(r) + 2ρβ b, with r = u Aᵀ + b − v.
double gradient_norm(const AffineMap& map, const torch::Tensor& u_in, const torch::Tensor& v_in, const RidgeOptions& options) {
    const auto u = u_in.to(torch::kFloat64), v = v_in.to(torch::kFloat64);
    const auto A = map.A.to(torch::kFloat64), b = map.b.to(torch::kFloat64);
    const auto r = torch::matmul(u, A.t()) + b - v;
    const double rho = options.ridge, N = static_cast<double>(u.size(0));
    auto dA = 2.0 / N * torch::matmul(r.t(), u) + 2.0 * rho * (A - torch::eye(A.size(0), A.options()));
    if (options.diagonal) dA = torch::diagonal(dA);
    const auto db = 2.0 * r.mean(0) + 2.0 * rho * options.bias_weight * b;
    return std::sqrt(dA.square().sum().item<double>() + db.square().sum().item<double>());
}

double max_diff(const AffineMap& a, const AffineMap& b) {
    return std::max((a.A - b.A).abs().max().item<double>(), (a.b - b.b).abs().max().item<double>());
}

}  // namespace

class RidgeForm : public ::testing::TestWithParam<bool> {};

TEST_P(RidgeForm, ExactAndIterativeSolversReachTheSameOptimum) {
    const bool diagonal = GetParam();
    for (const auto& [N, n, rho, beta] : {std::tuple{4, 8, 1e-2, 1.0}, std::tuple{160, 19, 1e-3, 0.01}, std::tuple{1, 3, 1.0, 0.1}}) {
        const auto p = random_problem(N, n, 7);
        RidgeOptions options;
        options.ridge = rho;
        options.bias_weight = beta;
        options.diagonal = diagonal;
        const auto exact = fit_ridge(p.u, p.v, options);
        options.solver = "iterative";
        const auto iterative = fit_ridge(p.u, p.v, options);
        EXPECT_LT(max_diff(exact.map, iterative.map), 1e-4) << "N=" << N << " n=" << n;
        EXPECT_TRUE(iterative.converged);
        EXPECT_NEAR(exact.objective, iterative.objective, 1e-8 * (1 + exact.objective));
        // The loss curve falls to the closed-form optimum and never below it.
        ASSERT_FALSE(iterative.loss_curve.empty());
        EXPECT_GT(iterative.loss_curve.front(), iterative.loss_curve.back());
        for (double f : iterative.loss_curve) EXPECT_GE(f, exact.objective - 1e-9 * (1 + exact.objective));
        // The reported objective is the objective, computed independently from its definition.
        EXPECT_NEAR(exact.objective, ridge_objective(exact.map, p.u, p.v, options), 1e-6 * (1 + exact.objective));
    }
}

TEST_P(RidgeForm, AnIterativeFitCutShortSaysItDidNotConverge) {
    const auto p = random_problem(160, 19, 7);
    RidgeOptions options;
    options.ridge = 1e-3;
    options.diagonal = GetParam();
    options.solver = "iterative";
    options.max_iterations = 5;
    const auto cut = fit_ridge(p.u, p.v, options);
    EXPECT_EQ(cut.iterations, 5);
    EXPECT_FALSE(cut.converged);
    options.solver = "exact";
    EXPECT_GT(cut.objective, fit_ridge(p.u, p.v, options).objective * (1 + 1e-6));
}

TEST_P(RidgeForm, TheOptimumBeatsEveryNearbyPoint) {
    const bool diagonal = GetParam();
    const auto p = random_problem(5, 6, 3);
    RidgeOptions options;
    options.diagonal = diagonal;
    const auto fit = fit_ridge(p.u, p.v, options);
    const double best = ridge_objective(fit.map, p.u, p.v, options);
    for (int trial = 0; trial < 20; ++trial) {
        auto moved = fit.map;
        moved.b = moved.b + 1e-3 * torch::randn({6});
        moved.A = diagonal ? moved.A + torch::diag(1e-3 * torch::randn({6})) : moved.A + 1e-3 * torch::randn({6, 6});
        EXPECT_GT(ridge_objective(moved, p.u, p.v, options), best);
    }
}

TEST_P(RidgeForm, NoDataOrAnInfiniteRidgeGivesTheIdentity) {
    const bool diagonal = GetParam();
    RidgeOptions options;
    options.diagonal = diagonal;
    const auto none = fit_ridge(torch::zeros({0, 5}), torch::zeros({0, 5}), options);
    EXPECT_TRUE(torch::equal(none.map.A, torch::eye(5)));
    EXPECT_TRUE(torch::equal(none.map.b, torch::zeros({5})));
    const auto p = random_problem(10, 5, 1);
    options.ridge = std::numeric_limits<double>::infinity();
    EXPECT_TRUE(fit_ridge(p.u, p.v, options).map.is_identity());
    // And a very large finite ridge approaches it, with an objective that approaches the
    // identity's from below (the expanded quadratic, whose constant holds ρn, cancelled there).
    RidgeOptions data_only = options;
    data_only.ridge = 0;
    const double at_identity = lara::retrain::ridge_objective(AffineMap::identity(5), p.u, p.v, data_only);
    for (const double ridge : {1e9, 1e16, 1e20, 1e300}) {
        options.ridge = ridge;
        for (const char* solver : {"exact", "iterative"}) {
            options.solver = solver;
            const auto fit = fit_ridge(p.u, p.v, options);
            EXPECT_TRUE(fit.converged) << ridge << " " << solver << ": " << fit.iterations << " iterations";
            EXPECT_LT(max_diff(fit.map, AffineMap::identity(5)), 1e-6) << ridge << " " << solver;
            EXPECT_LE(fit.objective, at_identity * (1 + 1e-12)) << ridge << " " << solver;
            EXPECT_NEAR(fit.objective, at_identity, 1e-6 * at_identity) << ridge << " " << solver;
        }
    }
}

TEST_P(RidgeForm, ARidgeLostInRoundingOnDegenerateDataIsAUsageError) {
    // Every input 1: [u 1]ᵀ[u 1] is all ones, singular, and 1 + 10⁻³⁰⁰ rounds to 1, so the exact
    // solver meets a zero pivot; a usable ridge fits the same data.
    RidgeOptions options;
    options.diagonal = GetParam();
    options.ridge = 1e-300;
    const auto u = torch::ones({3, 4}), v = torch::randn({3, 4});
    try {
        fit_ridge(u, v, options);
        ADD_FAILURE() << "a singular system was solved";
    } catch (const lara::Error& e) {
        EXPECT_EQ(e.kind(), lara::ErrorKind::usage);
        EXPECT_NE(std::string(e.what()).find("ridge: 1e-300 is too small"), std::string::npos) << e.what();
    }
    options.ridge = 1e-2;
    EXPECT_NO_THROW(fit_ridge(u, v, options));
}

TEST_P(RidgeForm, ObjectiveIsConvexAlongRandomLines) {
    const bool diagonal = GetParam();
    const auto p = random_problem(4, 6, 11);
    torch::manual_seed(5);
    for (int line = 0; line < 50; ++line) {
        auto a = random_map(6), b = random_map(6);
        if (diagonal) {
            a.A = torch::diag(torch::diagonal(a.A));
            b.A = torch::diag(torch::diagonal(b.A));
        }
        RidgeOptions options;
        options.diagonal = diagonal;
        options.bias_weight = 0.01;
        const double fa = ridge_objective(a, p.u, p.v, options), fb = ridge_objective(b, p.u, p.v, options);
        for (double t : {0.1, 0.25, 0.5, 0.75, 0.9}) {
            const AffineMap mid{t * a.A + (1 - t) * b.A, t * a.b + (1 - t) * b.b};
            EXPECT_LE(ridge_objective(mid, p.u, p.v, options), t * fa + (1 - t) * fb + 1e-9 * (fa + fb));
        }
    }
}

TEST_P(RidgeForm, TheIterativeSolverStopsOnlyOnceTheGradientIsWithinItsTolerance) {
    // The documented stop: ‖∇f‖ ≤ tolerance · (1 + ‖∇f(start)‖), the start being the identity (plus
    // a rounding floor, negligible at this ridge). The
    // gradient is recomputed here from the objective's definition at the returned map, so a looser
    // stop (one that quits early) shows as a gradient above the bound.
    const auto p = random_problem(160, 19, 7);
    RidgeOptions options;
    options.ridge = 1e-3;
    options.bias_weight = 0.01;
    options.diagonal = GetParam();
    options.solver = "iterative";
    options.tolerance = 1e-6;
    const auto fit = fit_ridge(p.u, p.v, options);
    ASSERT_TRUE(fit.converged);
    const auto n = p.u.size(1);
    const double start = gradient_norm(AffineMap::identity(n), p.u, p.v, options);
    const double bound = options.tolerance * (1.0 + start);
    EXPECT_LE(gradient_norm(fit.map, p.u, p.v, options), bound) << "after " << fit.iterations << " iterations";
}

INSTANTIATE_TEST_SUITE_P(FullAndDiagonal, RidgeForm, ::testing::Values(false, true));

TEST(Ridge, RecoversAKnownAffineMapFromEnoughData) {
    torch::manual_seed(2);
    const auto u = torch::randn({500, 4});
    const AffineMap truth{torch::eye(4) + 0.5 * torch::randn({4, 4}), torch::randn({4})};
    const auto fit = fit_ridge(u, truth.apply(u), RidgeOptions{1e-6});
    EXPECT_LT(max_diff(fit.map, truth), 1e-3);
}

TEST(AffineMap, ComposesAndTilesAsFunctionComposition) {
    torch::manual_seed(9);
    const AffineMap f = random_map(3), g = random_map(3);
    const auto u = torch::randn({10, 3});
    EXPECT_TRUE(torch::allclose(f.then(g).apply(u), g.apply(f.apply(u)), 1e-4, 1e-4));
    const auto var = torch::rand({10, 3});
    EXPECT_TRUE(torch::allclose(f.apply_var(var), torch::matmul(var, f.A.square().t()), 1e-5, 1e-6));
    // The variance through a composed map is the diagonal of its whole covariance G F diag(v) Fᵀ Gᵀ,
    // not the diagonal rule applied twice, which would forget the correlations F creates.
    const auto GF = torch::matmul(g.A, f.A).to(torch::kFloat64);
    const auto covariance_diagonal = torch::diagonal(torch::matmul(torch::matmul(GF, torch::diag(var[0].to(torch::kFloat64))), GF.t()));
    EXPECT_TRUE(torch::allclose(f.then(g).apply_var(var)[0].to(torch::kFloat64), covariance_diagonal, 1e-4, 1e-5));
    EXPECT_FALSE(torch::allclose(g.apply_var(f.apply_var(var))[0].to(torch::kFloat64), covariance_diagonal, 1e-2, 1e-3));
    const auto window = torch::randn({10, 4, 3});
    EXPECT_TRUE(torch::allclose(f.tiled(4).apply(window.flatten(1)).view({10, 4, 3}), f.apply(window), 1e-4, 1e-4));
}
