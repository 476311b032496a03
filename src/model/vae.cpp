#include "model/vae.h"

#include <cmath>

#include "lara/error.h"
#include "model/gru_vae.h"
#include "model/mlp_vae.h"
#include "model/random.h"

namespace lara::model {

torch::Tensor gaussian_log_density(const torch::Tensor& x, const Gaussian& g) {
    static const double kLog2Pi = std::log(2.0 * M_PI);
    return -0.5 * (kLog2Pi + g.var.log() + (x - g.mean).square() / g.var);
}

Gaussian Vae::decode_last(const torch::Tensor& z) {
    Gaussian full = decode(z);
    return {full.mean.select(1, -1), full.var.select(1, -1)};
}

std::optional<DecoderJet> Vae::decode_jet(const torch::Tensor&) { return std::nullopt; }

torch::Tensor Vae::sample(const Gaussian& q, std::int64_t n_samples) {
    auto eps = torch::randn({n_samples, q.mean.size(0), q.mean.size(1)}, thread_random());
    return q.mean.unsqueeze(0) + q.var.sqrt().unsqueeze(0) * eps;
}

torch::Tensor Vae::elbo(const torch::Tensor& x) {
    const Gaussian q = encode(x);
    const auto z = sample(q, 1).squeeze(0);
    const Gaussian p = decode(z);
    const auto log_likelihood = gaussian_log_density(x, p).sum({1, 2});
    // KL(q || N(0, I)) in closed form.
    const auto kl = 0.5 * (q.var + q.mean.square() - 1.0 - q.var.log()).sum(1);
    return log_likelihood - kl;
}

std::shared_ptr<Vae> make_vae(const ModelConfig& config) {
    config.validate();
    std::shared_ptr<Vae> vae;
    if (config.arch == "gru")
        vae = std::make_shared<GruVae>(config);
    else
        vae = std::make_shared<MlpVae>(config);
    initialise_parameters(*vae);
    return vae;
}

std::int64_t weight_count(const ModelConfig& c) {
    const auto linear = [](std::int64_t in, std::int64_t out) { return in * out + out; };
    const auto gru = [](std::int64_t in, std::int64_t hidden) { return 3 * hidden * (in + hidden) + 6 * hidden; };  // weights ih, hh; biases ih, hh
    const auto h = c.hidden, m = c.latent, d = c.n_metrics;
    if (c.arch == "gru") return gru(d, h) + linear(h, 2 * m) + linear(m, h) + gru(m, h) + linear(h, 2 * d);
    const auto flat = c.window * d;  // the mlp's encoder and decoder, two hidden layers each (mlp_vae.cpp)
    return linear(flat, h) + linear(h, h) + linear(h, 2 * m) + linear(m, h) + linear(h, h) + linear(h, 2 * flat);
}

std::map<std::string, std::vector<float>> export_weights(Vae& vae) {
    std::map<std::string, std::vector<float>> out;
    for (const auto& item : vae.named_parameters()) {
        const auto t = item.value().detach().contiguous();
        out.emplace("weights/" + item.key(), std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel()));
    }
    return out;
}

void import_weights(Vae& vae, const std::map<std::string, std::vector<float>>& sections) {
    torch::NoGradGuard no_grad;
    for (auto& item : vae.named_parameters()) {
        const auto found = sections.find("weights/" + item.key());
        if (found == sections.end()) throw Error(ErrorKind::model, "model file lacks the weights of " + item.key());
        if (static_cast<std::int64_t>(found->second.size()) != item.value().numel())
            throw Error(ErrorKind::model, "model file has " + std::to_string(found->second.size()) + " values for " +
                                              item.key() + ", the architecture needs " + std::to_string(item.value().numel()));
        const auto values = torch::from_blob(const_cast<float*>(found->second.data()), item.value().sizes());
        if (!torch::isfinite(values).all().item<bool>()) throw Error(ErrorKind::model, "the weights of " + item.key() + " are not all finite");
        item.value().copy_(values);
    }
}

torch::Tensor sliding_windows(const torch::Tensor& series, std::int64_t window) {
    // unfold gives [T−w+1, d, w]; the transpose is a view as well.
    return series.unfold(0, window, 1).transpose(1, 2);
}

}  // namespace lara::model
