/* input/ — what a run reads: the model file, accounts CSV files, the population. */
/* model.c — read and validate a model file (see xmrisk/model.h, docs/interface.md).
 *
 * Every problem is reported once, the first in file order within each mapping, as
 * "FILE:LINE:COLUMN: KEY.PATH: expected WHAT, got VALUE" (yaml_tree.h) with XM_EMODEL.
 *
 * Margin-engine sections (model.md §3-§4), read after `market:`:
 *  - `venue:` fills model->venue over xm_venue_init's defaults (always initialised, so a model
 *    without the section has the defaults and empty tier tables). The partial-only settings
 *    (step, min_partial_notional_usd, backstop_ratio) are refused under mode full, as `dof` is
 *    under gbm: most likely a forgotten `mode: partial`. Tier order and cum are
 *    xm_tiers_prepare's, its messages prefixed "FILE:LINE:COL: venue.tiers.SYM" (the table).
 *  - Accounts go into one book in the order `accounts`, `accounts_csv`, `population`, with ids
 *    unique across the three (one id map; a duplicate names where the first was given).
 *    Explicit accounts: cross needs wallet_usd and refuses margin_usd; isolated refuses
 *    wallet_usd and needs margin_usd on every position; at least one position; every position's
 *    asset needs a tier table and |qty| * entry within its last cap.
 *  - `accounts_csv:` paths are relative to the directory of the model file (for text in memory:
 *    of the name given to xm_model_load_string; none: the working directory). File rules:
 *    accounts_csv.h. An unreadable file is XM_EIO naming the path and the key.
 *  - `population:` is parsed over xm_population_defaults (sub-keys optional, ranges checked
 *    here with positions) and generated with the model's seed; the generator draws only assets
 *    with a weight > 0 and a tier table, so an explicit weight > 0 on an asset without tiers is
 *    an error, as is a population with nothing to draw.
 */
#include "xmrisk/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "input/limits.h"
#include "input/model_load.h"

static const char *const top_keys[] = {"name",     "seed",         "paths",      "horizon_days",
                                       "steps",    "market",       "venue",      "accounts",
                                       "accounts_csv", "population", NULL};

#define XM_MODEL_DEFAULT_SEED 1u
#define XM_MODEL_DEFAULT_PATHS 10000u
#define XM_MODEL_MAX_STEPS 100000000u
/* Larger inputs are refused rather than read until memory runs out (/dev/zero). */
#define XM_MODEL_MAX_BYTES ((size_t)256 << 20)

const xy_range xm_r_positive = {0.0, INFINITY, XY_LO_OPEN};
const xy_range xm_r_nonneg = {0.0, INFINITY, 0};
const xy_range xm_r_unit = {0.0, 1.0, 0};                     /* [0, 1] */
const xy_range xm_r_leverage = {1.0, INFINITY, 0};            /* >= 1 */
const xy_range xm_r_money = {0.0, XM_MONEY_MAX, 0};           /* [0, 1e15] USD */
const xy_range xm_r_money_pos = {0.0, XM_MONEY_MAX, XY_LO_OPEN}; /* (0, 1e15] USD */
const xy_range xm_r_price = {XM_PRICE_MIN, XM_PRICE_MAX, 0};  /* [1e-9, 1e12] USD */

/* A key that must not be there: the error points at the key. */
xm_status xm_reject_key(const xy_ctx *c, const xy_node *map, const xy_path *path,
                            const char *key, const char *why)
{
    xy_node *k = xy_map_key_node(map, key);
    if (k == NULL)
        return XM_OK;
    xy_path kp = XY_KEY(path, key);
    return xy_fail(c, k, &kp, "%s", why);
}

/* "expected the symbol of an asset (BTC, ETH), got 'DOGE'" at `at`. */
xm_status xm_unknown_symbol(const xy_ctx *c, const xy_node *at, const xy_path *p,
                                const xm_market *m)
{
    char list[512], got[128];
    size_t pos = 0;
    list[0] = '\0';
    for (size_t j = 0; j < m->n; j++) {
        int w = snprintf(list + pos, sizeof list - pos, "%s%s", j ? ", " : "",
                         m->assets[j].symbol);
        if (w < 0 || (size_t)w >= sizeof list - pos)
            break;
        pos += (size_t)w;
    }
    return xy_fail(c, at, p, "expected the symbol of an asset (%s), got %s", list,
                   xy_describe(at, got, sizeof got));
}

/* "dir/majors.yaml" -> "majors"; "" or "dir/" -> "model". */
static char *default_name(const char *file)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t len = strlen(base);
    const char *dot = strrchr(base, '.');
    if (dot != NULL && dot != base)
        len = (size_t)(dot - base);
    if (len == 0) {
        base = "model";
        len = strlen(base);
    }
    char *s = malloc(len + 1);
    if (s != NULL) {
        memcpy(s, base, len);
        s[len] = '\0';
    }
    return s;
}

/* The top-level scalars: name (default: from name_from), seed, paths, horizon_days, steps. */
static xm_status load_run_keys(const xy_ctx *c, const xy_node *root, const char *name_from,
                               xm_model *model)
{
    const char *name = NULL;
    xm_status s = xy_get_string(c, root, NULL, "name", 0, 0, &name);
    if (s != XM_OK)
        return s;
    model->name = name ? strdup(name) : default_name(name_from);
    if (model->name == NULL)
        return xm_error_set(c->err, XM_ENOMEM, "out of memory while reading the model");
    model->seed = XM_MODEL_DEFAULT_SEED;
    model->paths = XM_MODEL_DEFAULT_PATHS;
    uint64_t steps = 0;
    s = xy_get_uint(c, root, NULL, "seed", 0, 0, UINT64_MAX, &model->seed);
    if (s == XM_OK)
        s = xy_get_uint(c, root, NULL, "paths", 0, 1, UINT64_MAX, &model->paths);
    if (s == XM_OK)
        s = xy_get_number(c, root, NULL, "horizon_days", 1, &xm_r_positive, &model->horizon_days);
    if (s == XM_OK)
        s = xy_get_uint(c, root, NULL, "steps", 1, 1, XM_MODEL_MAX_STEPS, &steps);
    if (s == XM_OK)
        model->steps = (uint32_t)steps;
    return s;
}

/* market (required), venue (defaults even without the section: tier tables then empty), then
 * the account sources. */
static xm_status load_sections(const xy_ctx *c, const xy_node *root, xm_model *model)
{
    xy_node *mn;
    xm_status s = xy_require(c, root, NULL, "market", &mn);
    if (s != XM_OK)
        return s;
    xy_path mp = XY_KEY(NULL, "market");
    s = xm_load_market(c, mn, &mp, &model->market);
    xy_node *hn = s == XM_OK ? xy_map_get(mn, "history") : NULL;
    if (hn != NULL) {
        xy_path hp = XY_KEY(&mp, "history");
        s = xm_load_history(c, hn, &hp, model);
    }
    if (s == XM_OK)
        s = xm_venue_init(&model->venue, model->market.n, c->err);
    xy_node *vn = xy_map_get(root, "venue");
    if (s == XM_OK && vn != NULL) {
        xy_path vp = XY_KEY(NULL, "venue");
        s = xm_load_venue(c, vn, &vp, model);
    }
    return s == XM_OK ? xm_load_account_sources(c, root, model) : s;
}

static xm_status load_model(const xy_ctx *c, const xy_node *root, const char *name_from,
                            xm_model *model)
{
    if (root == NULL || (root->kind == XY_SCALAR && xy_type_of(root) == XY_T_NULL &&
                         root->len == 0))
        return xy_fail(c, NULL, NULL,
                       "expected a mapping at the top level (name, seed, paths, horizon_days, "
                       "steps, market), got an empty document");
    xm_status s = xy_check_mapping(
        c, root, NULL,
        "a mapping at the top level (name, seed, paths, horizon_days, steps, market, ...)",
        top_keys, NULL);
    if (s == XM_OK)
        s = load_run_keys(c, root, name_from, model);
    return s == XM_OK ? load_sections(c, root, model) : s;
}

/* `label` names the input in messages; `path` is stored in the model; `name_from` gives the
 * default model name. */
static xm_model *load_text(const char *text, size_t len, const char *label, const char *path,
                           const char *name_from, xm_error *err)
{
    xy_doc *doc = NULL;
    if (xy_parse(text, len, label, &doc, err) != XM_OK)
        return NULL;
    xm_model *model = calloc(1, sizeof *model);
    if (model == NULL) {
        xy_doc_free(doc);
        xm_error_set(err, XM_ENOMEM, "out of memory while reading the model");
        return NULL;
    }
    xy_ctx c = {xy_doc_file(doc), err};
    xm_status s = load_model(&c, xy_doc_root(doc), name_from, model);
    if (s == XM_OK) {
        model->path = strdup(path);
        if (model->path == NULL)
            s = xm_error_set(err, XM_ENOMEM, "out of memory while reading the model");
    }
    xy_doc_free(doc);
    if (s != XM_OK) {
        xm_model_free(model);
        return NULL;
    }
    xm_error_clear(err);
    return model;
}

xm_model *xm_model_load(const char *path, xm_error *err)
{
    char *text;
    size_t len;
    if (path == NULL) {
        xm_error_set(err, XM_EUSAGE, "xm_model_load: no path given");
        return NULL;
    }
    static const xm_read_opts limits = {XM_MODEL_MAX_BYTES, "a model file", 0};
    if (xm_read_file(path, &limits, &text, &len, err) != XM_OK)
        return NULL;
    xm_model *m = load_text(text, len, path, path, path, err);
    free(text);
    return m;
}

xm_model *xm_model_load_string(const char *text, size_t len, const char *name, xm_error *err)
{
    const char *label = name ? name : "<string>";
    return load_text(text ? text : "", text ? len : 0, label, "<string>", name ? name : "model",
                     err);
}

void xm_model_free(xm_model *model)
{
    if (model == NULL)
        return;
    xm_accounts_free(model->book);
    for (size_t i = 0; model->history != NULL && i < model->market.n; i++)
        xm_history_free(model->history[i]);
    free(model->history);
    xm_venue_clear(&model->venue);
    xm_market_clear(&model->market);
    free(model->name);
    free(model->path);
    free(model);
}

double xm_model_tau(const xm_model *model)
{
    return (model->horizon_days / (double)model->steps) / 365.0;
}
