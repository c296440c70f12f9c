/* xmrisk/mergestats.h — statistics of a run's per-path results that merge exactly, for runs
 * whose per-path results do not fit in memory (`xmrisk run --stats binned`; docs/hpc.md).
 *
 * A run normally keeps every path's metrics (168 bytes a path on 4 assets) and computes exact
 * quantiles from them. A binned run keeps instead, for every per-path column the report uses:
 *   - exact sums of x and x^2 (xm_xsum: a fixed-point superaccumulator wide enough for every
 *     double, so the sum does not depend on the order of the additions), hence the mean and
 *     its standard error, equal on any number of threads, ranks or shards;
 *   - a count per fixed bin (xm_bins), hence quantiles and histograms with a stated relative
 *     resolution.
 * Everything is integers or exact sums: merging two pathstats is addition, in any order, and
 * gives the same bits as a single run.
 *
 * Bins. A double x != 0 with 2^XM_BINS_EXP_MIN <= |x| < 2^XM_BINS_EXP_MAX falls in the bin
 * named by its sign, its binary exponent e and the top XM_BINS_MANT_BITS bits j of its
 * mantissa: [2^e (1 + j/256), 2^e (1 + (j+1)/256)) for 8 bits. The bin is read straight from
 * the IEEE-754 bits (no log(), so no libm-dependent edges). A bin is represented by its
 * midpoint, within XM_BINS_RESOLUTION = 2^-9 (0.195%) of every value in it, relatively
 * (the bins of HDR Histogram and DDSketch rest on the same idea: G. Tene, HdrHistogram;
 * C. Masson et al., "DDSketch", VLDB 2019). Zero is its own bin (exact). Magnitudes below
 * 2^XM_BINS_EXP_MIN (9.3e-10) go to the lowest bin of their sign (absolute error < 1e-9),
 * at or above 2^XM_BINS_EXP_MAX (1.2e18) to the highest (counted in `above`: never expected
 * of USD amounts, counts or price ratios).
 */
#ifndef XMRISK_MERGESTATS_H
#define XMRISK_MERGESTATS_H

#include <stddef.h>
#include <stdint.h>

#include "xmrisk/cascade.h"
#include "xmrisk/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- exact sums ---- */

/* Every finite double is m 2^(k - 1074) with |m| < 2^53, 0 <= k <= 2046: the sum lives in
 * 32-bit chunks c[i] of weight 2^(32 i - 1074), held in int64 so that 2^30 additions fit
 * before carries must be propagated (R. M. Neal, "Fast exact summation using small and large
 * superaccumulators", arXiv:1505.05571, 2015). */
#define XM_XSUM_CHUNKS 67

typedef struct {
    int64_t c[XM_XSUM_CHUNKS];
    uint32_t adds;               /* additions since the last carry propagation */
} xm_xsum;

void xm_xsum_init(xm_xsum *s);
/* s += x exactly (x finite; a non-finite x is ignored: the engine never produces one). */
void xm_xsum_add(xm_xsum *s, double x);
/* into += from, exactly. */
void xm_xsum_merge(xm_xsum *into, const xm_xsum *from);
/* Carries propagated: every chunk but the last in [0, 2^32), so equal sums have equal chunks
 * (the encoded form of a part). */
void xm_xsum_normalize(xm_xsum *s);
/* The sum rounded to a double (a deterministic function of the exact sum). */
double xm_xsum_value(const xm_xsum *s);

/* ---- fixed bins ---- */

#define XM_BINS_MANT_BITS 8
#define XM_BINS_EXP_MIN (-30)
#define XM_BINS_EXP_MAX 60
#define XM_BINS_SIDE ((XM_BINS_EXP_MAX - XM_BINS_EXP_MIN) << XM_BINS_MANT_BITS)
#define XM_BINS_COUNT (2 * XM_BINS_SIDE + 1)        /* negative, zero, positive */
#define XM_BINS_ZERO XM_BINS_SIDE                   /* the index of the zero bin */
#define XM_BINS_RESOLUTION (1.0 / (double)(2 << XM_BINS_MANT_BITS))  /* 2^-9 */

/* Index in [0, XM_BINS_COUNT) of the bin holding x (finite); *above set to 1 when |x| is at
 * or above 2^XM_BINS_EXP_MAX. Monotone: x <= y gives bin(x) <= bin(y). */
uint32_t xm_bins_index(double x, int *above);
/* The bin's edges: it holds [lo, hi) when positive, (lo, hi] when negative (the mirror image);
 * and its representative (the midpoint; 0 for the zero bin). */
void xm_bins_edges(uint32_t b, double *lo, double *hi);
double xm_bins_value(uint32_t b);
/* The representative of bin b in a column of integers (`integer` 1) or of any values. */
double xm_bins_value_of(uint32_t b, int integer);

/* ---- per-column accumulators ---- */

typedef struct {
    uint64_t n;
    double shift;                /* sums are of x - shift (a constant known in advance, so that
                                  * a column near a large constant keeps its variance) */
    xm_xsum s1, s2;
} xm_xmoments;

typedef struct {
    xm_xmoments mom;
    uint64_t *bins;              /* XM_BINS_COUNT counts */
    uint64_t above;              /* values at or above 2^XM_BINS_EXP_MAX in magnitude */
    int integer;                 /* integer values (counts): a bin narrower than 1 that holds an
                                  * integer is represented by it, so small counts are exact */
} xm_bincol;

/* ---- a run's columns ---- */

/* The per-path metrics the report summarizes (model.md §6), in report order. */
enum {
    XM_PM_LIQ_NOTIONAL,
    XM_PM_ACCOUNTS_LIQ,
    XM_PM_LIQ_EVENTS,
    XM_PM_LARGEST_CASCADE,
    XM_PM_ROUNDS_MAX,
    XM_PM_BAD_DEBT,
    XM_PM_FUND_PAID,
    XM_PM_FUND_MIN,
    XM_PM_ADL_NOTIONAL,
    XM_PM_ADL_ACCOUNTS,
    XM_PM_SOCIALIZED,
    XM_PM_COUNT
};
extern const char *const xm_pm_name[XM_PM_COUNT];   /* "liquidated_notional_usd", ... */
double xm_pm_value(const xm_path_metrics *pm, int k);

/* Path events (counts of paths on which ...). fund_exhausted depends on the model's insurance
 * fund: with a fund, paths whose lowest fund balance reached 0 (XM_PE_FUND_ZERO); without one,
 * paths with bad debt. Both are counted; the report picks. */
enum {
    XM_PE_ANY_LIQ,
    XM_PE_BAD_DEBT,
    XM_PE_ADL,
    XM_PE_FUND_ZERO,
    XM_PE_MAX_ROUNDS,
    XM_PE_PRICE_FLOOR,
    XM_PE_BEYOND_TIER,
    XM_PE_COUNT
};
/* Does path pm have event e? */
int xm_pe_has(const xm_path_metrics *pm, int e);

/* Fraction of the log drop of the lowest mark that impact caused; 0 without a drop. */
double xm_impact_share(double min_ratio, double impact_at_min);

typedef struct {
    size_t n_assets;
    uint64_t paths;
    uint64_t events[XM_PE_COUNT];
    xm_bincol metric[XM_PM_COUNT];
    xm_xmoments first_step;      /* over paths with a liquidation */
    xm_bincol *min_ratio;        /* per asset: lowest mark / S0 */
    xm_xmoments *impact_share;   /* per asset */
} xm_mergestats;

/* Empty statistics for n_assets (>= 1) assets of a venue whose insurance fund starts at fund0
 * (fund_min_usd is summed as x - fund0, the lowest mark ratios as x - 1); about
 * (11 + n_assets) x 369 KB. Owned by the caller: xm_mergestats_free. NULL with XM_ENOMEM. */
xm_mergestats *xm_mergestats_alloc(size_t n_assets, double fund0, xm_error *err);
void xm_mergestats_free(xm_mergestats *s);
/* Zero everything (keeping the allocation). */
void xm_mergestats_clear(xm_mergestats *s);
/* Add one path: its metrics and per asset its lowest mark ratio and the log impact then. */
void xm_mergestats_add(xm_mergestats *s, const xm_path_metrics *pm, const double *min_ratio,
                      const double *impact_at_min);
/* into += from (same n_assets), exactly. */
void xm_mergestats_merge(xm_mergestats *into, const xm_mergestats *from);

/* Mean, sample standard deviation (n - 1) and standard error of a column's exact sums. */
void xm_xmoments_get(const xm_xmoments *m, double *mean, double *sd, double *stderr_);

/* Quantile p in [0, 1] of the binned values: Hyndman & Fan type 7 (the exact report's rule,
 * xm_stats_quantile_sorted) on the bins' representatives. For values of one sign, within
 * XM_BINS_RESOLUTION x |exact quantile| of the exact quantile. 0 when the column is empty. */
double xm_bincol_quantile(const xm_bincol *c, double p);

/* Serialized size and form (little-endian, every xsum normalized, bins sparse as u32 index +
 * u64 count): what a part stores. xm_mergestats_decode checks every field (indices increasing
 * and in range, counts adding up to n) and returns -1 on any inconsistency. */
size_t xm_mergestats_encoded_size(const xm_mergestats *s);
void xm_mergestats_encode(const xm_mergestats *s, unsigned char *out);
int xm_mergestats_decode(xm_mergestats *s, const unsigned char *in, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_MERGESTATS_H */
