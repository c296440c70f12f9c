/* xmrisk/population.h — a seeded synthetic population of accounts (interface.md `population:`).
 *
 * The generator draws from its own PCG64 stream, derived from the model seed alone, so the
 * population is the same for every path and every run with the same seed (model.md §4).
 */
#ifndef XMRISK_POPULATION_H
#define XMRISK_POPULATION_H

#include <stddef.h>
#include <stdint.h>

#include "xmrisk/accounts.h"
#include "xmrisk/error.h"
#include "xmrisk/market.h"
#include "xmrisk/venue.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A lognormal size law: median and log-stdev, clipped to [min, max]. */
typedef struct {
    double median, sigma, min, max;
} xm_lognormal;

typedef struct {
    uint64_t accounts;            /* number of accounts, >= 1 */
    double isolated_share;        /* fraction of accounts in isolated mode, [0, 1]; default 0.2 */
    uint32_t assets_min, assets_max;  /* positions per account, uniform in [min, max]; 1..n */
    double *asset_weight;         /* n_assets weights >= 0 (sum > 0) for choosing assets;
                                   * default: equal. Owned by the params. */
    size_t n_assets;
    xm_lognormal leverage;        /* account (or position) leverage; max also capped by the
                                   * tier's max_leverage at the notional; default median 10,
                                   * sigma 0.7, min 1, max 125 */
    xm_lognormal notional_usd;    /* per position; default median 5,000, sigma 1.5, min 10,
                                   * max 5e7 */
    double long_share;            /* probability a position is long; default 0.6 */
    double hedged_share;          /* fraction of cross accounts holding a long-short pair in two
                                   * different assets of equal notional; default 0 */
    double entry_dispersion;      /* log-stdev of entry / start price; default 0 (every entry
                                   * at S0, so no account starts liquidatable at S0) */
    char id_prefix[16];           /* account ids are PREFIX + index; default "pop-" */
} xm_population_params;

/* Defaults above for a market of n_assets assets (allocates asset_weight). */
xm_status xm_population_defaults(xm_population_params *p, size_t n_assets, xm_error *err)
    XM_MUST_CHECK;
void xm_population_params_clear(xm_population_params *p);

/* Append p->accounts accounts to `book`, drawn from the stream (seed, XM_POPULATION_STREAM).
 * Wallets (cross) and margins (isolated) are notional / leverage, so no account starts
 * liquidatable at entry prices. XM_EMODEL when the tiers cannot hold a drawn notional. */
xm_status xm_population_generate(const xm_population_params *p, const xm_market *m,
                                 const xm_venue *v, uint64_t seed, xm_accounts *book,
                                 xm_error *err) XM_MUST_CHECK;

#define XM_POPULATION_STREAM UINT64_C(0x706f70756c617469)  /* "populati" */

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_POPULATION_H */
