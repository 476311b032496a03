// Donut-style VAE (Xu et al., WWW 2018): fully connected encoder and decoder over the flattened window.
#pragma once

#include "model/mlp_decoder.h"
#include "model/vae.h"

namespace lara::model {

class MlpVae : public Vae {
public:
    explicit MlpVae(const ModelConfig& config);
    Gaussian encode(const torch::Tensor& x) override;
    Gaussian decode(const torch::Tensor& z) override;
    Gaussian decode_last(const torch::Tensor& z) override;
    std::optional<DecoderJet> decode_jet(const torch::Tensor& z) override;

private:
    torch::Tensor decoder_hidden(const torch::Tensor& z);
    DenseLayer layer(int index);  // a linear layer of the decoder's Sequential
    torch::nn::Sequential encoder_{nullptr}, decoder_{nullptr};
    torch::nn::Linear encoder_out_{nullptr}, decoder_out_{nullptr};
};

}  // namespace lara::model
