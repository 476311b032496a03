#include "api/experiment_plan.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <iterator>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "lara/error.h"
#include "lara/lara.h"

namespace lara {
namespace {

namespace fs = std::filesystem;

// JumpStarter: the rows of the new pattern before the test period (data README).
constexpr std::int64_t kShiftNewRows = 43;
const std::vector<std::string> kMethods = {"old", "lara", "finetune", "scratch", "renorm", "full", "oracle"};
// The ablations of LARA (docs/method.md), run only when named: each is `lara` with one switch.
const std::vector<std::string> kAblations = {"lara-no-ruminate", "lara-z-only", "lara-x-only", "lara-mlp"};

std::vector<EntityFiles> find_entities(const fs::path& dataset, const std::vector<std::string>& wanted) {
    if (!fs::is_directory(dataset / "train"))
        throw Error(ErrorKind::data, dataset.string() + ": not a data set folder (no train/ folder in it)");
    std::map<std::string, std::string> train;  // entity -> file name
    for (const auto& entry : fs::directory_iterator(dataset / "train"))
        // Hidden files (.DS_Store, an experiment's .lock) are no entities.
        if (entry.is_regular_file() && entry.path().filename().string().front() != '.')
            train[entry.path().stem().string()] = entry.path().filename().string();
    std::vector<std::string> names;  // each once, in the order given
    for (const auto& name : wanted)
        if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    if (names.empty()) {
        for (const auto& [name, file] : train) names.push_back(name);
        std::sort(names.begin(), names.end(), natural_less);
    }
    if (names.empty()) throw Error(ErrorKind::data, (dataset / "train").string() + ": no files in it");
    std::vector<EntityFiles> out;
    for (const auto& name : names) {
        const auto found = train.find(name);
        if (found == train.end())
            throw Error(ErrorKind::usage, "unknown entity \"" + name + "\": no file " + name + ".* in " + (dataset / "train").string());
        EntityFiles files{name, (dataset / "train" / found->second).string(), (dataset / "test" / found->second).string(),
                          (dataset / "test_label" / found->second).string(), ""};
        if (!fs::is_regular_file(files.test)) throw Error(ErrorKind::data, files.test + ": missing test file of " + name);
        if (!fs::is_regular_file(files.labels))
            throw Error(ErrorKind::data, files.test + ": test file without labels (no " + files.labels + ")");
        const auto interpretation = dataset / "interpretation_label" / found->second;
        if (fs::is_regular_file(interpretation)) files.interpretation = interpretation.string();
        out.push_back(std::move(files));
    }
    return out;
}

}  // namespace

bool natural_less(const std::string& a, const std::string& b) {
    std::size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j]))) {
            const std::size_t i0 = i, j0 = j;
            while (i < a.size() && std::isdigit(static_cast<unsigned char>(a[i]))) ++i;
            while (j < b.size() && std::isdigit(static_cast<unsigned char>(b[j]))) ++j;
            const auto x = a.substr(i0, i - i0), y = b.substr(j0, j - j0);
            if (x.size() != y.size()) return x.size() < y.size();
            if (x != y) return x < y;
        } else {
            if (a[i] != b[j]) return a[i] < b[j];
            ++i, ++j;
        }
    }
    return a.size() - i < b.size() - j;
}

std::int64_t first_scored_row(const ExperimentSpec& s, std::int64_t new_rows) {
    return std::max(s.eval_from, s.protocol == "standard" ? new_rows : std::int64_t{0});
}

bool is_sweep(const ExperimentSpec& s) { return s.new_rows.size() > 1; }

std::string joined(const std::vector<std::string>& items, const std::string& separator) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
    return out;
}

namespace {

//! A retraining setting that no chosen method would use is refused, as `lara retrain` refuses an
//! option its method ignores: the run would be recorded, and read, as if it had used it. Settings
//! left at their defaults are not checked (the spec cannot tell them from ones not given).
void refuse_settings_no_method_uses(const ExperimentSpec& s) {
    const RetrainConfig defaults;
    const auto any = [&s](const std::function<bool(const std::string&)>& uses) { return std::any_of(s.methods.begin(), s.methods.end(), uses); };
    const bool retrains = any(is_retrain_method);
    const bool ruminates = any([&s](const std::string& m) { return is_retrain_method(m) && retrain_config(s.retrain, m, 0).ruminates(); });
    if (s.retrain.recalibrate != defaults.recalibrate && !retrains)
        throw Error(ErrorKind::usage, "experiment settings: recalibrate: no chosen method retrains a model (methods " + joined(s.methods) + ")");
    if (s.retrain.proposal != defaults.proposal && !ruminates)
        throw Error(ErrorKind::usage, "experiment settings: proposal: no chosen method has a ruminate block (lara, lara-z-only, lara-mlp; methods " +
                                          joined(s.methods) + ")");
    if (s.retrain.newton_steps != defaults.newton_steps && !(ruminates && s.retrain.proposal == "laplace"))
        throw Error(ErrorKind::usage, "experiment settings: newton_steps: only the laplace proposal of lara, lara-z-only or lara-mlp takes Newton steps "
                                      "(proposal " + s.retrain.proposal + ", methods " + joined(s.methods) + ")");
}

}  // namespace

ExperimentPlan make_plan(const ExperimentSpec& spec) {
    ExperimentPlan plan;
    plan.spec = spec;
    auto& s = plan.spec;
    if (s.protocol != "shift" && s.protocol != "standard")
        throw Error(ErrorKind::usage, "experiment settings: protocol: \"" + s.protocol + "\" is neither shift nor standard");
    if (s.new_rows.empty()) s.new_rows = {s.protocol == "shift" ? kShiftNewRows : 0};
    std::sort(s.new_rows.begin(), s.new_rows.end());
    s.new_rows.erase(std::unique(s.new_rows.begin(), s.new_rows.end()), s.new_rows.end());
    if (s.new_rows.front() < 0) throw Error(ErrorKind::usage, "experiment settings: new_rows: K must be 0 or more");
    if (s.new_rows.front() == 0 && s.protocol == "shift")
        throw Error(ErrorKind::usage, "experiment settings: new_rows: the shift protocol needs at least one new row");
    if (s.new_rows.front() == 0 && is_sweep(s)) throw Error(ErrorKind::usage, "experiment settings: new_rows: a sweep over K needs every K > 0");
    if (s.seeds < 1) throw Error(ErrorKind::usage, "experiment settings: seeds: must be at least 1");
    if (s.eval_from < 0) throw Error(ErrorKind::usage, "experiment settings: eval_from: must be 0 or more");
    if (s.jobs < 1) throw Error(ErrorKind::usage, "experiment settings: jobs: must be at least 1");
    if (s.out.empty()) throw Error(ErrorKind::usage, "experiment settings: out: an output folder is needed");
    if (fs::exists(s.out) && !fs::is_directory(s.out)) throw Error(ErrorKind::output, "experiment settings: out: " + s.out + " is a file, not a folder");
    // Results written among the data would become entities of every later run on it.
    {
        const auto out = fs::weakly_canonical(s.out);
        for (const char* folder : {"train", "test", "test_label", "interpretation_label"}) {
            const auto inside = fs::weakly_canonical(fs::path(s.dataset) / folder);  // a data folder may be a link
            const auto [end, rest] = std::mismatch(inside.begin(), inside.end(), out.begin(), out.end());
            if (end == inside.end())
                throw Error(ErrorKind::output, "experiment settings: out: " + s.out + " lies in the data set's " + folder +
                                                   "/ folder, where its files would be read as data; choose a folder outside it");
        }
    }
    auto model = s.model;
    model.n_metrics = 1;  // taken from each entity's data
    model.validate();
    // Checked here, not when an entity reaches it after others have trained.
    const auto window = std::to_string(s.model.window);
    if (s.new_rows.front() > 0 && s.new_rows.front() < s.model.window)
        throw Error(ErrorKind::usage, "experiment settings: new_rows: K = " + std::to_string(s.new_rows.front()) + " is fewer than one window (" + window + " rows)");
    s.train.validate();
    s.retrain.validate();

    const auto allowed = [&s](const std::string& method) {
        if (method == "oracle") return s.eval_from >= s.model.window;
        return method == "old" || s.new_rows.front() > 0;
    };
    if (s.methods.empty())
        std::copy_if(kMethods.begin(), kMethods.end(), std::back_inserter(s.methods), allowed);
    std::vector<std::string> unique;
    for (const auto& method : s.methods) {
        if (std::find(kMethods.begin(), kMethods.end(), method) == kMethods.end() &&
            std::find(kAblations.begin(), kAblations.end(), method) == kAblations.end())
            throw Error(ErrorKind::usage, "unknown method \"" + method + "\" (known: " + joined(kMethods) + ", and the ablations " +
                                              joined(kAblations) + ")");
        if (!allowed(method))
            throw Error(ErrorKind::usage, "method " + method + (method == "oracle" ? " needs eval_from of at least one window (" + window + " rows: the rows it trains on)"
                                                                                   : " needs new rows (new_rows > 0)"));
        if (std::find(unique.begin(), unique.end(), method) == unique.end()) unique.push_back(method);
    }
    s.methods = unique;
    refuse_settings_no_method_uses(s);

    const fs::path dataset = s.dataset;
    if (!fs::is_directory(dataset)) throw Error(ErrorKind::data, s.dataset + ": no such data set folder");
    plan.entities = find_entities(dataset, s.entities);
    plan.hit_rates = std::any_of(plan.entities.begin(), plan.entities.end(), [](const auto& e) { return !e.interpretation.empty(); });
    if (plan.hit_rates)
        for (const auto& e : plan.entities)
            if (e.interpretation.empty()) throw Error(ErrorKind::data, e.test + ": no interpretation labels, though other entities have them");
    const auto canonical = fs::canonical(dataset);
    plan.jumpstarter = canonical.filename() == "Dataset2" && canonical.parent_path().filename() == "jumpstarter";
    plan.out = s.out;
    plan.plot_entity = s.plot_entity.empty() ? plan.entities.front().name : s.plot_entity;
    if (std::none_of(plan.entities.begin(), plan.entities.end(), [&plan](const auto& e) { return e.name == plan.plot_entity; }))
        throw Error(ErrorKind::usage, "experiment settings: plot_entity: \"" + plan.plot_entity + "\" is not one of the entities run");
    return plan;
}

std::string settings_json(const ExperimentPlan& plan) {
    const auto& s = plan.spec;
    auto train = s.train.to_json();
    train.erase("seed");
    auto retrain = s.retrain.to_json();
    retrain.erase("method");
    retrain.erase("seed");
    auto methods = s.methods;  // a set: their order changes no number
    std::sort(methods.begin(), methods.end());
    const nlohmann::json settings = {{"made_by", std::string("lara ") + version()},
                                     {"dataset", fs::canonical(s.dataset).string()}, {"protocol", s.protocol},
                                     {"new_rows", s.new_rows}, {"eval_from", s.eval_from}, {"methods", methods},
                                     {"seeds", s.seeds}, {"model", s.model.to_json()}, {"train", train}, {"retrain", retrain}};
    return settings.dump(2) + "\n";
}

RetrainConfig retrain_config(const RetrainConfig& base, const std::string& method, std::uint64_t seed) {
    RetrainConfig config = base;
    config.seed = seed;
    config.method = method.rfind("lara-", 0) == 0 ? "lara" : method;
    if (method == "lara-no-ruminate") config.ruminate = false;
    if (method == "lara-z-only") config.fit_x = false;
    if (method == "lara-x-only") config.fit_z = false;
    if (method == "lara-mlp") {
        config.maps = "mlp";
        config.x_map = "full";
    }
    return config;
}

TrainConfig full_training_config(const TrainConfig& base) {
    TrainConfig config = base;
    config.val_fraction = 0;
    return config;
}

bool is_retrain_method(const std::string& method) {
    return method == "finetune" || method == "scratch" || method == "renorm" || method == "lara" ||
           std::find(kAblations.begin(), kAblations.end(), method) != kAblations.end();
}

bool changes_pattern(const std::string& service) {
    // The Dataset2 services whose metric 0 steps to a new level at train row 5716 (data README).
    static const std::set<std::string> changing = {"service0", "service1",  "service3",  "service5",  "service7",  "service8",
                                                   "service9", "service10", "service13", "service14", "service20", "service23"};
    return changing.count(service) > 0;
}

}  // namespace lara
