// model/random.h: every random number of training and retraining comes from a generator owned by
// the calling thread. LibTorch's default generator is one per process, so entities trained in
// parallel threads (`lara experiment --jobs N`) would draw from it in an order that depends on
// timing; with one generator per thread each run depends on its seed alone.
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace lara::model {

//! Restarts the calling thread's generator at `seed`. A thread that never calls it starts at seed 0.
void seed_thread_random(std::uint64_t seed);

//! The calling thread's generator, for LibTorch's random functions (torch::randn(sizes, generator)).
at::Generator thread_random();

//! Draws every parameter of `module` from the thread's generator as LibTorch's default
//! initialisation does: U(±1/√fan_in) for linear layers, U(±1/√hidden) for GRUs.
void initialise_parameters(torch::nn::Module& module);

}  // namespace lara::model
