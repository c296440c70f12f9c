/* population.c — a seeded synthetic population of accounts (see xmrisk/population.h).
 *
 * What a population is (parameters as in xm_population_params / the `population:` key):
 *
 *   accounts          number of accounts added to the book (appended after any already there).
 *   isolated_share    probability that an account is in isolated margin mode; otherwise cross.
 *   assets_min/max    positions per account: uniform integer in [assets_min, assets_max], then
 *                     capped at the number of drawable assets (so with assets_max above that
 *                     number the top counts pile up at the cap).
 *   asset_weight      which assets: drawn without replacement, each draw with probability
 *                     proportional to the weights of the assets not yet drawn. An asset with
 *                     weight 0 or without a tier table is never drawn ("not drawable"); with
 *                     no drawable asset at all the population is a model error. Only the first
 *                     draw of an account is exactly proportional to the weights: later draws
 *                     are conditional on the earlier ones (successive sampling), so inclusion
 *                     frequencies of multi-asset accounts are flatter than the weights.
 *   hedged_share      probability that a *cross* account (with >= 2 drawable assets) is a
 *                     hedged pair: exactly two positions in two different assets, one long and
 *                     one short, of the same notional. Isolated accounts are never hedged.
 *   long_share        probability that a position is long. In a hedged pair it is the
 *                     probability that the first-drawn asset is the long leg.
 *   notional_usd      notional N of a position, USD at entry: lognormal with the given median
 *                     and log-stdev sigma, ln N ~ N(ln median, sigma^2), clipped to [min, max],
 *                     then to the asset's last tier cap (positions never start beyond the
 *                     tiers). A hedged pair draws one N, clipped to both assets' last caps.
 *   leverage          leverage L: lognormal (median, sigma) clipped to [min, max]; one draw per
 *                     cross account (shared by its positions), one per isolated position. Each
 *                     position then uses min(L, max_leverage of the tier holding N), so the
 *                     tier cap always wins, even over leverage.min.
 *   entry_dispersion  entry price e = S0 exp(d Z), Z ~ N(0, 1), d = entry_dispersion: entries
 *                     scatter around today's price S0 (d = 0: every entry is S0).
 *   id_prefix         account ids are id_prefix followed by the account's index within this
 *                     population, 0-based, zero-padded to the width of accounts - 1
 *                     ("pop-000000" .. "pop-999999" for a million).
 *
 * Size and collateral of a position: q = +-N / e base units (rounded toward zero so that the
 * booked notional |q| e never exceeds N), isolated margin M = N / L_pos, cross wallet
 * W = sum over the account's positions of N / L_pos. So every account starts with equity
 * W (or M) = N / L_pos >= N / max_leverage_k > N mmr_k - cum_k = MM(N) as soon as the tier
 * table has mmr_k < 1 / max_leverage_k, which holds in every published table (e.g. Binance
 * 125x / 0.4%, 1x / 50%; docs/venues.md a.1). A hand-made table that breaks it
 * (mmr_k >= 1 / max_leverage_k) can produce accounts liquidatable at entry; nothing here
 * corrects that, and `xmrisk check` warns about such accounts.
 * That guarantee is at each account's own entry prices. A run starts at today's prices S0,
 * where an account already carries q (S0 - e): with entry_dispersion > 0 and high leverage
 * some accounts start at or below MM and liquidate at the first check (after step 1). With
 * leverage median 10, entry_dispersion 0.02, Binance 2021 tiers, 1-4 positions and 10%
 * hedged pairs, that is about 1.25% of accounts. Hence the default entry_dispersion is 0
 * (every entry S0): every generated account starts solvent at S0.
 *
 * Randomness and reproducibility. All draws come from one PCG64 stream seeded with
 * xm_pcg64_seed_path(seed, XM_POPULATION_STREAM) (through the GSL adapter): the derivation of
 * a path stream, at a "path" index no run reaches, so the population depends on the model seed
 * alone and is unrelated to every path's stream. Draws happen in this fixed order, account by
 * account (U: gsl_rng_uniform, Z: gsl_ran_gaussian_ziggurat, I: gsl_rng_uniform_int):
 *   1. U                      isolated when U < isolated_share;
 *   2. U (cross accounts)     hedged pair when U < hedged_share and >= 2 assets are drawable;
 *   3. I (not hedged)         count = assets_min + I(assets_max - assets_min + 1), capped;
 *   4. U per asset            the assets, in draw order (= the order of the positions);
 *   5. Z (cross accounts)     the account leverage;
 *   6. per position, in order:
 *        U  side (hedged pair: first position only; the second takes the other side),
 *        Z  notional (hedged pair: first position only; the second reuses it),
 *        Z  leverage (isolated accounts only),
 *        Z  entry price.
 * A draw is made even when its parameter makes it irrelevant (sigma = 0, a single possible
 * count, a share of 0 or 1), so how many variates an account takes depends only on its mode,
 * hedge and count, never directly on a parameter's value. (Each Z is one ziggurat normal,
 * which itself uses a variable number of raw 64-bit outputs; that too is deterministic.)
 *
 * Cost: O(k log n + k^2) per account of k positions in n assets (weights are sampled by binary
 * search over cumulative weights, skipping the assets already drawn) and no allocation per
 * account beyond the book's own doubling growth: a million accounts of 1-4 positions take
 * about 0.4-0.6 s and 100 MB (one core, 2026).
 *
 * Numerical edge: weights spanning more than ~2^52 can make a small asset's interval vanish
 * in the cumulative sums; the sampler then falls back to the nearest still-drawable asset, so
 * it always returns distinct drawable assets, but those extreme ratios are only approximated.
 */
#include "xmrisk/population.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "xmrisk/rng.h"

xm_status xm_population_defaults(xm_population_params *p, size_t n_assets, xm_error *err)
{
    memset(p, 0, sizeof *p);
    p->asset_weight = malloc((n_assets ? n_assets : 1) * sizeof *p->asset_weight);
    if (p->asset_weight == NULL)
        return xm_error_set(err, XM_ENOMEM, "population: out of memory");
    for (size_t i = 0; i < n_assets; i++)
        p->asset_weight[i] = 1.0;
    p->n_assets = n_assets;
    p->accounts = 10000;
    p->isolated_share = 0.2;
    p->assets_min = 1;
    p->assets_max = n_assets < 3 ? (uint32_t)(n_assets ? n_assets : 1) : 3;
    p->leverage = (xm_lognormal){.median = 10.0, .sigma = 0.7, .min = 1.0, .max = 125.0};
    p->notional_usd = (xm_lognormal){.median = 5000.0, .sigma = 1.5, .min = 10.0, .max = 5.0e7};
    p->long_share = 0.6;
    p->hedged_share = 0.0;
    p->entry_dispersion = 0.0;
    memcpy(p->id_prefix, "pop-", sizeof "pop-");
    return XM_OK;
}

void xm_population_params_clear(xm_population_params *p)
{
    if (p == NULL)
        return;
    free(p->asset_weight);
    memset(p, 0, sizeof *p);
}

/* ---- validation ---- */

static xm_status check_share(const char *name, double x, xm_error *err)
{
    if (!(x >= 0.0 && x <= 1.0))
        return xm_error_set(err, XM_EMODEL, "population: %s: expected a share in [0, 1], got %g",
                            name, x);
    return XM_OK;
}

static xm_status check_lognormal(const char *name, const xm_lognormal *l, xm_error *err)
{
    if (!(l->min > 0.0 && isfinite(l->min)))
        return xm_error_set(err, XM_EMODEL, "population: %s.min: expected a finite value > 0, got %g",
                            name, l->min);
    if (!(l->max >= l->min))
        return xm_error_set(err, XM_EMODEL, "population: %s.max: expected at least min = %g, got %g",
                            name, l->min, l->max);
    if (!(l->median >= l->min && l->median <= l->max && isfinite(l->median)))
        return xm_error_set(err, XM_EMODEL,
                            "population: %s.median: expected a finite value in [min, max] = [%g, %g], got %g",
                            name, l->min, l->max, l->median);
    if (!(l->sigma >= 0.0 && isfinite(l->sigma)))
        return xm_error_set(err, XM_EMODEL, "population: %s.sigma: expected a finite value >= 0, got %g",
                            name, l->sigma);
    return XM_OK;
}

/* The counts, shares, laws and id prefix (book b: room for the accounts). */
static xm_status check_scalars(const xm_population_params *p, const xm_accounts *b,
                               xm_error *err)
{
    xm_status st;
    if (p->accounts < 1)
        return xm_error_set(err, XM_EMODEL, "population: accounts: expected at least 1, got 0");
    if (p->accounts > (uint64_t)UINT32_MAX - 2 - b->n_accounts)
        return xm_error_set(err, XM_EMODEL,
                            "population: accounts: %llu more accounts do not fit in a book of "
                            "%zu (at most 2^32 - 2 in all)",
                            (unsigned long long)p->accounts, b->n_accounts);
    if ((st = check_share("isolated_share", p->isolated_share, err)) != XM_OK ||
        (st = check_share("long_share", p->long_share, err)) != XM_OK ||
        (st = check_share("hedged_share", p->hedged_share, err)) != XM_OK)
        return st;
    if (p->assets_min < 1)
        return xm_error_set(err, XM_EMODEL, "population: assets_min: expected at least 1, got 0");
    if (p->assets_max < p->assets_min)
        return xm_error_set(err, XM_EMODEL,
                            "population: assets_max: expected at least assets_min = %u, got %u",
                            (unsigned)p->assets_min, (unsigned)p->assets_max);
    if ((st = check_lognormal("leverage", &p->leverage, err)) != XM_OK ||
        (st = check_lognormal("notional_usd", &p->notional_usd, err)) != XM_OK)
        return st;
    if (!(p->entry_dispersion >= 0.0 && isfinite(p->entry_dispersion)))
        return xm_error_set(err, XM_EMODEL,
                            "population: entry_dispersion: expected a finite value >= 0, got %g",
                            p->entry_dispersion);
    if (memchr(p->id_prefix, '\0', sizeof p->id_prefix) == NULL)
        return xm_error_set(err, XM_EMODEL, "population: id_prefix: longer than %zu characters",
                            sizeof p->id_prefix - 1);
    return XM_OK;
}

/* The weights against the market and the venue: one per asset, finite, >= 0; a drawable asset
 * (weight > 0 and a tier table) has a positive price. */
static xm_status check_weights(const xm_population_params *p, const xm_market *m,
                               const xm_venue *v, xm_error *err)
{
    if (p->n_assets != m->n || v->n_assets != m->n)
        return xm_error_set(err, XM_EMODEL,
                            "population: n_assets: %zu asset weights and %zu tier tables for a "
                            "market of %zu assets",
                            p->n_assets, v->n_assets, m->n);
    if (m->n > (size_t)UINT16_MAX + 1)
        return xm_error_set(err, XM_EMODEL, "population: n_assets: at most %u assets, got %zu",
                            (unsigned)UINT16_MAX + 1, m->n);
    if (p->asset_weight == NULL)
        return xm_error_set(err, XM_EMODEL, "population: asset_weight: missing");
    for (size_t i = 0; i < m->n; i++) {
        double w = p->asset_weight[i];
        if (!(w >= 0.0 && isfinite(w)))
            return xm_error_set(err, XM_EMODEL,
                                "population: asset_weight[%zu] (%s): expected a finite weight >= 0, got %g",
                                i, m->assets[i].symbol, w);
        if (w > 0.0 && v->tiers[i].n > 0 && !(m->assets[i].price > 0.0 && isfinite(m->assets[i].price)))
            return xm_error_set(err, XM_EMODEL,
                                "population: asset_weight[%zu] (%s): the asset has no positive price",
                                i, m->assets[i].symbol);
    }
    return XM_OK;
}

static xm_status check_params(const xm_population_params *p, const xm_market *m,
                              const xm_venue *v, const xm_accounts *b, xm_error *err)
{
    xm_status st = check_scalars(p, b, err);
    return st == XM_OK ? check_weights(p, m, v, err) : st;
}

/* ---- weighted sampling without replacement ---- */

typedef struct {
    size_t n, n_drawable;
    double *w;        /* n weights, 0 for assets that cannot be drawn */
    double *cum;      /* n + 1 cumulative weights: asset i owns [cum[i], cum[i+1]) */
    double total;     /* cum[n] */
    size_t *chosen;   /* assets drawn so far for the current account, ascending */
} asset_sampler;

/* Smallest i with cum[i+1] > t, or n when t >= total (zero-width intervals are never hit). */
static size_t find_interval(const asset_sampler *s, double t)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->cum[mid + 1] > t)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static int is_chosen(const asset_sampler *s, size_t k, size_t i)
{
    for (size_t c = 0; c < k; c++)
        if (s->chosen[c] == i)
            return 1;
    return 0;
}

/* Rounding fallback: the drawable, not yet drawn asset nearest to index i (one exists). */
static size_t nearest_free(const asset_sampler *s, size_t k, size_t i)
{
    if (i >= s->n)
        i = s->n - 1;
    for (size_t d = 0; d < s->n; d++) {
        if (i >= d && s->w[i - d] > 0.0 && !is_chosen(s, k, i - d))
            return i - d;
        if (i + d < s->n && s->w[i + d] > 0.0 && !is_chosen(s, k, i + d))
            return i + d;
    }
    return i;  /* unreachable while k < n_drawable */
}

/* Draw k <= n_drawable distinct assets into out[] (successive sampling: each draw is
 * proportional to the weights of the assets left). One uniform per draw. */
static void draw_assets(gsl_rng *r, asset_sampler *s, size_t k, size_t *out)
{
    double removed = 0.0;
    for (size_t d = 0; d < k; d++) {
        double t = gsl_rng_uniform(r) * (s->total - removed);
        /* t is a point of the line with the chosen intervals cut out: put them back. */
        for (size_t c = 0; c < d && t >= s->cum[s->chosen[c]]; c++)
            t += s->w[s->chosen[c]];
        size_t i = find_interval(s, t);
        if (i >= s->n || s->w[i] == 0.0 || is_chosen(s, d, i))
            i = nearest_free(s, d, i);
        out[d] = i;
        removed += s->w[i];
        size_t c = d;  /* insert into the ascending list */
        while (c > 0 && s->chosen[c - 1] > i) {
            s->chosen[c] = s->chosen[c - 1];
            c--;
        }
        s->chosen[c] = i;
    }
}

/* ---- the generator ---- */

typedef struct {
    double mu, sigma, min, max, median;  /* mu = ln median */
} lognormal_law;

static lognormal_law law_of(const xm_lognormal *l)
{
    return (lognormal_law){log(l->median), l->sigma, l->min, l->max, l->median};
}

/* One Z, always drawn; exp(mu + sigma Z) clipped to [min, max]. */
static double draw_lognormal(gsl_rng *r, const lognormal_law *l)
{
    double z = gsl_ran_gaussian_ziggurat(r, 1.0);
    double x = l->sigma == 0.0 ? l->median : exp(l->mu + l->sigma * z);
    return x < l->min ? l->min : x > l->max ? l->max : x;
}

static double tier_max_leverage(const xm_tier_table *t, double notional)
{
    long k = xm_tier_index(t, notional);
    return t->tier[k < 0 ? (long)t->n - 1 : k].max_leverage;
}

/* Decimal digits of x (at least 1). */
static int digits(uint64_t x)
{
    int n = 1;
    while (x >= 10) {
        x /= 10;
        n++;
    }
    return n;
}

typedef struct {
    size_t *asset;                 /* the account's assets, in draw order */
    double *qty, *entry, *margin;  /* its positions, before they go to the book */
} position_buf;

/* What every account of the population is drawn with. */
typedef struct {
    const xm_population_params *p;
    const xm_market *m;
    const xm_venue *v;
    gsl_rng *r;
    asset_sampler *s;
    const double *last_cap;        /* last tier cap of each asset, 0 without a table */
    lognormal_law lev, notional;
    unsigned long count_span;      /* assets_max - assets_min + 1 */
} draw_ctx;

typedef struct {
    int isolated, hedged;
    size_t k;                      /* positions */
} account_shape;

/* Draws 1-3 of the header comment: mode, hedge, count. */
static account_shape draw_shape(const draw_ctx *d)
{
    const xm_population_params *p = d->p;
    account_shape a = {0, 0, 2};
    a.isolated = gsl_rng_uniform(d->r) < p->isolated_share;
    if (!a.isolated)
        a.hedged = gsl_rng_uniform(d->r) < p->hedged_share && d->s->n_drawable >= 2;
    if (!a.hedged) {
        a.k = p->assets_min + gsl_rng_uniform_int(d->r, d->count_span);
        if (a.k > d->s->n_drawable)
            a.k = d->s->n_drawable;
    }
    return a;
}

/* Draw 6 of the header comment: the positions of an account (its assets in pos->asset) into
 * pos; returns the cross wallet (0 for an isolated account). */
static double draw_positions(const draw_ctx *d, const account_shape *a, double lev_account,
                             position_buf *pos)
{
    const xm_population_params *p = d->p;
    double wallet = 0.0, n_usd = 0.0;
    int long_side = 1;
    for (size_t j = 0; j < a->k; j++) {
        size_t i = pos->asset[j];
        if (!a->hedged || j == 0) {
            long_side = gsl_rng_uniform(d->r) < p->long_share;
            double cap = d->last_cap[i];
            if (a->hedged && d->last_cap[pos->asset[1]] < cap)
                cap = d->last_cap[pos->asset[1]];
            n_usd = draw_lognormal(d->r, &d->notional);
            if (n_usd > cap)
                n_usd = cap;
        } else {
            long_side = !long_side;  /* the pair's second leg: other side, same N */
        }
        double l = a->isolated ? draw_lognormal(d->r, &d->lev) : lev_account;
        double lmax = tier_max_leverage(&d->v->tiers[i], n_usd);
        if (l > lmax)
            l = lmax;
        double z = gsl_ran_gaussian_ziggurat(d->r, 1.0);
        double e = d->m->assets[i].price * exp(p->entry_dispersion * z);
        double q = n_usd / e;
        while (q * e > n_usd)  /* booked notional |q| e never above N (tier, cap) */
            q = nextafter(q, 0.0);
        pos->qty[j] = long_side ? q : -q;
        pos->entry[j] = e;
        pos->margin[j] = a->isolated ? n_usd / l : 0.0;
        wallet += a->isolated ? 0.0 : n_usd / l;
    }
    return wallet;
}

/* The index x right-aligned in the `width` digits after the prefix (zero-padded). */
static void put_index(char *digits_at, int width, uint64_t x)
{
    for (int c = width - 1; c >= 0; c--) {
        digits_at[c] = (char)('0' + x % 10);
        x /= 10;
    }
}

/* One drawn account and its positions into the book. */
static xm_status book_account(xm_accounts *book, const char *id, const account_shape *a,
                              double wallet, const position_buf *pos, xm_error *err)
{
    xm_status st = xm_accounts_add_account(book, id, a->isolated ? XM_ISOLATED : XM_CROSS,
                                           wallet, err);
    for (size_t j = 0; j < a->k && st == XM_OK; j++)
        st = xm_accounts_add_position(book, (uint16_t)pos->asset[j], pos->qty[j],
                                      pos->entry[j], pos->margin[j], err);
    return st;
}

/* Draw p->accounts accounts (the fixed order of the header comment) and append them. */
static xm_status fill_book(const draw_ctx *d, position_buf *pos, xm_accounts *book,
                           xm_error *err)
{
    const xm_population_params *p = d->p;
    /* Ids: the prefix, then the index right-aligned in a fixed-width zero-padded field. */
    char id[sizeof p->id_prefix + 24];
    size_t plen = strlen(p->id_prefix);
    int width = digits(p->accounts - 1);
    memcpy(id, p->id_prefix, plen);
    id[plen + (size_t)width] = '\0';
    for (uint64_t a = 0; a < p->accounts; a++) {
        account_shape shape = draw_shape(d);
        /* 4-5: assets, account leverage. */
        draw_assets(d->r, d->s, shape.k, pos->asset);
        double lev_account = shape.isolated ? 0.0 : draw_lognormal(d->r, &d->lev);
        double wallet = draw_positions(d, &shape, lev_account, pos);
        put_index(id + plen, width, a);
        xm_status st = book_account(book, id, &shape, wallet, pos, err);
        if (st != XM_OK)
            return st;
    }
    return XM_OK;
}

/* The sampler over the drawable assets (weight > 0 and a tier table) and each asset's last
 * tier cap. */
static void sampler_init(asset_sampler *s, double *last_cap, const xm_population_params *p,
                         const xm_venue *v)
{
    s->cum[0] = 0.0;
    for (size_t i = 0; i < s->n; i++) {
        const xm_tier_table *t = &v->tiers[i];
        s->w[i] = t->n > 0 ? p->asset_weight[i] : 0.0;
        last_cap[i] = t->n > 0 ? t->tier[t->n - 1].cap_usd : 0.0;
        s->n_drawable += s->w[i] > 0.0;
        s->cum[i + 1] = s->cum[i] + s->w[i];
    }
    s->total = s->cum[s->n];
}

/* Working memory for n assets; 0, or -1 when some allocation failed (free with work_free). */
static int work_alloc(size_t n, asset_sampler *s, double **last_cap, position_buf *pos)
{
    *s = (asset_sampler){.n = n};
    *pos = (position_buf){0};
    *last_cap = malloc(n * sizeof **last_cap);
    s->w = malloc(n * sizeof *s->w);
    s->cum = malloc((n + 1) * sizeof *s->cum);
    s->chosen = malloc(n * sizeof *s->chosen);
    pos->asset = malloc(n * sizeof *pos->asset);
    pos->qty = malloc(3 * n * sizeof *pos->qty);
    if (!s->w || !s->cum || !s->chosen || !*last_cap || !pos->asset || !pos->qty)
        return -1;
    pos->entry = pos->qty + n;
    pos->margin = pos->qty + 2 * n;
    return 0;
}

static void work_free(asset_sampler *s, double *last_cap, position_buf *pos)
{
    free(pos->qty);
    free(pos->asset);
    free(s->chosen);
    free(s->cum);
    free(s->w);
    free(last_cap);
}

/* Draw into the book from the seeded stream; all or nothing: on failure the book is put back
 * as it was. */
static xm_status generate(draw_ctx *d, uint64_t seed, position_buf *pos, xm_accounts *book,
                          xm_error *err)
{
    size_t a0 = book->n_accounts, folded0 = book->n_folded;
    xm_pcg64_seed_path(xm_gsl_pcg64_state(d->r), seed, XM_POPULATION_STREAM);
    xm_status st = fill_book(d, pos, book, err);
    if (st != XM_OK)
        xm_accounts_truncate(book, a0, folded0);
    return st;
}

xm_status xm_population_generate(const xm_population_params *p, const xm_market *m,
                                 const xm_venue *v, uint64_t seed, xm_accounts *book, xm_error *err)
{
    xm_status st = check_params(p, m, v, book, err);
    if (st != XM_OK)
        return st;
    asset_sampler s;
    position_buf pos;
    double *last_cap;
    int failed = work_alloc(m->n, &s, &last_cap, &pos);
    gsl_rng *r = gsl_rng_alloc(xm_gsl_rng_pcg64);
    if (failed || r == NULL) {
        st = xm_error_set(err, XM_ENOMEM, "population: out of memory");
    } else {
        sampler_init(&s, last_cap, p, v);
        draw_ctx d = {p, m, v, r, &s, last_cap, law_of(&p->leverage), law_of(&p->notional_usd),
                      (unsigned long)p->assets_max - p->assets_min + 1};
        if (s.n_drawable == 0)
            st = xm_error_set(err, XM_EMODEL,
                              "population: asset_weight: no asset has both a positive weight "
                              "and a tier table");
        else
            st = generate(&d, seed, &pos, book, err);
    }
    gsl_rng_free(r);
    work_free(&s, last_cap, &pos);
    return st;
}
