/* xmrisk/market.h — the market half of a model: assets, their process, correlation, impact.
 *
 * Semantics are those of the model specification (docs/model.md §2). Units: prices in USD
 * per base unit, volatilities and drifts annual on a 365-day year, jump sizes in log-price.
 */
#ifndef XMRISK_MARKET_H
#define XMRISK_MARKET_H

#include <stddef.h>

#include "xmrisk/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XM_SYMBOL_MAX 32  /* longest asset symbol, NUL included */

typedef enum {
    XM_PROCESS_GBM = 0,       /* ln S += (mu - sigma^2/2) tau + sigma sqrt(tau) eps */
    XM_PROCESS_STUDENT_T,     /* gbm with eps = L z sqrt((nu-2)/W), W ~ chi2_nu per step */
    XM_PROCESS_BACHELIER      /* S += mu S0 tau + sigma S0 sqrt(tau) eps (arithmetic) */
} xm_process;

typedef enum {
    XM_IMPACT_NONE = 0,       /* the asset has no `impact:` entry */
    XM_IMPACT_LINEAR,         /* dI = 0.01 X / D  (D: USD that moves the price 1%) */
    XM_IMPACT_SQRT            /* dI = sign(X) Y sigma_day sqrt(|X| / V) */
} xm_impact_model;

typedef struct {
    xm_impact_model model;
    double depth_1pct_usd;    /* D, linear model: USD of flow that moves the mark by 1% */
    double daily_volume_usd;  /* V, sqrt model: daily traded volume, USD */
    double y;                 /* Y, sqrt model: dimensionless prefactor, typically 0.5-1 */
    double half_life_minutes; /* h: transient impact half-life; INFINITY = permanent */
} xm_impact;

typedef struct {
    char symbol[XM_SYMBOL_MAX];
    double price;             /* S0: start price, USD per base unit, > 0 */
    double vol;               /* sigma: annual volatility (fraction per sqrt(year)), >= 0 */
    double drift;             /* mu: annual drift, default 0 */
    double jump_beta;         /* beta_i: loading on the common jump, default 1 */
    xm_impact impact;
} xm_asset;

typedef struct {
    int enabled;              /* 0: no `jumps:` key */
    double rate_per_year;     /* lambda: expected market-wide jumps per year, >= 0 */
    double mean;              /* mu_J: mean log-price jump */
    double stdev;             /* sigma_J: stdev of the log-price jump, >= 0 */
} xm_jumps;

typedef struct {
    size_t n;                 /* number of assets, >= 1 */
    xm_asset *assets;         /* n assets, in model-file order */
    xm_process process;
    double dof;               /* nu, student_t only (> 2) */
    xm_jumps jumps;           /* gbm and student_t only */
    double *corr;             /* n*n row-major correlation actually used (repaired if asked) */
    double *chol;             /* n*n row-major lower-triangular L with L L^T = corr */
    /* Correlation diagnostics, filled by xm_market_prepare(). */
    double corr_min_eigen;    /* smallest eigenvalue of the matrix as given */
    int corr_repair;          /* opt-in from the model file (`correlation_repair: higham`) */
    int corr_repaired;        /* 1 when the given matrix was replaced by its nearest */
    double corr_repair_max_abs_change; /* max |C_given - C_used| over entries when repaired */
    double corr_repair_frobenius;      /* ||C_given - C_used||_F when repaired */
} xm_market;

/* Allocate the n assets and the two n*n matrices (zeroed, corr set to the identity).
 * The market owns them; release with xm_market_clear(). */
xm_status xm_market_init(xm_market *m, size_t n, xm_error *err) XM_MUST_CHECK;

/* Free what xm_market_init allocated and zero the struct. Safe on a zeroed struct. */
void xm_market_clear(xm_market *m);

/* Validate the correlation matrix and compute its Cholesky factor into m->chol:
 * symmetric (to 1e-12), unit diagonal, entries in [-1, 1]; positive definite, or else
 * XM_EMODEL naming the smallest eigenvalue, unless m->corr_repair asks for the nearest
 * correlation matrix (Higham 2002), in which case m->corr is replaced and the change recorded.
 * `where` prefixes messages (e.g. "model.yaml:14:3: market.correlation"). */
xm_status xm_market_prepare(xm_market *m, const char *where, xm_error *err) XM_MUST_CHECK;

/* Index of the asset with this symbol, or -1. */
long xm_market_find(const xm_market *m, const char *symbol);

const char *xm_process_name(xm_process p);

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_MARKET_H */
