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
 *
 * Lots. Venues tier a position, i.e. the net quantity of one side of one symbol (docs/venues.md
 * a.0, a.1), not each fill. So a cross account holds at most one position per asset and side:
 * a row added to a cross account that already holds a position in that asset with the same
 * sign is folded into it (xm_accounts_add_position): quantities add and the entry becomes the
 * quantity-weighted mean, Q = q1 + q2, E = (q1 e1 + q2 e2) / Q, which keeps the PnL
 * Q (m - E) = q1 (m - e1) + q2 (m - e2) exact in real arithmetic. A long and a short in one
 * asset (hedge mode) stay two positions. Isolated positions are never folded: each has its
 * own margin and is its own unit (docs/margin.md).
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
    size_t n_folded;       /* rows folded into an earlier position (see Lots above) */
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

/* Add a position row to the last account: folded into the position xm_accounts_fold_target()
 * names when there is one (margin unused: cross), else appended. */
xm_status xm_accounts_add_position(xm_accounts *b, uint16_t asset, double qty, double entry,
                               double margin, xm_error *err) XM_MUST_CHECK;

/* The position a row (asset, qty) added now would land in: the last account's position in
 * `asset` with the sign of qty when that account is cross, else b->n_positions (appended).
 * Loaders call it before adding, to check the position's entry notional afterwards. */
size_t xm_accounts_fold_target(const xm_accounts *b, uint16_t asset, double qty);

/* Undo the adds since the book held `n_accounts` accounts and `n_folded` folded rows (the
 * values read then): later accounts, their positions and ids are dropped. Positions of the
 * earlier accounts are unchanged by those adds (rows only fold into the last account). */
void xm_accounts_truncate(xm_accounts *b, size_t n_accounts, size_t n_folded);

static inline const char *xm_accounts_id(const xm_accounts *b, size_t a) { return b->ids + b->id_off[a]; }

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_ACCOUNTS_H */
