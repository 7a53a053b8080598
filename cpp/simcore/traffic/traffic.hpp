// Batched tiered-traffic simulator: the search-session simulator (its user model
// unchanged) over a catalogue whose last n_tiers feature columns are binary tier flags,
// users with a latent tier affinity, add-to-cart responses, the tier shares of every
// shown page and of the control ranking's page, and the article's reward
//   r = GMV(n_click, n_cart, n_buy) + sum_i lambda_i (p_i(pi) - p_i(pi_basic)).
// Specification: docs/tiered_traffic_model.md; NumPy twin:
// simcore.domains.traffic.reference.ReferenceTrafficBatch.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "simcore/search/session.hpp"

namespace simcore {
namespace traffic {

// What the traffic simulator adds to the search model.  Owned by value.
struct TierModel {
  std::size_t n_tiers = 0;            // m_t: feature columns F - m_t .. F - 1 are the flags
  std::vector<double> affinity_cdf;   // (G, m_t, 2): P(like), P(like) + P(dislike)
  double strength = 1.5;              // A: utility weight of a liked tier's flag
  double noise = 0.5;                 // spread of A between users with an affinity
  double cart_bias = -1.0;            // alpha_cart
  double w_click = 0.1, w_cart = 0.3, w_buy = 1.0, w_price = 0.0;  // GMV weights
  std::vector<double> lambdas;        // (m_t,)
  std::vector<float> basic_weights;   // (F,) the control ranking pi_basic
};

// The extra outputs of a traffic step, next to the search step's (caller-owned buffers).
struct TrafficOut {
  StepOut base;                 // obs, reward (= reward_gmv + reward_tier), ..., clicks
  std::uint8_t* carts;          // (B, K) added to cart (only clicked positions)
  double* expected_carts;       // (B,)
  std::int32_t* n_click;        // (B,)
  std::int32_t* n_cart;         // (B,)
  std::int32_t* n_buy;          // (B,) 1 on a purchase
  double* share;                // (B, m_t) tier shares of the shown page
  double* share_basic;          // (B, m_t) tier shares of pi_basic's page at the same index
  double* reward_gmv;           // (B,)
  double* reward_tier;          // (B,)
};

class TrafficBatch : public SessionBatch {
 public:
  // world.n_features = F = m + m_t, the tier flags (exactly 0 or 1) last; the caller
  // checks sizes and ranges (the binding does).
  TrafficBatch(World world, UserModel model, SessionConfig config, TierModel tiers,
               std::size_t num_sessions);

  const TierModel& tiers() const { return tiers_; }
  std::size_t n_base() const { return world().n_features - tiers_.n_tiers; }
  // pi_basic's pages, (Q, T, K) -1 padded, and their tier shares (Q, T, m_t).
  const std::vector<std::int64_t>& control_pages() const { return control_pages_; }
  const std::vector<double>& control_share() const { return control_share_; }

  // New episode in every slot with users drawn by the traffic model (query, segment,
  // power, m base preferences, patience as in search, then per tier: a class uniform
  // and a strength normal); writes the observations (B, obs_dim).
  void reset(float* obs, const Exec& ex);
  // One page per slot under weights (B, F); NEXT_STEP autoreset as in search.
  // sample=false: nothing drawn, the session continues, the counts are 0 and
  // reward_gmv is the page's expected GMV term.
  void step(const float* actions, bool sample, const TrafficOut& out, const Exec& ex);

 private:
  void begin_traffic(std::size_t slot);
  void build_control();
  void build_tier_lists();
  // The page under weights w whose base part equals pi_basic's (bit for bit): a merge of
  // the per-tier-class lists of the query's items sorted by base score; the same page
  // (same scores, ties by lower index) as the general ranking, at O(K * classes) cost.
  std::size_t rank_by_class(const Session& s, const float* w, std::int64_t* page) const;
  // The page under any weights w: the general ranking, with the tier flags' weights added
  // by class lookup (topk_columns_flags) when m_t <= kMaxFlagCols; the same page as
  // rank_page.
  std::size_t rank_general(const Session& s, const float* w, std::int64_t* page) const;
  // Tier shares of the `count` items whose features are px (count, F) into share (m_t,).
  void page_shares(const float* px, std::size_t count, double* share) const;

  TierModel tiers_;
  std::vector<std::int64_t> control_pages_;  // (Q, T, K)
  std::vector<double> control_share_;        // (Q, T, m_t)
  // The fast path of rank_by_class (m_t <= kMaxClassTiers): per query, the items of each
  // tier class c (bit j of c = in tier j) sorted by (base score desc, index asc).
  static constexpr std::size_t kMaxClassTiers = 4;
  std::vector<double> base_score_;            // (Q, N) pi_basic's score over the base columns
  std::vector<std::int32_t> class_items_;     // (Q, N) items grouped by class
  std::vector<double> class_base_;            // (Q, N) their base scores, in the same order
  std::vector<std::uint32_t> class_start_;    // (Q, 2^m_t + 1) offsets into class_items_
  std::vector<std::uint8_t> item_class_;      // (Q, N) tier class of each item
};

}  // namespace traffic
}  // namespace simcore
