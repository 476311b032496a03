// What scoring and the ruminate block need from a model: a Gaussian encoder and decoder. The
// base VAE behind its adjusting maps (retrain::AdjustedModel) is the one implementation, so a
// retrained model is scored and retrained again through exactly the same code as a fresh one.
#pragma once

#include "model/vae.h"

namespace lara::model {

class Reconstructor {
public:
    virtual ~Reconstructor() = default;
    virtual const ModelConfig& config() const = 0;
    virtual Gaussian encode(const torch::Tensor& x) const = 0;       // [B, w, d] → [B, m]
    virtual Gaussian decode(const torch::Tensor& z) const = 0;       // [B, m] → [B, w, d]
    virtual Gaussian decode_last(const torch::Tensor& z) const = 0;  // [B, m] → [B, d]
    //! [K, m] → the decoder to second order (Vae::decode_jet), or none: numerical derivatives then.
    virtual std::optional<DecoderJet> decode_jet(const torch::Tensor&) const { return std::nullopt; }
};

}  // namespace lara::model
