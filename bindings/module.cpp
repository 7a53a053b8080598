// simcore._core: thin pybind11 layer over the C++ core, one register_* and one
// submodule per domain:
//   _core.common        shared helpers (hardware_threads, the bandwidth probe)
//   _core.ranking       topk, topk_batch, scores, discordant_pairs
//   _core.search        UserModel, SessionBatch (the session simulator)
//   _core.feature_cost  subset_eval, feature_mean, pair_count
//   _core.traffic       TrafficBatch (the tiered-traffic simulator, derived from search)
//   _core.lifecycle     LifecycleBatch (the customer-lifecycle simulator)
//   _core.autoscaling   AutoscalingBatch (the cloud-autoscaling simulator)
// hardware_threads is also kept at the top level.
#include <pybind11/pybind11.h>

#include "simcore/common/parallel.hpp"

namespace py = pybind11;

void register_common(py::module_& m);
void register_ranking(py::module_& m);
void register_search(py::module_& m);
void register_feature_cost(py::module_& m);
void register_traffic(py::module_& m);
void register_lifecycle(py::module_& m);
void register_autoscaling(py::module_& m);

PYBIND11_MODULE(_core, m) {
  m.doc() = "simcore C++ core (ranking kernels, search-session simulator, feature cost)";
  m.def("hardware_threads", &simcore::default_threads, "Number of hardware threads.");
  py::module_ common = m.def_submodule("common", "Shared helpers");
  py::module_ ranking = m.def_submodule("ranking", "Top-k ranking kernels, Kendall distance");
  py::module_ search = m.def_submodule("search", "Batched search-session simulator");
  py::module_ feature_cost = m.def_submodule("feature_cost", "Feature-subset evaluation");
  py::module_ traffic = m.def_submodule("traffic", "Batched tiered-traffic simulator");
  py::module_ lifecycle = m.def_submodule("lifecycle", "Batched customer-lifecycle simulator");
  register_common(common);
  register_ranking(ranking);
  register_search(search);
  register_feature_cost(feature_cost);
  register_traffic(traffic);
  register_lifecycle(lifecycle);
  py::module_ autoscaling = m.def_submodule("autoscaling", "Batched cloud-autoscaling simulator");
  register_autoscaling(autoscaling);
}
