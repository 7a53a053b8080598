// _core.common: helpers shared by the domains.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "checks.hpp"
#include "simcore/common/bandwidth.hpp"
#include "simcore/common/parallel.hpp"

namespace py = pybind11;
using simcore_py::expect;

void register_common(py::module_& m) {
  m.def("hardware_threads", &simcore::default_threads, "Number of hardware threads.");
  m.def(
      "_stream_sum",
      [](const py::handle& Xo, int threads) {
        auto X = expect<float>(Xo, "X", {-1, -1});
        const auto n = static_cast<std::size_t>(X.size());
        py::gil_scoped_release release;
        return simcore::stream_sum(X.data(), n, threads);
      },
      py::arg("X"), py::arg("threads") = 0,
      "Benchmark probe: sum of a float32 (N, m) array in one streaming read over `threads` "
      "threads (<= 0: all cores); the memory-bandwidth bound for topk.");
}
