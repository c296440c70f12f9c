/* model.c — read and validate a model file (see xmrisk/model.h, shared/spec/interface.md).
 *
 * Every problem is reported once, the first in file order within each mapping, as
 * "FILE:LINE:COLUMN: KEY.PATH: expected WHAT, got VALUE" (yaml_util.h) with XM_EMODEL.
 */
#include "xmrisk/model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yaml_util.h"

/* Keys the interface reserves for the margin engine, which this version does not have. To
 * switch one on: move it to top_keys and read it in load_model. */
static const xy_reserved reserved_top_keys[] = {
    {"venue", "the margin engine is not built"},
    {"accounts", "the margin engine is not built"},
    {"accounts_csv", "the margin engine is not built"},
    {"population", "the margin engine is not built"},
    {NULL, NULL},
};

static const char *const top_keys[] = {"name", "seed", "paths", "horizon_days", "steps",
                                       "market", NULL};
static const char *const market_keys[] = {"process", "dof", "jumps", "assets", "correlation",
                                          "correlation_repair", "impact", NULL};
static const char *const jump_keys[] = {"rate_per_year", "mean", "stdev", NULL};
static const char *const asset_keys[] = {"symbol", "price", "vol", "drift", "jump_beta", NULL};
static const char *const impact_keys[] = {"model", "depth_1pct_usd", "daily_volume_usd", "y",
                                          "half_life_minutes", NULL};

/* In xm_process order. */
static const char *const process_names[] = {"gbm", "student_t", "bachelier", NULL};
static const char *const repair_names[] = {"none", "higham", NULL};
static const char *const impact_names[] = {"linear", "sqrt", NULL};

#define XM_MODEL_DEFAULT_SEED 1u
#define XM_MODEL_DEFAULT_PATHS 10000u
#define XM_MODEL_MAX_STEPS 100000000u
#define XM_IMPACT_DEFAULT_Y 0.8
#define XM_CORR_TOL 1e-12
/* Larger inputs are refused rather than read until memory runs out (/dev/zero). */
#define XM_MODEL_MAX_BYTES ((size_t)256 << 20)

static const xy_range R_POSITIVE = {0.0, INFINITY, XY_LO_OPEN};
static const xy_range R_NONNEG = {0.0, INFINITY, 0};
static const xy_range R_FINITE = {-INFINITY, INFINITY, 0};
static const xy_range R_DOF = {2.0, INFINITY, XY_LO_OPEN};
static const xy_range R_CORR = {-1.0, 1.0, 0};
static const xy_range R_HALF_LIFE = {0.0, INFINITY, XY_LO_OPEN | XY_ALLOW_INF};

/* A key that must not be there: the error points at the key. */
static xm_status reject_key(const xy_ctx *c, const xy_node *map, const xy_path *path,
                            const char *key, const char *why)
{
    xy_node *k = xy_map_key_node(map, key);
    if (k == NULL)
        return XM_OK;
    xy_path kp = XY_KEY(path, key);
    return xy_fail(c, k, &kp, "%s", why);
}

static xm_status load_jumps(const xy_ctx *c, const xy_node *n, const xy_path *path, xm_jumps *j)
{
    xm_status s = xy_check_mapping(c, n, path, "a mapping {rate_per_year, mean, stdev}",
                                   jump_keys, NULL);
    if (s == XM_OK)
        s = xy_get_number(c, n, path, "rate_per_year", 1, &R_NONNEG, &j->rate_per_year);
    if (s == XM_OK)
        s = xy_get_number(c, n, path, "mean", 1, &R_FINITE, &j->mean);
    if (s == XM_OK)
        s = xy_get_number(c, n, path, "stdev", 1, &R_NONNEG, &j->stdev);
    if (s == XM_OK)
        j->enabled = 1;
    return s;
}

static xm_status load_asset(const xy_ctx *c, const xy_node *assets, size_t i,
                            const xy_path *assets_path, xm_market *m)
{
    const xy_node *n = assets->items[i];
    xy_path p = XY_INDEX(assets_path, i);
    xm_asset *a = &m->assets[i];
    const char *symbol;
    xm_status s = xy_check_mapping(c, n, &p, "a mapping {symbol, price, vol, drift, jump_beta}",
                                   asset_keys, NULL);
    if (s == XM_OK)
        s = xy_get_string(c, n, &p, "symbol", 1, XM_SYMBOL_MAX - 1, &symbol);
    if (s != XM_OK)
        return s;
    for (size_t j = 0; j < i; j++) {
        if (strcmp(m->assets[j].symbol, symbol) != 0)
            continue;
        const xy_node *first = xy_map_get(assets->items[j], "symbol");
        xy_path sp = XY_KEY(&p, "symbol");
        char got[128];
        return xy_fail(c, xy_map_get(n, "symbol"), &sp,
                       "expected a symbol no other asset has, got %s (also market.assets[%zu] at "
                       "%d:%d)",
                       xy_describe(xy_map_get(n, "symbol"), got, sizeof got), j, first->line,
                       first->column);
    }
    memcpy(a->symbol, symbol, strlen(symbol) + 1);
    a->drift = 0.0;
    a->jump_beta = 1.0;
    a->impact.model = XM_IMPACT_NONE;
    a->impact.half_life_minutes = INFINITY;
    s = xy_get_number(c, n, &p, "price", 1, &R_POSITIVE, &a->price);
    if (s == XM_OK)
        s = xy_get_number(c, n, &p, "vol", 1, &R_NONNEG, &a->vol);
    if (s == XM_OK)
        s = xy_get_number(c, n, &p, "drift", 0, &R_FINITE, &a->drift);
    if (s == XM_OK)
        s = xy_get_number(c, n, &p, "jump_beta", 0, &R_FINITE, &a->jump_beta);
    return s;
}

/* Shape, range, unit diagonal and symmetry, each with the position of the offending entry;
 * then copy into m->corr. Positive definiteness is xm_market_prepare's. */
static xm_status load_correlation(const xy_ctx *c, const xy_node *cn, const xy_path *cp,
                                  xm_market *m)
{
    const size_t n = m->n;
    char what[96], got[128], mirror[128];
    snprintf(what, sizeof what, "a sequence of %zu rows of %zu numbers (one per asset)", n, n);
    xm_status s = xy_check_sequence(c, cn, cp, what);
    if (s != XM_OK)
        return s;
    if (cn->count != n)
        return xy_fail(c, cn, cp, "expected %zu rows (one per asset), got %zu", n, cn->count);
    for (size_t i = 0; i < n; i++) {
        const xy_node *row = cn->items[i];
        xy_path rp = XY_INDEX(cp, i);
        snprintf(what, sizeof what, "a sequence of %zu numbers (one per asset)", n);
        s = xy_check_sequence(c, row, &rp, what);
        if (s != XM_OK)
            return s;
        if (row->count != n)
            return xy_fail(c, row, &rp, "expected %zu entries (one per asset), got %zu", n,
                           row->count);
        for (size_t j = 0; j < n; j++) {
            xy_path ep = XY_INDEX(&rp, j);
            s = xy_number(c, row->items[j], &ep, &R_CORR, &m->corr[i * n + j]);
            if (s != XM_OK)
                return s;
        }
    }
    for (size_t i = 0; i < n; i++) {
        xy_path rp = XY_INDEX(cp, i);
        for (size_t j = 0; j <= i; j++) {
            const xy_node *e = cn->items[i]->items[j];
            xy_path ep = XY_INDEX(&rp, j);
            double v = m->corr[i * n + j];
            if (i == j && fabs(v - 1.0) > XM_CORR_TOL)
                return xy_fail(c, e, &ep, "expected 1 on the diagonal, got %s",
                               xy_describe(e, got, sizeof got));
            if (i != j && fabs(v - m->corr[j * n + i]) > XM_CORR_TOL) {
                const xy_node *t = cn->items[j]->items[i];
                return xy_fail(c, e, &ep,
                               "expected %s as at market.correlation[%zu][%zu] (%d:%d; the "
                               "matrix must be symmetric), got %s",
                               xy_describe(t, mirror, sizeof mirror), j, i, t->line, t->column,
                               xy_describe(e, got, sizeof got));
            }
        }
    }
    return XM_OK;
}

static xm_status load_impact_entry(const xy_ctx *c, const xy_node *n, const xy_path *p,
                                   xm_impact *imp)
{
    int model = 0;
    xm_status s = xy_check_mapping(
        c, n, p, "a mapping {model, depth_1pct_usd | daily_volume_usd, y, half_life_minutes}",
        impact_keys, NULL);
    if (s == XM_OK)
        s = xy_get_enum(c, n, p, "model", 1, impact_names, &model);
    if (s != XM_OK)
        return s;
    imp->depth_1pct_usd = 0.0;
    imp->daily_volume_usd = 0.0;
    imp->y = 0.0;
    imp->half_life_minutes = INFINITY;
    if (model == 0) {
        imp->model = XM_IMPACT_LINEAR;
        static const char why[] =
            "not used by model linear (it takes depth_1pct_usd and half_life_minutes)";
        s = reject_key(c, n, p, "daily_volume_usd", why);
        if (s == XM_OK)
            s = reject_key(c, n, p, "y", why);
        if (s == XM_OK)
            s = xy_get_number(c, n, p, "depth_1pct_usd", 1, &R_POSITIVE, &imp->depth_1pct_usd);
    } else {
        imp->model = XM_IMPACT_SQRT;
        imp->y = XM_IMPACT_DEFAULT_Y;
        s = reject_key(c, n, p, "depth_1pct_usd",
                       "not used by model sqrt (it takes daily_volume_usd, y and "
                       "half_life_minutes)");
        if (s == XM_OK)
            s = xy_get_number(c, n, p, "daily_volume_usd", 1, &R_POSITIVE,
                              &imp->daily_volume_usd);
        if (s == XM_OK)
            s = xy_get_number(c, n, p, "y", 0, &R_POSITIVE, &imp->y);
    }
    if (s == XM_OK)
        s = xy_get_number(c, n, p, "half_life_minutes", 0, &R_HALF_LIFE,
                          &imp->half_life_minutes);
    return s;
}

static xm_status load_impact(const xy_ctx *c, const xy_node *n, const xy_path *ip, xm_market *m)
{
    xm_status s = xy_check_mapping(c, n, ip, "a mapping of asset symbol to impact model", NULL,
                                   NULL);
    if (s != XM_OK)
        return s;
    for (size_t i = 0; i < n->count; i++) {
        const xy_node *k = n->items[2 * i];
        xy_path kp = XY_KEY(ip, k->text);
        long a = xm_market_find(m, k->text);
        if (a < 0) {
            char list[512];
            size_t pos = 0;
            list[0] = '\0';
            for (size_t j = 0; j < m->n; j++) {
                int w = snprintf(list + pos, sizeof list - pos, "%s%s", j ? ", " : "",
                                 m->assets[j].symbol);
                if (w < 0 || (size_t)w >= sizeof list - pos)
                    break;
                pos += (size_t)w;
            }
            char got[128];
            return xy_fail(c, k, &kp, "expected the symbol of an asset (%s), got %s", list,
                           xy_describe(k, got, sizeof got));
        }
        s = load_impact_entry(c, n->items[2 * i + 1], &kp, &m->assets[a].impact);
        if (s != XM_OK)
            return s;
    }
    return XM_OK;
}

static xm_status load_market(const xy_ctx *c, const xy_node *n, const xy_path *mp, xm_market *m)
{
    int process = 0, repair = 0;
    double dof = 0.0;
    xm_jumps jumps = {0};
    char got[128];

    xm_status s = xy_check_mapping(c, n, mp, "a mapping {process, assets, correlation, ...}",
                                   market_keys, NULL);
    if (s == XM_OK)
        s = xy_get_enum(c, n, mp, "process", 1, process_names, &process);
    if (s != XM_OK)
        return s;

    if (process == XM_PROCESS_STUDENT_T)
        s = xy_get_number(c, n, mp, "dof", 1, &R_DOF, &dof);
    else
        s = reject_key(c, n, mp, "dof",
                       process == XM_PROCESS_GBM
                           ? "not allowed with process gbm (dof is for process student_t)"
                           : "not allowed with process bachelier (dof is for process student_t)");
    if (s != XM_OK)
        return s;

    xy_node *jn = xy_map_get(n, "jumps");
    if (jn != NULL) {
        if (process == XM_PROCESS_BACHELIER)
            return reject_key(c, n, mp, "jumps",
                              "not allowed with process bachelier (jumps add to ln S: they apply "
                              "to gbm or student_t)");
        xy_path jp = XY_KEY(mp, "jumps");
        s = load_jumps(c, jn, &jp, &jumps);
        if (s != XM_OK)
            return s;
    }

    xy_node *an;
    s = xy_require(c, n, mp, "assets", &an);
    if (s != XM_OK)
        return s;
    xy_path ap = XY_KEY(mp, "assets");
    s = xy_check_sequence(c, an, &ap, "a non-empty sequence of assets");
    if (s != XM_OK)
        return s;
    if (an->count == 0)
        return xy_fail(c, an, &ap, "expected a non-empty sequence of assets, got %s",
                       xy_describe(an, got, sizeof got));
    s = xm_market_init(m, an->count, c->err);
    if (s != XM_OK)
        return s;
    m->process = (xm_process)process;
    m->dof = dof;
    m->jumps = jumps;
    for (size_t i = 0; i < an->count; i++) {
        s = load_asset(c, an, i, &ap, m);
        if (s != XM_OK)
            return s;
    }

    xy_node *cn = xy_map_get(n, "correlation");
    xy_path cp = XY_KEY(mp, "correlation");
    if (cn != NULL) {
        s = load_correlation(c, cn, &cp, m);
        if (s != XM_OK)
            return s;
    } else if (m->n > 1) {
        return xy_fail(c, n, mp,
                       "missing required key 'correlation' (%zu assets need a %zux%zu matrix)",
                       m->n, m->n, m->n);
    }
    s = xy_get_enum(c, n, mp, "correlation_repair", 0, repair_names, &repair);
    if (s != XM_OK)
        return s;
    m->corr_repair = repair;

    xy_node *in = xy_map_get(n, "impact");
    if (in != NULL) {
        xy_path ip = XY_KEY(mp, "impact");
        s = load_impact(c, in, &ip, m);
        if (s != XM_OK)
            return s;
    }

    char where[512];
    xy_where(c, cn ? cn : n, &cp, where, sizeof where);
    return xm_market_prepare(m, where, c->err);
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
        "a mapping at the top level (name, seed, paths, horizon_days, steps, market)", top_keys,
        reserved_top_keys);
    if (s != XM_OK)
        return s;

    const char *name = NULL;
    s = xy_get_string(c, root, NULL, "name", 0, 0, &name);
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
        s = xy_get_number(c, root, NULL, "horizon_days", 1, &R_POSITIVE, &model->horizon_days);
    if (s == XM_OK)
        s = xy_get_uint(c, root, NULL, "steps", 1, 1, XM_MODEL_MAX_STEPS, &steps);
    if (s != XM_OK)
        return s;
    model->steps = (uint32_t)steps;

    xy_node *mn;
    s = xy_require(c, root, NULL, "market", &mn);
    if (s != XM_OK)
        return s;
    xy_path mp = XY_KEY(NULL, "market");
    return load_market(c, mn, &mp, &model->market);
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

static xm_status read_file(const char *path, char **out, size_t *out_len, xm_error *err)
{
    *out = NULL;
    *out_len = 0;
    FILE *f = fopen(path, "rb");
    char msg[256];
    if (f == NULL)
        goto io_error;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL) {
        fclose(f);
        return xm_error_set(err, XM_ENOMEM, "%s: out of memory while reading", path);
    }
    for (;;) {
        if (len == cap) {
            if (cap >= XM_MODEL_MAX_BYTES) {
                free(buf);
                fclose(f);
                return xm_error_set(err, XM_EIO,
                                    "%s: cannot read: larger than %zu MiB, not a model file", path,
                                    XM_MODEL_MAX_BYTES >> 20);
            }
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return xm_error_set(err, XM_ENOMEM, "%s: out of memory while reading", path);
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        int e = errno;
        free(buf);
        fclose(f);
        errno = e ? e : EIO;
        goto io_error;
    }
    fclose(f);
    *out = buf;
    *out_len = len;
    return XM_OK;

io_error:
    if (strerror_r(errno, msg, sizeof msg) != 0)
        snprintf(msg, sizeof msg, "error %d", errno);
    return xm_error_set(err, XM_EIO, "%s: cannot read: %s", path, msg);
}

xm_model *xm_model_load(const char *path, xm_error *err)
{
    char *text;
    size_t len;
    if (path == NULL) {
        xm_error_set(err, XM_EUSAGE, "xm_model_load: no path given");
        return NULL;
    }
    if (read_file(path, &text, &len, err) != XM_OK)
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
    xm_market_clear(&model->market);
    free(model->name);
    free(model->path);
    free(model);
}

double xm_model_tau(const xm_model *model)
{
    return (model->horizon_days / (double)model->steps) / 365.0;
}
