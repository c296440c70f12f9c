/* xmrisk/market_report.h — the report of a market-only run (a model without accounts):
 * statistics over paths, result files and the human summary.
 *
 * Per asset the distribution of the horizon log-return and of the worst drop below the start
 * price, with Monte Carlo errors. Runs with accounts report through xmrisk/cascade_run.h.
 */
#ifndef XMRISK_MARKET_REPORT_H
#define XMRISK_MARKET_REPORT_H

#include <stdio.h>

#include "xmrisk/error.h"
#include "xmrisk/model.h"
#include "xmrisk/market_run.h"
#include "xmrisk/estimators.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XM_RETURN_QUANTILES 5   /* 1, 5, 50, 95, 99 % */
#define XM_DROP_QUANTILES 5     /* 50, 90, 95, 99, 99.9 % (interface.md's set) */
#define XM_DROP_EVENT 0.10      /* the event "worst drop >= 10%" */

typedef struct {
    xm_moments ret;                         /* horizon log-return (bachelier: simple return) */
    double ret_q[XM_RETURN_QUANTILES];
    xm_moments drop;                        /* worst drop from start: max(0, 1 - min S/S0) */
    double drop_q[XM_DROP_QUANTILES];
    uint64_t drop_event_count;              /* paths with drop >= XM_DROP_EVENT */
    double drop_event_p, drop_event_lo, drop_event_hi;  /* with 95% Wilson interval */
} xm_asset_summary;

typedef struct {
    size_t n;
    uint64_t paths;
    xm_asset_summary *assets;               /* n entries, model order */
    xm_moments jumps;                       /* jumps per path */
} xm_market_summary;

extern const double xm_return_quantile_levels[XM_RETURN_QUANTILES];
extern const double xm_drop_quantile_levels[XM_DROP_QUANTILES];

/* Reduce a finished run (path order, so identical for any thread count). Caller frees the
 * summary with xm_market_summary_free(). */
xm_market_summary *xm_market_summary_compute(const xm_model *model, const xm_market_result *r, xm_error *err);
void xm_market_summary_free(xm_market_summary *s);

/* Write DIR/summary.json and DIR/paths.csv (creating DIR), each aside and renamed into place
 * only after both were written completely. */
xm_status xm_market_report_write(const char *dir, const xm_model *model, const xm_market_result *r,
                          const xm_market_summary *s, xm_error *err) XM_MUST_CHECK;

/* The short human summary. */
void xm_market_report_print(FILE *fp, const xm_model *model, const xm_market_result *r,
                     const xm_market_summary *s);

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_MARKET_REPORT_H */
