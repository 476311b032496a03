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
    if (!torch::GradMode::is_enabled()) {  // the ruminate block's many small decodes, without LibTorch's dispatch per layer
        const auto p = mlp_decode(layer(0), layer(2), {decoder_out_->weight, decoder_out_->bias}, c.activation, c.min_std, z);
        return {p.mean.view({-1, c.window, c.n_metrics}), p.var.view({-1, c.window, c.n_metrics})};
    }
    const auto parts = decoder_out_(decoder_hidden(z)).chunk(2, 1);
    const auto std = F::softplus(parts[1]) + c.min_std;
    return {parts[0].view({-1, c.window, c.n_metrics}), std.square().view({-1, c.window, c.n_metrics})};
}

DenseLayer MlpVae::layer(int index) {
    const auto& linear = decoder_[static_cast<std::size_t>(index)]->as<torch::nn::Linear>();
    return {linear->weight, linear->bias};
}

std::optional<DecoderJet> MlpVae::decode_jet(const torch::Tensor& z) {
    return mlp_decoder_jet(layer(0), layer(2), {decoder_out_->weight, decoder_out_->bias}, config().activation, config().min_std, z);
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
