/* paths.c — one correlated price path at a time (see xmrisk/paths.h and model.md §2). */
#include "xmrisk/paths.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "xmrisk/rng.h"
#include "core/vexp.h"

struct xm_path_ws {
    const xm_market *m;
    size_t n;
    xm_process process;
    gsl_rng *r;            /* gsl_rng over the path's PCG64 state */
    double *lpacked;       /* L's lower triangle, row by row: n(n+1)/2 values */
    double *drift;         /* per step: (mu - sigma^2/2) tau, or mu S0 tau (bachelier) */
    double *vol;           /* per step: sigma sqrt(tau), or sigma S0 sqrt(tau) (bachelier) */
    double *beta;          /* jump loadings */
    double *z, *eps;       /* scratch: independent and correlated normals */
    double *log_s, *s;     /* state: ln S and S */
    double jump_mean_step; /* lambda tau: expected jumps per step */
    double jump_emu;       /* exp(-lambda tau), for the Poisson draw */
    double dof;
    uint64_t jumps;        /* jumps drawn on the current path */
};

static double *take(double **cursor, size_t count)
{
    double *p = *cursor;
    *cursor += count;
    return p;
}

static void fill_step_constants(xm_path_ws *w, double tau)
{
    const xm_market *m = w->m;
    size_t k = 0;
    for (size_t i = 0; i < w->n; i++)
        for (size_t j = 0; j <= i; j++)
            w->lpacked[k++] = m->chol[i * w->n + j];
    for (size_t i = 0; i < w->n; i++) {
        const xm_asset *a = &m->assets[i];
        if (w->process == XM_PROCESS_BACHELIER) {
            w->drift[i] = a->drift * a->price * tau;
            w->vol[i] = a->vol * a->price * sqrt(tau);
        } else {
            w->drift[i] = (a->drift - 0.5 * a->vol * a->vol) * tau;
            w->vol[i] = a->vol * sqrt(tau);
        }
        w->beta[i] = a->jump_beta;
    }
    w->jump_mean_step = m->jumps.enabled ? m->jumps.rate_per_year * tau : 0.0;
    w->jump_emu = exp(-w->jump_mean_step);
}

xm_path_ws *xm_path_ws_alloc(const xm_market *m, double tau, xm_error *err)
{
    size_t n = m->n;
    xm_path_ws *w = calloc(1, sizeof *w);
    double *block = NULL;
    if (w != NULL) {
        block = malloc((n * (n + 1) / 2 + 7 * n) * sizeof *block);
        w->r = gsl_rng_alloc(xm_gsl_rng_pcg64);
    }
    if (w == NULL || block == NULL || w->r == NULL) {
        if (w != NULL && w->r != NULL)
            gsl_rng_free(w->r);
        free(block);
        free(w);
        xm_error_set(err, XM_ENOMEM, "paths: out of memory for a %zu-asset workspace", n);
        return NULL;
    }
    w->m = m;
    w->n = n;
    w->process = m->process;
    w->dof = m->dof;
    double *cur = block;
    w->lpacked = take(&cur, n * (n + 1) / 2);
    w->drift = take(&cur, n);
    w->vol = take(&cur, n);
    w->beta = take(&cur, n);
    w->z = take(&cur, n);
    w->eps = take(&cur, n);
    w->log_s = take(&cur, n);
    w->s = take(&cur, n);
    fill_step_constants(w, tau);
    xm_path_begin(w, 0, 0);
    return w;
}

void xm_path_ws_free(xm_path_ws *w)
{
    if (w == NULL)
        return;
    gsl_rng_free(w->r);
    free(w->lpacked);  /* start of the single block */
    free(w);
}

void xm_path_begin(xm_path_ws *w, uint64_t seed, uint64_t path)
{
    xm_pcg64_seed_path(xm_gsl_pcg64_state(w->r), seed, path);
    for (size_t i = 0; i < w->n; i++) {
        w->s[i] = w->m->assets[i].price;
        w->log_s[i] = log(w->s[i]);
    }
    w->jumps = 0;
}

/* eps = L z with L packed lower-triangular. */
static void correlate(xm_path_ws *w)
{
    const double *l = w->lpacked;
    for (size_t i = 0; i < w->n; i++) {
        double acc = 0.0;
        for (size_t j = 0; j <= i; j++)
            acc += l[j] * w->z[j];
        w->eps[i] = acc;
        l += i + 1;
    }
}

/* K ~ Poisson(lambda tau): gsl_ran_poisson's own method for a mean up to 10 (GSL 2.x,
 * randist/poisson.c: count uniforms until their product falls to exp(-mean)), the same
 * draws and the same K, without recomputing exp(-mean) at every step; gsl_ran_poisson
 * itself above 10. */
static unsigned int draw_poisson(xm_path_ws *w)
{
    if (w->jump_mean_step > 10.0)
        return gsl_ran_poisson(w->r, w->jump_mean_step);
    double prod = 1.0;
    unsigned int k = 0;
    do {
        prod *= gsl_rng_uniform(w->r);
        k++;
    } while (prod > w->jump_emu);
    return k - 1;
}

/* The common log-jump of this step: sum of K ~ Poisson(lambda tau) jumps N(mu_J, s_J^2),
 * drawn as one normal N(K mu_J, K s_J^2). */
static double draw_jump(xm_path_ws *w)
{
    unsigned int k = draw_poisson(w);
    if (k == 0)
        return 0.0;
    w->jumps += k;
    const xm_jumps *j = &w->m->jumps;
    return k * j->mean + j->stdev * sqrt((double)k) * gsl_ran_gaussian_ziggurat(w->r, 1.0);
}

void xm_path_step(xm_path_ws *w)
{
    size_t n = w->n;
    for (size_t i = 0; i < n; i++)
        w->z[i] = gsl_ran_gaussian_ziggurat(w->r, 1.0);
    correlate(w);
    if (w->process == XM_PROCESS_BACHELIER) {
        for (size_t i = 0; i < n; i++) {
            w->s[i] += w->drift[i] + w->vol[i] * w->eps[i];
            w->log_s[i] = w->s[i] > 0.0 ? log(w->s[i]) : -INFINITY;
        }
        return;
    }
    double scale = 1.0;
    if (w->process == XM_PROCESS_STUDENT_T)  /* unit-variance t: sqrt((nu - 2) / W) */
        scale = sqrt((w->dof - 2.0) / gsl_ran_chisq(w->r, w->dof));
    double jump = w->jump_mean_step > 0.0 ? draw_jump(w) : 0.0;
    for (size_t i = 0; i < n; i++)
        w->log_s[i] += w->drift[i] + w->vol[i] * scale * w->eps[i] + w->beta[i] * jump;
    xm_vexp_array(w->log_s, w->s, n);
}

const double *xm_path_prices(const xm_path_ws *w) { return w->s; }
const double *xm_path_log_prices(const xm_path_ws *w) { return w->log_s; }
uint64_t xm_path_jump_count(const xm_path_ws *w) { return w->jumps; }
gsl_rng *xm_path_rng(xm_path_ws *w) { return w->r; }
