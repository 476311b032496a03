#include "model/mlp_vae.h"

#include "lara/error.h"

namespace lara::model {
namespace F = torch::nn::functional;

namespace {
constexpr double kEncoderMinStd = 1e-4;

//! One of kActivations (ModelConfig::validate has checked the name).
torch::nn::AnyModule activation(const std::string& name) {
    if (name == "softplus") return torch::nn::AnyModule(torch::nn::Softplus());
    if (name == "elu") return torch::nn::AnyModule(torch::nn::ELU());
    if (name == "silu") return torch::nn::AnyModule(torch::nn::SiLU());
    if (name == "tanh") return torch::nn::AnyModule(torch::nn::Tanh());
    if (name == "relu") return torch::nn::AnyModule(torch::nn::ReLU());
    throw Error(ErrorKind::usage, "model config: activation \"" + name + "\" has no layer");
}

//! Linear, activation, linear, activation.
torch::nn::Sequential two_layers(std::int64_t in, std::int64_t hidden, const std::string& name) {
    torch::nn::Sequential layers;
    layers->push_back(torch::nn::Linear(in, hidden));
    layers->push_back(activation(name));
    layers->push_back(torch::nn::Linear(hidden, hidden));
    layers->push_back(activation(name));
    return layers;
}

//! An activation and its first two derivatives at u, element-wise.
struct ActivationJet {
    torch::Tensor value, first, second;
};
ActivationJet activation_jet(const std::string& name, const torch::Tensor& u) {
    if (name == "softplus") {
        const auto s = torch::sigmoid(u);
        return {F::softplus(u), s, s * (1 - s)};
    }
    if (name == "elu") {
        const auto e = u.clamp_max(0).exp();
        const auto positive = u > 0;
        return {F::elu(u), torch::where(positive, torch::ones_like(u), e), torch::where(positive, torch::zeros_like(u), e)};
    }
    if (name == "silu") {
        const auto s = torch::sigmoid(u);
        return {F::silu(u), s * (1 + u * (1 - s)), s * (1 - s) * (2 + u * (1 - 2 * s))};
    }
    if (name == "tanh") {
        const auto t = torch::tanh(u);
        const auto first = 1 - t.square();
        return {t, first, -2 * t * first};
    }
    if (name == "relu") return {torch::relu(u), (u > 0).to(u.dtype()), torch::zeros_like(u)};
    throw Error(ErrorKind::usage, "model config: activation \"" + name + "\" has no derivatives");
}
}  // namespace

MlpVae::MlpVae(const ModelConfig& c) : Vae(c) {
    const auto flat = c.window * c.n_metrics;
    encoder_ = register_module("encoder", two_layers(flat, c.hidden, c.activation));
    encoder_out_ = register_module("encoder_out", torch::nn::Linear(c.hidden, 2 * c.latent));
    decoder_ = register_module("decoder", two_layers(c.latent, c.hidden, c.activation));
    // Output rows: the means of all w·d elements (time-major), then their raw standard deviations.
    decoder_out_ = register_module("decoder_out", torch::nn::Linear(c.hidden, 2 * flat));
}

Gaussian MlpVae::encode(const torch::Tensor& x) {
    const auto out = encoder_out_(encoder_->forward(x.flatten(1)));
    const auto parts = out.chunk(2, 1);
    const auto std = F::softplus(parts[1]) + kEncoderMinStd;
    return {parts[0], std.square()};
}

torch::Tensor MlpVae::decoder_hidden(const torch::Tensor& z) { return decoder_->forward(z); }

Gaussian MlpVae::decode(const torch::Tensor& z) {
    const auto& c = config();
    const auto parts = decoder_out_(decoder_hidden(z)).chunk(2, 1);
    const auto std = F::softplus(parts[1]) + c.min_std;
    return {parts[0].view({-1, c.window, c.n_metrics}), std.square().view({-1, c.window, c.n_metrics})};
}

//! Forward mode through the two hidden layers h₁ = a(W₁z + b₁), h₂ = a(W₂h₁ + b₂) and the output
//! layer ρ = W₃h₂ + b₃ (the means, then the raw standard deviations r, var = (softplus(r) + floor)²),
//! with the derivatives along each latent axis as rows, so that every product is one contiguous
//! matrix product. The curvature Σ_o u_o ∇²ρ_o of the linear output layer is that of h₂ weighted
//! by W₃ᵀu, which the chain rule takes back through each layer in [K, m, hidden] products.
std::optional<DecoderJet> MlpVae::decode_jet(const torch::Tensor& z) {
    const auto& c = config();
    const auto flat = c.window * c.n_metrics;
    const auto& first = decoder_[0]->as<torch::nn::Linear>();
    const auto& second = decoder_[2]->as<torch::nn::Linear>();
    const auto& W1 = first->weight;
    const auto& W2 = second->weight;
    const auto& W3 = decoder_out_->weight;
    const auto K = z.size(0), m = z.size(1);

    const auto a1 = activation_jet(c.activation, F::linear(z, W1, first->bias));
    const auto a2 = activation_jet(c.activation, F::linear(a1.value, W2, second->bias));
    const auto du2 = torch::matmul(W1.t() * a1.first.unsqueeze(1), W2.t());  // ∂(W₂h₁ + b₂)/∂z_i as rows: [K, m, H]
    const auto rho = decoder_out_(a2.value);
    const auto drho = torch::mm((du2 * a2.first.unsqueeze(1)).view({K * m, -1}), W3.t()).view({K, m, 2 * flat});

    const auto raw_std = rho.narrow(1, flat, flat);
    const auto std = F::softplus(raw_std) + c.min_std;
    const auto slope = torch::sigmoid(raw_std);  // softplus′; softplus″ = slope (1 − slope)
    const auto dr = drho.narrow(2, flat, flat);
    DecoderJet jet;
    jet.at = {rho.narrow(1, 0, flat), std.square()};
    // var = s(r)², s = softplus + floor: ∂var/∂z = 2 s s′ ∂r/∂z.
    jet.jacobian = drho.to(torch::kFloat64, /*non_blocking=*/false, /*copy=*/true);  // a copy: scaled in place below, and drho is kept
    jet.jacobian.narrow(2, flat, flat).mul_((2 * std * slope).to(torch::kFloat64).unsqueeze(1));
    jet.curvature = [=, dd1 = a1.second, d2 = a2.first, dd2 = a2.second](const torch::Tensor& g_mean, const torch::Tensor& g_var) {
        // ∇²var = 2(s′² + s s″) ∇r∇rᵀ + 2 s s′ ∇²r; the rest is the output layer's Σ_o u_o ∇²ρ_o.
        const auto g = torch::cat({g_mean, g_var}, 1).to(W3.dtype());
        const auto gm = g.narrow(1, 0, flat), gv = g.narrow(1, flat, flat);
        const auto outer = torch::bmm(dr, (dr * (gv * 2 * (slope.square() + std * slope * (1 - slope))).unsqueeze(1)).transpose(1, 2));
        const auto r2 = torch::mm(torch::cat({gm, gv * 2 * std * slope}, 1), W3);  // W₃ᵀu: [K, H]
        const auto r1 = torch::mm(r2 * d2, W2);
        const auto layer2 = torch::bmm(du2, (du2 * (r2 * dd2).unsqueeze(1)).transpose(1, 2));
        const auto layer1 = torch::matmul(W1.t() * (r1 * dd1).unsqueeze(1), W1);
        return (outer + layer2 + layer1).to(torch::kFloat64);
    };
    return jet;
}

Gaussian MlpVae::decode_last(const torch::Tensor& z) {
    const auto& c = config();
    const auto flat = c.window * c.n_metrics;
    const auto last = (c.window - 1) * c.n_metrics;
    const auto& W = decoder_out_->weight;
    const auto& b = decoder_out_->bias;
    const auto h = decoder_hidden(z);
    const auto mean = F::linear(h, W.narrow(0, last, c.n_metrics), b.narrow(0, last, c.n_metrics));
    const auto raw_std = F::linear(h, W.narrow(0, flat + last, c.n_metrics), b.narrow(0, flat + last, c.n_metrics));
    const auto std = F::softplus(raw_std) + c.min_std;
    return {mean, std.square()};
}

}  // namespace lara::model
