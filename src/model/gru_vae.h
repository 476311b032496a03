// OmniAnomaly-style VAE (Su et al., KDD 2019), simplified: a GRU encoder over the window whose
// last state gives q(z|x), and a GRU decoder driven by z at every step that gives p(x_t|z).
#pragma once

#include "model/vae.h"

namespace lara::model {

class GruVae : public Vae {
public:
    explicit GruVae(const ModelConfig& config);
    Gaussian encode(const torch::Tensor& x) override;
    Gaussian decode(const torch::Tensor& z) override;

private:
    torch::nn::GRU encoder_{nullptr}, decoder_{nullptr};
    torch::nn::Linear encoder_out_{nullptr}, decoder_init_{nullptr}, decoder_out_{nullptr};
};

}  // namespace lara::model
