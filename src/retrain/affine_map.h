// An affine map y = A u + b on the last dimension of a tensor: the adjusting functions M_z and
// M_x of LARA (docs/method.md §2). Affine maps compose into affine maps of the same size, which
// is why a model retrained many times never grows.
#pragma once

#include <torch/torch.h>

namespace lara::retrain {

struct AffineMap {
    torch::Tensor A;  // [n, n], float32
    torch::Tensor b;  // [n], float32

    static AffineMap identity(std::int64_t n);
    std::int64_t size() const { return b.size(0); }
    bool is_identity() const;

    //! A u + b over the last dimension of u.
    torch::Tensor apply(const torch::Tensor& u) const;
    //! The diagonal of A diag(var) Aᵀ: the variance of A u + b when u has independent components.
    torch::Tensor apply_var(const torch::Tensor& var) const;
    //! `next` applied after this map: u ↦ next(this(u)).
    AffineMap then(const AffineMap& next) const;
    //! The block-diagonal map that applies this one to each of `repeats` consecutive blocks.
    AffineMap tiled(std::int64_t repeats) const;
};

}  // namespace lara::retrain
