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
 * positive price reaches it. A position whose unit is already liquidatable at the start
 * prices (xm_health_liquidatable) gets liq_price = mark: it is liquidated at today's price.
 * A position is what the book holds: rows of one cross account, asset and side were folded
 * into one (xmrisk/accounts.h, Lots), so qty is their sum and entry their weighted mean.
 * Numbers have 17 significant digits (%.17g, they read back to the same double); fields
 * holding a comma, a quote or a line break are quoted (RFC 4180).
 * On `warn` (NULL: nothing), xmrisk: lines: a warning per unit liquidatable now (the first
 * 10, then their count) and a note with the number of rows folded, when any were.
 * XM_ENOMEM; errors of `out` and `warn` are the caller's to check (ferror). */
xm_status xm_liqprice_report_write(FILE *out, FILE *warn, const xm_model *model,
                                   xm_error *err) XM_MUST_CHECK;

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_LIQPRICE_REPORT_H */
