#include <cmath>

#include <gtest/gtest.h>

#include "model/random.h"
#include "retrain/mlp_map.h"
#include "retrain/ridge_solver.h"

namespace {

// A bent relation no affine map can follow: v = u + 0.8 sin(2u) per coordinate.
struct Bent {
    torch::Tensor u, v;
};
Bent bent(std::int64_t n, std::int64_t d) {
    torch::manual_seed(7);
    const auto u = 1.5 * torch::randn({n, d});
    return {u, u + 0.8 * torch::sin(2.0 * u)};
}

double data_error(const torch::Tensor& fitted, const torch::Tensor& v) { return (fitted - v).square().sum(1).mean().item<double>(); }

}  // namespace

TEST(MlpMap, StartsAsTheIdentity) {
    lara::model::seed_thread_random(1);
    const lara::retrain::MlpMap map(5, 16);
    const auto u = torch::randn({10, 5});
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::equal(map.apply(u), u));
    // With no ridge the objective is the data term alone: zero where v = u.
    EXPECT_EQ(map.objective(u, u, 0.0, 1.0).item<double>(), 0.0);
}

TEST(MlpMap, FollowsABentRelationBetterThanTheBestAffineMap) {
    const auto data = bent(400, 3);
    lara::retrain::MlpMapOptions options;
    options.ridge = 1e-4;
    options.steps = 600;
    lara::model::seed_thread_random(3);
    const auto fit = lara::retrain::fit_mlp_map(data.u, data.v, options);
    lara::retrain::RidgeOptions ridge;
    ridge.ridge = 1e-4;
    const auto affine = lara::retrain::fit_ridge(data.u, data.v, ridge);
    torch::NoGradGuard no_grad;
    const double mlp_error = data_error(fit.map->apply(data.u), data.v);
    const double affine_error = data_error(affine.map.apply(data.u), data.v);
    EXPECT_LT(mlp_error, 0.5 * affine_error) << "MLP " << mlp_error << ", affine " << affine_error;
    // The reported objective is the objective at the returned map.
    EXPECT_NEAR(fit.objective, fit.map->objective(data.u, data.v, options.ridge, options.bias_weight).item<double>(), 1e-9);
}

TEST(MlpMap, AStrongRidgeKeepsItNearTheIdentity) {
    const auto data = bent(200, 3);
    lara::retrain::MlpMapOptions options;
    options.ridge = 1e3;
    lara::model::seed_thread_random(4);
    const auto fit = lara::retrain::fit_mlp_map(data.u, data.v, options);
    torch::NoGradGuard no_grad;
    const double moved = (fit.map->apply(data.u) - data.u).abs().max().item<double>();
    EXPECT_LT(moved, 0.05);
}
