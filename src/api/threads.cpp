#include "api/threads.h"

#include <dlfcn.h>

#include <torch/torch.h>

#include "lara/bench.h"

namespace lara {
namespace {

// OpenBLAS is found at run time, so another BLAS is left alone.
template <typename Function>
Function openblas(const char* name) {
    return reinterpret_cast<Function>(dlsym(RTLD_DEFAULT, name));
}

}  // namespace

void set_threads(int threads) {
    if (threads <= 0) return;
    torch::set_num_threads(threads);
    // LibTorch's setting does not reach OpenBLAS's own thread pool, whose threads spin while they
    // wait: with several jobs calling it at once they took 7 to 27 times longer (`lara experiment
    // --jobs 2`).
    if (auto set = openblas<void (*)(int)>("openblas_set_num_threads")) set(threads);
}

nlohmann::json thread_counts() {
    nlohmann::json counts = {{"intra_op", torch::get_num_threads()}};
    if (auto get = openblas<int (*)()>("openblas_get_num_threads")) counts["blas"] = get();
    return counts;
}

}  // namespace lara
