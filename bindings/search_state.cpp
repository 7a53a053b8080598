// SessionBatch.get_state / set_state: the simulator's full mutable state as a dict of
// NumPy arrays (what SearchSimulator.__getstate__ pickles).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "checks.hpp"
#include "search_object.hpp"

namespace py = pybind11;

namespace simcore_py {
namespace {

template <class T>
py::array_t<T> to_array(const std::vector<T>& v) {
  py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

// state[key] as a flat vector (any shape; the sizes are checked by SessionBatch).
template <class T>
std::vector<T> from_dict(const py::dict& d, const char* key) {
  if (!d.contains(key))
    throw py::value_error(std::string("state: missing key '") + key + "'");
  const std::string name = std::string("state['") + key + "']";
  py::object obj = d[key];
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(name + ": expected a numpy array of dtype " + dtype_name<T>());
  py::array a = py::reinterpret_borrow<py::array>(obj);
  auto flat = expect<T>(a.attr("reshape")(-1), name.c_str(), {-1});
  return std::vector<T>(flat.data(), flat.data() + flat.size());
}

}  // namespace

py::dict state_to_dict(const simcore::SessionState& st) {
  py::dict d;
  d["seed"] = py::int_(st.seed);
  d["slot_seed"] = to_array(st.slot_seed);
  d["slot_stream"] = to_array(st.slot_stream);
  d["rng"] = to_array(st.rng);
  d["episode"] = to_array(st.episode);
  d["query"] = to_array(st.query);
  d["segment"] = to_array(st.segment);
  d["power"] = to_array(st.power);
  d["patience"] = to_array(st.patience);
  d["pref"] = to_array(st.pref);
  d["shown"] = to_array(st.shown);
  d["t"] = to_array(st.t);
  d["n_pages"] = to_array(st.n_pages);
  d["head"] = to_array(st.head);
  d["needs_reset"] = to_array(st.needs_reset);
  d["memo"] = to_array(st.memo);
  d["memo_count"] = to_array(st.memo_count);
  d["items"] = to_array(st.items);
  d["item_weight"] = to_array(st.item_weight);
  d["feat_mean"] = to_array(st.feat_mean);
  d["click_feat"] = to_array(st.click_feat);
  d["n_clicks"] = to_array(st.n_clicks);
  return d;
}

simcore::SessionState state_from_dict(const py::dict& d, std::size_t B) {
  simcore::SessionState st;
  if (!d.contains("seed")) throw py::value_error("state: missing key 'seed'");
  st.seed = py::cast<std::uint64_t>(d["seed"]);
  if (d.contains("slot_seed") || d.contains("slot_stream")) {
    st.slot_seed = from_dict<std::uint64_t>(d, "slot_seed");
    st.slot_stream = from_dict<std::uint64_t>(d, "slot_stream");
  } else {  // a state saved before per-slot seeds: every slot keyed by the batch seed
    st.slot_seed.assign(B, st.seed);
    for (std::size_t j = 0; j < B; ++j) st.slot_stream.push_back(j);
  }
  st.rng = from_dict<std::uint64_t>(d, "rng");
  st.episode = from_dict<std::uint64_t>(d, "episode");
  st.query = from_dict<std::int64_t>(d, "query");
  st.segment = from_dict<std::int32_t>(d, "segment");
  st.power = from_dict<double>(d, "power");
  st.patience = from_dict<double>(d, "patience");
  st.pref = from_dict<double>(d, "pref");
  st.shown = from_dict<std::uint8_t>(d, "shown");
  st.t = from_dict<std::uint64_t>(d, "t");
  st.n_pages = from_dict<std::uint64_t>(d, "n_pages");
  st.head = from_dict<std::uint64_t>(d, "head");
  st.needs_reset = from_dict<std::uint8_t>(d, "needs_reset");
  st.memo = from_dict<double>(d, "memo");
  st.memo_count = from_dict<std::uint64_t>(d, "memo_count");
  st.items = from_dict<std::int64_t>(d, "items");
  st.item_weight = from_dict<double>(d, "item_weight");
  st.feat_mean = from_dict<double>(d, "feat_mean");
  st.click_feat = from_dict<double>(d, "click_feat");
  st.n_clicks = from_dict<std::uint32_t>(d, "n_clicks");
  return st;
}

namespace {

py::dict get_state(const SessionBatchObject& o) {
  return state_to_dict(with_lock(o, [&] { return o.sim.get_state(); }));
}

void set_state(SessionBatchObject& o, const py::dict& d) {
  const simcore::SessionState st = state_from_dict(d, o.sim.num_sessions());
  try {
    with_lock(o, [&] { o.sim.set_state(st); });
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
}

}  // namespace

void register_search_state(py::class_<SessionBatchObject>& cls) {
  cls.def("get_state", &get_state,
          "The full mutable state (seed, per-slot stream keys slot_seed/slot_stream, per-slot users, shown items, page memory, RNG "
          "states, step and episode counters) as a dict of flat NumPy arrays.");
  cls.def("set_state", &set_state, py::arg("state"),
          "Restores a get_state() dict from a simulator of the same world, model, config and "
          "size (validated: ValueError/TypeError naming the field; unchanged on error).");
}

}  // namespace simcore_py
