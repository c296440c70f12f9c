/* xmrisk/liqprice_report.h — the liqprice table: today's liquidation price of every position
 * of a model's book (docs/interface.md, `xmrisk liqprice`). */
#ifndef XMRISK_LIQPRICE_REPORT_H
#define XMRISK_LIQPRICE_REPORT_H

#include <stdio.h>

#include "xmrisk/error.h"
#include "xmrisk/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Write on `out` one CSV row per position of model->book (none when it has no book):
 *
 *   account_id,asset,qty,entry,mark,liq_price
 *
 * in book order (accounts as loaded, positions as given), with mark = the asset's start
 * price S0 and liq_price = xm_liq_price() at the start prices of every asset, empty when no
 * positive price reaches it. Numbers have 17 significant digits (%.17g, they read back to
 * the same double); fields holding a comma, a quote or a line break are quoted (RFC 4180).
 * XM_ENOMEM; errors of `out` are the caller's to check (ferror). */
xm_status xm_liqprice_report_write(FILE *out, const xm_model *model, xm_error *err) XM_MUST_CHECK;

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_LIQPRICE_REPORT_H */
