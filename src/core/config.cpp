// Validation and JSON form of the public config structs (include/lara/config.h).
#include "lara/config.h"

#include <algorithm>
#include <cmath>

#include "core/json_field.h"
#include "lara/error.h"

namespace lara {
namespace {

[[noreturn]] void fail(const std::string& where, const std::string& field, const std::string& why) {
    throw Error(ErrorKind::usage, where + ": " + field + " " + why);
}

bool one_of(const std::string& value, std::initializer_list<const char*> allowed) {
    for (const char* a : allowed)
        if (value == a) return true;
    return false;
}

}  // namespace

void ModelConfig::validate() const {
    const std::string where = "model config";
    if (!one_of(arch, {"mlp", "gru"})) fail(where, "arch", "must be mlp or gru, not \"" + arch + "\"");
    if (window < 2 || window > 10000) fail(where, "window", "must be in [2, 10000]");
    if (n_metrics < 1 || n_metrics > kMaxMetrics) fail(where, "n_metrics", "must be in [1, " + std::to_string(kMaxMetrics) + "]");
    if (latent < 1 || latent > 1024) fail(where, "latent", "must be in [1, 1024]");
    if (hidden < 1 || hidden > 65536) fail(where, "hidden", "must be in [1, 65536]");
    if (std::find(kActivations.begin(), kActivations.end(), activation) == kActivations.end()) {
        std::string names;
        for (std::size_t i = 0; i < kActivations.size(); ++i)
            names += (i == 0 ? "" : i + 1 == kActivations.size() ? " or " : ", ") + kActivations[i];
        fail(where, "activation", "must be " + names + ", not \"" + activation + "\"");
    }
    if (!(min_std > 0.0 && min_std < 10.0)) fail(where, "min_std", "must be in (0, 10)");
}

nlohmann::json ModelConfig::to_json() const {
    nlohmann::json j = {{"arch", arch}, {"window", window}, {"n_metrics", n_metrics}, {"latent", latent}, {"hidden", hidden}, {"min_std", min_std}};
    if (arch == "mlp") j["activation"] = activation;  // a GRU ignores it
    return j;
}

namespace {

//! The fields of one config's JSON: "model config: window is not a whole number" rather than
//! nlohmann's words (the command line maps the field's name to its option).
struct Fields {
    const nlohmann::json& json;
    const char* where;
    template <typename T>
    T get(const char* key) const {
        return core::json_field<T>(json, key, std::string(where) + ": " + key, ErrorKind::usage);
    }
};

//! Reads a config from JSON; a missing field or one of the wrong type is a lara::Error (usage)
//! naming the config and the field, not nlohmann's own exception, as every lara function promises.
template <typename Read>
auto read_config(const char* where, const nlohmann::json& json, const Read& read) {
    try {
        return read(Fields{json, where});
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::usage, std::string(where) + ": " + e.what());
    }
}

}  // namespace

ModelConfig ModelConfig::from_json(const nlohmann::json& json) {
    return read_config("model config", json, [](const Fields& f) {
        ModelConfig c;
        c.arch = f.get<std::string>("arch");
        c.window = f.get<std::int64_t>("window");
        c.n_metrics = f.get<std::int64_t>("n_metrics");
        c.latent = f.get<std::int64_t>("latent");
        c.hidden = f.get<std::int64_t>("hidden");
        if (c.arch == "mlp") c.activation = f.json.value("activation", "relu");  // files before format version 3 have ReLU layers
        c.min_std = f.get<double>("min_std");
        c.validate();
        return c;
    });
}

void TrainConfig::validate() const {
    const std::string where = "train config";
    if (epochs < 1) fail(where, "epochs", "must be at least 1");
    if (batch < 1) fail(where, "batch", "must be at least 1");
    if (!(learning_rate > 0 && learning_rate < 1)) fail(where, "learning_rate", "must be in (0, 1)");
    if (!(val_fraction >= 0 && val_fraction < 0.9)) fail(where, "val_fraction", "must be in [0, 0.9)");
    if (patience < 1) fail(where, "patience", "must be at least 1");
}

nlohmann::json TrainConfig::to_json() const {
    return {{"epochs", epochs}, {"batch", batch}, {"learning_rate", learning_rate},
            {"val_fraction", val_fraction}, {"patience", patience}, {"seed", seed}};
}

TrainConfig TrainConfig::from_json(const nlohmann::json& json) {
    return read_config("train config", json, [](const Fields& f) {
        TrainConfig c;
        c.epochs = f.get<std::int64_t>("epochs");
        c.batch = f.get<std::int64_t>("batch");
        c.learning_rate = f.get<double>("learning_rate");
        c.val_fraction = f.get<double>("val_fraction");
        c.patience = f.get<std::int64_t>("patience");
        c.seed = f.get<std::uint64_t>("seed");
        c.validate();
        return c;
    });
}

void ThresholdConfig::validate() const {
    const std::string where = "threshold config";
    if (!one_of(method, {"spot", "fixed"})) fail(where, "method", "must be spot or fixed, not \"" + method + "\"");
    if (!(risk > 0 && risk < 1)) fail(where, "risk", "must be in (0, 1)");
    if (!(init_quantile > 0 && init_quantile < 1)) fail(where, "init_quantile", "must be in (0, 1)");
    // Below the median the excesses are no tail, and the fit would refuse every series.
    if (method == "spot" && init_quantile < 0.5) fail(where, "init_quantile", "must be at least 0.5 for spot: SPOT fits the tail above it");
    if (!std::isfinite(value)) fail(where, "value", "must be finite");
}

nlohmann::json ThresholdConfig::to_json() const {
    return {{"method", method}, {"risk", risk}, {"init_quantile", init_quantile}, {"value", value}};
}

ThresholdConfig ThresholdConfig::from_json(const nlohmann::json& json) {
    return read_config("threshold config", json, [](const Fields& f) {
        ThresholdConfig c;
        c.method = f.get<std::string>("method");
        c.risk = f.get<double>("risk");
        c.init_quantile = f.get<double>("init_quantile");
        c.value = f.get<double>("value");
        c.validate();
        return c;
    });
}

bool RetrainConfig::fits_z() const { return method == "lara" && fit_z && !std::isinf(ridge_z); }
bool RetrainConfig::fits_x() const { return method == "lara" && fit_x && !std::isinf(ridge_x); }

void RetrainConfig::validate() const {
    const std::string where = "retrain config";
    if (!one_of(method, {"lara", "finetune", "scratch", "renorm"}))
        fail(where, "method", "must be lara, finetune, scratch or renorm, not \"" + method + "\"");
    // The ruminate block holds N × (n + 1) decoded windows per new window at once: the caps keep a
    // typo from asking for terabytes (64 × 11 is the default).
    if (n_restored < 0 || n_restored > 1000) fail(where, "n_restored", "must be in [0, 1000]");
    if (n_samples < 1 || n_samples > 10000) fail(where, "n_samples", "must be in [1, 10000]");
    if (newton_steps < 0) fail(where, "newton_steps", "must be 0 or more");
    if (ruminated_windows < 1) fail(where, "ruminated_windows", "must be at least 1");
    if (!one_of(proposal, {"posterior", "prior", "laplace"})) fail(where, "proposal", "must be posterior, prior or laplace");
    if (!one_of(x_map, {"full", "diagonal", "window"})) fail(where, "x_map", "must be full, diagonal or window");
    if (!one_of(maps, {"affine", "mlp"})) fail(where, "maps", "must be affine or mlp");
    if (maps == "mlp" && x_map != "full") fail(where, "maps", "mlp maps act per time step, so x_map must be full");
    if (method == "lara" && !fit_z && !fit_x) fail(where, "fit_z", "and fit_x are both false: LARA would fit nothing");
    if (!(ridge_z > 0)) fail(where, "ridge_z", "must be positive (inf keeps the identity)");
    if (!(ridge_x > 0)) fail(where, "ridge_x", "must be positive (inf keeps the identity)");
    if (!(ridge_bias > 0) || std::isinf(ridge_bias)) fail(where, "ridge_bias", "must be positive and finite");
    if (!one_of(solver, {"exact", "iterative"})) fail(where, "solver", "must be exact or iterative");
    if (baseline_epochs < 1) fail(where, "baseline_epochs", "must be at least 1");
    if (!one_of(recalibrate, {"shift", "scale", "warmup", "keep"})) fail(where, "recalibrate", "must be shift, scale, warmup or keep");
    if (warmup_rows < kMinWarmupRows) fail(where, "warmup_rows", "must be at least " + std::to_string(kMinWarmupRows));
}

nlohmann::json RetrainConfig::to_json() const {
    return {{"method", method}, {"n_restored", n_restored}, {"n_samples", n_samples}, {"proposal", proposal}, {"newton_steps", newton_steps},
            {"ruminated_windows", ruminated_windows}, {"ruminate", ruminate}, {"fit_z", fit_z}, {"fit_x", fit_x}, {"x_map", x_map}, {"maps", maps},
            {"ridge_z", std::isinf(ridge_z) ? nlohmann::json("inf") : nlohmann::json(ridge_z)},
            {"ridge_x", std::isinf(ridge_x) ? nlohmann::json("inf") : nlohmann::json(ridge_x)},
            {"ridge_bias", ridge_bias}, {"solver", solver}, {"baseline_epochs", baseline_epochs}, {"recalibrate", recalibrate}, {"warmup_rows", warmup_rows}, {"seed", seed}};
}

}  // namespace lara
