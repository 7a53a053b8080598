// Memory-bandwidth probe: one streaming read of a float32 buffer, split over threads the
// same way as the kernels split their rows.  The benchmarks use it as the bound a
// bandwidth-limited kernel (topk over a large catalogue) can at best reach.
#pragma once
#include <cstddef>

namespace simcore {

// Sum of x[0..n), accumulated in float32 lanes per thread and combined in double.
double stream_sum(const float* x, std::size_t n, int threads);

}  // namespace simcore
