/* mergestats.c — exact sums, fixed bins and the per-run columns built from them (see
 * xmrisk/mergestats.h for the definitions and their sources). */
#include "xmrisk/mergestats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/le.h"

/* ---- exact sums (Neal 2015, "small superaccumulator") ---- */

#define CHUNK_BITS 32
#define CHUNK_MASK 0xffffffffLL
#define CHUNK_BASE 4294967296LL
#define ADDS_BEFORE_CARRY (1u << 30)

void xm_xsum_init(xm_xsum *s)
{
    memset(s, 0, sizeof *s);
}

void xm_xsum_normalize(xm_xsum *s)
{
    for (int i = 0; i + 1 < XM_XSUM_CHUNKS; i++) {
        int64_t low = s->c[i] & CHUNK_MASK;
        s->c[i + 1] += (s->c[i] - low) / CHUNK_BASE;  /* exact: a multiple of 2^32 */
        s->c[i] = low;
    }
    s->adds = 0;
}

void xm_xsum_add(xm_xsum *s, double x)
{
    uint64_t u = xm_f64_bits(x);
    uint64_t ex = (u >> 52) & 0x7ff, m = u & ((1ULL << 52) - 1);
    if (ex == 0x7ff || (ex == 0 && m == 0))
        return;
    if (ex == 0)
        ex = 1;                      /* subnormal: m 2^(1 - 1075) */
    else
        m |= 1ULL << 52;
    /* x = m 2^(ex - 1075) = m 2^(pos - 1074): bit pos of the fixed-point sum. */
    unsigned pos = (unsigned)ex - 1, i = pos / CHUNK_BITS;
    unsigned __int128 v = (unsigned __int128)m << (pos % CHUNK_BITS);
    int64_t c0 = (int64_t)(uint32_t)v, c1 = (int64_t)(uint32_t)(v >> 32),
            c2 = (int64_t)(uint32_t)(v >> 64);
    if (u >> 63) {
        s->c[i] -= c0;
        s->c[i + 1] -= c1;
        s->c[i + 2] -= c2;
    } else {
        s->c[i] += c0;
        s->c[i + 1] += c1;
        s->c[i + 2] += c2;
    }
    if (++s->adds >= ADDS_BEFORE_CARRY)
        xm_xsum_normalize(s);
}

void xm_xsum_merge(xm_xsum *into, const xm_xsum *from)
{
    xm_xsum f = *from;
    xm_xsum_normalize(&f);
    xm_xsum_normalize(into);
    for (int i = 0; i < XM_XSUM_CHUNKS; i++)
        into->c[i] += f.c[i];
    into->adds = 2;                  /* chunks now below 2^33 */
}

/* The exact sum rounded to long double: its four highest chunks (64-bit mantissa; lower
 * chunks are below its rounding). */
static long double xsum_ld(const xm_xsum *s)
{
    xm_xsum t = *s;
    xm_xsum_normalize(&t);
    int neg = t.c[XM_XSUM_CHUNKS - 1] < 0;
    if (neg) {
        for (int i = 0; i < XM_XSUM_CHUNKS; i++)
            t.c[i] = -t.c[i];
        xm_xsum_normalize(&t);
    }
    int top = XM_XSUM_CHUNKS - 1;
    while (top > 0 && t.c[top] == 0)
        top--;
    long double v = 0.0L;
    for (int i = top >= 3 ? top - 3 : 0; i <= top; i++)
        v += ldexpl((long double)t.c[i], CHUNK_BITS * i - 1074);
    return neg ? -v : v;
}

double xm_xsum_value(const xm_xsum *s)
{
    return (double)xsum_ld(s);
}

/* ---- fixed bins ---- */

uint32_t xm_bins_index(double x, int *above)
{
    uint64_t u = xm_f64_bits(x);
    if ((u << 1) == 0)
        return XM_BINS_ZERO;         /* +0 and -0 */
    int e = (int)((u >> 52) & 0x7ff) - 1023;
    uint32_t b;
    if (e < XM_BINS_EXP_MIN) {
        b = 0;
    } else if (e >= XM_BINS_EXP_MAX) {
        b = XM_BINS_SIDE - 1;
        if (above != NULL)
            *above = 1;
    } else {
        b = ((uint32_t)(e - XM_BINS_EXP_MIN) << XM_BINS_MANT_BITS) |
            ((uint32_t)(u >> (52 - XM_BINS_MANT_BITS)) & ((1u << XM_BINS_MANT_BITS) - 1));
    }
    return u >> 63 ? XM_BINS_ZERO - 1 - b : XM_BINS_ZERO + 1 + b;
}

/* Edges of side bin b (magnitudes): [2^e (1 + j/2^k), 2^e (1 + (j+1)/2^k)). */
static void side_edges(uint32_t b, double *lo, double *hi)
{
    int e = XM_BINS_EXP_MIN + (int)(b >> XM_BINS_MANT_BITS);
    double j = (double)(b & ((1u << XM_BINS_MANT_BITS) - 1)), w = 1.0 / (1 << XM_BINS_MANT_BITS);
    *lo = ldexp(1.0 + j * w, e);
    *hi = ldexp(1.0 + (j + 1.0) * w, e);
}

void xm_bins_edges(uint32_t b, double *lo, double *hi)
{
    double l, h;
    if (b == XM_BINS_ZERO) {
        *lo = *hi = 0.0;
    } else if (b > XM_BINS_ZERO) {
        side_edges(b - XM_BINS_ZERO - 1, lo, hi);
    } else {
        side_edges(XM_BINS_ZERO - 1 - b, &l, &h);
        *lo = -h;
        *hi = -l;
    }
}

double xm_bins_value(uint32_t b)
{
    double lo, hi;
    xm_bins_edges(b, &lo, &hi);
    return 0.5 * (lo + hi);          /* exact in binary */
}

double xm_bins_value_of(uint32_t b, int integer)
{
    double lo, hi;
    xm_bins_edges(b, &lo, &hi);
    double k = ceil(lo);
    if (integer && hi - lo <= 1.0 && k < hi)
        return k;                    /* the only integer in [lo, hi) */
    return 0.5 * (lo + hi);
}

/* ---- columns ---- */

const char *const xm_pm_name[XM_PM_COUNT] = {
    "liquidated_notional_usd", "accounts_liquidated", "liquidation_events",
    "largest_cascade_usd",     "cascade_rounds_max",  "bad_debt_usd",
    "fund_paid_usd",           "fund_min_usd",        "adl_notional_usd",
    "adl_accounts",            "socialized_usd"};

double xm_pm_value(const xm_path_metrics *pm, int k)
{
    switch (k) {
    case XM_PM_LIQ_NOTIONAL: return pm->liquidated_notional;
    case XM_PM_ACCOUNTS_LIQ: return (double)pm->accounts_liquidated;
    case XM_PM_LIQ_EVENTS: return (double)pm->liq_events;
    case XM_PM_LARGEST_CASCADE: return pm->largest_cascade_usd;
    case XM_PM_ROUNDS_MAX: return (double)pm->cascade_rounds_max;
    case XM_PM_BAD_DEBT: return pm->bad_debt_usd;
    case XM_PM_FUND_PAID: return pm->fund_paid_usd;
    case XM_PM_FUND_MIN: return pm->fund_min_usd;
    case XM_PM_ADL_NOTIONAL: return pm->adl_notional_usd;
    case XM_PM_ADL_ACCOUNTS: return (double)pm->adl_accounts;
    default: return pm->socialized_usd;
    }
}

int xm_pe_has(const xm_path_metrics *pm, int e)
{
    switch (e) {
    case XM_PE_ANY_LIQ: return pm->liq_events > 0;
    case XM_PE_BAD_DEBT: return pm->bad_debt_usd > 0;
    case XM_PE_ADL: return pm->adl_notional_usd > 0;
    case XM_PE_FUND_ZERO: return pm->fund_min_usd <= 0;
    case XM_PE_MAX_ROUNDS: return pm->max_rounds_hits > 0;
    case XM_PE_PRICE_FLOOR: return pm->price_floor_hits > 0;
    default: return pm->beyond_tier_events > 0;
    }
}

double xm_impact_share(double min_ratio, double impact_at_min)
{
    if (!(min_ratio < 1.0) || !(min_ratio > 0.0))
        return 0.0;
    double s = impact_at_min / log(min_ratio);
    return isfinite(s) ? s : 0.0;
}

static void mom_init(xm_xmoments *m, double shift)
{
    m->n = 0;
    m->shift = shift;
    xm_xsum_init(&m->s1);
    xm_xsum_init(&m->s2);
}

static void mom_add(xm_xmoments *m, double x)
{
    double d = x - m->shift;
    m->n++;
    xm_xsum_add(&m->s1, d);
    xm_xsum_add(&m->s2, d * d);
}

static void mom_merge(xm_xmoments *into, const xm_xmoments *from)
{
    into->n += from->n;
    xm_xsum_merge(&into->s1, &from->s1);
    xm_xsum_merge(&into->s2, &from->s2);
}

void xm_xmoments_get(const xm_xmoments *m, double *mean, double *sd, double *stderr_)
{
    *mean = *sd = *stderr_ = 0.0;
    if (m->n == 0)
        return;
    long double n = (long double)m->n, s1 = xsum_ld(&m->s1), s2 = xsum_ld(&m->s2);
    *mean = (double)((long double)m->shift + s1 / n);
    if (m->n < 2)
        return;
    /* (sum d^2 - (sum d)^2 / n) / (n - 1), d = x - shift; never below 0 after rounding. */
    long double var = (s2 - s1 * s1 / n) / (n - 1.0L);
    *sd = var > 0 ? (double)sqrtl(var) : 0.0;
    *stderr_ = *sd / sqrt((double)m->n);
}

static void bincol_add(xm_bincol *c, double x)
{
    int above = 0;
    mom_add(&c->mom, x);
    c->bins[xm_bins_index(x, &above)]++;
    c->above += (uint64_t)above;
}

static void bincol_merge(xm_bincol *into, const xm_bincol *from)
{
    mom_merge(&into->mom, &from->mom);
    for (uint32_t b = 0; b < XM_BINS_COUNT; b++)
        into->bins[b] += from->bins[b];
    into->above += from->above;
}

/* Value of order statistic k (0-based) of the binned data. */
static double order_stat(const xm_bincol *c, uint64_t k)
{
    uint64_t seen = 0;
    for (uint32_t b = 0; b < XM_BINS_COUNT; b++) {
        seen += c->bins[b];
        if (seen > k)
            return xm_bins_value_of(b, c->integer);
    }
    return 0.0;
}

double xm_bincol_quantile(const xm_bincol *c, double p)
{
    uint64_t n = c->mom.n;
    if (n == 0)
        return 0.0;
    p = fmin(fmax(p, 0.0), 1.0);
    double h = (double)(n - 1) * p;   /* as xm_stats_quantile_sorted */
    uint64_t lo = (uint64_t)floor(h);
    if (lo + 1 >= n)
        return order_stat(c, n - 1);
    double a = order_stat(c, lo), b = order_stat(c, lo + 1);
    return a + (h - (double)lo) * (b - a);
}

/* ---- a run's columns ---- */

/* Every column in a fixed order: f(column, shift) for moments-only and binned ones. */
static size_t n_bincols(const xm_mergestats *s)
{
    return XM_PM_COUNT + s->n_assets;
}

static xm_bincol *bincol_at(xm_mergestats *s, size_t k)
{
    return k < XM_PM_COUNT ? &s->metric[k] : &s->min_ratio[k - XM_PM_COUNT];
}

static const xm_bincol *bincol_at_c(const xm_mergestats *s, size_t k)
{
    return k < XM_PM_COUNT ? &s->metric[k] : &s->min_ratio[k - XM_PM_COUNT];
}

void xm_mergestats_free(xm_mergestats *s)
{
    if (s == NULL)
        return;
    for (int k = 0; k < XM_PM_COUNT; k++)
        free(s->metric[k].bins);
    for (size_t i = 0; s->min_ratio != NULL && i < s->n_assets; i++)
        free(s->min_ratio[i].bins);
    free(s->min_ratio);
    free(s->impact_share);
    free(s);
}

/* Shifts: fund_min near the fund it starts from, mark ratios near 1 (xmrisk/mergestats.h). */
static double shift_of(size_t k, double fund0)
{
    return k == XM_PM_FUND_MIN ? fund0 : k >= XM_PM_COUNT ? 1.0 : 0.0;
}

xm_mergestats *xm_mergestats_alloc(size_t n_assets, double fund0, xm_error *err)
{
    xm_mergestats *s = n_assets > 0 ? calloc(1, sizeof *s) : NULL;
    int ok = s != NULL;
    if (ok) {
        s->n_assets = n_assets;
        s->min_ratio = calloc(n_assets, sizeof *s->min_ratio);
        s->impact_share = calloc(n_assets, sizeof *s->impact_share);
        ok = s->min_ratio != NULL && s->impact_share != NULL;
    }
    for (size_t k = 0; ok && k < n_bincols(s); k++) {
        xm_bincol *c = bincol_at(s, k);
        c->bins = calloc(XM_BINS_COUNT, sizeof *c->bins);
        c->integer = k == XM_PM_ACCOUNTS_LIQ || k == XM_PM_LIQ_EVENTS || k == XM_PM_ROUNDS_MAX ||
                     k == XM_PM_ADL_ACCOUNTS;
        mom_init(&c->mom, shift_of(k, isfinite(fund0) ? fund0 : 0.0));
        ok = c->bins != NULL;
    }
    if (!ok) {
        xm_mergestats_free(s);
        xm_error_set(err, XM_ENOMEM, "statistics: out of memory for %zu assets", n_assets);
        return NULL;
    }
    mom_init(&s->first_step, 0.0);
    for (size_t i = 0; i < n_assets; i++)
        mom_init(&s->impact_share[i], 0.0);
    return s;
}

void xm_mergestats_clear(xm_mergestats *s)
{
    s->paths = 0;
    memset(s->events, 0, sizeof s->events);
    for (size_t k = 0; k < n_bincols(s); k++) {
        xm_bincol *c = bincol_at(s, k);
        memset(c->bins, 0, XM_BINS_COUNT * sizeof *c->bins);
        c->above = 0;
        mom_init(&c->mom, c->mom.shift);
    }
    mom_init(&s->first_step, 0.0);
    for (size_t i = 0; i < s->n_assets; i++)
        mom_init(&s->impact_share[i], 0.0);
}

void xm_mergestats_add(xm_mergestats *s, const xm_path_metrics *pm, const double *min_ratio,
                      const double *impact_at_min)
{
    s->paths++;
    for (int e = 0; e < XM_PE_COUNT; e++)
        s->events[e] += (uint64_t)xm_pe_has(pm, e);
    for (int k = 0; k < XM_PM_COUNT; k++)
        bincol_add(&s->metric[k], xm_pm_value(pm, k));
    if (pm->first_liq_step > 0)
        mom_add(&s->first_step, (double)pm->first_liq_step);
    for (size_t i = 0; i < s->n_assets; i++) {
        bincol_add(&s->min_ratio[i], min_ratio[i]);
        mom_add(&s->impact_share[i], xm_impact_share(min_ratio[i], impact_at_min[i]));
    }
}

void xm_mergestats_merge(xm_mergestats *into, const xm_mergestats *from)
{
    into->paths += from->paths;
    for (int e = 0; e < XM_PE_COUNT; e++)
        into->events[e] += from->events[e];
    for (size_t k = 0; k < n_bincols(into); k++)
        bincol_merge(bincol_at(into, k), bincol_at_c(from, k));
    mom_merge(&into->first_step, &from->first_step);
    for (size_t i = 0; i < into->n_assets; i++)
        mom_merge(&into->impact_share[i], &from->impact_share[i]);
}

/* ---- serialization ---- */

#define MOM_BYTES (8 + 8 + 2 * 8 * XM_XSUM_CHUNKS)

static size_t nonzero_bins(const xm_bincol *c)
{
    size_t n = 0;
    for (uint32_t b = 0; b < XM_BINS_COUNT; b++)
        n += c->bins[b] != 0;
    return n;
}

size_t xm_mergestats_encoded_size(const xm_mergestats *s)
{
    size_t n = 8 + 8 + 8 * XM_PE_COUNT + MOM_BYTES * (1 + s->n_assets);
    for (size_t k = 0; k < n_bincols(s); k++)
        n += MOM_BYTES + 8 + 8 + 12 * nonzero_bins(bincol_at_c(s, k));
    return n;
}

static void put_mom(xm_le_writer *w, const xm_xmoments *m)
{
    xm_le_write_u64(w, m->n);
    xm_le_write_f64(w, m->shift);
    const xm_xsum *sums[2] = {&m->s1, &m->s2};
    for (int j = 0; j < 2; j++) {
        xm_xsum t = *sums[j];
        xm_xsum_normalize(&t);
        for (int i = 0; i < XM_XSUM_CHUNKS; i++)
            xm_le_write_i64(w, t.c[i]);
    }
}

static void put_bincol(xm_le_writer *w, const xm_bincol *c)
{
    put_mom(w, &c->mom);
    xm_le_write_u64(w, c->above);
    xm_le_write_u64(w, nonzero_bins(c));
    for (uint32_t k = 0; k < XM_BINS_COUNT; k++) {
        if (c->bins[k] == 0)
            continue;
        xm_le_write_u32(w, k);
        xm_le_write_u64(w, c->bins[k]);
    }
}

void xm_mergestats_encode(const xm_mergestats *s, unsigned char *out)
{
    xm_le_writer w = {out, 0};
    xm_le_write_u64(&w, s->n_assets);
    xm_le_write_u64(&w, s->paths);
    for (int e = 0; e < XM_PE_COUNT; e++)
        xm_le_write_u64(&w, s->events[e]);
    for (size_t k = 0; k < n_bincols(s); k++)
        put_bincol(&w, bincol_at_c(s, k));
    put_mom(&w, &s->first_step);
    for (size_t i = 0; i < s->n_assets; i++)
        put_mom(&w, &s->impact_share[i]);
}

/* Moments of n_expected values (UINT64_MAX: any count up to `most`), shift as allocated. */
static void get_mom(xm_le_reader *r, xm_xmoments *m, uint64_t n_expected, uint64_t most)
{
    m->n = xm_le_read_u64(r);
    uint64_t u = xm_le_read_u64(r), mine = xm_f64_bits(m->shift);
    if (n_expected != UINT64_MAX ? m->n != n_expected : m->n > most)
        r->bad = 1;
    if (u != mine)                   /* another fund: another model */
        r->bad = 1;
    xm_xsum *sums[2] = {&m->s1, &m->s2};
    for (int j = 0; j < 2; j++) {
        for (int i = 0; i < XM_XSUM_CHUNKS; i++) {
            sums[j]->c[i] = xm_le_read_i64(r);
            /* The normalized form only: every chunk but the top in [0, 2^32). */
            if (i + 1 < XM_XSUM_CHUNKS && (sums[j]->c[i] < 0 || sums[j]->c[i] >= CHUNK_BASE))
                r->bad = 1;
        }
        sums[j]->adds = 0;
    }
}

static void get_bincol(xm_le_reader *r, xm_bincol *c, uint64_t paths)
{
    get_mom(r, &c->mom, paths, 0);
    c->above = xm_le_read_u64(r);
    uint64_t nz = xm_le_read_u64(r), total = 0;
    if (r->bad || c->above > paths || nz > XM_BINS_COUNT || nz > (r->n - r->off) / 12) {
        r->bad = 1;
        return;
    }
    int64_t last = -1;
    for (uint64_t k = 0; k < nz && !r->bad; k++) {
        uint32_t b = xm_le_read_u32(r);
        uint64_t count = xm_le_read_u64(r);
        if ((int64_t)b <= last || b >= XM_BINS_COUNT || count == 0 || count > paths - total) {
            r->bad = 1;
            return;
        }
        c->bins[b] = count;
        total += count;
        last = b;
    }
    if (total != paths)
        r->bad = 1;
}

int xm_mergestats_decode(xm_mergestats *s, const unsigned char *in, size_t len)
{
    xm_le_reader r = {in, len, 0, 0};
    xm_mergestats_clear(s);
    if (xm_le_read_u64(&r) != s->n_assets)
        return -1;
    s->paths = xm_le_read_u64(&r);
    for (int e = 0; e < XM_PE_COUNT; e++)
        if ((s->events[e] = xm_le_read_u64(&r)) > s->paths)
            r.bad = 1;
    for (size_t k = 0; k < n_bincols(s) && !r.bad; k++)
        get_bincol(&r, bincol_at(s, k), s->paths);
    get_mom(&r, &s->first_step, UINT64_MAX, s->paths);
    for (size_t i = 0; i < s->n_assets; i++)
        get_mom(&r, &s->impact_share[i], s->paths, 0);
    if (r.bad || r.off != r.n) {
        xm_mergestats_clear(s);
        return -1;
    }
    return 0;
}
