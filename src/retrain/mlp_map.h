// retrain/mlp_map.h: the non-linear ablation of an adjusting map (lara-method.md, "ablations"):
// v ≈ u + g(u), g a one-hidden-layer tanh network whose output layer starts at zero, so that the
// map starts as the identity, as the ridge fit is pulled towards it. It is fitted by Adam on the
// same squared error as the affine maps, with the ridge on the network's weights:
//   (1/N) Σ_i ‖u_i + g(u_i) − v_i‖² + ρ (‖W₁‖² + ‖W₂‖² + β (‖b₁‖² + ‖b₂‖²)).
// The problem is no longer convex and the map no longer composes with the next one at a fixed
// size; measuring what that buys (docs/results.md) is its only purpose.
#pragma once

#include <memory>

#include <torch/torch.h>

namespace lara::retrain {

class MlpMap {
public:
    MlpMap(std::int64_t size, std::int64_t hidden);
    //! u + g(u) over the last dimension of u.
    torch::Tensor apply(const torch::Tensor& u) const;
    std::int64_t size() const { return size_; }
    std::int64_t parameter_count() const;

    //! The objective above at this map, as a differentiable scalar.
    torch::Tensor objective(const torch::Tensor& u, const torch::Tensor& v, double ridge, double bias_weight) const;
    std::vector<torch::Tensor> parameters() const;

private:
    std::int64_t size_;
    torch::Tensor w1_, b1_, w2_, b2_;  // [hidden, n], [hidden], [n, hidden], [n]; they need gradients
};

struct MlpMapOptions {
    double ridge = 1.0, bias_weight = 0.01;  // ρ and β, as for the affine maps
    std::int64_t hidden = 32;
    std::int64_t steps = 300;                // full-batch Adam steps
    double learning_rate = 1e-2;
};

struct MlpMapFit {
    std::shared_ptr<const MlpMap> map;
    double objective = 0;
};

//! u, v: [N, n]. The initial first layer is drawn from the calling thread's generator (model/random.h).
MlpMapFit fit_mlp_map(const torch::Tensor& u, const torch::Tensor& v, const MlpMapOptions& options);

}  // namespace lara::retrain
