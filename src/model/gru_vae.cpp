#include "model/gru_vae.h"

namespace lara::model {
namespace F = torch::nn::functional;

namespace {
constexpr double kEncoderMinStd = 1e-4;
}

GruVae::GruVae(const ModelConfig& c) : Vae(c) {
    encoder_ = register_module("encoder", torch::nn::GRU(torch::nn::GRUOptions(c.n_metrics, c.hidden).batch_first(true)));
    encoder_out_ = register_module("encoder_out", torch::nn::Linear(c.hidden, 2 * c.latent));
    decoder_init_ = register_module("decoder_init", torch::nn::Linear(c.latent, c.hidden));
    decoder_ = register_module("decoder", torch::nn::GRU(torch::nn::GRUOptions(c.latent, c.hidden).batch_first(true)));
    decoder_out_ = register_module("decoder_out", torch::nn::Linear(c.hidden, 2 * c.n_metrics));
}

Gaussian GruVae::encode(const torch::Tensor& x) {
    const auto last_state = std::get<1>(encoder_->forward(x)).squeeze(0);
    const auto parts = encoder_out_(last_state).chunk(2, 1);
    const auto std = F::softplus(parts[1]) + kEncoderMinStd;
    return {parts[0], std.square()};
}

Gaussian GruVae::decode(const torch::Tensor& z) {
    const auto& c = config();
    const auto h0 = torch::tanh(decoder_init_(z)).unsqueeze(0);
    const auto inputs = z.unsqueeze(1).expand({z.size(0), c.window, c.latent}).contiguous();
    const auto states = std::get<0>(decoder_->forward(inputs, h0));
    const auto parts = decoder_out_(states).chunk(2, 2);
    const auto std = F::softplus(parts[1]) + c.min_std;
    return {parts[0], std.square()};
}

}  // namespace lara::model
