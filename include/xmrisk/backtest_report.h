/* xmrisk/backtest_report.h — the result files and the table of `xmrisk backtest`
 * (docs/interface.md "backtest").
 *
 * DIR/backtest.json: {"model", "level", "from", "to", "paths", "seed", "steps_per_day",
 * "window_days", "run_id", "days", "skipped_days", "assets": [{"symbol", "side", "days",
 * "exceedances", "rate", "kupiec_lr", "kupiec_p", "christoffersen_lr", "christoffersen_p",
 * "zone"}]}, one entry per asset and side ("down": min/open against the day's low, "up":
 * max/open against the high), christoffersen_* the conditional coverage test (LR_cc, chi2(2)).
 * DIR/backtest.csv: date,symbol,pred_low_ratio,low_ratio,exceeded_low,pred_high_ratio,
 * high_ratio,exceeded_high — one row per day evaluated and asset. Numbers under the one policy
 * (core/json.h). Both published as one set (xmrisk/outfile.h).
 */
#ifndef XMRISK_BACKTEST_REPORT_H
#define XMRISK_BACKTEST_REPORT_H

#include <stdio.h>

#include "xmrisk/backtest.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Write and publish DIR/backtest.json and DIR/backtest.csv. XM_EIO, XM_ENOMEM. */
xm_status xm_backtest_report_write(const char *dir, const xm_model *m,
                                   const xm_backtest_opts *o, const xm_backtest_result *r,
                                   xm_error *err) XM_MUST_CHECK;

/* The table: one line per asset and side. */
void xm_backtest_report_print(FILE *fp, const xm_model *m, const xm_backtest_opts *o,
                              const xm_backtest_result *r);

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_BACKTEST_REPORT_H */
