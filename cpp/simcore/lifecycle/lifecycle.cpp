#include "simcore/lifecycle/lifecycle.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "simcore/common/parallel.hpp"

namespace simcore {
namespace lifecycle {
namespace {

// Slots per thread before splitting pays off.
constexpr std::size_t kMinChunk = 2048;

inline double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }
inline double phi(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// E[min(rate V, cap)] for V = m LogNormal(-s^2/2, s) (exact.capped_rate_mean).
double capped_rate_mean(double rate, double cap, double m, double s) {
  if (!(rate > 0 && cap > 0)) return 0.0;
  if (s == 0) return std::min(rate * m, cap);
  const double L = std::log(cap / (rate * m));
  const double h = 0.5 * s * s;
  return (rate * m) * phi((L - h) / s) + cap * phi(-(L + h) / s);
}

}  // namespace

LifecycleBatch::LifecycleBatch(Model model, Population population, std::size_t num_users)
    : model_(std::move(model)), pop_(std::move(population)) {
  // The (conv_rate, conv_cap) pairs of the table, each customer's capped mean computed
  // once per episode (the same function, so the same bits as computing it every day).
  model_.n_pairs = 0;
  for (Action& a : model_.actions) {
    a.pair = -1;
    if (!(a.conv_rate > 0 && a.conv_cap > 0)) continue;
    for (int k = 0; k < model_.n_pairs; ++k)
      if (model_.pair_rate[k] == a.conv_rate && model_.pair_cap[k] == a.conv_cap) a.pair = k;
    if (a.pair < 0 && model_.n_pairs < kCachedPairs) {
      a.pair = model_.n_pairs++;
      model_.pair_rate[a.pair] = a.conv_rate, model_.pair_cap[a.pair] = a.conv_cap;
    }
  }
  state_.slots.resize(num_users);
  ok_.resize(num_users);
  pending_.resize(num_users);
  total_budget_ = model_.budget_per_user * static_cast<double>(num_users);
  state_.budget_left = total_budget_;
  seed(0);
}

void LifecycleBatch::seed(std::uint64_t s) {
  for (std::size_t j = 0; j < state_.slots.size(); ++j) {
    Slot& x = state_.slots[j];
    x.key_seed = s, x.key_stream = j, x.episode = 0;
  }
}

void LifecycleBatch::seed_slots(const std::uint64_t* seeds) {
  for (std::size_t j = 0; j < state_.slots.size(); ++j) {
    Slot& x = state_.slots[j];
    x.key_seed = seeds[j], x.key_stream = 0, x.episode = 0;
  }
}

int LifecycleBatch::stage_of(const Slot& s) const {
  if (s.recency > model_.lapse_days) return 3;
  if (s.member || s.n >= model_.loyal_purchases) return 2;
  return s.n >= 2 ? 1 : 0;
}

void LifecycleBatch::load_customer(Slot& s) const {
  const std::size_t k = static_cast<std::size_t>(s.user);
  Customer& c = s.c;
  for (std::size_t j = 0; j < kFeatures; ++j) c.features[j] = pop_.features[k * kFeatures + j];
  c.p = pop_.p[k], c.spend = pop_.spend[k], c.sens = pop_.sens[k], c.q0 = pop_.q0[k], c.q1 = pop_.q1[k];
  for (std::size_t j = 0; j < kChannels; ++j) c.resp[j] = pop_.resp[k * kChannels + j];
  for (int j = 0; j < model_.n_pairs; ++j)
    c.capm[j] = capped_rate_mean(model_.pair_rate[j], model_.pair_cap[j], c.spend, model_.within_sd);
}

void LifecycleBatch::begin(std::size_t i, std::int64_t user) {
  // Draw order (mirrored by the twin): one uniform for the customer, then the days'.
  Slot& s = state_.slots[i];
  s.rng.state = stream_key(s.key_seed, s.key_stream, s.episode);
  ++s.episode;
  const double u = s.rng.uniform();
  const std::int64_t P = static_cast<std::int64_t>(pop_.size);
  std::int64_t drawn = static_cast<std::int64_t>(u * static_cast<double>(P));
  if (drawn > P - 1) drawn = P - 1;
  s.user = user >= 0 ? user : drawn;
  load_customer(s);
  const std::size_t k = static_cast<std::size_t>(s.user);
  s.alive = pop_.alive0[k];
  s.member = 0;
  s.n = pop_.n0[k];
  s.recency = pop_.recency0[k];
  for (double& h : s.hist) h = 0.0;
  s.spent = 0.0;
}

void LifecycleBatch::begin_all(const std::int64_t* users, int threads) {
  max_spent_ = 0.0;
  state_.t = 0;
  state_.budget_left = total_budget_;
  state_.needs_reset = false;
  parallel_for(state_.slots.size(), threads, kMinChunk, [&](std::size_t b0, std::size_t b1) {
    for (std::size_t i = b0; i < b1; ++i) begin(i, users ? users[i] : -1);
  });
}

void LifecycleBatch::write_obs(const Slot& s, float* o, std::int64_t t) const {
  for (std::size_t j = 0; j < kFeatures; ++j) o[j] = s.c.features[j];
  const int st = stage_of(s);
  for (int j = 0; j < 4; ++j) o[4 + j] = j == st ? 1.0f : 0.0f;
  o[8] = static_cast<float>(std::min(static_cast<double>(s.recency), 365.0) / 365.0);
  o[9] = static_cast<float>(static_cast<double>(s.n) / (static_cast<double>(s.n) + 4.0));
  o[10] = s.member ? 1.0f : 0.0f;
  for (std::size_t j = 0; j < kHist; ++j) o[11 + j] = static_cast<float>(s.hist[j] / (1.0 + s.hist[j]));
  o[16] = model_.user_cap > 0 ? static_cast<float>(std::min(1.0, s.spent / model_.user_cap)) : 0.0f;
  o[17] = total_budget_ > 0 ? static_cast<float>(state_.budget_left / total_budget_) : 0.0f;
  o[18] = static_cast<float>(static_cast<double>(t) / static_cast<double>(model_.horizon));
}

void LifecycleBatch::reset(float* obs, int threads) { reset_to(nullptr, obs, threads); }

void LifecycleBatch::reset_to(const std::int64_t* users, float* obs, int threads) {
  begin_all(users, threads);
  parallel_for(state_.slots.size(), threads, kMinChunk, [&](std::size_t b0, std::size_t b1) {
    for (std::size_t i = b0; i < b1; ++i) write_obs(state_.slots[i], obs + i * kObsDim, state_.t);
  });
}

void LifecycleBatch::autoreset_rows(const StepOut& o, int threads) {
  begin_all(nullptr, threads);
  parallel_for(state_.slots.size(), threads, kMinChunk, [&](std::size_t b0, std::size_t b1) {
    for (std::size_t i = b0; i < b1; ++i) {
      const Slot& s = state_.slots[i];
      write_obs(s, o.obs + i * kObsDim, state_.t);
      o.reward[i] = o.value[i] = o.cost[i] = 0;
      o.terminated[i] = o.truncated[i] = o.blocked[i] = o.clicked[i] = o.converted[i] = o.purchased[i] = 0;
      o.action[i] = -1;
      o.stage[i] = -1;
      o.next_stage[i] = static_cast<std::int8_t>(stage_of(s));
      o.alive[i] = s.alive;
      o.member[i] = 0;
      o.p_click[i] = o.p_convert[i] = o.p_purchase[i] = o.expected_value[i] = o.expected_cost[i] = 0;
      o.budget_left[i] = state_.budget_left;
      o.user_spent[i] = 0;
      o.user[i] = s.user;
    }
  });
}

bool LifecycleBatch::may_block(const std::int64_t* actions) const {
  // No slot can be blocked when every spent_i + worst(a_i) fits the cap and the worst
  // cases summed in slot order fit the budget: the realised costs are no larger, and
  // rounding is monotone, so grant() would accept them all.  The cap test first uses
  // max_i spent_i + max_i worst(a_i) (reads only the actions, contiguous); only if that
  // fails does it visit every slot's spent (a cache line per slot).  Either answer
  // "false" is exact; "true" only selects the (identical-result) three-phase path.
  double acc = 0.0, wmax = 0.0;
  const std::size_t B = state_.slots.size();
  for (std::size_t i = 0; i < B; ++i) {
    if (actions[i] == 0) continue;
    const double w = model_.actions[static_cast<std::size_t>(actions[i])].worst();
    wmax = std::max(wmax, w);
    acc += w;
  }
  if (!(acc <= state_.budget_left)) return true;
  if (max_spent_ + wmax <= model_.user_cap) return false;
  for (std::size_t i = 0; i < B; ++i) {
    if (actions[i] == 0) continue;
    const double w = model_.actions[static_cast<std::size_t>(actions[i])].worst();
    if (!(state_.slots[i].spent + w <= model_.user_cap)) return true;
  }
  return false;
}

void LifecycleBatch::grant(const std::int64_t* actions, std::uint8_t* ok) const {
  // Slot order; a granted action pays its realised cost (<= the budget left).
  double paid = 0.0;
  const double left = state_.budget_left, cap = model_.user_cap;
  for (std::size_t i = 0; i < state_.slots.size(); ++i) {
    ok[i] = 1;
    if (actions[i] == 0) continue;
    const double c = pending_[i].cost;
    if (state_.slots[i].spent + c <= cap && paid + c <= left) {
      paid += c;
    } else {
      ok[i] = 0;
    }
  }
}

DayProbs LifecycleBatch::probabilities(const Slot& s, const Action& act, int st) const {
  // Exact expectations of the action in the day's state (exact.expectations, same order).
  const Customer& cu = s.c;
  DayProbs d;
  const double F = (s.hist[0] + s.hist[1]) + s.hist[2];
  const double capm = act.pair >= 0 ? cu.capm[act.pair]
                                    : capped_rate_mean(act.conv_rate, act.conv_cap, cu.spend, model_.within_sd);
  if (act.kind != kNothing) {
    const double zc = ((act.click_logit + model_.stage_click[st][act.channel]) + cu.resp[act.channel]) -
                      model_.fatigue_coef * F;
    d.pc = sigmoid(zc);
    const double dead = s.alive ? 0.0 : model_.dead_logit;
    if (act.kind == kOffer) {
      const double depth = act.depth + act.depth_per_dollar * capm;
      d.pv = sigmoid(((model_.offer_conv[st] + act.conv_logit) + (model_.depth_coef * cu.sens) * depth) + dead);
    } else if (!s.member) {
      d.pv = sigmoid((model_.club_conv[st] + act.conv_logit) + dead);
    }
  }
  const double induced = d.pc * d.pv;
  d.qraw = s.member ? cu.q1 : cu.q0;
  const double q = s.alive ? d.qraw : 0.0;
  const bool offer = act.kind == kOffer;
  d.ppur = offer ? (q + induced) - q * induced : q;
  // an opened offer is redeemed on any purchase of the day, organic ones included
  d.pconv = offer ? d.pc * ((d.pv + q) - d.pv * q) : induced;
  d.ecost = (act.touch_cost + d.pc * act.click_cost) + d.pconv * (act.conv_fixed + capm);
  return d;
}

void LifecycleBatch::sample(std::size_t i, int a) {
  Slot& s = state_.slots[i];
  const Action& act = model_.actions[static_cast<std::size_t>(a)];
  Outcome& x = pending_[i];
  x.stage = stage_of(s);
  x.d = probabilities(s, act, x.stage);
  // Draws (fixed order, six uniforms a day): click, convert, organic purchase, dropout,
  // then the value's normal (Box-Muller, two uniforms).
  const double u_click = s.rng.uniform(), u_conv = s.rng.uniform();
  const double u_org = s.rng.uniform();
  x.u_drop = s.rng.uniform();
  const double u1 = 1.0 - s.rng.uniform(), u2 = s.rng.uniform();
  const bool offer = act.kind == kOffer;
  x.organic = s.alive && u_org < x.d.qraw;
  x.clicked = act.kind != kNothing && u_click < x.d.pc;
  const bool induced = x.clicked && u_conv < x.d.pv;
  x.offer_conv = induced && offer;
  x.purchased = x.organic || x.offer_conv;
  x.converted = offer ? (x.clicked && x.purchased) : induced;
  x.value = 0.0;
  if (x.purchased) {
    const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    x.value = s.c.spend * std::exp(model_.within_sd * z - 0.5 * model_.within_sd * model_.within_sd);
  }
  double cost = act.touch_cost;
  cost = cost + (x.clicked ? act.click_cost : 0.0);
  cost = cost + (x.converted ? act.conv_fixed : 0.0);
  x.cost = cost + (x.converted ? std::min(act.conv_rate * x.value, act.conv_cap) : 0.0);
}

void LifecycleBatch::commit(std::size_t i, int a, bool blocked, const StepOut& o) {
  Slot& s = state_.slots[i];
  Outcome x = pending_[i];
  if (blocked) {  // the do-nothing day under the same draws: organic purchase only
    a = 0;
    x.d = probabilities(s, model_.actions[0], x.stage);
    x.clicked = x.offer_conv = x.converted = false;
    x.purchased = x.organic;
    x.value = x.organic ? x.value : 0.0;
    x.cost = 0.0;
  }
  const Action& act = model_.actions[static_cast<std::size_t>(a)];
  o.p_click[i] = x.d.pc;
  o.p_convert[i] = x.d.pconv;
  o.p_purchase[i] = x.d.ppur;
  o.expected_value[i] = x.d.ppur * s.c.spend;
  o.expected_cost[i] = x.d.ecost;
  // Transitions: win-back, joining, dropout after a purchase, counts, histories.
  if (x.offer_conv) s.alive = 1;
  if (x.converted && act.kind == kClub) s.member = 1;
  const double drop = s.member ? s.c.p * model_.club_dropout_mult : s.c.p;
  if (x.purchased && x.u_drop < drop) s.alive = 0;
  s.n += x.purchased ? 1 : 0;
  s.recency = x.purchased ? 0 : s.recency + 1;
  for (std::size_t c = 0; c < kChannels; ++c)
    s.hist[c] = s.hist[c] * model_.decay + ((act.kind != kNothing && act.channel == int(c)) ? 1.0 : 0.0);
  s.hist[3] = s.hist[3] * model_.decay + (x.clicked ? 1.0 : 0.0);
  s.hist[4] = s.hist[4] * model_.decay + (x.converted ? 1.0 : 0.0);
  s.spent = s.spent + x.cost;
  o.reward[i] = x.value - x.cost;
  o.value[i] = x.value;
  o.cost[i] = x.cost;
  o.terminated[i] = 0;
  o.action[i] = a;
  o.blocked[i] = blocked ? 1 : 0;
  o.clicked[i] = x.clicked, o.converted[i] = x.converted, o.purchased[i] = x.purchased;
  o.stage[i] = static_cast<std::int8_t>(x.stage);
  o.next_stage[i] = static_cast<std::int8_t>(stage_of(s));
  o.alive[i] = s.alive, o.member[i] = s.member;
  o.user_spent[i] = s.spent;
  o.user[i] = s.user;
  write_obs(s, o.obs + i * kObsDim, state_.t + 1);  // entry 17 (budget) is rewritten after the day
}

void LifecycleBatch::step(const std::int64_t* actions, const StepOut& o, int threads) {
  if (state_.needs_reset) {
    autoreset_rows(o, threads);
    return;
  }
  const std::size_t B = state_.slots.size();
  if (!may_block(actions)) {  // every action is granted whatever the draws: one pass
    parallel_for(B, threads, kMinChunk, [&](std::size_t b0, std::size_t b1) {
      for (std::size_t i = b0; i < b1; ++i) {
        sample(i, static_cast<int>(actions[i]));
        commit(i, static_cast<int>(actions[i]), false, o);
      }
    });
  } else {
    parallel_for(B, threads, kMinChunk, [&](std::size_t b0, std::size_t b1) {
      for (std::size_t i = b0; i < b1; ++i) sample(i, static_cast<int>(actions[i]));
    });
    grant(actions, ok_.data());
    parallel_for(B, threads, kMinChunk, [&](std::size_t b0, std::size_t b1) {
      for (std::size_t i = b0; i < b1; ++i) commit(i, static_cast<int>(actions[i]), ok_[i] == 0, o);
    });
  }
  double total = 0.0, smax = 0.0;  // the day's spend, summed in slot order; the largest spent
  for (std::size_t i = 0; i < B; ++i) {
    total += o.cost[i];
    smax = std::max(smax, o.user_spent[i]);
  }
  max_spent_ = smax;
  state_.budget_left = state_.budget_left - total;
  ++state_.t;
  const bool trunc = state_.t >= model_.horizon;
  state_.needs_reset = trunc;
  const float frac = total_budget_ > 0 ? static_cast<float>(state_.budget_left / total_budget_) : 0.0f;
  parallel_for(B, threads, kMinChunk, [&](std::size_t b0, std::size_t b1) {
    for (std::size_t i = b0; i < b1; ++i) {
      o.truncated[i] = trunc ? 1 : 0;
      o.budget_left[i] = state_.budget_left;
      o.obs[i * kObsDim + 17] = frac;
    }
  });
}

void LifecycleBatch::set_state(const State& st) {
  if (st.slots.size() != state_.slots.size()) throw std::invalid_argument("state: wrong number of slots");
  for (const Slot& s : st.slots)
    if (s.user < 0 || static_cast<std::size_t>(s.user) >= pop_.size)
      throw std::invalid_argument("state: user index out of range");
  for (const Slot& s : st.slots) {
    if (s.n < 0 || s.recency < 0) throw std::invalid_argument("state: n and recency must be >= 0");
    if (!(std::isfinite(s.spent) && s.spent >= 0)) throw std::invalid_argument("state: spent must be finite, >= 0");
    for (double h : s.hist)
      if (!(std::isfinite(h) && h >= 0)) throw std::invalid_argument("state: hist must be finite, >= 0");
  }
  if (st.t < 0 || st.t > model_.horizon) throw std::invalid_argument("state: t must lie in [0, horizon]");
  if (!(std::isfinite(st.budget_left) && st.budget_left >= 0))
    throw std::invalid_argument("state: budget_left must be finite, >= 0");
  state_ = st;
  max_spent_ = 0.0;
  for (Slot& s : state_.slots) {
    load_customer(s);
    max_spent_ = std::max(max_spent_, s.spent);
  }
}

}  // namespace lifecycle
}  // namespace simcore
