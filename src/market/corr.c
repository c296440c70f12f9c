/* corr.c — eigenvalues, Cholesky and the nearest correlation matrix (see xmrisk/corr.h).
 *
 * GSL's default error handler aborts. Every call here is made only on input that GSL accepts
 * (square, symmetric, positive definite where required: the caller checks the smallest
 * eigenvalue first), so GSL never reaches its handler from this file; the command-line tool
 * also switches the handler off at start (gsl_set_error_handler_off).
 */
#include "xmrisk/corr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>

/* Scratch for symmetric eigen-decompositions of one size. */
typedef struct {
    size_t n;
    double *a;                 /* n*n copy (GSL destroys its input) */
    gsl_vector *eval;
    gsl_matrix *evec;          /* NULL when only values are wanted */
    gsl_eigen_symm_workspace *w_val;
    gsl_eigen_symmv_workspace *w_vec;
} eig_ws;

static void eig_ws_free(eig_ws *e)
{
    free(e->a);
    if (e->eval) gsl_vector_free(e->eval);
    if (e->evec) gsl_matrix_free(e->evec);
    if (e->w_val) gsl_eigen_symm_free(e->w_val);
    if (e->w_vec) gsl_eigen_symmv_free(e->w_vec);
    memset(e, 0, sizeof *e);
}

static xm_status eig_ws_init(eig_ws *e, size_t n, int vectors, xm_error *err)
{
    memset(e, 0, sizeof *e);
    if (n == 0)  /* GSL would call its (aborting) error handler on a 0x0 allocation */
        return xm_error_set(err, XM_ENUMERIC, "correlation: empty (0x0) matrix");
    e->n = n;
    e->a = malloc(n * n * sizeof *e->a);
    e->eval = gsl_vector_alloc(n);
    if (vectors) {
        e->evec = gsl_matrix_alloc(n, n);
        e->w_vec = gsl_eigen_symmv_alloc(n);
    } else {
        e->w_val = gsl_eigen_symm_alloc(n);
    }
    if (!e->a || !e->eval || (vectors ? !e->evec || !e->w_vec : !e->w_val)) {
        eig_ws_free(e);
        return xm_error_set(err, XM_ENOMEM, "correlation: out of memory for a %zux%zu matrix",
                            n, n);
    }
    return XM_OK;
}

static double vector_min(const gsl_vector *v)
{
    double m = gsl_vector_get(v, 0);
    for (size_t i = 1; i < v->size; i++)
        m = fmin(m, gsl_vector_get(v, i));
    return m;
}

xm_status xm_corr_min_eigen(const double *a, size_t n, double *min_eigen, xm_error *err)
{
    eig_ws e;
    xm_status st = eig_ws_init(&e, n, 0, err);
    if (st != XM_OK)
        return st;
    memcpy(e.a, a, n * n * sizeof *a);
    gsl_matrix_view av = gsl_matrix_view_array(e.a, n, n);
    gsl_eigen_symm(&av.matrix, e.eval, e.w_val);
    *min_eigen = vector_min(e.eval);
    eig_ws_free(&e);
    return XM_OK;
}

xm_status xm_corr_cholesky(const double *a, size_t n, double *l, xm_error *err)
{
    double min_eigen;
    xm_status st = xm_corr_min_eigen(a, n, &min_eigen, err);
    if (st != XM_OK)
        return st;
    /* Refuse before GSL would: a matrix this close to singular has no usable factor. */
    if (!(min_eigen > 1e-12))
        return xm_error_set(err, XM_ENUMERIC,
                            "matrix is not positive definite (smallest eigenvalue %.6g)",
                            min_eigen);
    memcpy(l, a, n * n * sizeof *a);
    gsl_matrix_view lv = gsl_matrix_view_array(l, n, n);
    gsl_linalg_cholesky_decomp1(&lv.matrix);  /* L in the lower triangle, L^T above */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            l[i * n + j] = 0.0;
    return XM_OK;
}

/* P_S: projection onto the positive semidefinite cone with eigenvalues >= floor:
 * x = V diag(max(lambda, floor)) V^T (Higham 2002, Theorem 3.2 with W = I). */
static void project_psd(eig_ws *e, const double *r, double floor, double *x)
{
    size_t n = e->n;
    memcpy(e->a, r, n * n * sizeof *r);
    gsl_matrix_view av = gsl_matrix_view_array(e->a, n, n);
    gsl_eigen_symmv(&av.matrix, e->eval, e->evec, e->w_vec);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j <= i; j++) {
            double s = 0.0;
            for (size_t k = 0; k < n; k++) {
                double lam = fmax(gsl_vector_get(e->eval, k), floor);
                s += gsl_matrix_get(e->evec, i, k) * lam * gsl_matrix_get(e->evec, j, k);
            }
            x[i * n + j] = x[j * n + i] = s;
        }
    }
}

static double frobenius_diff(const double *a, const double *b, size_t nn)
{
    double s = 0.0;
    for (size_t k = 0; k < nn; k++)
        s += (a[k] - b[k]) * (a[k] - b[k]);
    return sqrt(s);
}

static double frobenius(const double *a, size_t nn)
{
    double s = 0.0;
    for (size_t k = 0; k < nn; k++)
        s += a[k] * a[k];
    return sqrt(s);
}

/* Final touch: clip eigenvalues to min_eigen, then D^{-1/2} X D^{-1/2} for a unit diagonal. */
static void finish_correlation(eig_ws *e, const double *y, double min_eigen, double *out)
{
    size_t n = e->n;
    double *x = malloc(n * n * sizeof *x);
    if (x == NULL) {  /* keep y as it is: already unit diagonal and PSD to tolerance */
        memcpy(out, y, n * n * sizeof *y);
        return;
    }
    project_psd(e, y, min_eigen, x);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            out[i * n + j] = x[i * n + j] / sqrt(x[i * n + i] * x[j * n + j]);
    for (size_t i = 0; i < n; i++)
        out[i * n + i] = 1.0;
    free(x);
}

xm_status xm_corr_nearest(const double *a, size_t n, double tol, int max_iter,
                          double min_eigen, double *out, xm_error *err)
{
    size_t nn = n * n;
    eig_ws e;
    xm_status st = eig_ws_init(&e, n, 1, err);
    if (st != XM_OK)
        return st;
    double *buf = calloc(4 * nn, sizeof *buf);
    if (buf == NULL) {
        eig_ws_free(&e);
        return xm_error_set(err, XM_ENOMEM, "correlation: out of memory");
    }
    double *y = buf, *ds = buf + nn, *r = buf + 2 * nn, *x = buf + 3 * nn;
    memcpy(y, a, nn * sizeof *a);
    /* Higham (2002) Algorithm 3.3, W = I: Dykstra-corrected alternating projections onto
     * S (PSD matrices) and U (unit diagonal). Stop on the relative change of Y. */
    st = XM_ENUMERIC;
    for (int it = 0; it < max_iter; it++) {
        for (size_t k = 0; k < nn; k++)
            r[k] = y[k] - ds[k];                     /* R = Y - dS */
        project_psd(&e, r, 0.0, x);                  /* X = P_S(R) */
        for (size_t k = 0; k < nn; k++)
            ds[k] = x[k] - r[k];                     /* dS = X - R */
        double change = frobenius_diff(x, y, nn);    /* before Y = P_U(X) */
        memcpy(y, x, nn * sizeof *x);
        for (size_t i = 0; i < n; i++)
            y[i * n + i] = 1.0;                      /* Y = P_U(X) */
        if (change <= tol * frobenius(y, nn)) {
            st = XM_OK;
            break;
        }
    }
    if (st == XM_OK)
        finish_correlation(&e, y, min_eigen, out);
    else
        xm_error_set(err, XM_ENUMERIC,
                     "nearest correlation matrix: no convergence to %.3g in %d iterations",
                     tol, max_iter);
    free(buf);
    eig_ws_free(&e);
    return st;
}
