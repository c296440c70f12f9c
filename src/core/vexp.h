/* vexp.h — internal: exp(x) written so that loops over it vectorise, and so that results
 * do not depend on the C library's libm version.
 *
 * Method (Cody & Waite, "Software Manual for the Elementary Functions", 1980, ch. 6):
 *   x = k ln2 + r, k = round(x / ln2), |r| <= ln2/2, with ln2 split in a high part of 32
 *   significant bits (k * LN2_HI is exact for |k| < 2^20) and a low part;
 *   exp(r) by its Taylor polynomial of degree 13 (Estrin's scheme) (truncation error
 *   |r|^14/14! < 4.3e-18, below half an ulp); exp(x) = 2^k exp(r), 2^k built in the exponent
 *   bits. k is rounded with the 1.5 * 2^52 shifter trick, so no float-to-int conversion is
 *   needed and the loop stays in SIMD registers.
 * Accuracy: within 2 ulp of libm's exp for x in [-708, 709] (tests/market/test_paths.c checks it).
 * Outside that range xm_vexp clamps x to it (results e^-708 and e^709, finite): no price a
 * model produces comes near those bounds.
 */
#ifndef XM_VEXP_H
#define XM_VEXP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* exp(x) for x in [-708, 709] only (outside it the exponent bits wrap). */
static inline double xm_vexp_core(double x)
{
    const double log2e = 1.4426950408889634074;
    const double ln2_hi = 6.93147180369123816490e-01;  /* fdlibm's split of ln 2 */
    const double ln2_lo = 1.90821492927058770002e-10;
    const double shifter = 0x1.8p52;                   /* 1.5 * 2^52 */
    double t = x * log2e + shifter;  /* k sits in the low mantissa bits of t */
    double k = t - shifter;
    double r = (x - k * ln2_hi) - k * ln2_lo;
    /* Taylor coefficients 1/k!, k = 0..13, evaluated by Estrin's scheme (pairs, then powers
     * r^2, r^4, r^8): a dependency chain of 5 multiply-adds instead of Horner's 13, so that
     * consecutive exps overlap in the pipeline. */
    double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    double a0 = 1.0 + r;
    double a1 = 0.5 + r * (1.0 / 6.0);
    double a2 = (1.0 / 24.0) + r * (1.0 / 120.0);
    double a3 = (1.0 / 720.0) + r * (1.0 / 5040.0);
    double a4 = (1.0 / 40320.0) + r * (1.0 / 362880.0);
    double a5 = (1.0 / 3628800.0) + r * (1.0 / 39916800.0);
    double a6 = (1.0 / 479001600.0) + r * (1.0 / 6227020800.0);
    double b0 = a0 + r2 * a1, b1 = a2 + r2 * a3, b2 = a4 + r2 * a5;
    double c0 = b0 + r4 * b1, c1 = b2 + r4 * a6;
    double p = c0 + r8 * c1;
    uint64_t tb, sb;
    memcpy(&tb, &t, sizeof tb);
    /* t's bits minus the shifter's bits is k (two's complement); 2^k = (k + 1023) << 52. */
    sb = (tb - UINT64_C(0x4338000000000000) + UINT64_C(1023)) << 52;
    double scale;
    memcpy(&scale, &sb, sizeof scale);
    return p * scale;
}

/* exp(x) with x clamped to [-708, 709] first. */
static inline double xm_vexp(double x)
{
    x = x > -708.0 ? x : -708.0;
    x = x < 709.0 ? x : 709.0;
    return xm_vexp_core(x);
}

/* y[i] = exp(x[i]) for i < n. GCC will not if-convert the clamp without -ffinite-math-only,
 * so the range is checked first with a branch-free reduction and the clamped scalar form is
 * used only when some x is out of range (never, for prices any model produces). */
static inline void xm_vexp_array(const double *restrict x, double *restrict y, size_t n)
{
    int outside = 0;
    for (size_t i = 0; i < n; i++)
        outside |= (x[i] > 709.0) | (x[i] < -708.0);
    if (!outside) {
        for (size_t i = 0; i < n; i++)
            y[i] = xm_vexp_core(x[i]);
    } else {
        for (size_t i = 0; i < n; i++)
            y[i] = xm_vexp(x[i]);
    }
}

#endif /* XM_VEXP_H */
