// The VAE behind one interface: a Gaussian encoder q(z|x), a Gaussian decoder p(x|z), each
// callable on its own, because the ruminate block of retraining samples and decodes separately.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <torch/torch.h>

#include "lara/config.h"

namespace lara::model {

using lara::ModelConfig;

//! A diagonal Gaussian: mean and variance of the same shape.
struct Gaussian {
    torch::Tensor mean;
    torch::Tensor var;
};

//! The decoder at K latents to second order: what the Laplace fit of retraining (retrain/laplace.h)
//! needs to take exact Newton steps without differentiating numerically through the network.
struct DecoderJet {
    Gaussian at;             // mean, var: [K, w·d], in the decoder's precision
    torch::Tensor jacobian;  // ∂(mean, var)/∂z_i: [K, m, 2·w·d], the means' columns, then the variances'; float64
    //! Σ_o g_mean[o] ∇²mean[o] + g_var[o] ∇²var[o] for float64 weights [K, w·d]: [K, m, m], float64.
    std::function<torch::Tensor(const torch::Tensor& g_mean, const torch::Tensor& g_var)> curvature;
};

//! Log-density of x under a diagonal Gaussian, per element (no reduction).
torch::Tensor gaussian_log_density(const torch::Tensor& x, const Gaussian& g);

//! Windows are [batch, window, metric]; latents are [batch, latent]. Float32 throughout.
class Vae : public torch::nn::Module {
public:
    explicit Vae(ModelConfig config) : config_(std::move(config)) {}
    const ModelConfig& config() const { return config_; }

    virtual Gaussian encode(const torch::Tensor& x) = 0;
    virtual Gaussian decode(const torch::Tensor& z) = 0;
    //! The decoder's distribution of the last time step only, [batch, metric]. Scoring needs
    //! nothing else, and the MLP computes it with 1/w of the output layer's work.
    virtual Gaussian decode_last(const torch::Tensor& z);
    //! The decoder at z [K, m] to second order, where its derivatives have a closed form (the MLP);
    //! none otherwise (the GRU), and the Laplace fit then takes them by finite differences.
    virtual std::optional<DecoderJet> decode_jet(const torch::Tensor& z);

    //! Reparameterised draws z = μ + σ·ε, [n_samples, batch, latent], ε from the thread's generator.
    static torch::Tensor sample(const Gaussian& q, std::int64_t n_samples);
    //! Per-window ELBO with one reparameterised sample and the analytic KL term, [batch].
    torch::Tensor elbo(const torch::Tensor& x);

private:
    ModelConfig config_;
};

//! A new VAE whose initial weights are drawn from the calling thread's generator (model/random.h).
std::shared_ptr<Vae> make_vae(const ModelConfig& config);

//! The number of weights make_vae(config) holds, without building it: a model file's sections
//! are checked against it before anything of that size is allocated. config must be valid.
std::int64_t weight_count(const ModelConfig& config);

//! Weights as named float arrays (for the model file) and back; load checks names and shapes.
std::map<std::string, std::vector<float>> export_weights(Vae& vae);
void import_weights(Vae& vae, const std::map<std::string, std::vector<float>>& sections);

//! Sliding windows of length w at stride 1 over a [T, d] series: a [T−w+1, w, d] view, no copy.
torch::Tensor sliding_windows(const torch::Tensor& series, std::int64_t window);

}  // namespace lara::model
