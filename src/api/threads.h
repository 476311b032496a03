// api/threads.h: the thread counts a result depends on. Sums are rounded differently with more
// threads, so a model records the counts it was trained with.
#pragma once

#include <nlohmann/json.hpp>

namespace lara {

//! {"intra_op": LibTorch's threads, "blas": OpenBLAS's (absent when another BLAS is linked)}.
nlohmann::json thread_counts();

}  // namespace lara
