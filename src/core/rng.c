/* rng.c — PCG64 (setseq XSL-RR 128/64) and its GSL adapter. See xmrisk/rng.h.
 *
 * Constants are those of pcg-cpp's pcg_random.hpp (PCG_128BIT_CONSTANT multiplier) and of
 * SplitMix64 (Steele, Lea, Flood, "Fast Splittable Pseudorandom Number Generators",
 * OOPSLA 2014; finalizer constants from Vigna's splitmix64.c).
 */
#include "xmrisk/rng.h"

#include <limits.h>
#include <string.h>

_Static_assert(ULONG_MAX == UINT64_MAX,
               "the GSL adapter reports max = 2^64-1 and needs a 64-bit unsigned long");

/* 128-bit LCG multiplier of pcg64: 0x2360ED051FC65DA4_4385DF649FCCF645. */
#define XM_PCG64_MULT ((((xm_u128)2549297995355413924ULL) << 64) | 4865540595714422341ULL)

static inline void pcg64_step(xm_pcg64 *g)
{
    g->state = g->state * XM_PCG64_MULT + g->inc;
}

/* XSL-RR: xor the high half into the low half, rotate right by the top 6 bits. */
static inline uint64_t pcg64_output(xm_u128 s)
{
    uint64_t x = (uint64_t)(s >> 64) ^ (uint64_t)s;
    unsigned rot = (unsigned)(s >> 122);
    return (x >> rot) | (x << ((64u - rot) & 63u));
}

void xm_pcg64_seed(xm_pcg64 *g, uint64_t seed, uint64_t stream)
{
    /* pcg-cpp: inc_ = (stream << 1) | 1;  state_ = bump(seed + increment()). */
    g->inc = ((xm_u128)stream << 1) | 1u;
    g->state = (xm_u128)seed + g->inc;
    pcg64_step(g);
}

uint64_t xm_pcg64_next(xm_pcg64 *g)
{
    /* 128-bit state: output_previous is false in pcg-cpp, so step first, then output. */
    pcg64_step(g);
    return pcg64_output(g->state);
}

double xm_pcg64_double(xm_pcg64 *g)
{
    return (double)(xm_pcg64_next(g) >> 11) * 0x1.0p-53;
}

void xm_pcg64_advance(xm_pcg64 *g, uint64_t delta)
{
    /* Brown (1994): s_{k+d} = A^d s_k + c (A^{d-1} + ... + 1), by repeated squaring of the
     * affine map (A, c). Arithmetic is modulo 2^128 throughout. */
    xm_u128 acc_mult = 1, acc_plus = 0;
    xm_u128 cur_mult = XM_PCG64_MULT, cur_plus = g->inc;
    while (delta > 0) {
        if (delta & 1u) {
            acc_mult *= cur_mult;
            acc_plus = acc_plus * cur_mult + cur_plus;
        }
        cur_plus = (cur_mult + 1) * cur_plus;
        cur_mult *= cur_mult;
        delta >>= 1;
    }
    g->state = acc_mult * g->state + acc_plus;
}

/* SplitMix64 finalizer: a bijection on 64 bits with full avalanche. */
static uint64_t splitmix64_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void xm_pcg64_seed_path(xm_pcg64 *g, uint64_t seed, uint64_t path)
{
    /* Two different odd "gamma" offsets keep the seed and the stream words unrelated even
     * when seed == path; each word depends on both inputs through two finalizer rounds. */
    uint64_t hs = splitmix64_mix(seed + 0x9E3779B97F4A7C15ULL);
    uint64_t hp = splitmix64_mix(path + 0xD1B54A32D192ED03ULL);
    uint64_t s = splitmix64_mix(hs ^ splitmix64_mix(hp + 0x8CB92BA72F3D8DD7ULL));
    uint64_t t = splitmix64_mix(hp ^ splitmix64_mix(hs + 0xAEF17502108EF2D9ULL));
    xm_pcg64_seed(g, s, t);
}

/* ---- GSL adapter (the shape of GSL's rng/taus.c: private state, static callbacks) ---- */

static void gsl_pcg64_set(void *state, unsigned long int seed)
{
    xm_pcg64_seed((xm_pcg64 *)state, (uint64_t)seed, 0);
}

static unsigned long int gsl_pcg64_get(void *state)
{
    return (unsigned long int)xm_pcg64_next((xm_pcg64 *)state);
}

static double gsl_pcg64_get_double(void *state)
{
    return xm_pcg64_double((xm_pcg64 *)state);
}

static const gsl_rng_type gsl_pcg64_type = {
    "xm_pcg64", UINT64_MAX, 0, sizeof(xm_pcg64),
    &gsl_pcg64_set, &gsl_pcg64_get, &gsl_pcg64_get_double,
};

const gsl_rng_type *xm_gsl_rng_pcg64 = &gsl_pcg64_type;

xm_pcg64 *xm_gsl_pcg64_state(gsl_rng *r)
{
    if (r == NULL || r->type != &gsl_pcg64_type)
        return NULL;
    return (xm_pcg64 *)r->state;
}
