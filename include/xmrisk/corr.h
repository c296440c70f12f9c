/* xmrisk/corr.h — correlation-matrix numerics: eigenvalues, Cholesky, nearest correlation.
 *
 * All matrices are n*n, row-major, double. Functions allocate their own scratch through GSL
 * and free it before returning; none keeps state.
 */
#ifndef XMRISK_CORR_H
#define XMRISK_CORR_H

#include <stddef.h>

#include "xmrisk/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Smallest eigenvalue of the symmetric matrix a (GSL gsl_eigen_symm). */
xm_status xm_corr_min_eigen(const double *a, size_t n, double *min_eigen, xm_error *err)
    XM_MUST_CHECK;

/* Lower-triangular Cholesky factor L (upper part zeroed) with L L^T = a, via GSL
 * gsl_linalg_cholesky_decomp1. XM_ENUMERIC when a is not positive definite. */
xm_status xm_corr_cholesky(const double *a, size_t n, double *l, xm_error *err) XM_MUST_CHECK;

/* Nearest correlation matrix in the Frobenius norm to the symmetric matrix a, by Higham's
 * alternating projections with Dykstra's correction (N. J. Higham, "Computing the nearest
 * correlation matrix — a problem from finance", IMA J. Numer. Anal. 22 (2002) 329-343,
 * Algorithm 3.3 with W = I). Writes the result to `out` (may alias a). Iterates until the
 * relative change is below `tol` or `max_iter` is reached (then XM_ENUMERIC). Eigenvalues of
 * the result are clipped to at least `min_eigen` (> 0 makes it safely positive definite),
 * then rescaled to unit diagonal. */
xm_status xm_corr_nearest(const double *a, size_t n, double tol, int max_iter,
                          double min_eigen, double *out, xm_error *err) XM_MUST_CHECK;

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_CORR_H */
