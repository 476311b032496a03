#include "retrain/mlp_map.h"

#include <cmath>

#include "model/random.h"

namespace lara::retrain {
MlpMap::MlpMap(std::int64_t size, std::int64_t hidden) : size_(size) {
    // The first layer as LibTorch initialises a linear layer; the second at zero: the identity.
    const double bound = 1.0 / std::sqrt(static_cast<double>(size));
    w1_ = torch::empty({hidden, size}).uniform_(-bound, bound, model::thread_random()).requires_grad_();
    b1_ = torch::empty({hidden}).uniform_(-bound, bound, model::thread_random()).requires_grad_();
    w2_ = torch::zeros({size, hidden}).requires_grad_();
    b2_ = torch::zeros({size}).requires_grad_();
}

torch::Tensor MlpMap::apply(const torch::Tensor& u) const {
    return u + torch::nn::functional::linear(torch::tanh(torch::nn::functional::linear(u, w1_, b1_)), w2_, b2_);
}

std::vector<torch::Tensor> MlpMap::parameters() const { return {w1_, b1_, w2_, b2_}; }

std::int64_t MlpMap::parameter_count() const {
    std::int64_t n = 0;
    for (const auto& p : parameters()) n += p.numel();
    return n;
}

torch::Tensor MlpMap::objective(const torch::Tensor& u, const torch::Tensor& v, double ridge, double bias_weight) const {
    const auto data = u.size(0) > 0 ? (apply(u) - v).square().sum(1).mean() : torch::zeros({});
    const auto weights = w1_.square().sum() + w2_.square().sum();
    const auto biases = b1_.square().sum() + b2_.square().sum();
    return data + ridge * (weights + bias_weight * biases);
}

MlpMapFit fit_mlp_map(const torch::Tensor& u, const torch::Tensor& v, const MlpMapOptions& options) {
    auto map = std::make_shared<MlpMap>(u.size(1), options.hidden);
    if (u.size(0) > 0) {
        torch::AutoGradMode grad(true);
        torch::optim::Adam adam(map->parameters(), torch::optim::AdamOptions(options.learning_rate));
        for (std::int64_t step = 0; step < options.steps; ++step) {
            adam.zero_grad();
            map->objective(u, v, options.ridge, options.bias_weight).backward();
            adam.step();
        }
    }
    torch::NoGradGuard no_grad;
    const double objective = map->objective(u, v, options.ridge, options.bias_weight).item<double>();
    return {std::move(map), objective};
}

}  // namespace lara::retrain
