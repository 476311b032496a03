#include "retrain/adjusted_model.h"

namespace lara::retrain {

AdjustedModel::AdjustedModel(std::shared_ptr<model::Vae> vae)
    : AdjustedModel(vae, AffineMap::identity(vae->config().latent), AffineMap::identity(vae->config().n_metrics)) {}

AdjustedModel::AdjustedModel(std::shared_ptr<model::Vae> vae, AffineMap z_map, AffineMap x_map)
    : vae_(std::move(vae)), z_map_(std::move(z_map)), x_map_(std::move(x_map)) {}

model::Gaussian AdjustedModel::encode(const torch::Tensor& x) const {
    const auto q = vae_->encode(x);
    return {z_map_.apply(q.mean), z_map_.apply_var(q.var)};
}

model::Gaussian AdjustedModel::map_x(const model::Gaussian& p) const {
    // The decoder's standard-deviation floor holds after the map too: a map that shrinks a metric
    // which became constant must not shrink its variance towards zero and explode its scores.
    // The base variances are already above the floor, so identity maps change nothing.
    const double floor = vae_->config().min_std * vae_->config().min_std;
    if (!x_map_over_window()) return {x_map_.apply(p.mean), x_map_.apply_var(p.var).clamp_min(floor)};
    const auto shape = p.mean.sizes();
    return {x_map_.apply(p.mean.flatten(1)).view(shape), x_map_.apply_var(p.var.flatten(1)).clamp_min(floor).view(shape)};
}

model::Gaussian AdjustedModel::decode(const torch::Tensor& z) const { return map_x(vae_->decode(z)); }

model::Gaussian AdjustedModel::decode_last(const torch::Tensor& z) const {
    if (x_map_over_window()) {
        const auto full = decode(z);
        return {full.mean.select(1, -1), full.var.select(1, -1)};
    }
    return map_x(vae_->decode_last(z));
}

AdjustedModel AdjustedModel::composed_with(const AffineMap& z_new, const AffineMap& x_new) const {
    const auto window = vae_->config().window;
    // A per-step map composed with a window map is lifted to the window first.
    AffineMap x_old = x_map_;
    AffineMap x_next = x_new;
    if (x_old.size() != x_next.size()) {
        if (x_old.size() < x_next.size()) x_old = x_old.tiled(window);
        else x_next = x_next.tiled(window);
    }
    return AdjustedModel(vae_, z_map_.then(z_new), x_old.then(x_next));
}

}  // namespace lara::retrain
