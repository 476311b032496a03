#include "retrain/affine_map.h"

namespace lara::retrain {

AffineMap AffineMap::identity(std::int64_t n) { return {torch::eye(n), torch::zeros({n})}; }

bool AffineMap::is_identity() const { return torch::equal(A, torch::eye(size())) && torch::equal(b, torch::zeros({size()})); }

torch::Tensor AffineMap::apply(const torch::Tensor& u) const { return torch::addmm(b, u.reshape({-1, size()}), A.t()).view(u.sizes()); }

torch::Tensor AffineMap::apply_var(const torch::Tensor& var) const {
    return torch::matmul(var.reshape({-1, size()}), A.square().t()).view(var.sizes());
}

AffineMap AffineMap::then(const AffineMap& next) const {
    // next(A u + b) = (A' A) u + (A' b + b').
    return {torch::matmul(next.A, A), torch::addmv(next.b, next.A, b)};
}

AffineMap AffineMap::tiled(std::int64_t repeats) const {
    return {torch::kron(torch::eye(repeats), A), b.repeat({repeats})};
}

}  // namespace lara::retrain
