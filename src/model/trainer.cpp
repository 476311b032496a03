#include "model/trainer.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "core/resources.h"
#include "lara/error.h"
#include "model/random.h"

namespace lara::model {

double mean_loss(Vae& vae, const torch::Tensor& windows, std::int64_t batch) {
    torch::NoGradGuard no_grad;
    double total = 0;
    for (std::int64_t i = 0; i < windows.size(0); i += batch) {
        const auto x = windows.narrow(0, i, std::min(batch, windows.size(0) - i));
        total += -vae.elbo(x).sum().item<double>();
    }
    return total / static_cast<double>(windows.numel());
}

TrainHistory train_vae(Vae& vae, const torch::Tensor& windows, const TrainConfig& config, const ProgressFn& progress) {
    config.validate();
    const std::int64_t n = windows.size(0);
    // Hold out the latest windows: the validation loss then asks "does it generalise forward in time".
    std::int64_t n_val = static_cast<std::int64_t>(static_cast<double>(n) * config.val_fraction);
    if (n - n_val < 1 || n_val < 1) n_val = 0;
    const std::int64_t n_train = n - n_val;
    const auto train = windows.narrow(0, 0, n_train);  // views: a copy would double the memory of a long series
    const auto val = windows.narrow(0, n_train, n_val);

    seed_thread_random(config.seed);
    std::mt19937_64 shuffle_rng(config.seed);
    torch::optim::Adam optimizer(vae.parameters(), torch::optim::AdamOptions(config.learning_rate));
    std::vector<std::int64_t> order(static_cast<std::size_t>(n_train));
    std::iota(order.begin(), order.end(), 0);

    TrainHistory history;
    history.held_out = n_val;
    const core::Timer timer;
    double best = std::numeric_limits<double>::infinity();
    std::vector<torch::Tensor> best_weights;
    std::int64_t since_best = 0;
    vae.train();
    for (std::int64_t epoch = 1; epoch <= config.epochs; ++epoch) {
        std::shuffle(order.begin(), order.end(), shuffle_rng);
        const auto index = torch::from_blob(order.data(), {n_train}, torch::kInt64);
        double epoch_loss = 0;
        for (std::int64_t i = 0; i < n_train; i += config.batch) {
            const auto x = train.index_select(0, index.narrow(0, i, std::min(config.batch, n_train - i)));
            const auto loss = -vae.elbo(x).mean();
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            epoch_loss += loss.item<double>() * static_cast<double>(x.size(0));
        }
        history.train_loss.push_back(epoch_loss / static_cast<double>(train.numel()));
        const double val_loss = n_val > 0 ? mean_loss(vae, val) : history.train_loss.back();
        history.val_loss.push_back(val_loss);
        if (!std::isfinite(history.train_loss.back()) || !std::isfinite(val_loss))
            throw Error(ErrorKind::internal, "the training loss is not finite at epoch " + std::to_string(epoch) +
                                              " (non-finite input values, or a learning rate that diverges)");
        // Without held-out windows there is nothing to select on: the training loss is the mean of
        // the epoch's minibatches before their steps, so it does not measure the weights after them.
        if (n_val > 0 && val_loss < best) {
            best = val_loss;
            history.best_epoch = epoch;
            since_best = 0;
            best_weights.clear();
            for (const auto& p : vae.parameters()) best_weights.push_back(p.detach().clone());
        } else {
            ++since_best;
        }
        const double elapsed = timer.seconds();
        const bool stop = n_val > 0 && since_best >= config.patience;
        if (progress) {
            const auto remaining = stop ? 0 : config.epochs - epoch;
            progress({epoch, config.epochs, history.train_loss.back(), val_loss, elapsed,
                      elapsed / static_cast<double>(epoch) * static_cast<double>(remaining)});
        }
        if (stop) break;
    }
    if (n_val > 0) {
        torch::NoGradGuard no_grad;
        auto params = vae.parameters();
        for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(best_weights[i]);
    } else {
        history.best_epoch = static_cast<std::int64_t>(history.train_loss.size());  // a fixed number of epochs: the last
    }
    vae.eval();
    history.seconds = timer.seconds();
    return history;
}

}  // namespace lara::model
