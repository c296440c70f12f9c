/* model_load.h — internal: what the parts of the model-file loader share (not installed).
 *
 * model.c reads the top level and calls one loader per section: model_market.c (`market:`),
 * model_venue.c (`venue:`), model_accounts.c (`accounts`, `accounts_csv`, `population`, into one
 * book), model_population.c (the `population:` parameters). Every problem is one
 * "FILE:LINE:COLUMN: KEY.PATH: expected WHAT, got VALUE" (yaml_tree.h) with XM_EMODEL.
 */
#ifndef XM_INPUT_MODEL_LOAD_H
#define XM_INPUT_MODEL_LOAD_H

#include "input/yaml_tree.h"
#include "xmrisk/model.h"
#include "xmrisk/population.h"

/* Ranges several sections use. */
extern const xy_range xm_r_positive;  /* (0, inf) */
extern const xy_range xm_r_nonneg;    /* [0, inf) */
extern const xy_range xm_r_unit;      /* [0, 1] */
extern const xy_range xm_r_leverage;  /* [1, inf) */
/* Money and prices within the bounds that keep results finite (input/limits.h). */
extern const xy_range xm_r_money;     /* [0, XM_MONEY_MAX] USD */
extern const xy_range xm_r_money_pos; /* (0, XM_MONEY_MAX] USD */
extern const xy_range xm_r_price;     /* [XM_PRICE_MIN, XM_PRICE_MAX] USD */

/* A key that must not be there: the error points at the key (`why` is the message). */
xm_status xm_reject_key(const xy_ctx *c, const xy_node *map, const xy_path *path,
                        const char *key, const char *why);

/* "expected the symbol of an asset (BTC, ETH), got 'DOGE'" at `at`. */
xm_status xm_unknown_symbol(const xy_ctx *c, const xy_node *at, const xy_path *p,
                            const xm_market *m);

/* `market:` (n at path mp) into m, prepared (xm_market_prepare). */
xm_status xm_load_market(const xy_ctx *c, const xy_node *n, const xy_path *mp, xm_market *m);

/* `market.history` (n at path p) into model->history and model->history_window_days; the
 * market is loaded. Files are relative to the model file (as accounts_csv). */
xm_status xm_load_history(const xy_ctx *c, const xy_node *n, const xy_path *p, xm_model *model);

/* A path named in the model file: absolute as is, otherwise relative to the directory of
 * `file` (no directory: the working directory). NULL when out of memory. */
char *xm_model_resolve_path(const char *file, const char *rel);

/* `venue:` over model->venue's defaults (xm_venue_init); sets model->has_venue. */
xm_status xm_load_venue(const xy_ctx *c, const xy_node *n, const xy_path *p, xm_model *model);

/* The `population:` mapping n (keys already checked) over the defaults in *pp. */
xm_status xm_load_population_params(const xy_ctx *c, const xy_node *n, const xy_path *p,
                                    const xm_model *model, xm_population_params *pp);

/* `accounts`, then `accounts_csv`, then `population` of the top-level mapping, into one book
 * (model->book) with unique ids. */
xm_status xm_load_account_sources(const xy_ctx *c, const xy_node *root, xm_model *model);

#endif /* XM_INPUT_MODEL_LOAD_H */
