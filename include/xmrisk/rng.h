/* xmrisk/rng.h — PCG64: our own implementation of O'Neill's reference `pcg64`.
 *
 * Generator: 128-bit linear congruential state with the XSL-RR 128/64 output function
 * ("pcg_engines::setseq_xsl_rr_128_64" in pcg-cpp, M. E. O'Neill, "PCG: A Family of Simple
 * Fast Space-Efficient Statistically Good Algorithms for Random Number Generation",
 * HMC-CS-2014-0905, 2014, §6.3.3). Same sequence as the C++ reference `pcg64 rng(seed,
 * stream)`; tests/core/test_rng_reference.cpp proves it output for output.
 *
 * State is a plain caller-owned value (no heap, no hidden globals): one generator per path,
 * never shared between threads.
 */
#ifndef XMRISK_RNG_H
#define XMRISK_RNG_H

#include <stdint.h>

#include <gsl/gsl_rng.h>

#ifdef __cplusplus
extern "C" {
#endif

#if !defined(__SIZEOF_INT128__)
#error "xmrisk needs a compiler with unsigned __int128 (gcc or clang on a 64-bit target)"
#endif

typedef unsigned __int128 xm_u128;

typedef struct {
    xm_u128 state;  /* LCG state */
    xm_u128 inc;    /* LCG increment, always odd: (stream << 1) | 1 */
} xm_pcg64;

/* Seed exactly as the reference `pcg64 rng(seed, stream)`:
 *   inc = (stream << 1) | 1;  state = step(seed + inc)   (seed, stream widened to 128 bits). */
void xm_pcg64_seed(xm_pcg64 *g, uint64_t seed, uint64_t stream);

/* The next 64-bit output: state = state * A + inc, then XSL-RR of the new state. */
uint64_t xm_pcg64_next(xm_pcg64 *g);

/* Jump ahead by `delta` outputs in O(log delta) (Brown, "Random Number Generation with
 * Arbitrary Stride", Trans. Am. Nucl. Soc. 71 (1994) 202). */
void xm_pcg64_advance(xm_pcg64 *g, uint64_t delta);

/* A double in [0, 1) with 53 random bits: (next >> 11) * 2^-53. */
double xm_pcg64_double(xm_pcg64 *g);

/* Seed the generator of path `path` in a run with seed `seed`. The reference (seed, stream)
 * pair is derived from both inputs through SplitMix64-style finalizers, so neighbouring paths
 * get unrelated states *and* unrelated increments (same-seed PCG streams are distinct but not
 * independent: imneme/pcg-cpp#49, numpy/numpy#13635). Depends on (seed, path) alone. */
void xm_pcg64_seed_path(xm_pcg64 *g, uint64_t seed, uint64_t path);

/* GSL adapter. `gsl_rng_alloc(xm_gsl_rng_pcg64)` gives a gsl_rng whose state is an xm_pcg64
 * (reach it with xm_gsl_pcg64_state()), so every gsl_ran_* sampler draws from PCG64.
 * min = 0, max = 2^64 - 1 (honest: full 64-bit outputs), get_double = xm_pcg64_double.
 * GSL's `set(seed)` callback seeds stream 0; choose the stream afterwards with
 * xm_pcg64_seed()/xm_pcg64_seed_path() on the state. */
extern const gsl_rng_type *xm_gsl_rng_pcg64;

/* The xm_pcg64 inside a gsl_rng allocated from xm_gsl_rng_pcg64 (NULL for any other type). */
xm_pcg64 *xm_gsl_pcg64_state(gsl_rng *r);

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_RNG_H */
