// Where the time of one LARA retraining goes: each stage of the ruminate block and the fit, timed
// with Google Benchmark on one core, next to the decoder pass they are built of. `lara bench`
// times the whole retraining against training; this says which part to make faster.
//
// The model: JumpStarter service 0 trained on rows [0, 5717) and retrained on the 43 rows after
// (the real case) when the data folder ($LARA_DATA_DIR, else ../shared/data) is there,
// else the built-in synthetic service.
// Every benchmark reports `decodes`: its time in units of one forward decoder pass over the 36
// latents of one second-order expansion (m + 1 = 9 points of K = 4 windows), timed in the same
// process, so that the numbers compare across machines.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "data/normalizer.h"
#include "data/synthetic.h"
#include "lara/bench.h"
#include "model/random.h"
#include "model/trainer.h"
#include "retrain/laplace.h"
#include "retrain/retrainer.h"
#include "retrain/ruminator.h"

namespace {
using namespace lara;
using Clock = std::chrono::steady_clock;

//! A trained model and the new windows it is retrained on, built once.
struct Case {
    std::shared_ptr<retrain::AdjustedModel> model;
    torch::Tensor windows;  // [K, w, d], normalised with the old statistics
    std::string source;
};

Case make_case() {
    const char* env = std::getenv("LARA_DATA_DIR");
    const auto data = env && *env ? std::filesystem::path(env) : std::filesystem::path(LARA_SOURCE_DIR) / ".." / "shared" / "data";
    const auto file = data / "jumpstarter" / "Dataset2" / "train" / "service0.csv";
    const bool real = std::filesystem::exists(file);
    const Series all = real ? read_series(file.string()) : data::make_synthetic({}).series;
    const std::int64_t change = real ? 5717 : 6000;
    ModelConfig config;
    config.n_metrics = all.n_metrics;
    const auto normalizer = data::Normalizer::fit(all.slice(0, change));
    auto to_windows = [&](const Series& rows) {
        auto values = normalizer.transform(rows);
        const auto series = torch::from_blob(values.data(), {rows.n_rows, rows.n_metrics}, torch::kFloat32).clone();
        return model::sliding_windows(series, config.window).contiguous();
    };
    TrainConfig train;
    train.epochs = 10;
    model::seed_thread_random(0);
    auto vae = model::make_vae(config);
    model::train_vae(*vae, to_windows(all.slice(0, change)), train);
    return {std::make_shared<retrain::AdjustedModel>(vae), to_windows(all.slice(change, change + 43)),
            real ? file.string() : "the synthetic service"};
}

const Case& the_case() {
    static const Case c = [] {
        set_threads(1);
        auto built = make_case();
        std::fprintf(stderr, "model trained on %s; %lld new windows\n", built.source.c_str(), static_cast<long long>(built.windows.size(0)));
        return built;
    }();
    return c;
}

//! The ruminate block's target for the case's windows, with n = 10 restored windows (the same
//! ones every time), through `model`: the case's, or the same without its jet.
retrain::LogTarget make_target(const Case& c, const model::Reconstructor& model) {
    model::seed_thread_random(0);
    const auto restored = c.model->decode(model::Vae::sample(c.model->encode(c.windows), 10).transpose(0, 1).flatten(0, 1)).mean;
    const auto K = c.windows.size(0);
    return retrain::LogTarget::of_windows(model, torch::cat({c.windows.flatten(1).unsqueeze(1), restored.view({K, 10, -1})}, 1));
}

//! Runs `body` as the benchmark's loop and reports its mean time in decoder passes.
template <typename Body>
void run(benchmark::State& state, Body&& body) {
    static const double decode_seconds = [] {
        const auto& c = the_case();
        const auto z = torch::randn({9 * c.windows.size(0), c.model->config().latent});
        const int n = 2000;
        for (int i = 0; i < 100; ++i) c.model->decode(z);
        const auto start = Clock::now();
        for (int i = 0; i < n; ++i) benchmark::DoNotOptimize(c.model->decode(z).mean);
        return std::chrono::duration<double>(Clock::now() - start).count() / n;
    }();
    torch::NoGradGuard no_grad;
    double seconds = 0;
    for (auto _ : state) {
        const auto start = Clock::now();
        body();
        seconds += std::chrono::duration<double>(Clock::now() - start).count();
    }
    state.counters["decodes"] = seconds / static_cast<double>(state.iterations()) / decode_seconds;
}

void BM_Decode(benchmark::State& state) {
    const auto& c = the_case();
    const auto z = torch::randn({9 * c.windows.size(0), c.model->config().latent});
    run(state, [&] { benchmark::DoNotOptimize(c.model->decode(z).mean); });
}

//! The matrix product of the decoder's output layer alone, for the same 36 latents: what is left of
//! a decoder pass is its element-wise work (the softplus of the w·d standard deviations, mostly).
void BM_DecoderOutputLayer(benchmark::State& state) {
    const auto& c = the_case();
    const auto parameters = c.model->vae()->named_parameters();
    const auto& weight = parameters["decoder_out.weight"];
    const auto& bias = parameters["decoder_out.bias"];
    const auto hidden = torch::randn({9 * c.windows.size(0), weight.size(1)});
    run(state, [&] { benchmark::DoNotOptimize(torch::addmm(bias, hidden, weight.t())); });
}

void BM_TargetAtLineSearch(benchmark::State& state) {  // the 5 step lengths of one Newton step
    const auto& c = the_case();
    const auto target = make_target(c, *c.model);
    const auto z = c.model->encode(c.windows).mean.unsqueeze(0).expand({5, -1, -1}).contiguous();
    run(state, [&] { benchmark::DoNotOptimize(target(z)); });
}

//! The case's model without its decoder's jet: the Laplace fit then differentiates numerically, as
//! for a GRU. Timing both in one process shows what the closed-form derivatives save.
class WithoutJet : public model::Reconstructor {
public:
    explicit WithoutJet(const model::Reconstructor& model) : model_(model) {}
    const ModelConfig& config() const override { return model_.config(); }
    model::Gaussian encode(const torch::Tensor& x) const override { return model_.encode(x); }
    model::Gaussian decode(const torch::Tensor& z) const override { return model_.decode(z); }
    model::Gaussian decode_last(const torch::Tensor& z) const override { return model_.decode_last(z); }

private:
    const model::Reconstructor& model_;
};

//! The model whose derivatives a benchmark takes: exactly (its jet) or by finite differences.
const model::Reconstructor& differentiated(const Case& c, bool exactly) {
    static const WithoutJet numerically(*c.model);
    return exactly ? static_cast<const model::Reconstructor&>(*c.model) : numerically;
}

//! Gradient and Hessian at the encoder means: the jet (one Jacobian product), or the m + 1 points'
//! forward and backward passes.
void BM_SecondOrderExpansion(benchmark::State& state, bool exactly) {
    const auto& c = the_case();
    const auto target = make_target(c, differentiated(c, exactly));
    const auto z = c.model->encode(c.windows).mean;
    run(state, [&] { benchmark::DoNotOptimize(retrain::expand(target, z).precision()); });
}

void BM_NewtonToMode(benchmark::State& state, bool exactly) {
    const auto& c = the_case();
    const auto target = make_target(c, differentiated(c, exactly));
    const auto z = c.model->encode(c.windows).mean;
    std::int64_t steps = 0;
    run(state, [&] { steps = retrain::laplace(target, z, RetrainConfig{}.newton_steps).steps; });
    state.counters["newton_steps"] = static_cast<double>(steps);
}

void BM_Ruminate(benchmark::State& state, const std::string& proposal, bool exactly) {
    const auto& c = the_case();
    retrain::RuminateOptions options;
    const RetrainConfig defaults;
    options.n_restored = defaults.n_restored;
    options.n_samples = defaults.n_samples;
    options.newton_steps = defaults.newton_steps;
    options.proposal = proposal;
    double ess = 0;
    run(state, [&] { ess = retrain::ruminate(differentiated(c, exactly), c.windows, options).ess.mean().item<double>(); });
    state.counters["ess"] = ess;
}

//! Not a timing: why N = 16 proposals suffice. z̃ varies with the seed through two draws, the n
//! restored windows and the N proposals; with the Laplace proposal (ESS ≈ N) the second adds
//! about (posterior sd)² / N to the variance of z̃. `spread` is the root-mean-square distance of z̃
//! from its mean over 20 seeds (averaged over windows), beside the distance it moved from the
//! encoder mean: if the restored draws dominate, the spread hardly changes from N = 16 to 256.
void BM_RuminatedLatentSpread(benchmark::State& state) {
    const auto& c = the_case();
    retrain::RuminateOptions options;
    options.n_samples = state.range(0);
    std::vector<torch::Tensor> draws;
    double ess = 0;
    for (auto _ : state) {
        draws.clear();
        ess = 0;
        for (std::uint64_t seed = 0; seed < 20; ++seed) {
            model::seed_thread_random(seed);
            const auto r = retrain::ruminate(*c.model, c.windows, options);
            draws.push_back(r.z_tilde);
            ess += r.ess.mean().item<double>() / 20;
        }
    }
    const auto z = torch::stack(draws);  // [seeds, K, m]
    const auto mean = z.mean(0);
    state.counters["spread"] = (z - mean).square().sum(2).mean().sqrt().item<double>();
    state.counters["moved"] = (mean - c.model->encode(c.windows).mean).norm(2, 1).mean().item<double>();
    state.counters["ess"] = ess;
}

void BM_RetrainLara(benchmark::State& state) {  // ruminate and both fits (recalibration is in api/)
    const auto& c = the_case();
    run(state, [&] { benchmark::DoNotOptimize(retrain::retrain_lara(*c.model, c.windows, RetrainConfig{}).objective_x); });
}

BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecoderOutputLayer)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TargetAtLineSearch)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_SecondOrderExpansion, exact, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_SecondOrderExpansion, numerical, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_NewtonToMode, exact, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_NewtonToMode, numerical, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Ruminate, posterior, std::string("posterior"), true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Ruminate, laplace_exact, std::string("laplace"), true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Ruminate, laplace_numerical, std::string("laplace"), false)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RetrainLara)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RuminatedLatentSpread)->Arg(16)->Arg(64)->Arg(256)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
