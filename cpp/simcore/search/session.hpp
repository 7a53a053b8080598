// Batched search-session simulator (SSMDP).  The user-response model is documented in
// docs/user_model.md; simcore.reference.ReferenceSessionBatch is its NumPy twin.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "simcore/common/rng.hpp"
#include "simcore/common/worker_pool.hpp"

namespace simcore {

// Query catalogue and user population.  Owned by value.
struct World {
  std::size_t n_queries = 0, n_items = 0, n_features = 0, n_segments = 0;
  std::vector<float> features;        // (Q, N, m) row-major, values in [0, 1]
  std::vector<double> prices;         // (Q, N), > 0
  std::vector<double> segment_cdf;    // (G,) cumulative segment probabilities, last == 1
  std::vector<double> segment_pref;   // (G, m) mean preference per segment
};

// Parameters of the user-response model (see docs/user_model.md for the formulas).
struct UserModel {
  std::size_t window = 4;          // W: pages the user remembers
  double recency = 0.7;            // delta: weight of a page `age` pages old is delta^age
  double pref_noise = 0.7;         // sigma_theta: latent preference spread within a segment
  double patience_noise = 1.569;     // sigma_xi: latent impatience spread
  double price_fit = 4.0;          // kappa: penalty (x_price - power)^2
  double anchor = 2.0;             // lambda: reference-price anchoring strength
  double price_aversion = 3.0;     // eta: absolute price-level penalty at purchase
  double buy_bias = -4.253;          // alpha_b
  double buy_scale = 1.0;          // beta_b: weight of the consideration set's inclusive value
  double saturation = 1.0;         // nu: IV -= nu log(sum_age delta^age V_s) (0: sum, 1: mean)
  double leave_bias = -1.403;        // alpha_l
  double leave_frustration = 4.0;  // beta_F
  double leave_fatigue = 0.069;     // phi: per page already seen
  double click_bias = -1.5;        // alpha_c
  double click_intent = 0.0;       // beta_E: buy utility per expected click on earlier pages
  double click_retention = 0.0;    // rho_E: leave utility removed per expected click on earlier pages
  std::size_t price_feature = 0;   // feature column holding the normalised price level
};

struct SessionConfig {
  std::size_t page_size = 10;  // K (at most 128)
  std::size_t max_steps = 30;  // truncation; effective horizon min(ceil(N/K), max_steps)
  int reward_mode = 0;         // 0: price on purchase (GMV); 1: price on purchase else #clicks
};

// Where step() writes; every pointer is a caller-owned buffer of B (or B*K, B*obs_dim).
struct StepOut {
  float* obs;                // (B, obs_dim)
  double* reward;            // (B,)
  std::uint8_t* terminated;  // (B,)
  std::uint8_t* truncated;   // (B,)
  std::int8_t* outcome;      // (B,) -1 autoreset, 0 continue, 1 buy, 2 leave
  std::int64_t* item;        // (B,) purchased item or -1
  double* price;             // (B,) purchase price or 0
  std::int64_t* page;        // (B, K) shown items, -1 padded
  std::uint8_t* clicks;      // (B, K)
  double* b;                 // (B,) conversion probability of the shown page history
  double* l;                 // (B,) abandon probability
  double* c;                 // (B,) continuing probability
  double* m;                 // (B,) expected purchase price given a purchase
  double* expected_clicks;   // (B,)
};

struct PeekOut {
  std::int64_t* page;  // (B, K)
  double* b;
  double* l;
  double* c;
  double* m;
  double* expected_clicks;
};

struct UserProfile {
  std::int64_t query = 0;
  int segment = 0;
  double power = 0.5;
  double patience = 0.0;
  std::vector<double> pref;  // (m,)
};

// The whole mutable state of a SessionBatch (what pickling needs besides the world,
// model and config), as flat arrays over the B slots; W = window, K = page size,
// m = features, N = items.  get_state / set_state round-trip it exactly.
struct SessionState {
  std::uint64_t seed = 0;                      // batch seed of the last seed() call
  std::vector<std::uint64_t> slot_seed, slot_stream;  // (B,) each slot's stream key pair
  std::vector<std::uint64_t> rng, episode;     // (B,) stream state, episodes begun
  std::vector<std::int64_t> query;             // (B,)
  std::vector<std::int32_t> segment;           // (B,)
  std::vector<double> power, patience;         // (B,)
  std::vector<double> pref;                    // (B, m)
  std::vector<std::uint8_t> shown;             // (B, N)
  std::vector<std::uint64_t> t, n_pages, head; // (B,)
  std::vector<std::uint8_t> needs_reset;       // (B,)
  std::vector<double> memo;                    // (B, W, 6) sum_ve, sum_vep, sum_vx0, sum_v,
                                               //   frustration, exp_clicks
  std::vector<std::uint64_t> memo_count;       // (B, W)
  std::vector<std::int64_t> items;             // (B, W, K)
  std::vector<double> item_weight;             // (B, W, K)
  std::vector<double> feat_mean, click_feat;   // (B, W, m)
  std::vector<std::uint32_t> n_clicks;         // (B, W)
};

// Largest user-model window (pages remembered) a SessionBatch accepts: the per-session
// memory and the observation size grow linearly with it.
constexpr std::size_t kMaxWindow = 256;

class SessionBatch {
 public:
  SessionBatch(World world, UserModel model, SessionConfig config, std::size_t num_sessions);

  std::size_t num_sessions() const { return sessions_.size(); }
  std::size_t obs_dim() const;
  std::size_t horizon() const { return horizon_; }
  const World& world() const { return world_; }
  const UserModel& model() const { return model_; }
  const SessionConfig& config() const { return config_; }

  // Starts every slot's episode counter at 0 under `seed`: slot j's e-th episode
  // draws from stream_key(seed, j, e).
  void seed(std::uint64_t seed);
  // Per-slot seeds (B values): slot j's e-th episode draws from
  // stream_key(seeds[j], 0, e), the stream of a one-slot batch seeded with seeds[j].
  // Episode counters restart at 0.
  void seed_slots(const std::uint64_t* seeds);
  // New episode in every slot; writes the initial observations (B, obs_dim).
  void reset(float* obs, const Exec& ex);
  // New episode in every slot with the given users (query, segment, ...) instead of
  // drawn ones; prefs is (B, m).
  void reset_to(const std::int64_t* query, const std::int32_t* segment, const double* power,
                const double* patience, const double* prefs, float* obs, const Exec& ex);
  // One page for every slot under action weights (B, m).  sample=false: no outcome is
  // drawn, the session continues (until the horizon) and reward is b*m (expected GMV).
  // Slots whose previous step ended are reset first (NEXT_STEP autoreset).
  void step(const float* actions, bool sample, const StepOut& out, const Exec& ex);
  // The page and exact b, l, c, m that step() would produce, without changing state.
  void peek(const float* actions, const PeekOut& out, const Exec& ex) const;
  // Users currently in the slots.
  std::vector<UserProfile> users() const;
  std::vector<std::size_t> steps_taken() const;
  // Snapshot / restore of the full mutable state (session_state.cpp).  set_state
  // validates sizes and ranges against this batch and throws std::invalid_argument
  // naming the offending field; on a throw the batch is unchanged.
  SessionState get_state() const;
  void set_state(const SessionState& state);

 protected:
  // Protected (not private) so that derived domains (cpp/simcore/traffic/) reuse the
  // session state and the user model's pieces; nothing here is part of the public API.
  struct PageMemo {
    double sum_ve = 0;      // sum_k v_k e_k,  e_k = exp(a_k - lambda x0_k)
    double sum_vep = 0;     // sum_k v_k e_k price_k
    double sum_vx0 = 0;     // sum_k v_k x0_k
    double sum_v = 0;       // sum_k v_k
    double frustration = 0; // sigmoid(-S), S = log(sum_k v_k exp(a_k) / sum_k v_k)
    double exp_clicks = 0;  // sum_k q_k
    std::size_t count = 0;  // items on the page
  };
  struct Session {
    Stream rng;
    std::uint64_t key_seed = 0;    // the slot's episodes draw from
    std::uint64_t key_stream = 0;  //   stream_key(key_seed, key_stream, episode)
    std::uint64_t episode = 0;
    UserProfile user;
    std::vector<std::uint8_t> shown;  // (N,)
    std::size_t t = 0;                // pages shown so far
    bool needs_reset = true;
    std::size_t n_pages = 0;          // pages in memory (<= W)
    std::size_t head = 0;             // ring slot of the most recent page
    std::vector<PageMemo> memo;       // (W,)
    std::vector<std::int64_t> items;  // (W, K)
    std::vector<double> item_weight;  // (W, K) v_k e_k
    std::vector<double> feat_mean;    // (W, m)
    std::vector<double> click_feat;   // (W, m) summed features of clicked items
    std::vector<std::uint32_t> n_clicks;  // (W,)
  };
  struct Outcome {
    double b, l, c, m;
  };

  void begin_episode(std::size_t slot, const UserProfile* given);
  void prefetch_session(const Session& s) const;
  void write_obs(const Session& s, float* obs) const;
  // Fills memo and per-item weights/click probabilities for the page `items`.
  // Features (count, m) of the page's items into px.  With flag_bits (N,) for the query,
  // the last flag_cols features are exact 0/1 flags read as bit j of flag_bits[item]
  // (derived domains whose catalogue ends in such flags: their columns stay cold).
  void gather_page(const Session& s, const std::int64_t* items, std::size_t count,
                   float* px, const std::uint8_t* flag_bits = nullptr,
                   std::size_t flag_cols = 0) const;
  void describe_page(const Session& s, const std::int64_t* items, const float* px,
                     std::size_t count,
                     PageMemo& memo, double* weight, double* click_prob) const;
  // b, l, c, m with `fresh` as the newest page and the last W-1 remembered pages.
  Outcome evaluate(const Session& s, const PageMemo& fresh) const;
  std::size_t rank_page(const Session& s, const float* w, std::int64_t* page) const;
  // The purchased item given a purchase, from the uniform u_item: drawn over the
  // remembered pages with weight delta^age * v_k * e_k.
  std::int64_t choose_item(const Session& s, double u_item) const;
  // Stores the page just shown in ring slot `slot` (its memo, items and feature means;
  // weights of empty positions zeroed), marks its items shown and counts the page.
  // Returns the slot's clicked-feature sums (zeroed) for the caller to fill.
  double* remember_page(Session& s, std::size_t slot, const PageMemo& fresh,
                        const std::int64_t* page, std::size_t count, const float* px);
  // One page's sampled response in the fixed draw order: the outcome, the purchased
  // item, then one uniform per position for the clicks (clicked items' features are
  // added to cf).  Derived domains draw anything further after these.
  struct PageDraw {
    std::int8_t outcome = 0;   // 0 continue, 1 buy, 2 leave
    std::int64_t item = -1;    // purchased item or -1
    double paid = 0;           // its price, or 0
    std::uint32_t n_clicks = 0;
  };
  PageDraw draw_response(Session& s, const Outcome& o, const double* click_prob,
                         std::size_t count, const float* px, double* cf,
                         std::uint8_t* clicks) const;

  World world_;
  UserModel model_;
  SessionConfig config_;
  std::size_t horizon_;
  std::uint64_t seed_ = 0;
  std::vector<double> position_weight_;  // (K,) v_k = 1 / log2(k + 1)
  std::vector<float> columns_;           // (Q, m, N): the catalogue, column-major per query
  std::vector<float> absmax_;            // (Q, m): max |x| per feature column, per query
  std::vector<double> anchor_price_;     // (Q, N, 2): exp(-anchor * x_price) and price per item
  std::vector<Session> sessions_;
};

}  // namespace simcore
