/* model_accounts.c — the account sources of a model file (model.md §4; see model.c for the
 * rules): `accounts`, `accounts_csv` and `population`, into one book with unique ids. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input/accounts_csv.h"
#include "input/model_load.h"

static const char *const account_keys[] = {"id", "mode", "wallet_usd", "positions", NULL};
static const char *const position_keys[] = {"asset", "qty", "entry", "margin_usd", NULL};
static const char *const csv_keys[] = {"accounts", "positions", NULL};
static const char *const population_keys[] = {
    "accounts",     "isolated_share", "assets_per_account", "asset_weights",    "leverage",
    "notional_usd", "long_share",     "hedged_share",       "entry_dispersion", "id_prefix",
    NULL};

/* In xm_margin_mode order. */
static const char *const margin_mode_names[] = {"cross", "isolated", NULL};

static const xy_range R_FINITE = {-INFINITY, INFINITY, 0};

/* What the account sources share while loading: the id map (id -> book index) and where each
 * book index came from, for duplicate-id messages. */
typedef struct {
    const xy_ctx *c;
    xm_model *model;
    xm_idmap ids;
    const xy_node *accounts;  /* the `accounts:` sequence: book indices 0 .. n_yaml-1 */
    size_t n_yaml;
    char *csv_path;           /* resolved accounts file: book indices csv_first .. +n_csv-1 */
    size_t csv_first, n_csv;
} sources;

static void account_origin(void *ctx, size_t a, char *buf, size_t size)
{
    const sources *S = ctx;
    if (S->accounts != NULL && a < S->n_yaml) {
        const xy_node *id = xy_map_get(S->accounts->items[a], "id");
        snprintf(buf, size, "accounts[%zu] at %s:%d:%d", a, S->c->file, id->line, id->column);
    } else if (S->csv_path != NULL && a >= S->csv_first && a < S->csv_first + S->n_csv) {
        snprintf(buf, size, "%s:%zu", S->csv_path, a - S->csv_first + 2);
    } else {
        snprintf(buf, size, "population account #%zu", a);
    }
}

static xm_status ensure_book(xm_model *model, xm_error *err)
{
    if (model->book == NULL)
        model->book = xm_accounts_alloc(err);
    return model->book ? XM_OK : XM_ENOMEM;
}

/* Error unless asset `a` has a tier table (at `at`, the asset's value). */
static xm_status require_tiers(const xy_ctx *c, const xy_node *at, const xy_path *p,
                               const xm_model *model, long a)
{
    if (model->venue.tiers[a].n > 0)
        return XM_OK;
    char got[128];
    if (!model->has_venue)
        return xy_fail(c, at, p,
                       "expected an asset with a maintenance-margin tier table, got %s (the model "
                       "has no venue: section; give venue.tiers.%s)",
                       xy_describe(at, got, sizeof got), model->market.assets[a].symbol);
    return xy_fail(c, at, p,
                   "expected an asset with a maintenance-margin tier table, got %s (venue.tiers "
                   "has no table for %s)",
                   xy_describe(at, got, sizeof got), model->market.assets[a].symbol);
}

/* position.asset: a market symbol with a tier table; *a its index. */
static xm_status position_asset(const xy_ctx *c, const xy_node *n, const xy_path *p,
                                const xm_model *model, const char *symbol, long *a)
{
    const xy_node *an = xy_map_get(n, "asset");
    xy_path ap = XY_KEY(p, "asset");
    *a = xm_market_find(&model->market, symbol);
    if (*a < 0)
        return xm_unknown_symbol(c, an, &ap, &model->market);
    return require_tiers(c, an, &ap, model, *a);
}

/* position.qty: a non-zero finite number. */
static xm_status position_qty(const xy_ctx *c, const xy_node *n, const xy_path *p, double *qty)
{
    xy_node *qn;
    char got[128];
    xm_status s = xy_require(c, n, p, "qty", &qn);
    if (s != XM_OK)
        return s;
    xy_path qp = XY_KEY(p, "qty");
    xy_ctx quiet = {c->file, NULL};
    if (xy_number(&quiet, qn, &qp, &R_FINITE, qty) != XM_OK || *qty == 0.0)
        return xy_fail(c, qn, &qp,
                       "expected a non-zero finite number (base units, > 0 long, < 0 short), "
                       "got %s",
                       xy_describe(qn, got, sizeof got));
    return XM_OK;
}

/* position.entry, and margin_usd (isolated: required; cross: refused). */
static xm_status position_entry_margin(const xy_ctx *c, const xy_node *n, const xy_path *p,
                                       xm_margin_mode mode, double *entry, double *margin)
{
    xm_status s = xy_get_number(c, n, p, "entry", 1, &xm_r_price, entry);
    if (s != XM_OK)
        return s;
    if (mode == XM_ISOLATED)
        return xy_get_number(c, n, p, "margin_usd", 1, &xm_r_money_pos, margin);
    return xm_reject_key(c, n, p, "margin_usd",
                         "not used by mode cross (the account's wallet_usd is the margin of "
                         "all its positions)");
}

static xm_status load_position(sources *S, const xy_node *n, const xy_path *p,
                               xm_margin_mode mode)
{
    const xy_ctx *c = S->c;
    xm_model *model = S->model;
    const char *symbol;
    long a = -1;
    double qty = 0.0, entry = 0.0, margin = 0.0;
    xm_status s = xy_check_mapping(c, n, p, "a mapping {asset, qty, entry, margin_usd}",
                                   position_keys, NULL);
    if (s == XM_OK)
        s = xy_get_string(c, n, p, "asset", 1, 0, &symbol);
    if (s == XM_OK)
        s = position_asset(c, n, p, model, symbol, &a);
    if (s == XM_OK)
        s = position_qty(c, n, p, &qty);
    if (s == XM_OK)
        s = position_entry_margin(c, n, p, mode, &entry, &margin);
    if (s != XM_OK)
        return s;
    xm_accounts *b = model->book;
    size_t j = xm_accounts_fold_target(b, (uint16_t)a, qty), n_before = b->n_positions;
    s = xm_accounts_add_position(b, (uint16_t)a, qty, entry, margin, c->err);
    if (s != XM_OK)
        return s;
    /* the entry notional of the position the row landed in (folded: xmrisk/accounts.h, Lots) */
    const xm_tier_table *t = &model->venue.tiers[a];
    double notional = fabs(b->qty[j]) * b->entry[j];
    if (xm_tier_index(t, notional) < 0)
        return xy_fail(c, n, p,
                       "expected |qty| * entry <= %.15g USD (the last tier cap of %s in "
                       "venue.tiers, model.md §3)%s, got %.15g",
                       t->tier[t->n - 1].cap_usd, symbol,
                       j < n_before ? " for the account's position in the asset on that side, "
                                      "which this one adds to (positions of one cross account, "
                                      "asset and side are one position)" : "",
                       notional);
    return XM_OK;
}

/* account.id: an acceptable id no other account has (entered in S->ids). */
static xm_status account_id(sources *S, const xy_node *n, const xy_path *p, const char *id)
{
    const xy_ctx *c = S->c;
    char got[128];
    const xy_node *idn = xy_map_get(n, "id");
    xy_path ip = XY_KEY(p, "id");
    const char *problem = xm_account_id_problem(id, idn->len);
    if (problem != NULL)
        return xy_fail(c, idn, &ip,
                       "expected an account id (1 to %d bytes; no control characters, commas or "
                       "double quotes), got %s (%s)",
                       XM_ACCOUNT_ID_MAX, xy_describe(idn, got, sizeof got), problem);
    uint32_t prev;
    xm_status s = xm_idmap_put(&S->ids, id, idn->len, (uint32_t)S->model->book->n_accounts,
                               &prev, c->err);
    if (s != XM_OK || prev == XM_IDMAP_NONE)
        return s;
    char where[300];
    account_origin(S, prev, where, sizeof where);
    return xy_fail(c, idn, &ip, "expected an id no other account has, got %s (also %s)",
                   xy_describe(idn, got, sizeof got), where);
}

/* account.mode and wallet_usd (cross: required; isolated: refused). */
static xm_status account_mode(const xy_ctx *c, const xy_node *n, const xy_path *p, int *mode,
                              double *wallet)
{
    xm_status s = xy_get_enum(c, n, p, "mode", 0, margin_mode_names, mode);
    if (s != XM_OK)
        return s;
    if (*mode == XM_CROSS)
        return xy_get_number(c, n, p, "wallet_usd", 1, &xm_r_money, wallet);
    return xm_reject_key(c, n, p, "wallet_usd",
                         "not used by mode isolated (each position has its own margin_usd)");
}

/* account.positions: a non-empty sequence, *pn. */
static xm_status account_positions(const xy_ctx *c, const xy_node *n, const xy_path *p,
                                   xy_node **pn)
{
    static const char what[] = "a non-empty sequence of positions {asset, qty, entry, ...}";
    char got[128];
    xm_status s = xy_require(c, n, p, "positions", pn);
    if (s != XM_OK)
        return s;
    xy_path pp = XY_KEY(p, "positions");
    s = xy_check_sequence(c, *pn, &pp, what);
    if (s == XM_OK && (*pn)->count == 0)
        return xy_fail(c, *pn, &pp, "expected %s, got %s", what,
                       xy_describe(*pn, got, sizeof got));
    return s;
}

static xm_status load_account(sources *S, const xy_node *seq, size_t i, const xy_path *seq_path)
{
    const xy_ctx *c = S->c;
    const xy_node *n = seq->items[i];
    xy_path p = XY_INDEX(seq_path, i);
    const char *id;
    int mode = XM_CROSS;
    double wallet = 0.0;
    xy_node *pn = NULL;
    xm_status s = xy_check_mapping(c, n, &p, "a mapping {id, mode, wallet_usd, positions}",
                                   account_keys, NULL);
    if (s == XM_OK)
        s = xy_get_string(c, n, &p, "id", 1, 0, &id);
    if (s == XM_OK)
        s = account_id(S, n, &p, id);
    if (s == XM_OK)
        s = account_mode(c, n, &p, &mode, &wallet);
    if (s == XM_OK)
        s = account_positions(c, n, &p, &pn);
    if (s == XM_OK)
        s = xm_accounts_add_account(S->model->book, id, (xm_margin_mode)mode, wallet, c->err);
    xy_path pp = XY_KEY(&p, "positions");
    for (size_t j = 0; s == XM_OK && j < pn->count; j++) {
        xy_path jp = XY_INDEX(&pp, j);
        s = load_position(S, pn->items[j], &jp, (xm_margin_mode)mode);
    }
    return s;
}

static xm_status load_accounts(sources *S, const xy_node *n, const xy_path *p)
{
    static const char what[] = "a non-empty sequence of accounts {id, mode, wallet_usd, "
                               "positions}";
    char got[128];
    xm_status s = xy_check_sequence(S->c, n, p, what);
    if (s != XM_OK)
        return s;
    if (n->count == 0)
        return xy_fail(S->c, n, p, "expected %s, got %s", what, xy_describe(n, got, sizeof got));
    if (S->model->market.n > (size_t)UINT16_MAX + 1)
        return xy_fail(S->c, n, p, "expected a market of at most %u assets with accounts, got %zu",
                       (unsigned)UINT16_MAX + 1, S->model->market.n);
    s = ensure_book(S->model, S->c->err);
    if (s != XM_OK)
        return s;
    S->accounts = n;
    for (size_t i = 0; i < n->count && s == XM_OK; i++) {
        s = load_account(S, n, i, p);
        S->n_yaml = S->model->book->n_accounts;
    }
    return s;
}

/* A path from the model file: absolute as is, otherwise relative to the directory of `file`
 * (the model's path, or the name given to xm_model_load_string; no directory: the working
 * directory). */
char *xm_model_resolve_path(const char *file, const char *rel)
{
    const char *slash = strrchr(file, '/');
    size_t dir = (rel[0] == '/' || slash == NULL) ? 0 : (size_t)(slash - file) + 1;
    size_t len = strlen(rel);
    char *s = malloc(dir + len + 1);
    if (s != NULL) {
        memcpy(s, file, dir);
        memcpy(s + dir, rel, len + 1);
    }
    return s;
}

static xm_status load_accounts_csv(sources *S, const xy_node *n, const xy_path *p)
{
    const xy_ctx *c = S->c;
    const char *acc, *pos;
    xm_status s = xy_check_mapping(c, n, p, "a mapping {accounts, positions} of CSV file paths",
                                   csv_keys, NULL);
    if (s == XM_OK)
        s = xy_get_string(c, n, p, "accounts", 1, 0, &acc);
    if (s == XM_OK)
        s = xy_get_string(c, n, p, "positions", 1, 0, &pos);
    if (s == XM_OK)
        s = ensure_book(S->model, c->err);
    if (s != XM_OK)
        return s;
    S->csv_path = xm_model_resolve_path(c->file, acc);
    char *pos_path = xm_model_resolve_path(c->file, pos);
    if (S->csv_path == NULL || pos_path == NULL) {
        free(pos_path);
        return xm_error_set(c->err, XM_ENOMEM, "out of memory while reading the model");
    }
    S->csv_first = S->model->book->n_accounts;
    xm_accounts_csv_opts opts = {&S->ids, account_origin, S};
    s = xm_accounts_csv_load(S->csv_path, pos_path, &S->model->market, &S->model->venue,
                             S->model->book, &opts, c->err);
    S->n_csv = S->model->book->n_accounts - S->csv_first;
    if (s == XM_EIO && c->err != NULL) {
        /* say which key named the unreadable file */
        size_t pl = strlen(pos_path);
        const char *key = strncmp(c->err->msg, pos_path, pl) == 0 && c->err->msg[pl] == ':'
                              ? "positions"
                              : "accounts";
        const xy_node *kn = xy_map_get(n, key);
        char msg[XM_ERROR_MSG_MAX], kpath[256];
        xy_path kp = XY_KEY(p, key);
        memcpy(msg, c->err->msg, sizeof msg);
        xm_error_set(c->err, XM_EIO, "%s (given by %s at %s:%d:%d)", msg,
                     xy_path_format(&kp, kpath, sizeof kpath), c->file, kn->line, kn->column);
    }
    free(pos_path);
    return s;
}

/* The generator's own messages start with "population: "; the loader puts its position and
 * key path in front instead. */
static const char *without_prefix(const char *msg)
{
    static const char prefix[] = "population: ";
    return strncmp(msg, prefix, sizeof prefix - 1) == 0 ? msg + sizeof prefix - 1 : msg;
}

/* The population's own checks before its parameters: a venue, at most 2^16 assets. */
static xm_status population_preconditions(const xy_ctx *c, const xy_node *n, const xy_path *p,
                                          const xm_model *model)
{
    xm_status s = xy_check_mapping(
        c, n, p,
        "a mapping {accounts, isolated_share, assets_per_account, asset_weights, leverage, "
        "notional_usd, long_share, hedged_share, entry_dispersion, id_prefix}",
        population_keys, NULL);
    if (s != XM_OK)
        return s;
    if (!model->has_venue)
        return xy_fail(c, n, p,
                       "expected a model with a venue: section (tier tables for the assets the "
                       "population draws), got none");
    if (model->market.n > (size_t)UINT16_MAX + 1)
        return xy_fail(c, n, p, "expected a market of at most %u assets with accounts, got %zu",
                       (unsigned)UINT16_MAX + 1, model->market.n);
    return XM_OK;
}

/* Generate into the book with the model's seed; the generator's messages at the population's
 * position. */
static xm_status population_generate(const xy_ctx *c, const xy_node *n, const xy_path *p,
                                     const xm_population_params *pp, xm_model *model)
{
    xm_status s = xm_population_generate(pp, &model->market, &model->venue, model->seed,
                                         model->book, c->err);
    if (s == XM_EMODEL && c->err != NULL) {
        char msg[XM_ERROR_MSG_MAX];
        memcpy(msg, c->err->msg, sizeof msg);
        return xy_fail(c, n, p, "%s", without_prefix(msg));
    }
    return s;
}

/* PREFIX + index (unique among themselves) must not clash with an id given before: the
 * accounts from book index `first` on against S->ids. */
static xm_status population_ids_unique(sources *S, const xy_node *n, const xy_path *p,
                                       size_t first, const char *prefix)
{
    const xy_ctx *c = S->c;
    const xm_accounts *book = S->model->book;
    char got[128], where[300];
    for (size_t a = first; S->ids.n > 0 && a < book->n_accounts; a++) {
        const char *id = xm_accounts_id(book, a);
        uint32_t prev = xm_idmap_get(&S->ids, id, strlen(id));
        if (prev == XM_IDMAP_NONE)
            continue;
        account_origin(S, prev, where, sizeof where);
        const xy_node *in = xy_map_get(n, "id_prefix");
        if (in != NULL) {
            xy_path ip = XY_KEY(p, "id_prefix");
            return xy_fail(c, in, &ip,
                           "expected a prefix that gives ids no other account has, got %s (the "
                           "population's '%s' is also %s)",
                           xy_describe(in, got, sizeof got), id, where);
        }
        return xy_fail(c, n, p,
                       "expected ids no other account has, got '%s' (from the default id_prefix "
                       "'%s'; also %s): set population.id_prefix",
                       id, prefix, where);
    }
    return XM_OK;
}

static xm_status load_population(sources *S, const xy_node *n, const xy_path *p)
{
    const xy_ctx *c = S->c;
    xm_model *model = S->model;
    xm_population_params pp;
    memset(&pp, 0, sizeof pp);
    xm_status s = population_preconditions(c, n, p, model);
    if (s != XM_OK)
        return s;
    s = xm_population_defaults(&pp, model->market.n, c->err);
    if (s == XM_OK)
        s = xm_load_population_params(c, n, p, model, &pp);
    if (s == XM_OK)
        s = ensure_book(model, c->err);
    if (s != XM_OK) {
        xm_population_params_clear(&pp);
        return s;
    }
    size_t first = model->book->n_accounts;
    char prefix[sizeof pp.id_prefix];
    memcpy(prefix, pp.id_prefix, sizeof prefix);
    prefix[sizeof prefix - 1] = '\0';
    s = population_generate(c, n, p, &pp, model);
    xm_population_params_clear(&pp);
    return s == XM_OK ? population_ids_unique(S, n, p, first, prefix) : s;
}

/* `accounts`, then `accounts_csv`, then `population`, into one book with unique ids. */
xm_status xm_load_account_sources(const xy_ctx *c, const xy_node *root, xm_model *model)
{
    sources S;
    memset(&S, 0, sizeof S);
    S.c = c;
    S.model = model;
    xm_idmap_init(&S.ids);
    xm_status s = XM_OK;
    xy_node *n = xy_map_get(root, "accounts");
    if (n != NULL) {
        xy_path p = XY_KEY(NULL, "accounts");
        s = load_accounts(&S, n, &p);
    }
    n = xy_map_get(root, "accounts_csv");
    if (s == XM_OK && n != NULL) {
        xy_path p = XY_KEY(NULL, "accounts_csv");
        s = load_accounts_csv(&S, n, &p);
    }
    n = xy_map_get(root, "population");
    if (s == XM_OK && n != NULL) {
        xy_path p = XY_KEY(NULL, "population");
        s = load_population(&S, n, &p);
    }
    xm_idmap_clear(&S.ids);
    free(S.csv_path);
    return s;
}
