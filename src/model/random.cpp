#include "model/random.h"

#include <cmath>

#include <ATen/CPUGeneratorImpl.h>

#include "lara/error.h"

namespace lara::model {
namespace {

at::Generator& generator() {
    thread_local at::Generator g = at::make_generator<at::CPUGeneratorImpl>(0);
    return g;
}

void uniform(torch::Tensor& t, double bound) { t.uniform_(-bound, bound, generator()); }

}  // namespace

void seed_thread_random(std::uint64_t seed) {
    auto& g = generator();
    const std::lock_guard<std::mutex> lock(g.mutex());
    g.set_current_seed(seed);
}

at::Generator thread_random() { return generator(); }

void initialise_parameters(torch::nn::Module& module) {
    torch::NoGradGuard no_grad;
    for (const auto& child : module.modules(/*include_self=*/true)) {
        if (auto* linear = child->as<torch::nn::Linear>()) {
            const double bound = 1.0 / std::sqrt(static_cast<double>(linear->weight.size(1)));
            uniform(linear->weight, bound);
            if (linear->bias.defined()) uniform(linear->bias, bound);
        } else if (auto* gru = child->as<torch::nn::GRU>()) {
            const double bound = 1.0 / std::sqrt(static_cast<double>(gru->options.hidden_size()));
            for (auto& p : gru->parameters(/*recurse=*/false)) uniform(p, bound);
        } else if (!child->parameters(/*recurse=*/false).empty()) {
            throw Error(ErrorKind::model, "no initialisation known for the parameters of " + child->name());
        }
    }
}

}  // namespace lara::model
