// The frozen base VAE behind its two adjusting maps: x ↦ M_x(μ_θ(M_z(μ_φ(x)))). A freshly
// trained model has identity maps; retraining only ever replaces the maps, never the weights.
#pragma once

#include <memory>

#include "model/reconstructor.h"
#include "retrain/affine_map.h"
#include "retrain/mlp_map.h"

namespace lara::retrain {

class AdjustedModel : public model::Reconstructor {
public:
    explicit AdjustedModel(std::shared_ptr<model::Vae> vae);
    AdjustedModel(std::shared_ptr<model::Vae> vae, AffineMap z_map, AffineMap x_map);

    const model::ModelConfig& config() const override { return vae_->config(); }
    model::Gaussian encode(const torch::Tensor& x) const override;
    model::Gaussian decode(const torch::Tensor& z) const override;
    model::Gaussian decode_last(const torch::Tensor& z) const override;
    //! The base decoder's jet through the affine x map; none with non-linear maps.
    std::optional<model::DecoderJet> decode_jet(const torch::Tensor& z) const override;

    const std::shared_ptr<model::Vae>& vae() const { return vae_; }
    const AffineMap& z_map() const { return z_map_; }
    //! Either per time step ([d, d], shared over the window) or over the flattened window ([wd, wd]).
    const AffineMap& x_map() const { return x_map_; }
    bool x_map_over_window() const { return x_map_.size() != vae_->config().n_metrics; }

    //! This model with new maps composed after the current ones: z ↦ z_new(z_map(z)), x likewise.
    //! Throws lara::Error (usage) when the model has non-linear maps: those do not compose.
    AdjustedModel composed_with(const AffineMap& z_new, const AffineMap& x_new) const;

    //! The ablation: this model followed by non-linear maps (either may be null: none). Only means
    //! pass through them; variances stay those of the affine part. Such a model cannot be saved
    //! or retrained again.
    AdjustedModel followed_by(std::shared_ptr<const MlpMap> z_net, std::shared_ptr<const MlpMap> x_net) const;
    bool has_nonlinear_maps() const { return z_net_ || x_net_; }
    std::int64_t nonlinear_parameter_count() const;

private:
    model::Gaussian map_x(const model::Gaussian& window) const;
    std::shared_ptr<model::Vae> vae_;
    AffineMap z_map_, x_map_;
    // A freshly trained model's maps change nothing: they are skipped rather than applied, since
    // the ruminate block decodes thousands of latents per retraining.
    bool z_identity_, x_identity_;
    std::shared_ptr<const MlpMap> z_net_, x_net_;  // per step, like a d×d x_map
};

}  // namespace lara::retrain
