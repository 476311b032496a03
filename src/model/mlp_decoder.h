// The MLP decoder without autograd, and to second order in closed form, written as BLAS products
// and plain loops: at the ruminate block's sizes (a few windows) one LibTorch operation costs more
// in dispatch than in arithmetic, and a Newton step needed about seventy of them (docs/method.md).
#pragma once

#include <string>

#include "model/vae.h"

namespace lara::model {

//! One fully connected layer y = W x + b: W [out, in], b [out], both of the model's precision.
struct DenseLayer {
    torch::Tensor weight, bias;
};

//! The decoder h₁ = a(W₁z + b₁), h₂ = a(W₂h₁ + b₂), ρ = W₃h₂ + b₃, where ρ holds the w·d means, then
//! the raw standard deviations r (var = (softplus(r) + min_std)²), at z [B, m]: mean and var [B, w·d].
//! The same function as the layers' modules up to rounding (the products are summed in another
//! order), without autograd.
Gaussian mlp_decode(const DenseLayer& first, const DenseLayer& second, const DenseLayer& out, const std::string& activation, double min_std,
                    const torch::Tensor& z);

//! The same decoder and its derivatives at z [K, m].
DecoderJet mlp_decoder_jet(const DenseLayer& first, const DenseLayer& second, const DenseLayer& out, const std::string& activation,
                           double min_std, const torch::Tensor& z);

}  // namespace lara::model
