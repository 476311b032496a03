#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "model/random.h"
#include "model/trainer.h"
#include "model/vae.h"

namespace {

lara::ModelConfig small_mlp(std::int64_t d) {
    lara::ModelConfig c;
    c.arch = "mlp";
    c.window = 8;
    c.n_metrics = d;
    c.latent = 3;
    c.hidden = 16;
    return c;
}

//! 100 windows [100, 8, 4]: 90 of sines, then 10 at the constant 5 that the sines never reach.
//! Held out as the latest 10 %, those 10 get worse as the model learns the sines.
torch::Tensor windows_ending_elsewhere() {
    auto windows = torch::sin(torch::arange(100 * 8 * 4, torch::kFloat32) / 5.0).view({100, 8, 4});
    windows.narrow(0, 90, 10).fill_(5.0);
    return windows;
}

std::vector<torch::Tensor> weights_of(lara::model::Vae& vae) {
    std::vector<torch::Tensor> out;
    for (const auto& p : vae.parameters()) out.push_back(p.detach().clone());
    return out;
}

//! One intra-op thread for the test's duration: training is then deterministic for a seed.
class OneThread {
public:
    OneThread() : threads_(torch::get_num_threads()) { torch::set_num_threads(1); }
    ~OneThread() { torch::set_num_threads(threads_); }

private:
    int threads_;
};

}  // namespace

TEST(Trainer, StopsAfterPatienceEpochsWithoutABetterValidationLossAndKeepsTheBestEpoch) {
    const OneThread one_thread;
    const auto windows = windows_ending_elsewhere();
    lara::TrainConfig train;
    train.epochs = 30;
    train.batch = 16;
    train.learning_rate = 0.01;
    train.patience = 2;
    train.seed = 5;
    lara::model::seed_thread_random(train.seed);
    auto vae = lara::model::make_vae(small_mlp(4));
    const auto history = lara::model::train_vae(*vae, windows, train);
    EXPECT_EQ(history.held_out, 10);

    // The rule, replayed on the validation losses: stop once `patience` epochs in a row have not
    // beaten the best so far; the kept epoch is the (first) best one.
    const auto& val = history.val_loss;
    ASSERT_FALSE(val.empty());
    std::size_t best = 0, expected_epochs = val.size();
    for (std::size_t e = 1; e < val.size(); ++e) {
        if (val[e] < val[best]) best = e;
        if (e - best >= static_cast<std::size_t>(train.patience)) {
            expected_epochs = e + 1;
            break;
        }
    }
    ASSERT_LT(val.size(), static_cast<std::size_t>(train.epochs)) << "no early stop: this case no longer tests patience";
    EXPECT_EQ(val.size(), expected_epochs);
    EXPECT_EQ(val.size(), history.train_loss.size());
    EXPECT_EQ(history.best_epoch, static_cast<std::int64_t>(best) + 1);
    ASSERT_LT(history.best_epoch, static_cast<std::int64_t>(val.size()));

    // The weights kept are the best epoch's, not the last one's: the same training cut at the best
    // epoch (the same seed, so the same first epochs) ends with the same weights, bit for bit.
    auto until_best = train;
    until_best.epochs = history.best_epoch;
    lara::model::seed_thread_random(train.seed);
    auto again = lara::model::make_vae(small_mlp(4));
    lara::model::train_vae(*again, windows, until_best);
    const auto kept = weights_of(*vae), expected = weights_of(*again);
    ASSERT_EQ(kept.size(), expected.size());
    for (std::size_t i = 0; i < kept.size(); ++i) EXPECT_TRUE(torch::equal(kept[i], expected[i])) << "parameter " << i;
}

TEST(Trainer, LossesAreTheMeanNegativeElboPerElementAndNoHeldOutWindowsMeansNoEarlyStopping) {
    const OneThread one_thread;
    // 33 windows in batches of 32: the second batch is one window, which must weigh one window.
    // A learning rate of 1e-12 leaves the weights as they were, so every epoch's training loss
    // estimates the same number: the mean over windows and elements of −ELBO, computed here from
    // elbo() itself (one batch, the same draws as mean_loss after the same seed).
    const auto windows = (3.0 + torch::sin(torch::arange(33 * 8 * 4, torch::kFloat32) / 3.0)).view({33, 8, 4});
    lara::model::seed_thread_random(1);
    auto vae = lara::model::make_vae(small_mlp(4));
    lara::model::seed_thread_random(9);
    const double per_element = -vae->elbo(windows).sum().item<double>() / (33.0 * 8 * 4);
    lara::model::seed_thread_random(9);
    EXPECT_NEAR(lara::model::mean_loss(*vae, windows), per_element, 1e-6 * std::abs(per_element));
    ASSERT_GT(per_element, 1.0) << "a loss near 0 would not tell a sum from a mean";

    lara::TrainConfig train;
    train.epochs = 10;
    train.batch = 32;
    train.learning_rate = 1e-12;
    train.val_fraction = 0;  // nothing held out: no early stopping, however the loss moves
    train.patience = 1;      // (a sampled loss that never rises in 10 epochs: odds 1 in 10!)
    const auto history = lara::model::train_vae(*vae, windows, train);
    EXPECT_EQ(history.held_out, 0);
    ASSERT_EQ(history.train_loss.size(), 10u);
    for (const double loss : history.train_loss) EXPECT_NEAR(loss, per_element, 0.1 * per_element);
    EXPECT_EQ(history.val_loss, history.train_loss);  // without held-out windows it is the training loss
}

TEST(Trainer, WithNothingHeldOutKeepsTheLastEpochNotTheLowestTrainingLoss) {
    const OneThread one_thread;
    // Full-batch training, as the baselines train on the K new windows: a large learning rate
    // makes the loss jump about, so its lowest epoch is not the last one.
    const auto windows = torch::sin(torch::arange(6 * 8 * 4, torch::kFloat32) / 3.0).view({6, 8, 4});
    lara::TrainConfig train;
    train.epochs = 12;
    train.batch = 6;
    train.learning_rate = 0.2;
    train.val_fraction = 0;
    train.seed = 3;
    lara::model::seed_thread_random(train.seed);
    auto vae = lara::model::make_vae(small_mlp(4));
    std::vector<std::vector<torch::Tensor>> after_epoch;  // the weights as each epoch left them
    const auto history = lara::model::train_vae(*vae, windows, train, [&](const lara::TrainProgress&) { after_epoch.push_back(weights_of(*vae)); });
    ASSERT_EQ(after_epoch.size(), 12u);
    const auto& losses = history.train_loss;
    const auto lowest = std::min_element(losses.begin(), losses.end()) - losses.begin();
    ASSERT_LT(lowest, 11) << "the loss fell every epoch: this case cannot tell the last epoch from the lowest";

    EXPECT_EQ(history.best_epoch, 12);
    const auto kept = weights_of(*vae);
    for (std::size_t i = 0; i < kept.size(); ++i) {
        EXPECT_TRUE(torch::equal(kept[i], after_epoch.back()[i])) << "parameter " << i;
        EXPECT_FALSE(torch::equal(kept[i], after_epoch[static_cast<std::size_t>(lowest)][i])) << "parameter " << i;
    }
}
