/* accounts_csv.h — internal: accounts and positions from two CSV files (interface.md
 * `accounts_csv:`), and the id map every account source shares to keep ids unique.
 *
 * The files (RFC 4180 without quoting):
 *   accounts:   header exactly   id,mode,wallet_usd
 *   positions:  header exactly   account_id,asset,qty,entry,margin_usd
 * Rules:
 *   - one record per line; LF or CRLF line ends; the last line may or may not end with one;
 *     a UTF-8 byte-order mark before the header is skipped; an empty line is an error (so the
 *     account on line L of the accounts file is its (L-1)-th record);
 *   - fields are taken as written: no quoting (a field starting with '"' is an error that
 *     says so), no trimming of spaces (" 12" is not a number);
 *   - id (and account_id): 1..XM_ACCOUNT_ID_MAX bytes, no control characters, no ',' or '"';
 *     unique across every account source of the model (YAML accounts, these files, the
 *     population);
 *   - mode: cross | isolated;
 *   - numbers: [+-]digits[.digits][(e|E)[+-]digits] (also ".5" and "5."), decimal only, no
 *     inf/nan/hex;
 *   - wallet_usd: cross: a number >= 0 (required); isolated: empty or 0;
 *   - qty: a non-zero number; entry: a number > 0;
 *   - margin_usd: isolated: a number > 0 (required); cross: empty or 0;
 *   - asset: a market symbol with a tier table (venue.tiers); |qty| * entry must not exceed the
 *     asset's last tier cap (model.md §3);
 *   - every position's account_id names an account of the accounts file; every account has at
 *     least one position; the accounts file has at least one account.
 * Positions may come in any order: they are grouped by account in the accounts file's order
 * (keeping their file order within an account), so the book's CSR layout holds.
 *
 * Every problem is one line "FILE:LINE: COLUMN: expected WHAT, got 'VALUE'" (or
 * "FILE:LINE: expected WHAT, got ..." when it is about the whole line) with XM_EMODEL; an
 * unreadable file is XM_EIO "FILE: cannot read: REASON".
 */
#ifndef XM_ACCOUNTS_CSV_H
#define XM_ACCOUNTS_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "xmrisk/accounts.h"
#include "xmrisk/error.h"
#include "xmrisk/market.h"
#include "xmrisk/venue.h"

#define XM_ACCOUNT_ID_MAX 255  /* longest account id, bytes */

/* ---- id map: account id -> a uint32 value (the account's index in the book) ---- */

#define XM_IDMAP_NONE UINT32_MAX

typedef struct {
    uint64_t *slot;           /* cap slots (power of two): 0 empty, else hash<<32 | (record+1) */
    size_t cap, n;
    char *rec;                /* records, 4-byte aligned: uint32 value, the id, NUL (one cache
                               * line for a hit: the slot and the record) */
    size_t rec_len, rec_cap;
    uint32_t last;            /* record of the id inserted last (xm_idmap_key) */
} xm_idmap;

/* An empty map (zeroed struct works too). Free with xm_idmap_clear(). */
void xm_idmap_init(xm_idmap *m);
void xm_idmap_clear(xm_idmap *m);

/* Value stored for the id (len bytes), or XM_IDMAP_NONE. */
uint32_t xm_idmap_get(const xm_idmap *m, const char *id, size_t len);

/* Insert id -> value unless the id is there: *prev receives the value already stored, or
 * XM_IDMAP_NONE when the id was new (and inserted). XM_ENOMEM on allocation failure. */
xm_status xm_idmap_put(xm_idmap *m, const char *id, size_t len, uint32_t value, uint32_t *prev,
                       xm_error *err) XM_MUST_CHECK;

/* The id stored in record `r` (m->last after an insertion). */
static inline const char *xm_idmap_key(const xm_idmap *m, uint32_t r) { return m->rec + r + 4; }

/* Why an id is not acceptable as an account id ("a comma", "a control character", ...), or
 * NULL when it is fine (checks length 1..XM_ACCOUNT_ID_MAX too). */
const char *xm_account_id_problem(const char *id, size_t len);

/* ---- loading ---- */

typedef struct {
    /* Ids already used by accounts before these files, mapped to their book index; the new
     * accounts are added to it (value: their book index). NULL: a private map, seeded with the
     * ids already in the book. */
    xm_idmap *ids;
    /* Where an earlier account (book index) was given, for duplicate-id messages, e.g.
     * "accounts[2] at m.yaml:9:9". NULL: "account #N given before these files". */
    void (*origin)(void *ctx, size_t account, char *buf, size_t size);
    void *origin_ctx;
} xm_accounts_csv_opts;

/* Read both files and append their accounts (in accounts-file order) and positions to `book`.
 * `v` gives the tier tables (its n_assets must be m->n). On an XM_EMODEL or XM_EIO failure the
 * book is unchanged (opts->ids may hold some of the new ids). `opts` may be NULL. */
xm_status xm_accounts_csv_load(const char *accounts_path, const char *positions_path,
                               const xm_market *m, const xm_venue *v, xm_accounts *book,
                               const xm_accounts_csv_opts *opts, xm_error *err) XM_MUST_CHECK;

#endif /* XM_ACCOUNTS_CSV_H */
