/* accounts.c — accounts and positions, structure-of-arrays (see xmrisk/accounts.h). */
#include "xmrisk/accounts.h"

#include <stdlib.h>
#include <string.h>

#include "core/grow.h"

/* First capacity of every array of the book (then doubling: core/grow.h). */
#define XM_ACCOUNTS_FIRST_CAP 16

xm_accounts *xm_accounts_alloc(xm_error *err)
{
    xm_accounts *b = calloc(1, sizeof *b);
    if (b != NULL)
        b->first = calloc(1, sizeof *b->first);
    if (b == NULL || b->first == NULL) {
        free(b);
        xm_error_set(err, XM_ENOMEM, "accounts: out of memory");
        return NULL;
    }
    return b;
}

void xm_accounts_free(xm_accounts *b)
{
    if (b == NULL)
        return;
    free(b->mode);
    free(b->wallet);
    free(b->first);
    free(b->id_off);
    free(b->ids);
    free(b->owner);
    free(b->asset);
    free(b->qty);
    free(b->entry);
    free(b->margin);
    free(b);
}

static int grow_accounts(xm_accounts *b, size_t need)
{
    if (need <= b->cap_accounts)
        return 0;
    size_t n = xm_grown_cap(b->cap_accounts, need, XM_ACCOUNTS_FIRST_CAP);
    if (xm_resize((void **)&b->mode, n, sizeof *b->mode) ||
        xm_resize((void **)&b->wallet, n, sizeof *b->wallet) ||
        xm_resize((void **)&b->id_off, n, sizeof *b->id_off) ||
        xm_resize((void **)&b->first, n + 1, sizeof *b->first))
        return -1;
    b->cap_accounts = n;
    return 0;
}

static int grow_positions(xm_accounts *b, size_t need)
{
    if (need <= b->cap_positions)
        return 0;
    size_t n = xm_grown_cap(b->cap_positions, need, XM_ACCOUNTS_FIRST_CAP);
    if (xm_resize((void **)&b->owner, n, sizeof *b->owner) ||
        xm_resize((void **)&b->asset, n, sizeof *b->asset) ||
        xm_resize((void **)&b->qty, n, sizeof *b->qty) ||
        xm_resize((void **)&b->entry, n, sizeof *b->entry) ||
        xm_resize((void **)&b->margin, n, sizeof *b->margin))
        return -1;
    b->cap_positions = n;
    return 0;
}

static int grow_ids(xm_accounts *b, size_t need)
{
    return xm_grow((void **)&b->ids, &b->ids_cap, need, 1, XM_ACCOUNTS_FIRST_CAP);
}

xm_status xm_accounts_add_account(xm_accounts *b, const char *id, xm_margin_mode mode, double wallet,
                              xm_error *err)
{
    size_t len = strlen(id) + 1, a = b->n_accounts;
    if (a >= UINT32_MAX - 1 || b->ids_len + len > UINT32_MAX)
        return xm_error_set(err, XM_EMODEL, "accounts: more than 2^32 accounts or id bytes");
    if (grow_accounts(b, a + 1) || grow_ids(b, b->ids_len + len))
        return xm_error_set(err, XM_ENOMEM, "accounts: out of memory at account %zu", a);
    memcpy(b->ids + b->ids_len, id, len);
    b->id_off[a] = (uint32_t)b->ids_len;
    b->ids_len += len;
    b->mode[a] = (uint8_t)mode;
    b->wallet[a] = wallet;
    b->first[a] = (uint32_t)b->n_positions;
    b->first[a + 1] = (uint32_t)b->n_positions;
    b->n_accounts = a + 1;
    return XM_OK;
}

size_t xm_accounts_fold_target(const xm_accounts *b, uint16_t asset, double qty)
{
    size_t n = b->n_positions;
    if (b->n_accounts == 0 || b->mode[b->n_accounts - 1] != XM_CROSS)
        return n;
    for (size_t j = b->first[b->n_accounts - 1]; j < n; j++)
        if (b->asset[j] == asset && (b->qty[j] > 0.0) == (qty > 0.0))
            return j;
    return n;
}

/* Fold a row into position j of the same sign (accounts.h, Lots): Q = q1 + q2,
 * E = (q1 e1 + q2 e2) / Q. Same signs: |Q| >= |q1|, so Q != 0. */
static void fold(xm_accounts *b, size_t j, double qty, double entry)
{
    double q = b->qty[j] + qty;
    b->entry[j] = (b->qty[j] * b->entry[j] + qty * entry) / q;
    b->qty[j] = q;
    b->n_folded++;
}

xm_status xm_accounts_add_position(xm_accounts *b, uint16_t asset, double qty, double entry,
                               double margin, xm_error *err)
{
    size_t j = b->n_positions;
    if (b->n_accounts == 0)
        return xm_error_set(err, XM_EMODEL, "accounts: a position needs an account first");
    size_t into = xm_accounts_fold_target(b, asset, qty);
    if (into < j) {
        fold(b, into, qty, entry);
        return XM_OK;
    }
    if (j >= UINT32_MAX - 1)
        return xm_error_set(err, XM_EMODEL, "accounts: more than 2^32 positions");
    if (grow_positions(b, j + 1))
        return xm_error_set(err, XM_ENOMEM, "accounts: out of memory at position %zu", j);
    b->owner[j] = (uint32_t)(b->n_accounts - 1);
    b->asset[j] = asset;
    b->qty[j] = qty;
    b->entry[j] = entry;
    b->margin[j] = margin;
    b->n_positions = j + 1;
    b->first[b->n_accounts] = (uint32_t)b->n_positions;
    return XM_OK;
}

void xm_accounts_truncate(xm_accounts *b, size_t n_accounts, size_t n_folded)
{
    if (n_accounts >= b->n_accounts)
        return;
    b->n_positions = b->first[n_accounts];
    b->ids_len = b->id_off[n_accounts];
    b->n_accounts = n_accounts;
    b->n_folded = n_folded;
}
