// The convex fit of one adjusting map (docs/method.md):
//   min_{A,b} (1/N) Σ_i ‖A u_i + b − v_i‖² + ρ (‖A − I‖²_F + β ‖b‖²),
// strictly convex for ρ, β > 0. β = 1 is the method document's form; a small β leaves the biases
// nearly free, as ordinary ridge regression leaves its intercept. Exact: the normal equations by Cholesky, in float64. Iterative:
// Nesterov-accelerated gradient descent on the same objective, which records its loss curve
// and must reach the same optimum (a test holds them to it).
#pragma once

#include <string>
#include <vector>

#include "retrain/affine_map.h"

namespace lara::retrain {

struct RidgeOptions {
    double ridge = 1e-2;             // ρ > 0; infinity returns the identity
    double bias_weight = 1.0;        // β > 0: the biases' share of the ridge
    bool diagonal = false;           // fit a diagonal A (one (a_j, b_j) pair per coordinate)
    std::string solver = "exact";    // exact | iterative
    double tolerance = 1e-10;        // iterative: stop when ‖∇f‖ ≤ tolerance · (1 + ‖∇f‖ at the identity, its start), or at its rounding
    std::int64_t max_iterations = 100000;
    std::string name = "ridge";      // how errors name this ridge ("retrain config: ridge_x")
};

struct RidgeFit {
    AffineMap map;
    double objective = 0;            // f at the returned map
    std::int64_t iterations = 0;     // 0 for the exact solver
    bool converged = true;           // iterative: false when max_iterations ran out first
    std::vector<double> loss_curve;  // iterative: f after each iteration
};

//! u: [N, n] inputs, v: [N, n] targets (N may be 0: the identity is then the optimum).
RidgeFit fit_ridge(const torch::Tensor& u, const torch::Tensor& v, const RidgeOptions& options);

//! The objective f, computed directly from its definition (independently of the solvers).
//! Uses options.ridge, options.bias_weight and options.diagonal (ridge may be 0: the data term).
double ridge_objective(const AffineMap& map, const torch::Tensor& u, const torch::Tensor& v, const RidgeOptions& options);

}  // namespace lara::retrain
