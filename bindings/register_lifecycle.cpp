// _core.lifecycle: LifecycleBatch, the customer-lifecycle simulator (cpp/simcore/lifecycle/).
// Argument checks here name the argument (TypeError for a dtype, ValueError for shapes
// and values); the GIL is released around every loop, under a per-object mutex (two
// Python threads using one object are serialised).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "checks.hpp"
#include "simcore/lifecycle/lifecycle.hpp"

namespace py = pybind11;
namespace lc = simcore::lifecycle;
using simcore_py::expect;

namespace {

struct LifecycleObject {
  explicit LifecycleObject(lc::LifecycleBatch s) : sim(std::move(s)) {}
  lc::LifecycleBatch sim;
  mutable std::mutex mu;              // serialises the calls (the GIL is released inside)
  mutable simcore::WorkerPool pool;   // the loops' workers, used under mu
};

template <class F>
auto locked(const LifecycleObject& o, F&& f) -> decltype(f()) {
  py::gil_scoped_release release;
  std::lock_guard<std::mutex> lock(o.mu);
  return f();
}

[[noreturn]] void fail(const std::string& what) { throw py::value_error(what); }

void finite(const double* x, py::ssize_t n, const char* name, double lo, double hi) {
  for (py::ssize_t i = 0; i < n; ++i)
    if (!(std::isfinite(x[i]) && x[i] >= lo && x[i] <= hi))
      fail(std::string(name) + ": values must be finite and lie in [" + std::to_string(lo) + ", " +
           std::to_string(hi) + "], got " + std::to_string(x[i]) + " at " + std::to_string(i));
}

std::vector<lc::Action> action_table(const py::handle& kind_o, const py::handle& ch_o, const py::handle& par_o) {
  auto kind = expect<std::int32_t>(kind_o, "kind", {-1});
  const py::ssize_t A = kind.shape(0);
  if (A < 1 || A > 256) fail("kind: the action table needs 1 to 256 actions, got " + std::to_string(A));
  auto ch = expect<std::int32_t>(ch_o, "channel", {A});
  constexpr py::ssize_t K = 9;
  auto par = expect<double>(par_o, "action_params", {A, K});
  const double* p = par.data();
  finite(p, A * K, "action_params", -1e6, 1e6);
  std::vector<lc::Action> out(static_cast<std::size_t>(A));
  for (py::ssize_t a = 0; a < A; ++a) {
    lc::Action& x = out[static_cast<std::size_t>(a)];
    x.kind = kind.data()[a], x.channel = ch.data()[a];
    const double* q = p + a * K;
    x.click_logit = q[0], x.depth = q[1], x.touch_cost = q[2], x.click_cost = q[3];
    x.conv_fixed = q[4], x.conv_rate = q[5], x.conv_cap = q[6], x.depth_per_dollar = q[7], x.conv_logit = q[8];
    for (int j = 1; j < 8; ++j)
      if (q[j] < 0) fail("action_params: depth, costs and depth_per_dollar must be >= 0 (action " + std::to_string(a) + ")");
    if (x.conv_rate > 1) fail("action_params: conv_rate must be <= 1 (action " + std::to_string(a) + ")");
    if (a == 0) {
      if (x.kind != 0 || x.channel != -1 || x.worst() != 0 || x.depth != 0 || x.depth_per_dollar != 0 ||
          x.conv_logit != 0)
        fail("kind: action 0 must be 'do nothing' (kind 0, channel -1, zero costs)");
    } else if (!(x.kind == lc::kOffer || x.kind == lc::kClub) || x.channel < 0 || x.channel > 2) {
      fail("kind, channel: action " + std::to_string(a) + " needs kind 1 or 2 and channel 0..2");
    }
  }
  return out;
}

lc::Model model(const py::handle& kind, const py::handle& ch, const py::handle& ap, const py::handle& sp_o,
                const py::handle& cp_o, const py::handle& par_o, std::int64_t horizon, std::int64_t lapse,
                std::int64_t loyal) {
  lc::Model m;
  m.actions = action_table(kind, ch, ap);
  auto sp = expect<double>(sp_o, "stage_params", {2, 4});
  finite(sp.data(), 8, "stage_params", -50, 50);
  for (int j = 0; j < 4; ++j) m.offer_conv[j] = sp.data()[j], m.club_conv[j] = sp.data()[4 + j];
  auto cp = expect<double>(cp_o, "click_params", {4, 3});
  finite(cp.data(), 12, "click_params", -150, 150);
  for (int j = 0; j < 4; ++j)
    for (int c = 0; c < 3; ++c) m.stage_click[j][c] = cp.data()[j * 3 + c];
  auto par = expect<double>(par_o, "params", {9});
  const double* p = par.data();
  finite(p, 9, "params", -1e12, 1e12);
  m.depth_coef = p[0], m.dead_logit = p[1], m.fatigue_coef = p[2], m.decay = p[3];
  m.club_dropout_mult = p[5], m.within_sd = p[6], m.user_cap = p[7], m.budget_per_user = p[8];
  if (!(m.decay >= 0 && m.decay < 1)) fail("params: fatigue_decay must lie in [0, 1)");
  if (!(m.club_dropout_mult >= 0 && m.club_dropout_mult <= 1)) fail("params: club_dropout_mult must lie in [0, 1]");
  if (!(m.within_sd >= 0 && m.within_sd <= 5)) fail("params: spend_within_sd must lie in [0, 5]");
  if (m.user_cap < 0) fail("user_cap: must be >= 0");
  if (m.budget_per_user < 0) fail("budget_per_user: must be >= 0 (budget < 0)");
  if (horizon < 1) fail("horizon: must be >= 1");
  if (lapse < 1) fail("lapse_days: must be >= 1");
  if (loyal < 2) fail("loyal_purchases: must be >= 2");
  m.horizon = horizon, m.lapse_days = lapse, m.loyal_purchases = loyal;
  return m;
}

template <class T>
std::vector<T> vec(const py::array_t<T>& a) { return std::vector<T>(a.data(), a.data() + a.size()); }

lc::Population population(const py::dict& d) {
  auto get = [&](const char* k) -> py::handle {
    if (!d.contains(k)) fail(std::string("population: missing '") + k + "'");
    return d[k];
  };
  auto f = expect<float>(get("features"), "features", {-1, 4});
  const py::ssize_t P = f.shape(0);
  if (P < 1) fail("features: the population needs at least one customer");
  lc::Population pop;
  pop.size = static_cast<std::size_t>(P);
  pop.features = vec(f);
  for (float x : pop.features)
    if (!(x >= 0.0f && x <= 1.0f)) fail("features: values must lie in [0, 1] (NaN features rejected)");
  auto one = [&](const char* k, double lo, double hi) {
    auto a = expect<double>(get(k), k, {P});
    finite(a.data(), P, k, lo, hi);
    return vec(a);
  };
  pop.p = one("p", 0, 1), pop.spend = one("spend", 0, 1e9), pop.sens = one("sens", 0, 1e6);
  pop.q0 = one("q0", 0, 1), pop.q1 = one("q1", 0, 1);
  auto r = expect<double>(get("resp"), "resp", {P, 3});
  finite(r.data(), P * 3, "resp", -50, 50);
  pop.resp = vec(r);
  auto n0 = expect<std::int32_t>(get("n0"), "n0", {P});
  auto r0 = expect<std::int32_t>(get("recency0"), "recency0", {P});
  auto a0 = expect<bool>(get("alive0"), "alive0", {P});
  pop.n0 = vec(n0), pop.recency0 = vec(r0);
  for (py::ssize_t i = 0; i < P; ++i)
    if (pop.n0[i] < 1 || pop.recency0[i] < 0) fail("n0, recency0: need n0 >= 1 and recency0 >= 0");
  pop.alive0.assign(reinterpret_cast<const std::uint8_t*>(a0.data()),
                    reinterpret_cast<const std::uint8_t*>(a0.data()) + P);
  return pop;
}

py::handle get(const py::dict& out, const char* key) {
  if (!out.contains(key)) fail(std::string("out: missing buffer '") + key + "'");
  return out[key];
}

void step(LifecycleObject& o, const py::handle& actions, const py::dict& out, int threads) {
  const py::ssize_t B = o.sim.num_users(), A = o.sim.n_actions(), D = lc::kObsDim;
  auto a = expect<std::int64_t>(actions, "actions", {B});
  for (py::ssize_t i = 0; i < B; ++i)
    if (a.data()[i] < 0 || a.data()[i] >= A)
      fail("actions: unknown action id " + std::to_string(a.data()[i]) + " (must lie in [0, " + std::to_string(A) + "))");
  auto f64 = [&](const char* k) { return expect<double>(get(out, k), k, {B}, true); };
  auto u8 = [&](const char* k) {
    auto x = expect<bool>(get(out, k), k, {B}, true);
    return reinterpret_cast<std::uint8_t*>(x.mutable_data());
  };
  auto i64 = [&](const char* k) { return expect<std::int64_t>(get(out, k), k, {B}, true).mutable_data(); };
  auto i8 = [&](const char* k) { return expect<std::int8_t>(get(out, k), k, {B}, true).mutable_data(); };
  auto obs = expect<float>(get(out, "obs"), "obs", {B, D}, true);
  lc::StepOut so{obs.mutable_data(), f64("reward").mutable_data(), u8("terminated"), u8("truncated"),
                 i64("action"), u8("blocked"), u8("clicked"), u8("converted"), u8("purchased"),
                 f64("value").mutable_data(), f64("cost").mutable_data(), i8("stage"), i8("next_stage"),
                 u8("alive"), u8("member"), f64("p_click").mutable_data(), f64("p_convert").mutable_data(),
                 f64("p_purchase").mutable_data(), f64("expected_value").mutable_data(),
                 f64("expected_cost").mutable_data(), f64("budget_left").mutable_data(),
                 f64("user_spent").mutable_data(), i64("user")};
  const std::int64_t* ap = a.data();
  locked(o, [&] { o.sim.step(ap, so, simcore::Exec(threads, &o.pool)); });
}

py::dict state_dict(const LifecycleObject& o) {
  const lc::State st = locked(o, [&] { return o.sim.state(); });
  const py::ssize_t B = static_cast<py::ssize_t>(st.slots.size());
  py::array_t<std::int64_t> user(B), n(B), rec(B);
  py::array_t<bool> alive(B), member(B);
  py::array_t<double> hist({B, py::ssize_t(lc::kHist)}), spent(B);
  py::array_t<std::uint64_t> ks(B), kst(B), ep(B), rng(B);
  for (py::ssize_t i = 0; i < B; ++i) {
    const lc::Slot& s = st.slots[static_cast<std::size_t>(i)];
    user.mutable_data()[i] = s.user, n.mutable_data()[i] = s.n, rec.mutable_data()[i] = s.recency;
    alive.mutable_data()[i] = s.alive != 0, member.mutable_data()[i] = s.member != 0;
    for (std::size_t j = 0; j < lc::kHist; ++j) hist.mutable_data()[i * lc::kHist + j] = s.hist[j];
    spent.mutable_data()[i] = s.spent;
    ks.mutable_data()[i] = s.key_seed, kst.mutable_data()[i] = s.key_stream, ep.mutable_data()[i] = s.episode;
    rng.mutable_data()[i] = s.rng.state;
  }
  py::dict d;
  d["user"] = user, d["alive"] = alive, d["member"] = member, d["n"] = n, d["recency"] = rec;
  d["hist"] = hist, d["spent"] = spent, d["key_seed"] = ks, d["key_stream"] = kst, d["episode"] = ep;
  d["rng"] = rng;
  d["t"] = py::int_(st.t), d["budget_left"] = py::float_(st.budget_left), d["needs_reset"] = py::bool_(st.needs_reset);
  return d;
}

void set_state(LifecycleObject& o, const py::dict& d) {
  const py::ssize_t B = o.sim.num_users();
  auto g = [&](const char* k) -> py::handle {
    if (!d.contains(k)) fail(std::string("state: missing key '") + k + "'");
    return d[k];
  };
  auto user = expect<std::int64_t>(g("user"), "user", {B}), n = expect<std::int64_t>(g("n"), "n", {B});
  auto rec = expect<std::int64_t>(g("recency"), "recency", {B});
  auto alive = expect<bool>(g("alive"), "alive", {B}), member = expect<bool>(g("member"), "member", {B});
  auto hist = expect<double>(g("hist"), "hist", {B, py::ssize_t(lc::kHist)});
  auto spent = expect<double>(g("spent"), "spent", {B});
  auto ks = expect<std::uint64_t>(g("key_seed"), "key_seed", {B});
  auto kst = expect<std::uint64_t>(g("key_stream"), "key_stream", {B});
  auto ep = expect<std::uint64_t>(g("episode"), "episode", {B}), rng = expect<std::uint64_t>(g("rng"), "rng", {B});
  lc::State st;
  st.slots.resize(static_cast<std::size_t>(B));
  for (py::ssize_t i = 0; i < B; ++i) {
    lc::Slot& s = st.slots[static_cast<std::size_t>(i)];
    s.user = user.data()[i], s.n = n.data()[i], s.recency = rec.data()[i];
    s.alive = alive.data()[i] ? 1 : 0, s.member = member.data()[i] ? 1 : 0;
    for (std::size_t j = 0; j < lc::kHist; ++j) s.hist[j] = hist.data()[i * lc::kHist + j];
    s.spent = spent.data()[i];
    s.key_seed = ks.data()[i], s.key_stream = kst.data()[i], s.episode = ep.data()[i], s.rng.state = rng.data()[i];
  }
  st.t = py::cast<std::int64_t>(g("t"));
  st.budget_left = py::cast<double>(g("budget_left"));
  st.needs_reset = py::cast<bool>(g("needs_reset"));
  try {
    locked(o, [&] { o.sim.set_state(st); });
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
}

LifecycleObject* make(const py::handle& kind, const py::handle& channel, const py::handle& action_params,
                      const py::handle& stage_params, const py::handle& click_params, const py::handle& params,
                      std::int64_t horizon, std::int64_t lapse_days, std::int64_t loyal_purchases,
                      const py::dict& pop, std::int64_t num_users) {
  if (num_users < 1 || num_users > 10000000) fail("num_users: must lie in [1, 1e7]");
  lc::Model m = model(kind, channel, action_params, stage_params, click_params, params, horizon, lapse_days,
                      loyal_purchases);
  lc::Population p = population(pop);
  return new LifecycleObject(lc::LifecycleBatch(std::move(m), std::move(p), static_cast<std::size_t>(num_users)));
}

}  // namespace

void register_lifecycle(py::module_& m) {
  py::class_<LifecycleObject> cls(m, "LifecycleBatch");
  cls.def(py::init(&make), py::arg("kind"), py::arg("channel"), py::arg("action_params"), py::arg("stage_params"),
          py::arg("click_params"), py::arg("params"), py::arg("horizon"), py::arg("lapse_days"), py::arg("loyal_purchases"),
          py::arg("population"), py::arg("num_users"));
  cls.def_property_readonly("num_users", [](const LifecycleObject& o) { return o.sim.num_users(); });
  cls.def_property_readonly("n_actions", [](const LifecycleObject& o) { return o.sim.n_actions(); });
  cls.def_property_readonly("obs_dim", [](const LifecycleObject&) { return lc::kObsDim; });
  cls.def_property_readonly("total_budget", [](const LifecycleObject& o) { return o.sim.total_budget(); });
  cls.def_property_readonly("budget_left",
                            [](const LifecycleObject& o) { return locked(o, [&] { return o.sim.budget_left(); }); });
  cls.def_property_readonly("day", [](const LifecycleObject& o) { return locked(o, [&] { return o.sim.day(); }); });
  cls.def("seed", [](LifecycleObject& o, std::uint64_t s) { locked(o, [&] { o.sim.seed(s); }); }, py::arg("seed"));
  cls.def(
      "seed_slots",
      [](LifecycleObject& o, const py::handle& seeds) {
        auto a = expect<std::uint64_t>(seeds, "seeds", {py::ssize_t(o.sim.num_users())});
        const std::uint64_t* p = a.data();
        locked(o, [&] { o.sim.seed_slots(p); });
      },
      py::arg("seeds"));
  cls.def(
      "reset",
      [](LifecycleObject& o, const py::handle& obs, int threads) {
        auto ob = expect<float>(obs, "obs", {py::ssize_t(o.sim.num_users()), py::ssize_t(lc::kObsDim)}, true);
        float* op = ob.mutable_data();
        locked(o, [&] { o.sim.reset(op, simcore::Exec(threads, &o.pool)); });
      },
      py::arg("obs"), py::arg("threads") = 0);
  cls.def(
      "reset_to",
      [](LifecycleObject& o, const py::handle& users, const py::handle& obs, int threads) {
        const py::ssize_t B = o.sim.num_users();
        auto u = expect<std::int64_t>(users, "users", {B});
        for (py::ssize_t i = 0; i < B; ++i)
          if (u.data()[i] < 0 || u.data()[i] >= py::ssize_t(o.sim.population().size))
            fail("users: population indices must lie in [0, P)");
        auto ob = expect<float>(obs, "obs", {B, py::ssize_t(lc::kObsDim)}, true);
        const std::int64_t* up = u.data();
        float* op = ob.mutable_data();
        locked(o, [&] { o.sim.reset_to(up, op, simcore::Exec(threads, &o.pool)); });
      },
      py::arg("users"), py::arg("obs"), py::arg("threads") = 0);
  cls.def("step", &step, py::arg("actions"), py::arg("out"), py::arg("threads") = 0,
          "One day: actions int64 (B,); out: the spec's buffers (dict of arrays), written in place.");
  cls.def("state", &state_dict, "The full mutable state as a dict of arrays (and t, budget_left, needs_reset).");
  cls.def("set_state", &set_state, py::arg("state"), "Restores a state() dict (validated; unchanged on error).");
}
