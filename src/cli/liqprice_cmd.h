/* liqprice_cmd.h — the body of `xmrisk liqprice MODEL` (docs/interface.md). */
#ifndef XMRISK_CLI_LIQPRICE_CMD_H
#define XMRISK_CLI_LIQPRICE_CMD_H

#ifdef __cplusplus
extern "C" {
#endif

/* Load MODEL and print, on standard output, one CSV row per position of its book:
 *
 *   account_id,asset,qty,entry,mark,liq_price
 *
 * in book order (accounts as loaded, positions as given), with mark = the asset's start
 * price S0 and liq_price = xm_liq_price() at the start prices of every asset, empty when no
 * positive price reaches it (xm_liqprice_report_write). Numbers have 17 significant digits
 * (they round-trip through strtod). Fields holding a comma, a quote or a line break are
 * quoted (RFC 4180).
 *
 * Returns the exit status: 0; 2 when the model cannot be loaded ("xmrisk: MSG" on standard
 * error) or has no accounts ("xmrisk: MODEL: no accounts to price"); 1 when standard output
 * cannot be written. */
int xm_cli_liqprice(const char *model_path);

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_CLI_LIQPRICE_CMD_H */
