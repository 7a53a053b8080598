// simcore._core: thin pybind11 layer over the C++ core (one register_* per domain).
#include <pybind11/pybind11.h>

#include "simcore/parallel.hpp"

namespace py = pybind11;

void register_ranking(py::module_& m);
void register_session(py::module_& m);
void register_feature_cost(py::module_& m);

PYBIND11_MODULE(_core, m) {
  m.doc() = "simcore C++ core (ranking kernels, search-session simulator)";
  m.def("hardware_threads", &simcore::default_threads, "Number of hardware threads.");
  register_ranking(m);
  register_session(m);
  register_feature_cost(m);
}
