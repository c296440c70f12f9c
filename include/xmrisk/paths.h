/* xmrisk/paths.h — correlated price paths, one path at a time, one PCG64 stream per path.
 *
 * One step of one path (model.md §2), with tau = dt/365 years:
 *   z ~ N(0, I_n) (GSL ziggurat on the path's PCG64 stream), eps = L z;
 *   gbm:        ln S_i += (mu_i - sigma_i^2/2) tau + sigma_i sqrt(tau) eps_i
 *   student_t:  as gbm with eps = L z sqrt((nu - 2) / W), W ~ chi2_nu, one W per step
 *   bachelier:  S_i += mu_i S0_i tau + sigma_i S0_i sqrt(tau) eps_i
 *   jumps:      K ~ Poisson(lambda tau); ln S_i += beta_i (Y_1 + ... + Y_K), Y ~ N(mu_J, s_J^2)
 * Draw order within a step is fixed: z_1..z_n, then W (student_t), then K, then the jump sum
 * (one normal N(K mu_J, K s_J^2), equal in law to the sum of K jumps). Path p draws only from
 * its own stream xm_pcg64_seed_path(seed, p), so a path is the same whichever thread runs it.
 *
 * A workspace (xm_path_ws) is allocated once per thread and reused for every path: nothing is
 * allocated per path or per step.
 */
#ifndef XMRISK_PATHS_H
#define XMRISK_PATHS_H

#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "xmrisk/error.h"
#include "xmrisk/market.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xm_path_ws xm_path_ws;  /* opaque: generator, scratch and the current state */

/* Workspace for paths of market `m` with step length `tau` (years). The workspace keeps a
 * pointer to `m`, which must outlive it. Free with xm_path_ws_free(). NULL on allocation
 * failure (err says so). */
xm_path_ws *xm_path_ws_alloc(const xm_market *m, double tau, xm_error *err);
void xm_path_ws_free(xm_path_ws *w);

/* Start path `path` of a run seeded with `seed`: prices back to S0, generator reseeded. */
void xm_path_begin(xm_path_ws *w, uint64_t seed, uint64_t path);

/* Advance the current path by one step. */
void xm_path_step(xm_path_ws *w);

/* Current prices S_i (n values), log-prices ln S_i (gbm and student_t; for bachelier the log
 * of a non-positive price is -INFINITY), and jumps drawn so far on this path. Pointers stay
 * valid until the workspace is freed. */
const double *xm_path_prices(const xm_path_ws *w);
const double *xm_path_log_prices(const xm_path_ws *w);
uint64_t xm_path_jump_count(const xm_path_ws *w);

/* The path's generator, for callers that draw more per step (tests, later engines). */
gsl_rng *xm_path_rng(xm_path_ws *w);

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_PATHS_H */
