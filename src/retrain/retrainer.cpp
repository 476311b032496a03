#include "retrain/retrainer.h"

#include <cmath>

#include "core/resources.h"
#include "model/random.h"
#include "lara/error.h"
#include "model/trainer.h"
#include "retrain/ridge_solver.h"
#include "retrain/ruminator.h"

namespace lara::retrain {
namespace {

RidgeOptions ridge_options(const RetrainConfig& config, double ridge, bool diagonal, const char* name) {
    RidgeOptions options;
    options.name = std::string("retrain config: ") + name;
    options.ridge = ridge;
    options.diagonal = diagonal;
    options.bias_weight = config.ridge_bias;
    options.solver = config.solver;
    return options;
}

TrainConfig baseline_training(const RetrainConfig& config, const torch::Tensor& windows) {
    TrainConfig train;
    train.epochs = config.baseline_epochs;
    train.val_fraction = 0;  // K windows are too few to hold any out
    train.batch = std::max<std::int64_t>(windows.size(0), 1);
    train.seed = config.seed;
    return train;
}

//! Up to `at_most` indices of [0, n), evenly spaced, first and last included.
torch::Tensor evenly_spaced(std::int64_t n, std::int64_t at_most) {
    if (n <= at_most) return torch::arange(n);
    return torch::linspace(0, static_cast<double>(n - 1), at_most, torch::kFloat64).round().to(torch::kLong);
}

//! The ablation: the two stages of LARA with MLP maps in place of the affine ones. Stage 1 fits
//! u_z → z̃ on the ruminated windows, stage 2 every window's reconstruction from u.
void fit_nonlinear(LaraFit& fit, const torch::Tensor& u_z, const torch::Tensor& z_tilde, const torch::Tensor& u, const torch::Tensor& windows,
                   const RetrainConfig& config) {
    const auto d = fit.model.config().n_metrics;
    MlpMapOptions options;
    options.bias_weight = config.ridge_bias;
    std::shared_ptr<const MlpMap> z_net, x_net;
    auto z = u;
    // An infinite ridge keeps the identity, as it does for the affine maps.
    if (config.fits_z()) {
        options.ridge = config.ridge_z;
        auto stage = fit_mlp_map(u_z, z_tilde, options);
        z_net = stage.map;
        z = z_net->apply(u);
        fit.objective_z = stage.objective;
    }
    if (config.fits_x()) {
        options.ridge = config.ridge_x;
        const auto x_tilde = fit.model.decode(z).mean.reshape({-1, d});
        auto stage = fit_mlp_map(x_tilde, windows.reshape({-1, d}), options);
        x_net = stage.map;
        fit.objective_x = stage.objective;
    }
    fit.model = fit.model.followed_by(z_net, x_net);
}

}  // namespace

LaraFit retrain_lara(const AdjustedModel& current, const torch::Tensor& windows, const RetrainConfig& config) {
    torch::NoGradGuard no_grad;
    model::seed_thread_random(config.seed);
    const auto& mc = current.config();
    LaraFit fit{current};

    core::Timer ruminate_timer;
    const auto u = current.encode(windows).mean;  // [K, m]
    // Windows at stride 1 overlap almost entirely: an evenly spaced subset carries what M_z needs
    // and keeps the per-window cost of the ruminate block bounded as K grows.
    const auto ruminated = evenly_spaced(windows.size(0), config.ruminated_windows);
    const auto u_z = u.index_select(0, ruminated);
    torch::Tensor z_tilde = u_z;
    // An infinite ridge keeps a map the identity: that stage is not fitted, and without M_z the
    // ruminate block has nothing to guide (RetrainConfig::fits_z).
    const bool fits_z = config.fits_z(), fits_x = config.fits_x();
    if (config.ruminates()) {
        RuminateOptions options;
        options.n_restored = config.n_restored;
        options.n_samples = config.n_samples;
        options.newton_steps = config.newton_steps;
        options.proposal = config.proposal;
        const auto r = ruminate(current, windows.index_select(0, ruminated), options);
        z_tilde = r.z_tilde;
        fit.ess_mean = r.ess.mean().item<double>();
        fit.ess_min = r.ess.min().item<double>();
        fit.newton_steps = r.newton_steps;
        fit.n_ruminated = ruminated.size(0);
    }
    fit.ruminate_ms = ruminate_timer.milliseconds();

    core::Timer fit_timer;
    if (config.maps == "mlp") {
        fit_nonlinear(fit, u_z, z_tilde, u, windows, config);
        fit.fit_ms = fit_timer.milliseconds();
        return fit;
    }
    AffineMap z_new = AffineMap::identity(mc.latent);
    if (fits_z) {
        const auto stage = fit_ridge(u_z, z_tilde, ridge_options(config, config.ridge_z, false, "ridge_z"));
        z_new = stage.map;
        fit.objective_z = stage.objective;
        fit.iterations += stage.iterations;
        fit.converged = fit.converged && stage.converged;
        fit.loss_curve_z = stage.loss_curve;
    }
    // An identity over the window would only make the model file larger.
    const bool over_window = fits_x && config.x_map == "window";
    AffineMap x_new = AffineMap::identity(over_window ? mc.window * mc.n_metrics : mc.n_metrics);
    if (fits_x) {
        // Stage 2 with M_z fixed: x̃ = current decoder mean at the adjusted latent.
        const auto x_tilde = current.decode(z_new.apply(u)).mean;
        const auto flat = over_window ? std::vector<std::int64_t>{-1, mc.window * mc.n_metrics}
                                      : std::vector<std::int64_t>{-1, mc.n_metrics};
        const auto stage = fit_ridge(x_tilde.reshape(flat), windows.reshape(flat),
                                     ridge_options(config, config.ridge_x, config.x_map == "diagonal", "ridge_x"));
        x_new = stage.map;
        fit.objective_x = stage.objective;
        fit.iterations += stage.iterations;
        fit.converged = fit.converged && stage.converged;
        fit.loss_curve_x = stage.loss_curve;
    }
    fit.model = current.composed_with(z_new, x_new);
    fit.fit_ms = fit_timer.milliseconds();
    return fit;
}

AdjustedModel retrain_finetune(const AdjustedModel& current, const torch::Tensor& windows, const RetrainConfig& config) {
    // Fine-tuning changes the weights under the maps an earlier LARA retraining fitted to them;
    // keeping the maps would be meaningless and dropping them would silently undo that retraining.
    if (current.has_nonlinear_maps() || !current.z_map().is_identity() || !current.x_map().is_identity())
        throw Error(ErrorKind::usage, "finetune tunes the base VAE, and this model carries the maps of an earlier LARA retraining, "
                                      "which it would drop; fine-tune the model before that retraining, or retrain with lara");
    auto vae = model::make_vae(current.config());
    model::import_weights(*vae, model::export_weights(*current.vae()));
    model::train_vae(*vae, windows, baseline_training(config, windows));
    return AdjustedModel(vae);
}

AdjustedModel retrain_scratch(const AdjustedModel& current, const torch::Tensor& windows, const RetrainConfig& config) {
    model::seed_thread_random(config.seed);  // the new initial weights
    auto vae = model::make_vae(current.config());
    model::train_vae(*vae, windows, baseline_training(config, windows));
    return AdjustedModel(vae);
}

}  // namespace lara::retrain
