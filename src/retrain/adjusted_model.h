// The frozen base VAE behind its two adjusting maps: x ↦ M_x(μ_θ(M_z(μ_φ(x)))). A freshly
// trained model has identity maps; retraining only ever replaces the maps, never the weights.
#pragma once

#include <memory>

#include "model/reconstructor.h"
#include "retrain/affine_map.h"

namespace lara::retrain {

class AdjustedModel : public model::Reconstructor {
public:
    explicit AdjustedModel(std::shared_ptr<model::Vae> vae);
    AdjustedModel(std::shared_ptr<model::Vae> vae, AffineMap z_map, AffineMap x_map);

    const model::ModelConfig& config() const override { return vae_->config(); }
    model::Gaussian encode(const torch::Tensor& x) const override;
    model::Gaussian decode(const torch::Tensor& z) const override;
    model::Gaussian decode_last(const torch::Tensor& z) const override;

    const std::shared_ptr<model::Vae>& vae() const { return vae_; }
    const AffineMap& z_map() const { return z_map_; }
    //! Either per time step ([d, d], shared over the window) or over the flattened window ([wd, wd]).
    const AffineMap& x_map() const { return x_map_; }
    bool x_map_over_window() const { return x_map_.size() != vae_->config().n_metrics; }

    //! This model with new maps composed after the current ones: z ↦ z_new(z_map(z)), x likewise.
    AdjustedModel composed_with(const AffineMap& z_new, const AffineMap& x_new) const;

private:
    model::Gaussian map_x(const model::Gaussian& window) const;
    std::shared_ptr<model::Vae> vae_;
    AffineMap z_map_, x_map_;
};

}  // namespace lara::retrain
