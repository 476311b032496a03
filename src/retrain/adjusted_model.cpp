#include "retrain/adjusted_model.h"

#include "lara/error.h"

namespace lara::retrain {

AdjustedModel::AdjustedModel(std::shared_ptr<model::Vae> vae)
    : AdjustedModel(vae, AffineMap::identity(vae->config().latent), AffineMap::identity(vae->config().n_metrics)) {}

AdjustedModel::AdjustedModel(std::shared_ptr<model::Vae> vae, AffineMap z_map, AffineMap x_map)
    : vae_(std::move(vae)), z_map_(std::move(z_map)), x_map_(std::move(x_map)), z_identity_(z_map_.is_identity()), x_identity_(x_map_.is_identity()) {}

model::Gaussian AdjustedModel::encode(const torch::Tensor& x) const {
    auto q = vae_->encode(x);
    if (!z_identity_) q = {z_map_.apply(q.mean), z_map_.apply_var(q.var)};
    if (z_net_) q.mean = z_net_->apply(q.mean);
    return q;
}

model::Gaussian AdjustedModel::map_x(const model::Gaussian& p) const {
    // The decoder's standard-deviation floor holds after the map too: a map that shrinks a metric
    // which became constant must not shrink its variance towards zero and explode its scores.
    // The base variances are already above the floor, so an identity map, skipped, changes nothing.
    const double floor = vae_->config().min_std * vae_->config().min_std;
    model::Gaussian out;
    if (x_identity_) {
        out = p;
    } else if (!x_map_over_window()) {
        out = {x_map_.apply(p.mean), x_map_.apply_var(p.var).clamp_min(floor)};
    } else {
        const auto shape = p.mean.sizes();
        out = {x_map_.apply(p.mean.flatten(1)).view(shape), x_map_.apply_var(p.var.flatten(1)).clamp_min(floor).view(shape)};
    }
    if (x_net_) out.mean = x_net_->apply(out.mean);
    return out;
}

model::Gaussian AdjustedModel::decode(const torch::Tensor& z) const { return map_x(vae_->decode(z)); }

model::Gaussian AdjustedModel::decode_last(const torch::Tensor& z) const {
    if (x_map_over_window()) {
        const auto full = decode(z);
        return {full.mean.select(1, -1), full.var.select(1, -1)};
    }
    return map_x(vae_->decode_last(z));
}

std::optional<model::DecoderJet> AdjustedModel::decode_jet(const torch::Tensor& z) const {
    if (has_nonlinear_maps()) return std::nullopt;
    auto base = vae_->decode_jet(z);
    if (!base || x_identity_) return base;
    // Linear in the outputs: mean′ = A mean + b, var′ = max(A² var, floor) on each block of
    // x_map.size() outputs, so the Jacobians take the same linear parts, and the curvature
    // weights go back through their transposes (none where the floor holds the variance).
    const auto K = z.size(0), m = z.size(1), n = x_map_.size(), wd = base->at.mean.size(1);
    const auto A = x_map_.A.to(torch::kFloat64), A2 = A.square();
    const auto along_outputs = [&](const torch::Tensor& M, const torch::Tensor& jacobian) {  // M on each block of [K, m, w·d]
        return torch::matmul(jacobian.reshape({K, m, -1, n}), M.t()).view({K, m, wd});
    };
    const double floor = vae_->config().min_std * vae_->config().min_std;
    const auto mapped = map_x(base->at);
    const auto free = (x_map_.apply_var(base->at.var) > floor).to(torch::kFloat64);
    const auto& J = base->jacobian;
    model::DecoderJet jet;
    jet.at = mapped;
    jet.jacobian = torch::cat({along_outputs(A, J.narrow(2, 0, wd)), free.unsqueeze(1) * along_outputs(A2, J.narrow(2, wd, wd))}, 2);
    jet.curvature = [=, curvature = base->curvature](const torch::Tensor& g_mean, const torch::Tensor& g_var) {
        const auto back = [&](const torch::Tensor& M, const torch::Tensor& g) { return torch::matmul(g.reshape({K, -1, n}), M).view({K, wd}); };
        return curvature(back(A, g_mean), back(A2, free * g_var));
    };
    return jet;
}

AdjustedModel AdjustedModel::composed_with(const AffineMap& z_new, const AffineMap& x_new) const {
    if (has_nonlinear_maps())
        throw Error(ErrorKind::usage, "a model with non-linear (MLP) adjusting maps cannot be retrained again: they do not compose");
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

AdjustedModel AdjustedModel::followed_by(std::shared_ptr<const MlpMap> z_net, std::shared_ptr<const MlpMap> x_net) const {
    if (has_nonlinear_maps()) throw Error(ErrorKind::usage, "this model already has non-linear adjusting maps");
    AdjustedModel out = *this;
    out.z_net_ = std::move(z_net);
    out.x_net_ = std::move(x_net);
    return out;
}

std::int64_t AdjustedModel::nonlinear_parameter_count() const {
    return (z_net_ ? z_net_->parameter_count() : 0) + (x_net_ ? x_net_->parameter_count() : 0);
}

}  // namespace lara::retrain
