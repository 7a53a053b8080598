// _core.autoscaling: AutoscalingBatch, the cloud-autoscaling simulator
// (cpp/simcore/autoscaling/).  The parameters are validated here once; the mutable
// state is a dict of caller-owned arrays (checked for dtype and shape on every call).
// Argument checks name the argument (TypeError for a dtype, ValueError for shapes and
// values); the GIL is released around every loop under a per-object mutex.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>

#include "checks.hpp"
#include "simcore/autoscaling/autoscaling.hpp"
#include "simcore/common/worker_pool.hpp"

namespace py = pybind11;
namespace as = simcore::autoscaling;
using simcore_py::expect;

namespace {

struct AutoscalingObject {
  explicit AutoscalingObject(as::Batch b) : sim(std::move(b)) {}
  as::Batch sim;
  std::mutex mu;              // serialises the calls (the GIL is released inside)
  simcore::WorkerPool pool;   // the loops' workers, used under mu
};

[[noreturn]] void fail(const std::string& what) { throw py::value_error(what); }

// Column names and allowed ranges of the (B, kParams) parameter matrix.
struct Col { const char* name; double lo, hi; bool lo_open; };
const Col kCols[as::kParams] = {
    {"base_rpc", 0, 1e12, false},     {"base_mq", 0, 1e12, false},     {"daily_amp_rpc", 0, 0.99, false},
    {"daily_amp_mq", 0, 0.99, false}, {"cos_phase", -1, 1, false},     {"sin_phase", -1, 1, false},
    {"weekend_dip", 0, 0.99, false},  {"trend", -0.5, 10, false},      {"noise_sd", 0, 2, false},
    {"burst_prob", 0, 1, false},      {"burst_size", 0, 100, false},   {"burst_decay", 0, 0.999, false},
    {"holiday_mult", 0.01, 100, false}, {"w_rpc", 0, 1e6, false},      {"w_mq", 0, 1e6, false},
    {"idle", 0, 0.99, false},         {"scale", 0, 1e12, true},        {"shape", 0.2, 5, false},
    {"cpu_sd", 0, 1, false},          {"lat0", 0, 1e6, true},          {"knee", 0, 1, false},
    {"lat_gain", 0, 1e6, false},      {"slo_ms", 0, 1e9, true},
};

as::Zones zones(const py::handle& par_o, const py::handle& lo_o, const py::handle& hi_o, const py::handle& init_o) {
  auto par = expect<double>(par_o, "params", {-1, py::ssize_t(as::kParams)});
  const py::ssize_t B = par.shape(0);
  if (B < 1 || B > 10000000) fail("params: the batch needs 1 to 1e7 zones, got " + std::to_string(B));
  const double* p = par.data();
  for (py::ssize_t i = 0; i < B; ++i)
    for (std::size_t j = 0; j < as::kParams; ++j) {
      const double v = p[i * as::kParams + j];
      const Col& c = kCols[j];
      if (!(std::isfinite(v) && v <= c.hi && (c.lo_open ? v > c.lo : v >= c.lo)))
        fail(std::string("params: ") + c.name + " must be finite and lie in " + (c.lo_open ? "(" : "[") +
             std::to_string(c.lo) + ", " + std::to_string(c.hi) + "], got " + std::to_string(v) + " at zone " +
             std::to_string(i));
    }
  auto lo = expect<std::int64_t>(lo_o, "min_vms", {B});
  auto hi = expect<std::int64_t>(hi_o, "max_vms", {B});
  auto init = expect<std::int64_t>(init_o, "init_vms", {B});
  for (py::ssize_t i = 0; i < B; ++i) {
    const std::int64_t a = lo.data()[i], b = hi.data()[i], c = init.data()[i];
    if (a < 1) fail("min_vms: must be >= 1 (zero VMs cannot serve), got " + std::to_string(a));
    if (b < a || b > 100000000) fail("max_vms: must lie in [min_vms, 1e8] at zone " + std::to_string(i));
    if (c < a || c > b) fail("init_vms: must lie in [min_vms, max_vms] at zone " + std::to_string(i));
  }
  as::Zones z;
  z.size = static_cast<std::size_t>(B);
  z.p.assign(p, p + B * as::kParams);
  z.min_vms.assign(lo.data(), lo.data() + B), z.max_vms.assign(hi.data(), hi.data() + B);
  z.init_vms.assign(init.data(), init.data() + B);
  return z;
}

as::Model model(const py::handle& m_o, const py::handle& hol_o, std::int64_t horizon, std::int64_t delay) {
  auto m = expect<double>(m_o, "model", {6});
  const double* v = m.data();
  for (int j = 0; j < 6; ++j)
    if (!std::isfinite(v[j])) fail("model: values must be finite");
  as::Model out;
  out.cpu_target = v[0], out.band = v[1], out.eta = v[2], out.slo_penalty = v[3], out.a_min = v[4], out.a_max = v[5];
  if (!(out.cpu_target > 0 && out.cpu_target < 1)) fail("model: cpu_target must lie in (0, 1)");
  if (!(out.band >= 0 && out.band <= 1)) fail("model: band must lie in [0, 1]");
  if (out.eta < 0 || out.slo_penalty < 0) fail("model: eta and slo_penalty must be >= 0");
  if (!(out.a_min >= -0.99 && out.a_min <= 0 && out.a_max >= 0 && out.a_max <= 10))
    fail("model: the ratio range needs -0.99 <= a_min <= 0 <= a_max <= 10");
  if (horizon < 1 || horizon > 100000000) fail("horizon: must lie in [1, 1e8]");
  if (delay < 0 || delay > static_cast<std::int64_t>(as::kMaxDelay))
    fail("delay: must lie in [0, " + std::to_string(as::kMaxDelay) + "]");
  out.horizon = horizon, out.delay = delay;
  auto h = expect<std::uint8_t>(hol_o, "holiday", {-1});
  out.holiday.assign(h.data(), h.data() + h.size());
  return out;
}

py::handle get(const py::dict& d, const char* key, const char* what) {
  if (!d.contains(key)) fail(std::string(what) + ": missing '" + key + "'");
  return d[key];
}

as::StateView state_view(const AutoscalingObject& o, const py::dict& d) {
  const py::ssize_t B = o.sim.num_zones();
  auto u64 = [&](const char* k) { return expect<std::uint64_t>(get(d, k, "state"), k, {B}, true).mutable_data(); };
  as::StateView s;
  s.vms = expect<std::int64_t>(get(d, "vms", "state"), "vms", {B}, true).mutable_data();
  s.pending = expect<std::int64_t>(get(d, "pending", "state"), "pending", {B, py::ssize_t(as::kMaxDelay)}, true)
                  .mutable_data();
  s.burst = expect<double>(get(d, "burst", "state"), "burst", {B}, true).mutable_data();
  s.traffic = expect<double>(get(d, "traffic", "state"), "traffic", {B, py::ssize_t(as::kDims)}, true).mutable_data();
  s.cpu = expect<double>(get(d, "cpu", "state"), "cpu", {B}, true).mutable_data();
  s.key_seed = u64("key_seed"), s.key_stream = u64("key_stream"), s.episode = u64("episode"), s.rng = u64("rng");
  s.t = expect<std::int64_t>(get(d, "t", "state"), "t", {1}, true).mutable_data();
  return s;
}

void step(AutoscalingObject& o, const py::dict& state, const py::handle& actions, const py::dict& out, int threads) {
  const py::ssize_t B = o.sim.num_zones();
  auto a = expect<double>(actions, "actions", {B});
  const double lo = o.sim.model().a_min, hi = o.sim.model().a_max;
  for (py::ssize_t i = 0; i < B; ++i) {
    const double v = a.data()[i];
    if (!(std::isfinite(v) && v >= lo && v <= hi))
      fail("actions: scaling ratios must be finite and lie in [" + std::to_string(lo) + ", " + std::to_string(hi) +
           "], got " + std::to_string(v) + " at zone " + std::to_string(i));
  }
  as::StateView s = state_view(o, state);
  auto f64 = [&](const char* k) { return expect<double>(get(out, k, "out"), k, {B}, true).mutable_data(); };
  auto u8 = [&](const char* k) {
    return reinterpret_cast<std::uint8_t*>(expect<bool>(get(out, k, "out"), k, {B}, true).mutable_data());
  };
  auto i64 = [&](const char* k) { return expect<std::int64_t>(get(out, k, "out"), k, {B}, true).mutable_data(); };
  as::StepOut so;
  so.obs = expect<float>(get(out, "obs", "out"), "obs", {B, py::ssize_t(as::kObsDim)}, true).mutable_data();
  so.reward = f64("reward"), so.terminated = u8("terminated"), so.truncated = u8("truncated");
  so.action = f64("action"), so.vms = i64("vms"), so.provisioned = i64("provisioned"), so.delta = i64("delta");
  so.traffic = expect<double>(get(out, "traffic", "out"), "traffic", {B, py::ssize_t(as::kDims)}, true).mutable_data();
  so.cpu = f64("cpu"), so.cpu_mean = f64("cpu_mean"), so.latency = f64("latency"), so.scaling_cost = f64("scaling_cost");
  so.slo_violation = u8("slo_violation"), so.in_band = u8("in_band"), so.scaled = u8("scaled");
  so.reset_row = u8("reset_row");
  const double* ap = a.data();
  py::gil_scoped_release release;
  std::lock_guard<std::mutex> lock(o.mu);
  o.sim.step(s, ap, so, simcore::Exec(threads, &o.pool));
}

void reset(AutoscalingObject& o, const py::dict& state, const py::handle& obs, int threads) {
  const py::ssize_t B = o.sim.num_zones();
  as::StateView s = state_view(o, state);
  float* op = expect<float>(obs, "obs", {B, py::ssize_t(as::kObsDim)}, true).mutable_data();
  py::gil_scoped_release release;
  std::lock_guard<std::mutex> lock(o.mu);
  o.sim.reset(s, op, simcore::Exec(threads, &o.pool));
}

AutoscalingObject* make(const py::handle& params, const py::handle& min_vms, const py::handle& max_vms,
                        const py::handle& init_vms, const py::handle& model_v, const py::handle& holiday,
                        std::int64_t horizon, std::int64_t delay) {
  as::Zones z = zones(params, min_vms, max_vms, init_vms);
  as::Model m = model(model_v, holiday, horizon, delay);
  return new AutoscalingObject(as::Batch(std::move(m), std::move(z)));
}

// _core.autoscaling.vecmath(name, x): the step's transcendental on a float64 (n,) array.
py::object vecmath(const std::string& name, const py::handle& x_o) {
  static const std::pair<const char*, as::VecFn> kNames[] = {
      {"exp", as::VecFn::kExp},         {"log", as::VecFn::kLog},
      {"log1p", as::VecFn::kLog1p},     {"cos2pi", as::VecFn::kCos2Pi},
      {"sincos2pi", as::VecFn::kSinCos2Pi}, {"uniform53", as::VecFn::kUniform53}};
  const as::VecFn* fn = nullptr;
  for (const auto& kv : kNames)
    if (name == kv.first) fn = &kv.second;
  if (fn == nullptr) fail("name: expected exp, log, log1p, cos2pi, sincos2pi or uniform53, got '" + name + "'");
  auto x = expect<double>(x_o, "x", {-1});
  const py::ssize_t n = x.shape(0);
  py::array_t<double> y(n), y2(n);
  const double* xp = x.data();
  double *yp = y.mutable_data(), *y2p = y2.mutable_data();
  {
    py::gil_scoped_release release;
    as::vecmath_apply(*fn, xp, static_cast<std::size_t>(n), yp, y2p);
  }
  if (*fn == as::VecFn::kSinCos2Pi) return py::make_tuple(y, y2);
  return std::move(y);
}

}  // namespace

void register_autoscaling(py::module_& m) {
  m.attr("N_PARAMS") = py::int_(static_cast<int>(as::kParams));
  m.attr("MAX_DELAY") = py::int_(as::kMaxDelay);
  m.attr("OBS_DIM") = py::int_(as::kObsDim);
  m.def("vecmath", &vecmath, py::arg("name"), py::arg("x"),
        "The step's exp / log / log1p / cos2pi / sincos2pi / uniform53 (x: the uint64 bits as float64) "
        "on a float64 (n,) array (cpp/simcore/autoscaling/vecmath.hpp).");
  py::class_<AutoscalingObject> cls(m, "AutoscalingBatch");
  cls.def(py::init(&make), py::arg("params"), py::arg("min_vms"), py::arg("max_vms"), py::arg("init_vms"),
          py::arg("model"), py::arg("holiday"), py::arg("horizon"), py::arg("delay"));
  cls.def_property_readonly("num_zones", [](const AutoscalingObject& o) { return o.sim.num_zones(); });
  cls.def("reset", &reset, py::arg("state"), py::arg("obs"), py::arg("threads") = 0,
          "New episode in every zone: state (dict of arrays, updated in place), obs float32 (B, 9).");
  cls.def("step", &step, py::arg("state"), py::arg("actions"), py::arg("out"), py::arg("threads") = 0,
          "One 10-minute step: actions float64 (B,) ratios; state and out (dicts of arrays) written in place.");
}
