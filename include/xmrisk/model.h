/* xmrisk/model.h — one experiment, as read from a model file (docs/interface.md).
 *
 * The loader reads YAML (libfyaml), checks every key and value, and reports the first problem
 * as one line "FILE:LINE:COLUMN: KEY.PATH: expected WHAT, got VALUE" with XM_EMODEL (lines and
 * columns 1-based). Scalar typing follows the YAML 1.2 core schema; see src/input/yaml_tree.h.
 */
#ifndef XMRISK_MODEL_H
#define XMRISK_MODEL_H

#include <stdint.h>

#include "xmrisk/accounts.h"
#include "xmrisk/error.h"
#include "xmrisk/history.h"
#include "xmrisk/market.h"
#include "xmrisk/venue.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char *name;               /* `name:`, default the file's base name without extension */
    char *path;               /* file the model came from ("<string>" for in-memory text) */
    uint64_t seed;            /* `seed:` */
    uint64_t paths;           /* `paths:`, >= 1 */
    double horizon_days;      /* H, > 0 */
    uint32_t steps;           /* N, >= 1; a step is dt = H / N days */
    xm_market market;
    int has_venue;            /* 1 when the file has a `venue:` section */
    xm_venue venue;           /* venue rules (defaults when has_venue is 0; tiers then empty) */
    xm_accounts *book;            /* accounts from `accounts`, `accounts_csv` and `population`, in
                               * that order; NULL when the file has none */
    /* `market.history` (used by `backtest`; history-based processes come later): one price
     * history per asset (market.n entries, NULL for an asset without a file), owned by the
     * model; NULL when the file has no `market.history`. */
    xm_history **history;
    uint32_t history_window_days; /* `market.history.window_days`, default 365 */
} xm_model;

/* Read and validate a model file. Returns a model owned by the caller (free it with
 * xm_model_free), or NULL with err filled (XM_EMODEL for anything wrong in the file, XM_EIO
 * when it cannot be read, XM_ENOMEM). */
xm_model *xm_model_load(const char *path, xm_error *err);

/* The same from text in memory; `name` stands for the file name in messages. */
xm_model *xm_model_load_string(const char *text, size_t len, const char *name, xm_error *err);

/* Free a model and everything it owns. NULL is a no-op. */
void xm_model_free(xm_model *model);

/* Step length in years: tau = (horizon_days / steps) / 365 (model.md §1). */
double xm_model_tau(const xm_model *model);

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_MODEL_H */
