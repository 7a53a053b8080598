#include "simcore/lifecycle/lifecycle.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "simcore/common/worker_pool.hpp"

namespace simcore {
namespace lifecycle {
namespace {

// Slots per thread before splitting pays off.  Was 2048 while every call started its
// threads; with the object's WorkerPool, B = 1024 on 2 threads went from 18-28M to
// 26-35M user-steps/s with this chunk (2026-12-05, AMD EPYC 2-vCPU, bench/test_lifecycle_step.py).
constexpr std::size_t kMinChunk = 256;

inline double phi(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

ActionArrays table_of(const Model& m) {
  ActionArrays t;
  for (const Action& a : m.actions) {
    t.kind.push_back(a.kind), t.chan_raw.push_back(a.channel), t.chan.push_back(std::max(a.channel, 0));
    t.pair.push_back(a.pair);
    t.click_logit.push_back(a.click_logit), t.depth.push_back(a.depth), t.touch.push_back(a.touch_cost);
    t.click.push_back(a.click_cost), t.fixed.push_back(a.conv_fixed), t.rate.push_back(a.conv_rate);
    t.cap.push_back(a.conv_cap), t.dpd.push_back(a.depth_per_dollar), t.conv_logit.push_back(a.conv_logit);
    if (a.pair < 0 && a.conv_rate > 0 && a.conv_cap > 0) t.uncached = true;
  }
  return t;
}

}  // namespace

double capped_rate_mean(double rate, double cap, double m, double s) {
  if (!(rate > 0 && cap > 0)) return 0.0;
  if (s == 0) return std::min(rate * m, cap);
  const double L = std::log(cap / (rate * m));
  const double h = 0.5 * s * s;
  return (rate * m) * phi((L - h) / s) + cap * phi(-(L + h) / s);
}

void SlotArrays::resize(std::size_t B) {
  for (auto* v : {&rng, &key_seed, &key_stream, &episode}) v->assign(B, 0);
  for (auto* v : {&user, &n, &recency}) v->assign(B, 0);
  alive.assign(B, 0), member.assign(B, 0);
  for (auto& h : hist) h.assign(B, 0.0);
  for (auto* v : {&spent, &p, &spend, &sens, &q0, &q1}) v->assign(B, 0.0);
  features.assign(B * kFeatures, 0.0f);
  resp.assign(B * kChannels, 0.0), capm.assign(B * kCachedPairs, 0.0);
}

void PendingStore::resize(std::size_t n) {
  for (auto* v : {&pc, &pconv, &ppur, &ecost, &value, &cost, &u_drop}) v->assign(n, 0.0);
  stage.assign(n, 0);
  for (auto* v : {&organic, &clicked, &offer_conv, &purchased, &converted}) v->assign(n, 0);
}

Pending PendingStore::at(std::size_t i0) {
  return Pending{pc.data() + i0,        pconv.data() + i0,     ppur.data() + i0,      ecost.data() + i0,
                 value.data() + i0,     cost.data() + i0,      u_drop.data() + i0,    stage.data() + i0,
                 organic.data() + i0,   clicked.data() + i0,   offer_conv.data() + i0, purchased.data() + i0,
                 converted.data() + i0};
}

LifecycleBatch::LifecycleBatch(Model model, Population population, std::size_t num_users)
    : model_(std::move(model)), pop_(std::move(population)), B_(num_users) {
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
  table_ = table_of(model_);
  s_.resize(B_);
  ok_.resize(B_);
  total_budget_ = model_.budget_per_user * static_cast<double>(B_);
  budget_left_ = total_budget_;
  seed(0);
}

void LifecycleBatch::seed(std::uint64_t s) {
  for (std::size_t j = 0; j < B_; ++j) s_.key_seed[j] = s, s_.key_stream[j] = j, s_.episode[j] = 0;
}

void LifecycleBatch::seed_slots(const std::uint64_t* seeds) {
  for (std::size_t j = 0; j < B_; ++j) s_.key_seed[j] = seeds[j], s_.key_stream[j] = 0, s_.episode[j] = 0;
}

void LifecycleBatch::load_customer(std::size_t i) {
  const std::size_t k = static_cast<std::size_t>(s_.user[i]);
  for (std::size_t j = 0; j < kFeatures; ++j) s_.features[i * kFeatures + j] = pop_.features[k * kFeatures + j];
  s_.p[i] = pop_.p[k], s_.spend[i] = pop_.spend[k], s_.sens[i] = pop_.sens[k];
  s_.q0[i] = pop_.q0[k], s_.q1[i] = pop_.q1[k];
  for (std::size_t j = 0; j < kChannels; ++j) s_.resp[i * kChannels + j] = pop_.resp[k * kChannels + j];
  for (int j = 0; j < kCachedPairs; ++j)
    s_.capm[i * kCachedPairs + j] =
        j < model_.n_pairs
            ? capped_rate_mean(model_.pair_rate[j], model_.pair_cap[j], s_.spend[i], model_.within_sd)
            : 0.0;
}

void LifecycleBatch::begin(std::size_t i, std::int64_t user) {
  // Draw order (mirrored by the twin): one uniform for the customer, then the days'.
  Stream rng{stream_key(s_.key_seed[i], s_.key_stream[i], s_.episode[i])};
  ++s_.episode[i];
  const double u = rng.uniform();
  s_.rng[i] = rng.state;
  const std::int64_t P = static_cast<std::int64_t>(pop_.size);
  std::int64_t drawn = static_cast<std::int64_t>(u * static_cast<double>(P));
  if (drawn > P - 1) drawn = P - 1;
  s_.user[i] = user >= 0 ? user : drawn;
  load_customer(i);
  const std::size_t k = static_cast<std::size_t>(s_.user[i]);
  s_.alive[i] = pop_.alive0[k];
  s_.member[i] = 0;
  s_.n[i] = pop_.n0[k];
  s_.recency[i] = pop_.recency0[k];
  for (auto& h : s_.hist) h[i] = 0.0;
  s_.spent[i] = 0.0;
}

void LifecycleBatch::begin_all(const std::int64_t* users, const Exec& ex) {
  max_spent_ = 0.0;
  t_ = 0;
  budget_left_ = total_budget_;
  needs_reset_ = false;
  parallel_for(ex, B_, kMinChunk, [&](std::size_t b0, std::size_t b1) {
    for (std::size_t i = b0; i < b1; ++i) begin(i, users ? users[i] : -1);
  });
}

void LifecycleBatch::write_obs(std::size_t i, float* o, std::int64_t t) const {
  for (std::size_t j = 0; j < kFeatures; ++j) o[j] = s_.features[i * kFeatures + j];
  const int st = stage_of(model_, s_.n[i], s_.recency[i], s_.member[i] != 0);
  for (int j = 0; j < 4; ++j) o[4 + j] = j == st ? 1.0f : 0.0f;
  const double n = static_cast<double>(s_.n[i]);
  o[8] = static_cast<float>(std::min(static_cast<double>(s_.recency[i]), 365.0) / 365.0);
  o[9] = static_cast<float>(n / (n + 4.0));
  o[10] = s_.member[i] ? 1.0f : 0.0f;
  for (std::size_t j = 0; j < kHist; ++j) o[11 + j] = static_cast<float>(s_.hist[j][i] / (1.0 + s_.hist[j][i]));
  o[16] = model_.user_cap > 0 ? static_cast<float>(std::min(1.0, s_.spent[i] / model_.user_cap)) : 0.0f;
  o[17] = total_budget_ > 0 ? static_cast<float>(budget_left_ / total_budget_) : 0.0f;
  o[18] = static_cast<float>(static_cast<double>(t) / static_cast<double>(model_.horizon));
}

void LifecycleBatch::reset(float* obs, const Exec& ex) { reset_to(nullptr, obs, ex); }

void LifecycleBatch::reset_to(const std::int64_t* users, float* obs, const Exec& ex) {
  begin_all(users, ex);
  parallel_for(ex, B_, kMinChunk, [&](std::size_t b0, std::size_t b1) {
    for (std::size_t i = b0; i < b1; ++i) write_obs(i, obs + i * kObsDim, t_);
  });
}

void LifecycleBatch::autoreset_rows(const StepOut& o, const Exec& ex) {
  begin_all(nullptr, ex);
  parallel_for(ex, B_, kMinChunk, [&](std::size_t b0, std::size_t b1) {
    for (std::size_t i = b0; i < b1; ++i) {
      write_obs(i, o.obs + i * kObsDim, t_);
      o.reward[i] = o.value[i] = o.cost[i] = 0;
      o.terminated[i] = o.truncated[i] = o.blocked[i] = o.clicked[i] = o.converted[i] = o.purchased[i] = 0;
      o.action[i] = -1;
      o.stage[i] = -1;
      o.next_stage[i] = static_cast<std::int8_t>(stage_of(model_, s_.n[i], s_.recency[i], s_.member[i] != 0));
      o.alive[i] = s_.alive[i];
      o.member[i] = 0;
      o.p_click[i] = o.p_convert[i] = o.p_purchase[i] = o.expected_value[i] = o.expected_cost[i] = 0;
      o.budget_left[i] = budget_left_;
      o.user_spent[i] = 0;
      o.user[i] = s_.user[i];
    }
  });
}

bool LifecycleBatch::may_block(const std::int64_t* actions) const {
  // No slot can be blocked when every spent_i + worst(a_i) fits the cap and the worst
  // cases summed in slot order fit the budget: the realised costs are no larger, and
  // rounding is monotone, so grant() would accept them all.  The cap test first uses
  // max_i spent_i + max_i worst(a_i); only if that fails does it visit every slot.
  // Either answer "false" is exact; "true" only selects the (identical-result)
  // three-phase path.
  double acc = 0.0, wmax = 0.0;
  for (std::size_t i = 0; i < B_; ++i) {
    if (actions[i] == 0) continue;
    const double w = model_.actions[static_cast<std::size_t>(actions[i])].worst();
    wmax = std::max(wmax, w);
    acc += w;
  }
  if (!(acc <= budget_left_)) return true;
  if (max_spent_ + wmax <= model_.user_cap) return false;
  for (std::size_t i = 0; i < B_; ++i) {
    if (actions[i] == 0) continue;
    const double w = model_.actions[static_cast<std::size_t>(actions[i])].worst();
    if (!(s_.spent[i] + w <= model_.user_cap)) return true;
  }
  return false;
}

void LifecycleBatch::grant(const std::int64_t* actions, std::uint8_t* ok) const {
  // Slot order; a granted action pays its realised cost (<= the budget left).
  double paid = 0.0;
  const double left = budget_left_, cap = model_.user_cap;
  for (std::size_t i = 0; i < B_; ++i) {
    ok[i] = 1;
    if (actions[i] == 0) continue;
    const double c = pending_.cost[i];
    if (s_.spent[i] + c <= cap && paid + c <= left) {
      paid += c;
    } else {
      ok[i] = 0;
    }
  }
}

void LifecycleBatch::step(const std::int64_t* actions, const StepOut& o, const Exec& ex) {
  if (needs_reset_) {
    autoreset_rows(o, ex);
    return;
  }
  const KernelCtx ctx{&model_, &table_, &s_};
  DaySums sums;  // the day's spend summed in slot order (a prefix of it) and the largest spent
  if (!may_block(actions)) {  // every action is granted whatever the draws: one pass
    std::mutex mu;
    parallel_for(ex, B_, kMinChunk, [&](std::size_t b0, std::size_t b1) {
      double acc = 0.0, mx = 0.0;  // chunk 0 sums its costs while they are in cache
      for (std::size_t i0 = b0; i0 < b1; i0 += kBlock) {
        const std::size_t n = std::min(kBlock, b1 - i0);
        step_block(ctx, actions, i0, n, o);
        for (std::size_t i = i0; i < i0 + n; ++i) mx = std::max(mx, o.user_spent[i]);
        if (b0 == 0)
          for (std::size_t i = i0; i < i0 + n; ++i) acc += o.cost[i];
      }
      std::lock_guard<std::mutex> lock(mu);
      if (b0 == 0) sums.total = acc, sums.summed = b1;
      sums.smax = std::max(sums.smax, mx);
    });
  } else {
    if (pending_.cost.size() != B_) pending_.resize(B_);
    parallel_for(ex, B_, kMinChunk, [&](std::size_t b0, std::size_t b1) {
      for (std::size_t i0 = b0; i0 < b1; i0 += kBlock)
        sample_block(ctx, actions, i0, std::min(kBlock, b1 - i0), pending_.at(i0));
    });
    grant(actions, ok_.data());
    parallel_for(ex, B_, kMinChunk, [&](std::size_t b0, std::size_t b1) {
      for (std::size_t i0 = b0; i0 < b1; i0 += kBlock)
        commit_block(ctx, actions, i0, std::min(kBlock, b1 - i0), pending_.at(i0), ok_.data() + i0, o);
    });
    for (std::size_t i = 0; i < B_; ++i) sums.smax = std::max(sums.smax, o.user_spent[i]);
  }
  finish_day(o, ex, sums);
}

void LifecycleBatch::finish_day(const StepOut& o, const Exec& ex, DaySums sums) {
  double total = sums.total;  // the rest of the day's spend, continuing in slot order
  for (std::size_t i = sums.summed; i < B_; ++i) total += o.cost[i];
  max_spent_ = sums.smax;
  budget_left_ = budget_left_ - total;
  ++t_;
  const bool trunc = t_ >= model_.horizon;
  needs_reset_ = trunc;
  const float frac = total_budget_ > 0 ? static_cast<float>(budget_left_ / total_budget_) : 0.0f;
  const double left = budget_left_;
  const KernelCtx ctx{&model_, &table_, &s_};
  parallel_for(ex, B_, kMinChunk, [&](std::size_t b0, std::size_t b1) {
    for (std::size_t i0 = b0; i0 < b1; i0 += kBlock) {
      const std::size_t n = std::min(kBlock, b1 - i0);
      observe_block(ctx, i0, n, o.obs, t_, frac);
      for (std::size_t i = i0; i < i0 + n; ++i) o.truncated[i] = trunc ? 1 : 0, o.budget_left[i] = left;
    }
  });
}

State LifecycleBatch::state() const {
  State st;
  st.t = t_, st.budget_left = budget_left_, st.needs_reset = needs_reset_;
  st.slots.resize(B_);
  for (std::size_t i = 0; i < B_; ++i) {
    Slot& x = st.slots[i];
    for (std::size_t j = 0; j < kFeatures; ++j) x.c.features[j] = s_.features[i * kFeatures + j];
    x.c.p = s_.p[i], x.c.spend = s_.spend[i], x.c.sens = s_.sens[i], x.c.q0 = s_.q0[i], x.c.q1 = s_.q1[i];
    for (std::size_t j = 0; j < kChannels; ++j) x.c.resp[j] = s_.resp[i * kChannels + j];
    for (int j = 0; j < kCachedPairs; ++j) x.c.capm[j] = s_.capm[i * kCachedPairs + j];
    x.rng.state = s_.rng[i];
    x.key_seed = s_.key_seed[i], x.key_stream = s_.key_stream[i], x.episode = s_.episode[i];
    x.user = s_.user[i], x.n = s_.n[i], x.recency = s_.recency[i];
    x.alive = s_.alive[i], x.member = s_.member[i];
    for (std::size_t j = 0; j < kHist; ++j) x.hist[j] = s_.hist[j][i];
    x.spent = s_.spent[i];
  }
  return st;
}

void LifecycleBatch::set_state(const State& st) {
  if (st.slots.size() != B_) throw std::invalid_argument("state: wrong number of slots");
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
  t_ = st.t, budget_left_ = st.budget_left, needs_reset_ = st.needs_reset;
  max_spent_ = 0.0;
  for (std::size_t i = 0; i < B_; ++i) {
    const Slot& x = st.slots[i];
    s_.rng[i] = x.rng.state;
    s_.key_seed[i] = x.key_seed, s_.key_stream[i] = x.key_stream, s_.episode[i] = x.episode;
    s_.user[i] = x.user, s_.n[i] = x.n, s_.recency[i] = x.recency;
    s_.alive[i] = x.alive, s_.member[i] = x.member;
    for (std::size_t j = 0; j < kHist; ++j) s_.hist[j][i] = x.hist[j];
    s_.spent[i] = x.spent;
    load_customer(i);
    max_spent_ = std::max(max_spent_, x.spent);
  }
}

}  // namespace lifecycle
}  // namespace simcore
