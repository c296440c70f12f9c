/* model_history.c — the `market.history` key of a model file (docs/interface.md):
 *
 *   market:
 *     history:
 *       files: {BTC: ../data/btc_usdt_daily_binance.csv, ...}   # one OHLC file per asset
 *       window_days: 365                                         # default 365
 *
 * Paths are relative to the model file, like accounts_csv. Every file is read with
 * xm_history_load (all rows kept): its own errors name the history file, line and column; an
 * unreadable file is XM_EIO with the key that named it. Used by `backtest`; history-based
 * processes come later.
 */
#include <stdlib.h>
#include <string.h>

#include "input/model_load.h"

#define XM_HISTORY_DEFAULT_WINDOW 365u
#define XM_HISTORY_MAX_WINDOW 36500u  /* a hundred years */

static const char *const history_keys[] = {"files", "window_days", NULL};

/* Say which key named an unreadable file: "MSG (given by KEY.PATH at FILE:L:C)". */
static void name_key(const xy_ctx *c, const xy_node *at, const xy_path *p)
{
    char msg[XM_ERROR_MSG_MAX], kpath[256];
    memcpy(msg, c->err->msg, sizeof msg);
    xm_error_set(c->err, XM_EIO, "%s (given by %s at %s:%d:%d)", msg,
                 xy_path_format(p, kpath, sizeof kpath), c->file, at->line, at->column);
}

/* One `SYM: PATH` pair of market.history.files into model->history. */
static xm_status load_file(const xy_ctx *c, const xy_node *k, const xy_node *v,
                           const xy_path *fp, xm_model *model)
{
    xy_path kp = XY_KEY(fp, k->text);
    long a = xm_market_find(&model->market, k->text);
    if (a < 0)
        return xm_unknown_symbol(c, k, &kp, &model->market);
    const char *rel;
    xm_status s = xy_string(c, v, &kp, 0, &rel);
    if (s != XM_OK)
        return s;
    char *path = xm_model_resolve_path(c->file, rel);
    if (path == NULL)
        return xm_error_set(c->err, XM_ENOMEM, "out of memory while reading the model");
    model->history[a] = xm_history_load(path, NULL, c->err);
    free(path);
    if (model->history[a] != NULL)
        return XM_OK;
    if (c->err != NULL && c->err->status == XM_EIO)
        name_key(c, v, &kp);
    return c->err != NULL ? c->err->status : XM_EMODEL;
}

xm_status xm_load_history(const xy_ctx *c, const xy_node *n, const xy_path *p, xm_model *model)
{
    xy_node *fn;
    uint64_t window = XM_HISTORY_DEFAULT_WINDOW;
    xm_status s = xy_check_mapping(c, n, p, "a mapping {files, window_days}", history_keys,
                                   NULL);
    if (s == XM_OK)
        s = xy_get_uint(c, n, p, "window_days", 0, 2, XM_HISTORY_MAX_WINDOW, &window);
    if (s == XM_OK)
        s = xy_require(c, n, p, "files", &fn);
    if (s != XM_OK)
        return s;
    model->history_window_days = (uint32_t)window;
    xy_path fp = XY_KEY(p, "files");
    s = xy_check_mapping(c, fn, &fp, "a mapping of asset symbol to OHLC file path", NULL, NULL);
    if (s != XM_OK)
        return s;
    model->history = calloc(model->market.n, sizeof *model->history);
    if (model->history == NULL)
        return xm_error_set(c->err, XM_ENOMEM, "out of memory while reading the model");
    for (size_t i = 0; i < fn->count && s == XM_OK; i++)
        s = load_file(c, fn->items[2 * i], fn->items[2 * i + 1], &fp, model);
    return s;
}
