/* market/ — assets, correlation, price paths (GBM, Student-t, Bachelier, jumps). */
/* market.c — market storage and correlation preparation (see xmrisk/market.h). */
#include "xmrisk/market.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xmrisk/corr.h"

/* Nearest-correlation repair settings: relative tolerance on the iterate, iteration cap, and
 * the eigenvalue floor that keeps the repaired matrix safely positive definite for Cholesky. */
#define XM_REPAIR_TOL 1e-12
#define XM_REPAIR_MAX_ITER 10000
#define XM_REPAIR_MIN_EIGEN 1e-8
/* Below this smallest eigenvalue a correlation matrix is treated as not positive definite:
 * its Cholesky factor would amplify rounding into nonsense. */
#define XM_PD_MIN_EIGEN 1e-10

xm_status xm_market_init(xm_market *m, size_t n, xm_error *err)
{
    memset(m, 0, sizeof *m);
    if (n == 0)
        return xm_error_set(err, XM_EMODEL, "market: at least one asset is needed");
    m->n = n;
    m->assets = calloc(n, sizeof *m->assets);
    m->corr = calloc(n * n, sizeof *m->corr);
    m->chol = calloc(n * n, sizeof *m->chol);
    if (!m->assets || !m->corr || !m->chol) {
        xm_market_clear(m);
        return xm_error_set(err, XM_ENOMEM, "market: out of memory for %zu assets", n);
    }
    for (size_t i = 0; i < n; i++) {
        m->corr[i * n + i] = 1.0;
        m->assets[i].jump_beta = 1.0;
        m->assets[i].impact.half_life_minutes = INFINITY;
    }
    return XM_OK;
}

void xm_market_clear(xm_market *m)
{
    if (m == NULL)
        return;
    free(m->assets);
    free(m->corr);
    free(m->chol);
    memset(m, 0, sizeof *m);
}

/* Shape checks the loader also makes with positions; repeated here for API callers. */
static xm_status check_correlation_shape(const xm_market *m, const char *where, xm_error *err)
{
    size_t n = m->n;
    for (size_t i = 0; i < n; i++) {
        if (!(fabs(m->corr[i * n + i] - 1.0) <= 1e-12))
            return xm_error_set(err, XM_EMODEL, "%s: diagonal entry [%zu][%zu] must be 1, got %g",
                                where, i, i, m->corr[i * n + i]);
        for (size_t j = 0; j < n; j++) {
            double c = m->corr[i * n + j];
            if (!(c >= -1.0 && c <= 1.0))
                return xm_error_set(err, XM_EMODEL, "%s: entry [%zu][%zu] must be in [-1, 1], got %g",
                                    where, i, j, c);
            if (fabs(c - m->corr[j * n + i]) > 1e-12)
                return xm_error_set(err, XM_EMODEL,
                                    "%s: matrix must be symmetric, [%zu][%zu] = %g but [%zu][%zu] = %g",
                                    where, i, j, c, j, i, m->corr[j * n + i]);
        }
    }
    return XM_OK;
}

static xm_status repair_correlation(xm_market *m, const char *where, xm_error *err)
{
    size_t nn = m->n * m->n;
    double *given = malloc(nn * sizeof *given);
    if (given == NULL)
        return xm_error_set(err, XM_ENOMEM, "%s: out of memory", where);
    memcpy(given, m->corr, nn * sizeof *given);
    xm_error sub;
    xm_status st = xm_corr_nearest(given, m->n, XM_REPAIR_TOL, XM_REPAIR_MAX_ITER,
                                   XM_REPAIR_MIN_EIGEN, m->corr, &sub);
    if (st != XM_OK) {
        free(given);
        return xm_error_set(err, st, "%s: %s", where, sub.msg);
    }
    double fro = 0.0, maxabs = 0.0;
    for (size_t k = 0; k < nn; k++) {
        double d = fabs(given[k] - m->corr[k]);
        fro += d * d;
        maxabs = fmax(maxabs, d);
    }
    free(given);
    m->corr_repaired = 1;
    m->corr_repair_frobenius = sqrt(fro);
    m->corr_repair_max_abs_change = maxabs;
    return XM_OK;
}

xm_status xm_market_prepare(xm_market *m, const char *where, xm_error *err)
{
    xm_status st = check_correlation_shape(m, where, err);
    if (st != XM_OK)
        return st;
    xm_error sub;
    st = xm_corr_min_eigen(m->corr, m->n, &m->corr_min_eigen, &sub);
    if (st != XM_OK)
        return xm_error_set(err, st, "%s: %s", where, sub.msg);
    m->corr_repaired = 0;
    m->corr_repair_max_abs_change = 0.0;
    m->corr_repair_frobenius = 0.0;
    if (!(m->corr_min_eigen > XM_PD_MIN_EIGEN)) {
        if (!m->corr_repair)
            return xm_error_set(err, XM_EMODEL,
                                "%s: expected a positive definite correlation matrix (smallest "
                                "eigenvalue above the cutoff %g), got smallest eigenvalue %.6g "
                                "(fix it, or set market.correlation_repair: higham "
                                "to use the nearest correlation matrix, Higham 2002)",
                                where, XM_PD_MIN_EIGEN, m->corr_min_eigen);
        st = repair_correlation(m, where, err);
        if (st != XM_OK)
            return st;
    }
    st = xm_corr_cholesky(m->corr, m->n, m->chol, &sub);
    if (st != XM_OK)
        return xm_error_set(err, XM_EMODEL, "%s: %s", where, sub.msg);
    return XM_OK;
}

long xm_market_find(const xm_market *m, const char *symbol)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->assets[i].symbol, symbol) == 0)
            return (long)i;
    return -1;
}

const char *xm_process_name(xm_process p)
{
    switch (p) {
    case XM_PROCESS_GBM: return "gbm";
    case XM_PROCESS_STUDENT_T: return "student_t";
    case XM_PROCESS_BACHELIER: return "bachelier";
    }
    return "?";
}
