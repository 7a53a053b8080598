// Batched customer-lifecycle simulator: B customer slots of one marketing activity,
// stepped one day at a time.  BG/NBD purchases (daily probability q, dropout p after a
// purchase), a touch -> click -> convert funnel per action (offer type x channel x
// benefit, or a club invitation) with fatigue, lifecycle stages, an episode budget
// shared by the slots and a per-customer cap.
// Specification: docs/lifecycle_model.md; NumPy twin:
// simcore.domains.lifecycle.reference.ReferenceLifecycleBatch (same draws, same order).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "simcore/common/rng.hpp"
#include "simcore/common/worker_pool.hpp"

namespace simcore {
namespace lifecycle {

constexpr int kNothing = 0, kOffer = 1, kClub = 2;
constexpr std::size_t kFeatures = 4, kChannels = 3, kStages = 4, kHist = 5, kObsDim = 19;
// Distinct (conv_rate, conv_cap) pairs whose capped mean is cached per customer.
constexpr int kCachedPairs = 4;

// One row of the action table (the caller checks the values; the binding does).
struct Action {
  int kind = kNothing;   // 0 nothing, 1 offer, 2 club
  int channel = -1;      // 0 push, 1 sms, 2 phone
  double click_logit = 0, depth = 0;
  double touch_cost = 0, click_cost = 0, conv_fixed = 0, conv_rate = 0, conv_cap = 0;
  // depth added per dollar of the customer's E[min(conv_rate V, conv_cap)]; conversion
  // log-odds added after a click
  double depth_per_dollar = 0, conv_logit = 0;
  int pair = -1;  // index of (conv_rate, conv_cap) in the customer's cache, -1: not cached
  // touch_cost + click_cost + conv_fixed + conv_cap, summed in that order
  double worst() const { return ((touch_cost + click_cost) + conv_fixed) + conv_cap; }
};

// Everything that does not change during a run.  Owned by value.
struct Model {
  std::vector<Action> actions;
  // click log-odds per (stage, channel): stage_click[s] + h stage_channel_click[s, c]
  double stage_click[kStages][kChannels] = {};
  double offer_conv[kStages] = {}, club_conv[kStages] = {};
  double depth_coef = 0, dead_logit = 0, fatigue_coef = 0, decay = 0;
  double club_dropout_mult = 1, within_sd = 0, user_cap = 0, budget_per_user = 0;
  std::int64_t horizon = 1, lapse_days = 90, loyal_purchases = 4;
  double pair_rate[kCachedPairs] = {}, pair_cap[kCachedPairs] = {};
  int n_pairs = 0;
};

// The customer population (P customers), read-only during a run.
struct Population {
  std::size_t size = 0;
  std::vector<float> features;      // (P, 4)
  // (P,): dropout, mean value, sensitivity (at the model's heterogeneity), daily purchase prob (member: q1)
  std::vector<double> p, spend, sens, q0, q1;
  std::vector<double> resp;         // (P, 3), click log-odds per channel (at the model's heterogeneity)
  std::vector<std::int32_t> n0, recency0;
  std::vector<std::uint8_t> alive0;
};

// The constants of a slot's customer, copied from the population when an episode
// begins (into SlotArrays: a step then reads contiguous slot rows instead of gathering
// from P-long arrays).
struct Customer {
  float features[kFeatures] = {};
  double p = 0, spend = 0, sens = 0, q0 = 0, q1 = 0;
  double resp[kChannels] = {};
  double capm[kCachedPairs] = {};  // E[min(rate V, cap)] of the model's cached pairs
};

// One slot's state as state() / set_state() exchange it (the batch keeps it in SlotArrays).
struct Slot {
  Customer c;
  Stream rng;
  std::uint64_t key_seed = 0, key_stream = 0, episode = 0;
  std::int64_t user = 0, n = 0, recency = 0;
  std::uint8_t alive = 0, member = 0;
  double hist[kHist] = {};  // decayed touches (push, sms, phone), clicks, conversions
  double spent = 0;
};

// Caller-owned output buffers, B rows each (obs (B, 19)).
struct StepOut {
  float* obs;
  double* reward;
  std::uint8_t *terminated, *truncated;
  std::int64_t* action;
  std::uint8_t *blocked, *clicked, *converted, *purchased;
  double *value, *cost;
  std::int8_t *stage, *next_stage;
  std::uint8_t *alive, *member;
  double *p_click, *p_convert, *p_purchase, *expected_value, *expected_cost;
  double *budget_left, *user_spent;
  std::int64_t* user;
};

// The whole mutable state as state() / set_state() exchange it (one Slot per slot; the
// batch itself keeps these fields as structure-of-arrays, SlotArrays).
struct State {
  std::vector<Slot> slots;
  std::int64_t t = 0;
  double budget_left = 0;
  bool needs_reset = true;
};

// The action table as arrays (A each), gathered by the block kernel.
struct ActionArrays {
  std::vector<std::int64_t> kind, chan, chan_raw, pair;  // chan: channel clamped to >= 0
  std::vector<double> click_logit, depth, touch, click, fixed, rate, cap, dpd, conv_logit;
  bool uncached = false;  // some action has rate > 0, cap > 0 and no cached pair
};

// Structure-of-arrays slot state, B rows per field (features (B, 4), resp (B, 3) and
// capm (B, kCachedPairs) row-major): the customer's constants and the mutable state.
struct SlotArrays {
  std::vector<std::uint64_t> rng, key_seed, key_stream, episode;
  std::vector<std::int64_t> user, n, recency;
  std::vector<std::uint8_t> alive, member;
  std::vector<double> hist[kHist], spent;
  std::vector<float> features;
  std::vector<double> p, spend, sens, q0, q1, resp, capm;
  void resize(std::size_t B);
};

// Phase-1 outcomes of consecutive slots (row 0 = the block's first slot).
struct Pending {
  double *pc, *pconv, *ppur, *ecost, *value, *cost, *u_drop;
  std::int8_t* stage;
  std::uint8_t *organic, *clicked, *offer_conv, *purchased, *converted;
};

// Storage behind a Pending: B rows (the three-phase path) or one block's (one-pass path).
struct PendingStore {
  std::vector<double> pc, pconv, ppur, ecost, value, cost, u_drop;
  std::vector<std::int8_t> stage;
  std::vector<std::uint8_t> organic, clicked, offer_conv, purchased, converted;
  void resize(std::size_t n);
  Pending at(std::size_t i0);
};

// What the block kernel (lifecycle_kernel.cpp) reads and writes.
struct KernelCtx {
  const Model* model;
  const ActionArrays* table;
  SlotArrays* slots;
};

// Slots per kernel block (the kernel's local arrays hold this many rows).
constexpr std::size_t kBlock = 64;
// A whole day but the observation for slots [i0, i0 + n), n <= kBlock, when no action can
// be blocked (the one-pass path).
void step_block(const KernelCtx& c, const std::int64_t* actions, std::size_t i0, std::size_t n, const StepOut& out);
// The observation rows of slots [i0, i0 + n) from their state after t1 days, entry 17 =
// frac (the budget fraction after the day, known once every slot's cost is).
void observe_block(const KernelCtx& c, std::size_t i0, std::size_t n, float* obs, std::int64_t t1, float frac);
// Phase 1 for slots [i0, i0 + n), n <= kBlock: probabilities, draws, outcome, cost.
void sample_block(const KernelCtx& c, const std::int64_t* actions, std::size_t i0, std::size_t n,
                  const Pending& p);
// Phase 3 for slots [i0, i0 + n), n <= kBlock: commits the outcomes (ok == nullptr: none
// blocked; else ok[i] == 0 gives slot i the do-nothing day under the same draws), all
// but the observation (observe_block).
void commit_block(const KernelCtx& c, const std::int64_t* actions, std::size_t i0, std::size_t n,
                  const Pending& p, const std::uint8_t* ok, const StepOut& out);
// E[min(rate V, cap)] for V = m LogNormal(-s^2/2, s) (exact.capped_rate_mean).
double capped_rate_mean(double rate, double cap, double m, double s);
// Lifecycle stage (3 lapsing, 2 loyal, 1 repeat, 0 new; exact.stage_of).
inline int stage_of(const Model& m, std::int64_t n, std::int64_t recency, bool member) {
  if (recency > m.lapse_days) return 3;
  if (member || n >= m.loyal_purchases) return 2;
  return n >= 2 ? 1 : 0;
}

class LifecycleBatch {
 public:
  LifecycleBatch(Model model, Population population, std::size_t num_users);

  std::size_t num_users() const { return B_; }
  std::size_t n_actions() const { return model_.actions.size(); }
  const Model& model() const { return model_; }
  const Population& population() const { return pop_; }
  double total_budget() const { return total_budget_; }
  double budget_left() const { return budget_left_; }
  std::int64_t day() const { return t_; }

  // Slot j's e-th episode draws from stream (seed, j, e) / (seeds[j], 0, e).
  void seed(std::uint64_t seed);
  void seed_slots(const std::uint64_t* seeds);
  // New episode everywhere (users drawn uniformly, or users[j] when given); obs (B, 19).
  void reset(float* obs, const Exec& ex);
  void reset_to(const std::int64_t* users, float* obs, const Exec& ex);
  // One day under actions (B,) in [0, A) (checked by the caller); NEXT_STEP autoreset
  // after the horizon.
  void step(const std::int64_t* actions, const StepOut& out, const Exec& ex);

  // A copy of the state (one Slot per slot).
  State state() const;
  // Replaces the state (throws std::invalid_argument on a size or range mismatch).
  void set_state(const State& st);

 private:
  void load_customer(std::size_t i);
  void begin(std::size_t i, std::int64_t user);
  void begin_all(const std::int64_t* users, const Exec& ex);
  // obs (19,) of slot i after t days (entry 17 from the current budget_left).
  void write_obs(std::size_t i, float* o, std::int64_t t) const;
  void autoreset_rows(const StepOut& out, const Exec& ex);
  // Phase 2 of a step: which requested actions run (slot order, realised costs).
  void grant(const std::int64_t* actions, std::uint8_t* ok) const;
  // False when no requested action can be blocked today (the one-pass fast path).
  bool may_block(const std::int64_t* actions) const;
  // The day's spend: its sum over slots [0, summed) (in slot order) and the largest spent.
  struct DaySums {
    double total = 0.0;
    std::size_t summed = 0;
    double smax = 0.0;
  };
  // The day's spend and budget, truncation, obs entry 17.
  void finish_day(const StepOut& out, const Exec& ex, DaySums sums);

  Model model_;
  Population pop_;
  ActionArrays table_;
  std::size_t B_ = 0;
  SlotArrays s_;
  std::int64_t t_ = 0;
  double budget_left_ = 0;
  bool needs_reset_ = true;
  double total_budget_ = 0;
  std::vector<std::uint8_t> ok_;
  // max over slots of spent (kept by step/reset/set_state): may_block's O(1) cap test
  double max_spent_ = 0.0;
  PendingStore pending_;  // phase-1 scratch of the three-phase path, one row per slot
};

}  // namespace lifecycle
}  // namespace simcore
