// lara/config.h: one plain struct per stage. Defaults live here; each field says its meaning,
// unit and range; validate() names the bad field. The effective configs are saved in the model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

// lara's API passes nlohmann::json objects, and the library is built without JSON_DIAGNOSTICS,
// which changes their layout: refused here, with a message, rather than at link time (nlohmann
// 3.11 tags its ABI with it) or, with older versions, by corrupting them silently.
#if JSON_DIAGNOSTICS
#error "lara's API passes nlohmann::json objects, and lara is built without JSON_DIAGNOSTICS: build this file without it"
#endif

namespace lara {

//! The values ModelConfig::activation takes (the command line offers the same).
inline const std::vector<std::string> kActivations = {"relu", "softplus", "elu", "silu", "tanh"};

//! Architecture and size of the VAE.
struct ModelConfig {
    std::string arch = "mlp";   // mlp (Donut-style, flattened window) | gru (OmniAnomaly-style)
    std::int64_t window = 40;   // w, time steps per window, [2, 10000]
    std::int64_t n_metrics = 0; // d, taken from the training data, [1, kMaxMetrics]
    static constexpr std::int64_t kMaxMetrics = 10000;  // M_x is d×d: 10,000 metrics make it 400 MB
    std::int64_t latent = 8;    // m, latent dimension, [1, 1024]
    std::int64_t hidden = 100;  // units per hidden layer (mlp) or GRU state size (gru), [1, 65536]
    // The mlp's hidden layers: relu | softplus | elu | silu | tanh; a GRU has its own, and ignores
    // it. Softplus by default: a smooth decoder makes the ruminate block's target smooth at its mode,
    // so its importance sampling keeps an ESS near N; with ReLU the ESS is about 1 (docs/method.md).
    std::string activation = "softplus";
    double min_std = 0.05;      // floor of the decoder's standard deviation, normalised units, (0, 10)

    void validate() const;
    nlohmann::json to_json() const;
    static ModelConfig from_json(const nlohmann::json& json);
};

//! ELBO training with Adam.
struct TrainConfig {
    std::int64_t epochs = 30;     // maximum passes over the training windows, ≥ 1
    std::int64_t batch = 256;     // windows per minibatch, ≥ 1
    double learning_rate = 1e-3;  // Adam step size, (0, 1)
    double val_fraction = 0.1;    // latest fraction of windows held out for early stopping, [0, 0.9); 0 = none
    std::int64_t patience = 5;    // epochs without a better validation loss before stopping, ≥ 1
    std::uint64_t seed = 0;       // initial weights, shuffling and sampling

    void validate() const;
    nlohmann::json to_json() const;
    static TrainConfig from_json(const nlohmann::json& json);
};

//! The label-free detection threshold.
struct ThresholdConfig {
    std::string method = "spot";  // spot (GPD tail of the training scores) | fixed
    double risk = 1e-3;           // SPOT's q: expected fraction of normal steps above the threshold, (0, 1)
    double init_quantile = 0.98;  // SPOT's initial threshold t as a quantile of the training scores, [0.5, 1)
    double value = 0;             // the threshold itself when method = fixed

    void validate() const;
    nlohmann::json to_json() const;
    static ThresholdConfig from_json(const nlohmann::json& json);
};

//! Retraining after a change of normal pattern (docs/method.md).
struct RetrainConfig {
    std::string method = "lara";     // lara | finetune | scratch | renorm
    std::int64_t n_restored = 10;    // n: windows restored from the old model per new window, [0, 1000]
    //! N: importance-sampling proposals per new window, [1, 10000]. 16: with the Laplace proposal
    //! the ESS is about N, and the Monte Carlo error of z̃ is then small beside that of the n
    //! restored windows' draws (docs/method.md); more proposals cost time and change little.
    std::int64_t n_samples = 16;
    //! laplace: N(mode, (−H)⁻¹) of the target, the mode found by Newton steps from the
    //! encoder mean (the default: the method's z̃, soundly estimated, ESS ≈ N with a smooth
    //! decoder; whether it detects better than posterior depends on the data, docs/method.md)
    //! | posterior: q(z|x) | prior: N(0, I).
    std::string proposal = "laplace";
    //! laplace: the most Newton steps towards the mode; they stop earlier once the Newton decrement
    //! is below 0.01 (about 6 on JumpStarter with softplus layers; ReLU layers use them all). ≥ 0.
    std::int64_t newton_steps = 15;
    //! At most this many new windows, evenly spaced, go through the ruminate block and fit M_z
    //! (its cost is per window; M_z has (m+1)·m parameters); M_x still fits every window. ≥ 1.
    std::int64_t ruminated_windows = 64;
    bool ruminate = true;            // false: the ablation z̃ = encoder mean
    bool fit_z = true;               // fit M_z (false: the M_x-only ablation)
    bool fit_x = true;               // fit M_x (false: the M_z-only ablation)
    std::string x_map = "full";      // full (d×d) | diagonal | window (over the flattened window, wd×wd)
    //! affine (LARA) | mlp: the ablation with small residual networks fitted by Adam on the same
    //! loss (retrain/mlp_map.h); its model scores in-process but cannot be saved or retrained again.
    std::string maps = "affine";
    double ridge_z = 1.0;            // ρ_z, pull of M_z towards the identity, > 0 (inf: keep the identity)
    double ridge_x = 1.0;            // ρ_x, pull of M_x towards the identity, > 0 (inf: keep the identity)
    double ridge_bias = 0.01;        // β: the biases' share of each ridge, (0, ∞); 1 is the method document's form
    std::string solver = "exact";    // exact (Cholesky) | iterative (accelerated gradient descent)
    std::int64_t baseline_epochs = 50;  // Adam epochs for finetune and scratch
    std::string recalibrate = "shift";  // shift | scale | warmup | keep (the old threshold); see docs/method.md
    static constexpr std::int64_t kMinWarmupRows = 50;  // SPOT needs a tail of that many scores
    std::int64_t warmup_rows = 288;     // warmup: SPOT on the first rows of each scored series (288 = a day of 5-minute steps), ≥ 50
    std::uint64_t seed = 0;             // sampling and baseline training

    //! Whether LARA fits M_z, M_x: its switch on and a finite ridge (an infinite one keeps the
    //! map the identity, unfitted); and whether the ruminate block runs (it guides M_z only).
    bool fits_z() const;
    bool fits_x() const;
    bool ruminates() const { return fits_z() && ruminate; }
    void validate() const;
    nlohmann::json to_json() const;
};

}  // namespace lara

namespace lara {

//! One line of training progress, reported after every epoch.
struct TrainProgress {
    std::int64_t epoch = 0, epochs = 0;   // 1-based epoch, and the maximum
    double train_loss = 0, val_loss = 0;  // negative ELBO per window element (nats)
    double seconds = 0, seconds_left = 0; // elapsed, and a linear estimate of what is left at most
};

}  // namespace lara
