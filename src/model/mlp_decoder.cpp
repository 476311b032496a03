#include "model/mlp_decoder.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "lara/error.h"
#include "model/gemm.h"

namespace lara::model {
namespace {

enum class Activation { relu, softplus, elu, silu, tanh };

Activation activation_named(const std::string& name) {
    if (name == "relu") return Activation::relu;
    if (name == "softplus") return Activation::softplus;
    if (name == "elu") return Activation::elu;
    if (name == "silu") return Activation::silu;
    if (name == "tanh") return Activation::tanh;
    throw Error(ErrorKind::usage, "model config: activation \"" + name + "\" has no derivatives");
}

template <typename T>
T sigmoid(T x) {
    return T(1) / (T(1) + std::exp(-x));
}

//! LibTorch's softplus: the identity above 20, where log(1 + eˣ) = x in float64 too.
template <typename T>
T softplus(T x) {
    return x > T(20) ? x : std::log1p(std::exp(x));
}

//! An activation and its first two derivatives at each element of a layer's input [K, H].
template <typename T>
struct LayerJet {
    std::vector<T> value, first, second;
};

template <typename T>
LayerJet<T> activate(Activation a, const std::vector<T>& u) {
    LayerJet<T> out{std::vector<T>(u.size()), std::vector<T>(u.size()), std::vector<T>(u.size())};
    for (std::size_t i = 0; i < u.size(); ++i) {
        const T x = u[i];
        T& value = out.value[i];
        T& first = out.first[i];
        T& second = out.second[i];
        switch (a) {
            case Activation::softplus: {
                const T s = sigmoid(x);
                value = softplus(x), first = s, second = s * (1 - s);
                break;
            }
            case Activation::elu: {
                const T e = std::exp(std::min(x, T(0)));
                value = x > 0 ? x : std::expm1(x), first = x > 0 ? T(1) : e, second = x > 0 ? T(0) : e;
                break;
            }
            case Activation::silu: {
                const T s = sigmoid(x);
                value = x * s, first = s * (1 + x * (1 - s)), second = s * (1 - s) * (2 + x * (1 - 2 * s));
                break;
            }
            case Activation::tanh: {
                const T t = std::tanh(x);
                value = t, first = 1 - t * t, second = -2 * t * (1 - t * t);
                break;
            }
            case Activation::relu:
                value = std::max(x, T(0)), first = x > 0 ? T(1) : T(0), second = 0;
                break;
        }
    }
    return out;
}

//! y = x Wᵀ + b for each of K rows x [K, in] into y [K, out] (row stride ldy): the bias rows, then
//! the product into them.
template <typename T>
void dense(const DenseLayer& layer, const T* x, std::int64_t K, T* y, std::int64_t ldy) {
    const auto out = layer.weight.size(0), in = layer.weight.size(1);
    const T* bias = layer.bias.data_ptr<T>();
    for (std::int64_t k = 0; k < K; ++k) std::copy(bias, bias + out, y + k * ldy);
    gemm<T>(CblasNoTrans, CblasTrans, K, out, in, x, in, layer.weight.data_ptr<T>(), in, T(1), y, ldy);
}

template <typename T>
std::vector<T> dense(const DenseLayer& layer, const T* x, std::int64_t K) {
    std::vector<T> y(static_cast<std::size_t>(K * layer.weight.size(0)));
    dense(layer, x, K, y.data(), layer.weight.size(0));
    return y;
}

//! The outputs' standard deviations softplus(r) + min_std from the raw ones r [K, F] (a view of ρ),
//! in LibTorch's vectorised kernel: the one transcendental on w·d columns.
torch::Tensor standard_deviations(const torch::Tensor& raw_std, double min_std) { return torch::softplus(raw_std) + min_std; }

//! An activation of a layer's outputs [B, H], in LibTorch's vectorised kernels.
torch::Tensor activated(Activation a, const torch::Tensor& u) {
    switch (a) {
        case Activation::softplus: return torch::softplus(u);
        case Activation::elu: return torch::elu(u);
        case Activation::silu: return torch::silu(u);
        case Activation::tanh: return torch::tanh(u);
        case Activation::relu: break;
    }
    return torch::relu(u);
}

template <typename T>
Gaussian decode_in(const DenseLayer& first, const DenseLayer& second, const DenseLayer& out, Activation activation, double min_std,
                   const torch::Tensor& z_in) {
    const auto B = z_in.size(0), H = first.weight.size(0), F = out.weight.size(0) / 2;
    const auto options = first.weight.options();
    const auto z = z_in.to(first.weight.scalar_type()).contiguous();
    auto u1 = torch::empty({B, H}, options), u2 = torch::empty({B, H}, options), rho = torch::empty({B, 2 * F}, options);
    dense(first, z.data_ptr<T>(), B, u1.data_ptr<T>(), H);
    const auto h1 = activated(activation, u1);
    dense(second, h1.data_ptr<T>(), B, u2.data_ptr<T>(), H);
    const auto h2 = activated(activation, u2);
    dense(out, h2.data_ptr<T>(), B, rho.data_ptr<T>(), 2 * F);
    return {rho.narrow(1, 0, F), standard_deviations(rho.narrow(1, F, F), min_std).square_()};
}

//! What the curvature needs of the forward pass, shared with the closure that computes it.
template <typename T>
struct Expansion {
    DenseLayer first, second, out;
    std::int64_t K = 0, m = 0, H = 0, F = 0;
    LayerJet<T> a1, a2;     // the hidden activations' jets, [K, H] each
    std::vector<T> du2;     // ∂(W₂h₁ + b₂)/∂z_i as rows, [K, m, H]
    torch::Tensor rho;      // [K + K·m, 2F]: ρ for each window, then ∂ρ/∂z_i as rows
    std::vector<T> sd, slope;  // s = softplus(r) + min_std and softplus′(r), [K, F]

    const T* d_raw_std(std::int64_t k) const { return rho.data_ptr<T>() + (K + k * m) * 2 * F + F; }  // rows ∂r/∂z_i of window k, stride 2F

    //! Σ_o g_mean[o] ∇²mean[o] + g_var[o] ∇²var[o]: with var = s(r)², ∇²var = 2(s′² + s s″) ∇r∇rᵀ
    //! + 2 s s′ ∇²r, and ρ linear in h₂, the rest is Σ_o u_o ∇²ρ_o, that of h₂ weighted by W₃ᵀu,
    //! which the chain rule takes back through each layer.
    torch::Tensor curvature(const torch::Tensor& g_mean_in, const torch::Tensor& g_var_in) const {
        const auto g_mean = g_mean_in.to(torch::kFloat64).contiguous(), g_var = g_var_in.to(torch::kFloat64).contiguous();
        const double *gm = g_mean.data_ptr<double>(), *gv = g_var.data_ptr<double>();
        std::vector<T> u(static_cast<std::size_t>(K * 2 * F)), outer(static_cast<std::size_t>(F)), weighted(static_cast<std::size_t>(m * F)),
            scaled(static_cast<std::size_t>(m * H)), C(static_cast<std::size_t>(K * m * m));
        for (std::int64_t k = 0; k < K; ++k) {
            const T* dr = d_raw_std(k);
            T* uk = u.data() + k * 2 * F;
            for (std::int64_t o = 0; o < F; ++o) {
                const auto at = static_cast<std::size_t>(k * F + o);
                const T s = sd[at], s1 = slope[at], weight = static_cast<T>(gv[k * F + o]);
                uk[o] = static_cast<T>(gm[k * F + o]);
                uk[F + o] = weight * 2 * s * s1;
                outer[static_cast<std::size_t>(o)] = weight * 2 * (s1 * s1 + s * s1 * (1 - s1));
            }
            for (std::int64_t i = 0; i < m; ++i)
                for (std::int64_t o = 0; o < F; ++o) weighted[static_cast<std::size_t>(i * F + o)] = dr[i * 2 * F + o] * outer[static_cast<std::size_t>(o)];
            gemm<T>(CblasNoTrans, CblasTrans, m, m, F, dr, 2 * F, weighted.data(), F, T(0), C.data() + k * m * m, m);
        }
        const auto r2 = product(u.data(), out.weight, 2 * F);  // W₃ᵀu: [K, H]
        std::vector<T> r2d2(r2.size());
        for (std::size_t i = 0; i < r2.size(); ++i) r2d2[i] = r2[i] * a2.first[i];
        const auto r1 = product(r2d2.data(), second.weight, H);  // back through the second layer: [K, H]
        const T* W1 = first.weight.data_ptr<T>();
        for (std::int64_t k = 0; k < K; ++k) {
            // The second layer's curvature du₂ diag(r₂ a₂″) du₂ᵀ, then the first's W₁ᵀ diag(r₁ a₁″) W₁.
            const T* du = du2.data() + k * m * H;
            for (std::int64_t i = 0; i < m; ++i)
                for (std::int64_t h = 0; h < H; ++h) scaled[static_cast<std::size_t>(i * H + h)] = du[i * H + h] * r2[static_cast<std::size_t>(k * H + h)] * a2.second[static_cast<std::size_t>(k * H + h)];
            gemm<T>(CblasNoTrans, CblasTrans, m, m, H, du, H, scaled.data(), H, T(1), C.data() + k * m * m, m);
            for (std::int64_t h = 0; h < H; ++h)
                for (std::int64_t i = 0; i < m; ++i) scaled[static_cast<std::size_t>(h * m + i)] = W1[h * m + i] * r1[static_cast<std::size_t>(k * H + h)] * a1.second[static_cast<std::size_t>(k * H + h)];
            gemm<T>(CblasTrans, CblasNoTrans, m, m, H, W1, m, scaled.data(), m, T(1), C.data() + k * m * m, m);
        }
        auto result = torch::empty({K, m, m}, torch::kFloat64);
        std::copy(C.begin(), C.end(), result.data_ptr<double>());
        return result;
    }

    //! x W for K rows x [K, rows of W]: [K, H].
    std::vector<T> product(const T* x, const torch::Tensor& weight, std::int64_t inner) const {
        std::vector<T> y(static_cast<std::size_t>(K * H));
        gemm<T>(CblasNoTrans, CblasNoTrans, K, H, inner, x, inner, weight.data_ptr<T>(), H, T(0), y.data(), H);
        return y;
    }
};

template <typename T>
DecoderJet jet_in(const DenseLayer& first, const DenseLayer& second, const DenseLayer& out, Activation activation, double min_std,
                  const torch::Tensor& z_in) {
    auto e = std::make_shared<Expansion<T>>();
    e->first = first, e->second = second, e->out = out;
    const auto K = e->K = z_in.size(0), m = e->m = z_in.size(1), H = e->H = first.weight.size(0), F = e->F = out.weight.size(0) / 2;
    const auto z = z_in.to(first.weight.scalar_type()).contiguous();
    const T* W1 = first.weight.data_ptr<T>();

    e->a1 = activate(activation, dense<T>(first, z.data_ptr<T>(), K));
    const auto u2 = dense<T>(second, e->a1.value.data(), K);
    std::vector<T> du1(static_cast<std::size_t>(K * m * H));  // ∂(W₁z + b₁)/∂z_i through a₁′: W₁ᵀ diag(a₁′) as rows
    for (std::int64_t k = 0; k < K; ++k)
        for (std::int64_t i = 0; i < m; ++i)
            for (std::int64_t h = 0; h < H; ++h) du1[static_cast<std::size_t>((k * m + i) * H + h)] = W1[h * m + i] * e->a1.first[static_cast<std::size_t>(k * H + h)];
    e->du2.resize(du1.size());
    gemm<T>(CblasNoTrans, CblasTrans, K * m, H, H, du1.data(), H, second.weight.data_ptr<T>(), H, T(0), e->du2.data(), H);
    e->a2 = activate(activation, u2);

    // One product through the output layer for the K points and their m·K directions: the rows
    // h₂, then ∂h₂/∂z_i = du₂ diag(a₂′); the bias goes to the first K rows only.
    std::vector<T> rows(static_cast<std::size_t>((K + K * m) * H));
    std::copy(e->a2.value.begin(), e->a2.value.end(), rows.begin());
    for (std::int64_t k = 0; k < K; ++k)
        for (std::int64_t i = 0; i < m; ++i)
            for (std::int64_t h = 0; h < H; ++h)
                rows[static_cast<std::size_t>((K + k * m + i) * H + h)] = e->du2[static_cast<std::size_t>((k * m + i) * H + h)] * e->a2.first[static_cast<std::size_t>(k * H + h)];
    e->rho = torch::zeros({K + K * m, 2 * F}, first.weight.options());
    T* rho = e->rho.template data_ptr<T>();
    const T* b3 = out.bias.data_ptr<T>();
    for (std::int64_t k = 0; k < K; ++k) std::copy(b3, b3 + 2 * F, rho + k * 2 * F);
    gemm<T>(CblasNoTrans, CblasTrans, K + K * m, 2 * F, H, rows.data(), H, out.weight.data_ptr<T>(), H, T(1), rho, 2 * F);

    DecoderJet jet;
    const auto raw_std = e->rho.narrow(0, 0, K).narrow(1, F, F);
    const auto sd = standard_deviations(raw_std, min_std).contiguous(), slope = torch::sigmoid(raw_std).contiguous();
    jet.at = {e->rho.narrow(0, 0, K).narrow(1, 0, F), sd.square()};
    jet.jacobian = torch::empty({K, m, 2 * F}, torch::kFloat64);
    e->sd.assign(sd.template data_ptr<T>(), sd.template data_ptr<T>() + K * F);
    e->slope.assign(slope.template data_ptr<T>(), slope.template data_ptr<T>() + K * F);
    for (std::int64_t k = 0; k < K; ++k) {
        // ∂mean/∂z_i as they are; ∂var/∂z_i = 2 s s′ ∂r/∂z_i.
        for (std::int64_t i = 0; i < m; ++i) {
            const T* d = rho + (K + k * m + i) * 2 * F;
            double* J = jet.jacobian.data_ptr<double>() + (k * m + i) * 2 * F;
            for (std::int64_t o = 0; o < F; ++o) {
                const auto at = static_cast<std::size_t>(k * F + o);
                J[o] = d[o];
                J[F + o] = double(d[F + o]) * double(2 * e->sd[at] * e->slope[at]);
            }
        }
    }
    jet.curvature = [e](const torch::Tensor& g_mean, const torch::Tensor& g_var) { return e->curvature(g_mean, g_var); };
    return jet;
}

//! body(T{}) with T the layers' precision, float or double: the caller's generic lambda takes its
//! type from the argument.
template <typename Body>
auto in_precision_of(const DenseLayer& layer, Body&& body) {
    if (layer.weight.scalar_type() == torch::kFloat32) return body(float{});
    if (layer.weight.scalar_type() == torch::kFloat64) return body(double{});
    throw Error(ErrorKind::usage, "the MLP decoder runs in float32 or float64");
}

DenseLayer contiguous(const DenseLayer& l) { return {l.weight.contiguous(), l.bias.contiguous()}; }

}  // namespace

Gaussian mlp_decode(const DenseLayer& first, const DenseLayer& second, const DenseLayer& out, const std::string& activation, double min_std,
                    const torch::Tensor& z) {
    const auto a = activation_named(activation);
    return in_precision_of(first, [&](auto t) {
        return decode_in<decltype(t)>(contiguous(first), contiguous(second), contiguous(out), a, min_std, z);
    });
}

DecoderJet mlp_decoder_jet(const DenseLayer& first, const DenseLayer& second, const DenseLayer& out, const std::string& activation,
                           double min_std, const torch::Tensor& z) {
    const auto a = activation_named(activation);
    return in_precision_of(first, [&](auto t) {
        return jet_in<decltype(t)>(contiguous(first), contiguous(second), contiguous(out), a, min_std, z);
    });
}

}  // namespace lara::model
