/* xmrisk/accounts.h — the accounts of a model and their positions, as loaded (never mutated by a
 * simulation: per-path state lives in xm_margin_state, xmrisk/margin.h).
 *
 * Storage is structure-of-arrays, positions grouped by account (CSR): about 30 bytes per
 * position and 17 bytes plus the id per account, so a million accounts load in seconds and
 * fit in memory many times over.
 *
 * An account has a margin mode (docs/model.md §4):
 *  - cross: one wallet W shared by all positions; E = W + sum q (m - e); MM = sum MM_i(|q| m);
 *    liquidatable when E <= MM;
 *  - isolated: each position j has its own margin M_j; E_j = M_j + q_j (m_j - e_j);
 *    liquidatable when E_j <= MM_j; the wallet is not used (0).
 */
#ifndef XMRISK_ACCOUNTS_H
#define XMRISK_ACCOUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "xmrisk/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { XM_CROSS = 0, XM_ISOLATED = 1 } xm_margin_mode;

typedef struct {
    size_t n_accounts, n_positions;
    /* per account a */
    uint8_t *mode;         /* xm_margin_mode */
    double *wallet;        /* cross: W, USD (>= 0); isolated: 0 */
    uint32_t *first;       /* n_accounts + 1 entries: positions of a are first[a] .. first[a+1]-1 */
    uint32_t *id_off;      /* id of a: ids + id_off[a], NUL-terminated */
    char *ids;             /* id arena */
    /* per position j (grouped by account) */
    uint32_t *owner;       /* account holding j */
    uint16_t *asset;       /* market asset index */
    double *qty;           /* q: signed base units, != 0 (> 0 long) */
    double *entry;         /* e: entry price, USD per base unit, > 0 */
    double *margin;        /* isolated: M_j, USD (> 0); cross: 0 */
    /* capacity (growth is internal) */
    size_t cap_accounts, cap_positions, ids_len, ids_cap;
} xm_accounts;

/* An empty book. Free with xm_accounts_free(). NULL on allocation failure. */
xm_accounts *xm_accounts_alloc(xm_error *err);
void xm_accounts_free(xm_accounts *b);

/* Append an account (its positions follow with xm_accounts_add_position, before the next
 * account). The id is copied. Checks nothing about uniqueness: the loaders do. */
xm_status xm_accounts_add_account(xm_accounts *b, const char *id, xm_margin_mode mode, double wallet,
                              xm_error *err) XM_MUST_CHECK;

/* Append a position to the last account. */
xm_status xm_accounts_add_position(xm_accounts *b, uint16_t asset, double qty, double entry,
                               double margin, xm_error *err) XM_MUST_CHECK;

static inline const char *xm_accounts_id(const xm_accounts *b, size_t a) { return b->ids + b->id_off[a]; }

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_ACCOUNTS_H */
