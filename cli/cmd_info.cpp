#include "common.h"

namespace lara::cli {

void add_info(CLI::App& app) {
    auto model = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand("info", "print a JSON summary of a model file");
    cmd->add_option("--model", *model, "model file")->required();
    cmd->callback([model] { write_output("", Detector::load(*model).info().dump(2) + "\n"); });
}

}  // namespace lara::cli
