/* test_market.c — market storage (init / clear / find / process names) and correlation
 * preparation: shape checks, positive definiteness, opt-in Higham repair, Cholesky factor. */
#include "xm_test.h"

#include <math.h>

#include "xmrisk/corr.h"
#include "xmrisk/market.h"


static void set_corr(xm_market *m, const double *c)
{
    memcpy(m->corr, c, m->n * m->n * sizeof *c);
}

/* m->chol is lower-triangular with a positive diagonal and L L^T = m->corr to 1e-14. */
static void assert_chol_valid(const xm_market *m)
{
    size_t n = m->n;
    double *llt = malloc(n * n * sizeof *llt);
    assert_non_null(llt);
    for (size_t i = 0; i < n; i++) {
        assert_true(m->chol[i * n + i] > 0.0);
        for (size_t j = i + 1; j < n; j++)
            assert_true(m->chol[i * n + j] == 0.0);
    }
    xm_test_mul_abt(m->chol, m->chol, n, llt);
    for (size_t k = 0; k < n * n; k++)
        assert_near(llt[k], m->corr[k], 1e-14);
    free(llt);
}

static void test_init_defaults(void **state)
{
    (void)state;
    xm_market m;
    xm_error err;
    assert_int_equal(xm_market_init(&m, 4, &err), XM_OK);
    assert_int_equal(m.n, 4);
    assert_non_null(m.assets);
    assert_non_null(m.corr);
    assert_non_null(m.chol);
    assert_int_equal(m.process, XM_PROCESS_GBM);
    assert_int_equal(m.jumps.enabled, 0);
    assert_int_equal(m.corr_repair, 0);
    assert_int_equal(m.corr_repaired, 0);
    for (size_t i = 0; i < 4; i++) {
        const xm_asset *a = &m.assets[i];
        assert_true(a->jump_beta == 1.0);
        assert_true(isinf(a->impact.half_life_minutes) && a->impact.half_life_minutes > 0);
        assert_int_equal(a->impact.model, XM_IMPACT_NONE);
        assert_true(a->drift == 0.0 && a->vol == 0.0 && a->price == 0.0);
        assert_string_equal(a->symbol, "");
        for (size_t j = 0; j < 4; j++) {
            assert_true(m.corr[i * 4 + j] == (i == j ? 1.0 : 0.0));  /* identity */
            assert_true(m.chol[i * 4 + j] == 0.0);
        }
    }
    /* The identity prepares as is: L = I. */
    assert_int_equal(xm_market_prepare(&m, "test", &err), XM_OK);
    assert_int_equal(m.corr_repaired, 0);
    assert_near(m.corr_min_eigen, 1.0, 1e-15);
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 4; j++)
            assert_true(m.chol[i * 4 + j] == (i == j ? 1.0 : 0.0));
    xm_market_clear(&m);
    assert_null(m.assets);
    assert_null(m.corr);
    assert_null(m.chol);
    assert_int_equal(m.n, 0);
    xm_market_clear(&m);  /* twice is safe: the struct is zeroed */
}

static void test_init_zero_assets(void **state)
{
    (void)state;
    xm_market m;
    xm_error err;
    xm_error_clear(&err);
    assert_int_equal(xm_market_init(&m, 0, &err), XM_EMODEL);
    assert_int_equal(err.status, XM_EMODEL);
    assert_contains(err.msg, "at least one asset");
    assert_null(m.assets);
    assert_null(m.corr);
    xm_market_clear(&m);
    assert_int_equal(xm_market_init(&m, 0, NULL), XM_EMODEL);  /* NULL err accepted */
}

static void test_clear_zeroed_and_null(void **state)
{
    (void)state;
    xm_market m;
    memset(&m, 0, sizeof m);
    xm_market_clear(&m);
    xm_market_clear(NULL);
    assert_int_equal(m.n, 0);
}

static void test_find_and_process_names(void **state)
{
    (void)state;
    xm_market m;
    xm_error err;
    assert_int_equal(xm_market_init(&m, 3, &err), XM_OK);
    strcpy(m.assets[0].symbol, "BTC");
    strcpy(m.assets[1].symbol, "ETH");
    strcpy(m.assets[2].symbol, "ETHW");
    assert_int_equal(xm_market_find(&m, "BTC"), 0);
    assert_int_equal(xm_market_find(&m, "ETH"), 1);
    assert_int_equal(xm_market_find(&m, "ETHW"), 2);
    assert_int_equal(xm_market_find(&m, "SOL"), -1);
    assert_int_equal(xm_market_find(&m, "eth"), -1);  /* case-sensitive, exact */
    assert_int_equal(xm_market_find(&m, "ET"), -1);   /* no prefix matches */
    assert_int_equal(xm_market_find(&m, ""), -1);
    xm_market_clear(&m);

    assert_string_equal(xm_process_name(XM_PROCESS_GBM), "gbm");
    assert_string_equal(xm_process_name(XM_PROCESS_STUDENT_T), "student_t");
    assert_string_equal(xm_process_name(XM_PROCESS_BACHELIER), "bachelier");
    assert_string_equal(xm_process_name((xm_process)42), "?");
}

/* Shape checks: each message starts with `where` and names the offending entries. */
static void test_prepare_rejects_bad_shape(void **state)
{
    (void)state;
    xm_market m;
    xm_error err;
    assert_int_equal(xm_market_init(&m, 3, &err), XM_OK);
    const double good[9] = {1.0, 0.4137, -0.2291,
                            0.4137, 1.0, 0.3318,
                            -0.2291, 0.3318, 1.0};

    /* Non-unit diagonal. */
    set_corr(&m, good);
    m.corr[1 * 3 + 1] = 0.97;
    xm_error_clear(&err);
    assert_int_equal(xm_market_prepare(&m, "model.yaml:14:3: market.correlation", &err), XM_EMODEL);
    assert_contains(err.msg, "model.yaml:14:3: market.correlation: ");
    assert_contains(err.msg, "diagonal entry [1][1]");
    assert_contains(err.msg, "0.97");

    /* Out of range (symmetric, so the range check is what fires). */
    set_corr(&m, good);
    m.corr[0 * 3 + 2] = m.corr[2 * 3 + 0] = 1.0837;
    xm_error_clear(&err);
    assert_int_equal(xm_market_prepare(&m, "test", &err), XM_EMODEL);
    assert_contains(err.msg, "test: ");
    assert_contains(err.msg, "entry [0][2]");
    assert_contains(err.msg, "[-1, 1]");
    assert_contains(err.msg, "1.0837");
    set_corr(&m, good);
    m.corr[1 * 3 + 2] = m.corr[2 * 3 + 1] = -1.5;
    xm_error_clear(&err);
    assert_int_equal(xm_market_prepare(&m, "test", &err), XM_EMODEL);
    assert_contains(err.msg, "entry [1][2]");
    set_corr(&m, good);
    m.corr[1 * 3 + 2] = m.corr[2 * 3 + 1] = NAN;
    xm_error_clear(&err);
    assert_int_equal(xm_market_prepare(&m, "test", &err), XM_EMODEL);
    assert_contains(err.msg, "entry [1][2]");

    /* Asymmetric beyond 1e-12: both entries named with their values. */
    set_corr(&m, good);
    m.corr[2 * 3 + 1] = 0.3319;
    xm_error_clear(&err);
    assert_int_equal(xm_market_prepare(&m, "test", &err), XM_EMODEL);
    assert_contains(err.msg, "symmetric");
    assert_contains(err.msg, "[1][2] = 0.3318");
    assert_contains(err.msg, "[2][1] = 0.3319");

    /* Within the documented 1e-12 tolerance: accepted. */
    set_corr(&m, good);
    m.corr[2 * 3 + 1] = 0.3318 + 1e-13;
    m.corr[0] = 1.0 - 1e-13;
    assert_int_equal(xm_market_prepare(&m, "test", &err), XM_OK);
    xm_market_clear(&m);
}

/* rho12 = rho13 = 0.9, rho23 = -0.9: a valid-looking matrix that is indefinite. */
static const double indefinite[9] = {1.0, 0.9, 0.9,
                                     0.9, 1.0, -0.9,
                                     0.9, -0.9, 1.0};

static void test_prepare_rejects_non_pd(void **state)
{
    (void)state;
    xm_market m;
    xm_error err;
    assert_int_equal(xm_market_init(&m, 3, &err), XM_OK);
    set_corr(&m, indefinite);
    xm_error_clear(&err);
    assert_int_equal(xm_market_prepare(&m, "model.yaml:9:3: market.correlation", &err), XM_EMODEL);
    assert_contains(err.msg, "model.yaml:9:3: market.correlation: ");
    assert_contains(err.msg, "positive definite");
    assert_contains(err.msg, "smallest eigenvalue");
    assert_contains(err.msg, "correlation_repair: higham");
    double lam;
    assert_int_equal(xm_corr_min_eigen(indefinite, 3, &lam, &err), XM_OK);
    assert_true(lam < 0.0);
    assert_near(m.corr_min_eigen, lam, 1e-15);  /* the diagnostic is recorded... */
    char want[64];
    snprintf(want, sizeof want, "%.6g", lam);   /* ...and named in the message */
    assert_contains(err.msg, want);
    assert_int_equal(m.corr_repaired, 0);
    assert_memory_equal(m.corr, indefinite, sizeof indefinite);  /* untouched */

    /* PSD but singular (two identical assets) is refused too. */
    const double singular[9] = {1.0, 1.0, 0.5,
                                1.0, 1.0, 0.5,
                                0.5, 0.5, 1.0};
    set_corr(&m, singular);
    assert_int_equal(xm_market_prepare(&m, "test", &err), XM_EMODEL);
    assert_contains(err.msg, "smallest eigenvalue");
    xm_market_clear(&m);
}

static void test_prepare_repairs_when_asked(void **state)
{
    (void)state;
    xm_market m;
    xm_error err;
    assert_int_equal(xm_market_init(&m, 3, &err), XM_OK);
    set_corr(&m, indefinite);
    m.corr_repair = 1;
    assert_int_equal(xm_market_prepare(&m, "test", &err), XM_OK);
    assert_int_equal(m.corr_repaired, 1);
    assert_true(m.corr_min_eigen < 0.0);  /* of the matrix as given */

    /* The recorded changes are those between the given and the used matrix. */
    double maxabs = 0.0, fro = 0.0;
    for (size_t k = 0; k < 9; k++) {
        double d = fabs(indefinite[k] - m.corr[k]);
        maxabs = fmax(maxabs, d);
        fro += d * d;
    }
    assert_true(m.corr_repair_max_abs_change > 0.0);
    assert_true(m.corr_repair_frobenius > 0.0);
    assert_near(m.corr_repair_max_abs_change, maxabs, 1e-15);
    assert_near(m.corr_repair_frobenius, sqrt(fro), 1e-15);

    /* The used matrix is a correlation matrix, positive definite, and the Higham nearest one
     * (computed independently with the eigenvalue floor the market uses, 1e-8: same result). */
    for (size_t i = 0; i < 3; i++) {
        assert_true(m.corr[i * 3 + i] == 1.0);
        for (size_t j = 0; j < 3; j++)
            assert_true(m.corr[i * 3 + j] == m.corr[j * 3 + i]);
    }
    double lam, nearest[9];
    assert_int_equal(xm_corr_min_eigen(m.corr, 3, &lam, &err), XM_OK);
    assert_true(lam > 1e-10);
    assert_int_equal(xm_corr_nearest(indefinite, 3, 1e-12, 10000, 0.0, nearest, &err), XM_OK);
    for (size_t k = 0; k < 9; k++)
        assert_near(m.corr[k], nearest[k], 1e-6);
    assert_chol_valid(&m);

    /* Higham's example through the market: the published matrix to 4 decimals (Higham 2002
     * §4: off-diagonals 0.7607, 0.1573, 0.7607). */
    const double higham_a[9] = {1, 1, 0,
                                1, 1, 1,
                                0, 1, 1};
    set_corr(&m, higham_a);
    m.corr_repair = 1;
    assert_int_equal(xm_market_prepare(&m, "test", &err), XM_OK);
    assert_int_equal(m.corr_repaired, 1);
    assert_near(m.corr[0 * 3 + 1], 0.7607, 5e-5);
    assert_near(m.corr[0 * 3 + 2], 0.1573, 5e-5);
    assert_near(m.corr[1 * 3 + 2], 0.7607, 5e-5);
    assert_chol_valid(&m);
    xm_market_clear(&m);
}

/* The opt-in does not touch a matrix that is fine. */
static void test_repair_leaves_pd_alone(void **state)
{
    (void)state;
    xm_market m;
    xm_error err;
    assert_int_equal(xm_market_init(&m, 3, &err), XM_OK);
    const double good[9] = {1.0, 0.71, -0.23,
                            0.71, 1.0, 0.35,
                            -0.23, 0.35, 1.0};
    set_corr(&m, good);
    m.corr_repair = 1;
    assert_int_equal(xm_market_prepare(&m, "test", &err), XM_OK);
    assert_int_equal(m.corr_repaired, 0);
    assert_memory_equal(m.corr, good, sizeof good);
    assert_true(m.corr_min_eigen > 0.1);
    assert_chol_valid(&m);
    xm_market_clear(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_defaults),
        cmocka_unit_test(test_init_zero_assets),
        cmocka_unit_test(test_clear_zeroed_and_null),
        cmocka_unit_test(test_find_and_process_names),
        cmocka_unit_test(test_prepare_rejects_bad_shape),
        cmocka_unit_test(test_prepare_rejects_non_pd),
        cmocka_unit_test(test_prepare_repairs_when_asked),
        cmocka_unit_test(test_repair_leaves_pd_alone),
    };
    return xm_run_tests(tests, NULL, NULL);
}
