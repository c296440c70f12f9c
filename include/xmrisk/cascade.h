/* xmrisk/cascade.h — the main job: the whole population along every path, with endogenous
 * price impact and liquidation cascades (docs/model.md §5-§6).
 *
 * One step of one path (model.md §5):
 *   1. exogenous move S (xmrisk/paths.h);
 *   2. transient impact decays, I_i <- I_i 2^(-dt/h_i); marks m_i = S_i exp(I_i);
 *   3. rounds r = 1..max_rounds: every liquidatable unit at m plans its orders
 *      (xm_liq_plan); net base flow Q_i per asset, X_i = Q_i m_i (buys > 0);
 *      impact dI_i = 0.01 X_i / D_i (linear) or sign(X_i) Y sigma_day sqrt(|X_i| / V_i)
 *      (sqrt); every order of the round executes at p_i = m_i exp(dI_i / 2); units settle
 *      in account order (xm_liq_settle, marks m of the round); I_i += dI_i,
 *      m_i <- m_i exp(dI_i); a step still liquidatable after max_rounds is counted;
 *   4. the step's metrics are recorded.
 * Accounts are first checked after step 1's move (no check at time 0).
 *
 * Determinism: path p draws only from stream (seed, p); per-path metrics go to the path's own
 * slot; per-account sums are integers (counts, steps, losses in micro-USD), so merging thread
 * accumulators is exact in any order. Results are bit-identical on any number of threads.
 */
#ifndef XMRISK_CASCADE_H
#define XMRISK_CASCADE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "xmrisk/error.h"
#include "xmrisk/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Per-path metrics (model.md §6). Money in USD. */
typedef struct {
    uint64_t liq_events;          /* units closed, fully or partly, in a round */
    uint64_t accounts_liquidated; /* distinct accounts with at least one event */
    double liquidated_notional;   /* sum |closed qty| x execution price */
    double largest_cascade_usd;   /* largest liquidated notional of a single step */
    uint32_t cascade_rounds_max;  /* most rounds with liquidations in one step (depth) */
    uint32_t max_rounds_hits;     /* steps that ended at max_rounds still liquidatable */
    double bad_debt_usd;          /* sum of deficits */
    double fund_paid_usd;         /* part of bad debt the insurance fund paid */
    double fund_min_usd;          /* lowest fund balance */
    double adl_notional_usd;      /* counterparty notional closed by ADL (bankruptcy prices) */
    uint64_t adl_accounts;        /* distinct accounts hit by ADL */
    double socialized_usd;        /* bad debt neither the fund nor ADL covered */
    uint32_t first_liq_step;      /* 1-based step of the first liquidation; 0: none */
    /* Numerical rules (model.md §7), counted so that they never act silently: */
    uint32_t price_floor_hits;    /* marks raised to the price floor (per asset and step or round) */
    uint32_t beyond_tier_events;  /* units found liquidatable because a notional passed its
                                   * asset's last tier cap (model.md §3) */
} xm_path_metrics;

/* Marks never go below XM_PRICE_FLOOR_REL x S0 (a process such as bachelier can drive a price
 * to zero or below; a venue's mark cannot): model.md §7. */
#define XM_PRICE_FLOOR_REL 1e-9
/* ... nor above XM_PRICE_CEIL_REL x S0 (impact or a heavy-tailed step beyond any market; an
 * overflow to infinity is caught too), and no execution price either: model.md §7. Counted
 * with the floor (price_floor_hits). */
#define XM_PRICE_CEIL_REL 1e9
/* A per-path account loss beyond +-XM_LOSS_MAX_USD is saturated there before it is summed in
 * 128-bit micro-USD (cascade.h xm_cascade_acc): 2^127 micro-USD hold 1.7e12 such paths. */
#define XM_LOSS_MAX_USD 1e20

/* Log-binned cascade sizes: a cascade is one step's liquidated notional (> 0). Bin k holds
 * sizes in [10^(k/XM_HIST_PER_DECADE), 10^((k+1)/XM_HIST_PER_DECADE)) USD; bin 0 also holds
 * everything below 1 USD, the last bin everything above. */
#define XM_HIST_PER_DECADE 5
#define XM_HIST_BINS (13 * XM_HIST_PER_DECADE)   /* 1 USD .. 10^13 USD */

/* Per-account sums over paths; integers, so any merge order gives the same totals. */
typedef struct {
    size_t n_accounts;
    uint64_t *liq_paths;          /* paths on which the account had a liquidation event */
    uint64_t *first_step_sum;     /* sum over those paths of the 1-based first step */
    __int128 *loss_micro;         /* sum over those paths of the loss, micro-USD, rounded:
                                   * equity at start prices minus equity at the path's end */
    uint64_t cascade_hist[XM_HIST_BINS];
    uint64_t cascades;            /* steps with a liquidation, over all paths */
} xm_cascade_acc;

xm_cascade_acc *xm_cascade_acc_alloc(size_t n_accounts, xm_error *err);
void xm_cascade_acc_free(xm_cascade_acc *a);
/* into += from (exact). */
void xm_cascade_acc_merge(xm_cascade_acc *into, const xm_cascade_acc *from);

typedef struct xm_cascade_ws xm_cascade_ws;  /* per thread: path, margin state, scratch */

/* Workspace for model `m` (which needs a book, xm_model.book != NULL). `naive` = 1 checks
 * every unit in every round; 0 skips units provably far from liquidation (same results:
 * tested). NULL with err on allocation failure. */
xm_cascade_ws *xm_cascade_ws_alloc(const xm_model *m, int naive, xm_error *err);
void xm_cascade_ws_free(xm_cascade_ws *w);

/* Optional stop flag (NULL: none; the caller keeps it alive while the workspace runs paths):
 * read before every step, every cascade round and every settlement of a round. */
void xm_cascade_ws_set_stop(xm_cascade_ws *w, const volatile sig_atomic_t *stop);

/* Run path `path` of a run seeded `seed`. Writes *pm, the per-asset lowest mark relative to
 * S0 (min_ratio[i]) and the log impact I_i at that moment (impact_at_min[i]; the mark then
 * was exp(I_i) times the exogenous price), and adds the path to *acc: XM_OK. XM_EINTR when
 * the stop flag was raised before the path ended: *pm, min_ratio, impact_at_min and *acc are
 * then untouched (a path is counted whole or not at all); the workspace stays usable. */
xm_status xm_cascade_run_path(xm_cascade_ws *w, uint64_t seed, uint64_t path,
                              xm_path_metrics *pm, double *min_ratio, double *impact_at_min,
                              xm_cascade_acc *acc);

/* Work counters of the last path (for benchmarks and the fast-path test). */
uint64_t xm_cascade_checks(const xm_cascade_ws *w);

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_CASCADE_H */
