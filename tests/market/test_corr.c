/* test_corr.c — correlation-matrix numerics: smallest eigenvalue, Cholesky factor, and the
 * nearest correlation matrix (Higham 2002). Expected values are closed forms or published
 * numbers; each is cited where it is used. */
#include "xm_test.h"

#include <math.h>

#include "xmrisk/corr.h"

#define MAXN 6

/* ---- helpers ---------------------------------------------------------------------------- */


static double max_abs_diff(const double *a, const double *b, size_t nn)
{
    double m = 0.0;
    for (size_t k = 0; k < nn; k++)
        m = fmax(m, fabs(a[k] - b[k]));
    return m;
}

/* Symmetric, exactly unit diagonal, entries in [-1, 1], smallest eigenvalue >= floor. */
static void assert_correlation_matrix(const double *c, size_t n, double floor)
{
    for (size_t i = 0; i < n; i++) {
        assert_true(c[i * n + i] == 1.0);
        for (size_t j = 0; j < n; j++) {
            assert_true(c[i * n + j] == c[j * n + i]);
            assert_true(c[i * n + j] >= -1.0 && c[i * n + j] <= 1.0);
        }
    }
    double lam;
    xm_error err;
    assert_int_equal(xm_corr_min_eigen(c, n, &lam, &err), XM_OK);
    if (!(lam >= floor))
        fail_msg("smallest eigenvalue %.17g below %.3g", lam, floor);
}

/* Householder reflection Q = I - 2 v v^T / (v^T v): orthogonal and symmetric. */
static void householder(const double *v, size_t n, double *q)
{
    double vv = 0.0;
    for (size_t k = 0; k < n; k++)
        vv += v[k] * v[k];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            q[i * n + j] = (i == j) - 2.0 * v[i] * v[j] / vv;
}

/* ---- xm_corr_min_eigen ------------------------------------------------------------------ */

static void test_min_eigen_known_spectra(void **state)
{
    (void)state;
    xm_error err;
    double lam;

    /* [[2,1],[1,2]]: eigenvalues 1 and 3 (eigenvectors (1,-1), (1,1)). The largest is the
     * smallest eigenvalue of the negated matrix. */
    const double a2[4] = {2, 1, 1, 2};
    const double neg_a2[4] = {-2, -1, -1, -2};
    assert_int_equal(xm_corr_min_eigen(a2, 2, &lam, &err), XM_OK);
    assert_near(lam, 1.0, 1e-14);
    assert_int_equal(xm_corr_min_eigen(neg_a2, 2, &lam, &err), XM_OK);
    assert_near(lam, -3.0, 1e-14);

    /* n x n equicorrelation rho: eigenvalues 1 + (n-1) rho (once) and 1 - rho (n-1 times). */
    const double rhos[] = {0.4137, -0.3719, 0.9173};
    for (size_t r = 0; r < sizeof rhos / sizeof rhos[0]; r++) {
        for (size_t n = 2; n <= 5; n++) {
            double c[MAXN * MAXN];
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++)
                    c[i * n + j] = i == j ? 1.0 : rhos[r];
            double expect = fmin(1.0 + (double)(n - 1) * rhos[r], 1.0 - rhos[r]);
            assert_int_equal(xm_corr_min_eigen(c, n, &lam, &err), XM_OK);
            assert_near(lam, expect, 1e-14);
        }
    }

    /* Q diag(d) Q^T with Q a Householder reflection: spectrum d exactly, by construction.
     * Includes a negative eigenvalue, which must be reported as such. */
    const double v[4] = {0.3172, -1.2291, 0.5443, 0.8017};
    const double d_sets[2][4] = {{2.7131, 0.0317, 1.3049, 0.8402}, {1.9, -0.0421, 1.1, 0.73}};
    for (int s = 0; s < 2; s++) {
        double q[16], qd[16], a[16];
        householder(v, 4, q);
        for (size_t i = 0; i < 4; i++)
            for (size_t j = 0; j < 4; j++)
                qd[i * 4 + j] = q[i * 4 + j] * d_sets[s][j];
        xm_test_mul_abt(qd, q, 4, a);  /* Q D Q^T (Q symmetric, so Q^T rows are Q rows) */
        double expect = d_sets[s][0];
        for (int k = 1; k < 4; k++)
            expect = fmin(expect, d_sets[s][k]);
        assert_int_equal(xm_corr_min_eigen(a, 4, &lam, &err), XM_OK);
        assert_near(lam, expect, 1e-13);
    }
}

/* ---- xm_corr_cholesky ------------------------------------------------------------------- */

static void test_cholesky_reconstructs(void **state)
{
    (void)state;
    xm_error err;
    const double c3[9] = {1.0, 0.71, -0.23,
                          0.71, 1.0, 0.35,
                          -0.23, 0.35, 1.0};
    double l[9], llt[9];
    assert_int_equal(xm_corr_cholesky(c3, 3, l, &err), XM_OK);
    for (size_t i = 0; i < 3; i++) {
        assert_true(l[i * 3 + i] > 0.0);
        for (size_t j = i + 1; j < 3; j++)
            assert_true(l[i * 3 + j] == 0.0);  /* upper part exactly zero */
    }
    xm_test_mul_abt(l, l, 3, llt);
    assert_true(max_abs_diff(llt, c3, 9) <= 1e-14);

    /* 2x2 closed form: L = [[1, 0], [rho, sqrt(1 - rho^2)]]. */
    const double rho = -0.6137;
    const double c2[4] = {1.0, rho, rho, 1.0};
    double l2[4];
    assert_int_equal(xm_corr_cholesky(c2, 2, l2, &err), XM_OK);
    assert_near(l2[0], 1.0, 1e-15);
    assert_near(l2[1], 0.0, 0.0);
    assert_near(l2[2], rho, 1e-15);
    assert_near(l2[3], sqrt(1.0 - rho * rho), 1e-15);

    /* A 6x6 matrix from a Gram construction (rows of G normalised): L L^T back to 1e-14. */
    double g[36], c6[36], l6[36], r6[36];
    for (size_t i = 0; i < 6; i++)
        for (size_t k = 0; k < 6; k++)
            g[i * 6 + k] = sin(1.3 * (double)(i + 1) * (double)(k + 2)) + (i == k ? 1.1 : 0.0);
    xm_test_mul_abt(g, g, 6, c6);
    double dgl[6];
    for (size_t i = 0; i < 6; i++)
        dgl[i] = sqrt(c6[i * 6 + i]);
    for (size_t i = 0; i < 6; i++)
        for (size_t j = 0; j < 6; j++)
            c6[i * 6 + j] = i == j ? 1.0 : c6[i * 6 + j] / (dgl[i] * dgl[j]);
    for (size_t i = 0; i < 6; i++)  /* symmetric to the last bit */
        for (size_t j = 0; j < i; j++)
            c6[j * 6 + i] = c6[i * 6 + j];
    assert_int_equal(xm_corr_cholesky(c6, 6, l6, &err), XM_OK);
    xm_test_mul_abt(l6, l6, 6, r6);
    assert_true(max_abs_diff(r6, c6, 36) <= 1e-14);
}

static void test_cholesky_rejects_non_pd(void **state)
{
    (void)state;
    xm_error err;
    /* rho12 = rho13 = 0.9, rho23 = -0.9: det = 1 - 2(0.729) - 3(0.81) < 0, indefinite. */
    const double bad[9] = {1.0, 0.9, 0.9,
                           0.9, 1.0, -0.9,
                           0.9, -0.9, 1.0};
    double lam, l[9];
    assert_int_equal(xm_corr_min_eigen(bad, 3, &lam, &err), XM_OK);
    assert_true(lam < 0.0);
    xm_error_clear(&err);
    assert_int_equal(xm_corr_cholesky(bad, 3, l, &err), XM_ENUMERIC);
    assert_int_equal(err.status, XM_ENUMERIC);
    assert_contains(err.msg, "smallest eigenvalue");
    char want[64];
    snprintf(want, sizeof want, "%.6g", lam);  /* the message names the value itself */
    assert_contains(err.msg, want);

    /* Singular (PSD but not PD): [[1,1],[1,1]] has eigenvalues 0 and 2. */
    const double sing[4] = {1, 1, 1, 1};
    xm_error_clear(&err);
    assert_int_equal(xm_corr_cholesky(sing, 2, l, &err), XM_ENUMERIC);
    assert_contains(err.msg, "smallest eigenvalue");

    /* Nearly singular: rho = 1 - 2^-45 gives 1 - rho ~ 2.8e-14, below the 1e-12 floor. */
    const double r = 1.0 - 0x1.0p-45;
    const double near[4] = {1, r, r, 1};
    xm_error_clear(&err);
    assert_int_equal(xm_corr_cholesky(near, 2, l, &err), XM_ENUMERIC);
    assert_contains(err.msg, "not positive definite");
}

/* ---- xm_corr_nearest -------------------------------------------------------------------- */

/* Optimality (Higham 2002, Theorem 2.4 with W = I; the KKT conditions of this convex problem):
 * the correlation matrix X is the nearest to A iff X = A + S + diag(t) for some vector t and
 * some PSD matrix S with S X = 0 (S = V D V^T, V spanning the null space of X, D >= 0).
 * Since X_ii = 1, S X = 0 fixes t_i = [(X - A) X]_ii, so the check is sharp: build S and test
 * S X ~ 0 and S PSD, both to `tol`. */
static void assert_nearest_optimal(const double *a, const double *x, size_t n, double tol)
{
    size_t nn = n * n;
    double xma[MAXN * MAXN], s[MAXN * MAXN], sx[MAXN * MAXN];
    for (size_t k = 0; k < nn; k++)
        xma[k] = x[k] - a[k];
    memcpy(s, xma, nn * sizeof *s);
    for (size_t i = 0; i < n; i++) {
        double t = 0.0;
        for (size_t k = 0; k < n; k++)
            t += xma[i * n + k] * x[k * n + i];
        s[i * n + i] -= t;
    }
    xm_test_mul_abt(s, x, n, sx);  /* S X^T = S X (X symmetric) */
    double worst = 0.0;
    for (size_t k = 0; k < nn; k++)
        worst = fmax(worst, fabs(sx[k]));
    if (!(worst <= tol))
        fail_msg("complementarity: max |S X| = %.3g > %.3g", worst, tol);
    double lam;
    xm_error err;
    assert_int_equal(xm_corr_min_eigen(s, n, &lam, &err), XM_OK);
    if (!(lam >= -tol))
        fail_msg("multiplier S not PSD: smallest eigenvalue %.3g < -%.3g", lam, tol);
}

/* Higham (2002) §4: A = [[1,1,0],[1,1,1],[0,1,1]] has the nearest correlation matrix
 * [[1, 0.7607, 0.1573], [0.7607, 1, 0.7607], [0.1573, 0.7607, 1]] (4 decimals as printed,
 * so the tolerance is half a unit of the 4th decimal). */
static void test_nearest_higham_example(void **state)
{
    (void)state;
    xm_error err;
    const double a[9] = {1, 1, 0,
                         1, 1, 1,
                         0, 1, 1};
    const double published[9] = {1.0, 0.7607, 0.1573,
                                 0.7607, 1.0, 0.7607,
                                 0.1573, 0.7607, 1.0};
    double x[9];
    assert_int_equal(xm_corr_nearest(a, 3, 1e-12, 10000, 0.0, x, &err), XM_OK);
    for (size_t k = 0; k < 9; k++)
        assert_near(x[k], published[k], 5e-5);
    /* Symmetric, unit diagonal, PSD (up to rounding: eigenvalue floor 0). */
    assert_correlation_matrix(x, 3, -1e-12);
    /* And it is the nearest, not merely a near one: the optimality conditions hold. */
    assert_nearest_optimal(a, x, 3, 1e-9);

    /* Eigenvalue floor 1e-8: safely PD (the final rescale to unit diagonal moves the floor by
     * a relative O(1e-8)), and still the published matrix to 4 decimals. Output aliasing the
     * input is allowed. */
    double y[9];
    memcpy(y, a, sizeof y);
    assert_int_equal(xm_corr_nearest(y, 3, 1e-12, 10000, 1e-8, y, &err), XM_OK);
    for (size_t k = 0; k < 9; k++)
        assert_near(y[k], published[k], 5e-5);
    assert_correlation_matrix(y, 3, 0.9e-8);
    double l[9];
    assert_int_equal(xm_corr_cholesky(y, 3, l, &err), XM_OK);
}

/* A larger indefinite "correlation" matrix (pairwise estimates that do not fit together):
 * the result is a correlation matrix and satisfies the optimality condition. */
static void test_nearest_indefinite_5x5(void **state)
{
    (void)state;
    xm_error err;
    const double a[25] = {1.0, 0.93, 0.87, -0.41, 0.12,
                          0.93, 1.0, 0.31, 0.62, -0.55,
                          0.87, 0.31, 1.0, -0.88, 0.77,
                          -0.41, 0.62, -0.88, 1.0, -0.27,
                          0.12, -0.55, 0.77, -0.27, 1.0};
    double lam;
    assert_int_equal(xm_corr_min_eigen(a, 5, &lam, &err), XM_OK);
    assert_true(lam < -0.1);  /* really indefinite */
    double x[25];
    assert_int_equal(xm_corr_nearest(a, 5, 1e-12, 10000, 0.0, x, &err), XM_OK);
    assert_correlation_matrix(x, 5, -1e-12);
    assert_nearest_optimal(a, x, 5, 1e-9);
}

/* A matrix that already is a (PD) correlation matrix comes back unchanged. */
static void test_nearest_fixed_point(void **state)
{
    (void)state;
    xm_error err;
    const double c[16] = {1.0, 0.4637, -0.2291, 0.1183,
                          0.4637, 1.0, 0.3318, -0.0742,
                          -0.2291, 0.3318, 1.0, 0.5519,
                          0.1183, -0.0742, 0.5519, 1.0};
    double lam, x[16];
    assert_int_equal(xm_corr_min_eigen(c, 4, &lam, &err), XM_OK);
    assert_true(lam > 0.1);
    assert_int_equal(xm_corr_nearest(c, 4, 1e-12, 10000, 0.0, x, &err), XM_OK);
    assert_true(max_abs_diff(x, c, 16) <= 1e-10);
    /* With a floor below its smallest eigenvalue the floor changes nothing either. */
    assert_int_equal(xm_corr_nearest(c, 4, 1e-12, 10000, 1e-8, x, &err), XM_OK);
    assert_true(max_abs_diff(x, c, 16) <= 1e-10);
    /* It converges at once: one iteration is enough. */
    assert_int_equal(xm_corr_nearest(c, 4, 1e-12, 1, 0.0, x, &err), XM_OK);
    assert_true(max_abs_diff(x, c, 16) <= 1e-10);
}

/* One iteration on a hard case does not converge: XM_ENUMERIC and a message. */
static void test_nearest_no_convergence(void **state)
{
    (void)state;
    xm_error err;
    xm_error_clear(&err);
    const double a[9] = {1, 1, 0,
                         1, 1, 1,
                         0, 1, 1};
    double x[9];
    assert_int_equal(xm_corr_nearest(a, 3, 1e-12, 1, 0.0, x, &err), XM_ENUMERIC);
    assert_int_equal(err.status, XM_ENUMERIC);
    assert_contains(err.msg, "nearest correlation matrix");
    assert_contains(err.msg, "no convergence");
    assert_contains(err.msg, "1 iterations");
    /* NULL err is allowed: only the status comes back. */
    assert_int_equal(xm_corr_nearest(a, 3, 1e-12, 1, 0.0, x, NULL), XM_ENUMERIC);
}

/* A 0x0 matrix is refused by every entry point (GSL would abort on it). */
static void test_empty_matrix(void **state)
{
    (void)state;
    double a[1] = {1.0}, out[1], ev;
    xm_error err;
    assert_int_equal(xm_corr_min_eigen(a, 0, &ev, &err), XM_ENUMERIC);
    assert_contains(err.msg, "empty (0x0) matrix");
    assert_int_equal(xm_corr_cholesky(a, 0, out, &err), XM_ENUMERIC);
    assert_contains(err.msg, "empty (0x0) matrix");
    assert_int_equal(xm_corr_nearest(a, 0, 1e-12, 100, 0.0, out, &err), XM_ENUMERIC);
    assert_contains(err.msg, "empty (0x0) matrix");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_min_eigen_known_spectra),
        cmocka_unit_test(test_cholesky_reconstructs),
        cmocka_unit_test(test_cholesky_rejects_non_pd),
        cmocka_unit_test(test_nearest_higham_example),
        cmocka_unit_test(test_nearest_indefinite_5x5),
        cmocka_unit_test(test_nearest_fixed_point),
        cmocka_unit_test(test_nearest_no_convergence),
        cmocka_unit_test(test_empty_matrix),
    };
    return xm_run_tests(tests, NULL, NULL);
}
