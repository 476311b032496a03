// Row-major matrix products through BLAS, in float or double: the library LibTorch calls, called
// directly where a few small products would cost more in LibTorch's dispatch than in arithmetic.
#pragma once

#include <cstdint>
#include <type_traits>

#include <cblas.h>

namespace lara::model {

//! C = op(A) op(B) + beta C, all row-major.
template <typename T>
void gemm(CBLAS_TRANSPOSE a_op, CBLAS_TRANSPOSE b_op, std::int64_t rows, std::int64_t cols, std::int64_t inner, const T* a, std::int64_t lda,
          const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "BLAS products are in float or double");
    const auto i = [](std::int64_t n) { return static_cast<int>(n); };
    if constexpr (std::is_same_v<T, float>)
        cblas_sgemm(CblasRowMajor, a_op, b_op, i(rows), i(cols), i(inner), 1.0f, a, i(lda), b, i(ldb), beta, c, i(ldc));
    else
        cblas_dgemm(CblasRowMajor, a_op, b_op, i(rows), i(cols), i(inner), 1.0, a, i(lda), b, i(ldb), beta, c, i(ldc));
}

}  // namespace lara::model
