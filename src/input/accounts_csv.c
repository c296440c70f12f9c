/* accounts_csv.c — accounts and positions from CSV files, and the account-id map (see
 * accounts_csv.h for the file rules).
 *
 * Speed: one pass over each file with a block reader (no per-line allocation), numbers through
 * an exact fast path (Clinger: an integer mantissa <= 2^53 times or over an exact power of ten
 * <= 1e22 is correctly rounded) with strtod for the rest, ids through an open-addressing hash
 * map. Positions are kept aside, then grouped by account with a counting sort, so a million
 * accounts with four million positions load in a few seconds.
 */
#include "input/accounts_csv.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/grow.h"
#include "input/limits.h"
#include "input/numparse.h"

/* ------------------------------------------------------------------------------------------ */
/* id map                                                                                       */

void xm_idmap_init(xm_idmap *m) { memset(m, 0, sizeof *m); }

void xm_idmap_clear(xm_idmap *m)
{
    if (m == NULL)
        return;
    free(m->slot);
    free(m->rec);
    memset(m, 0, sizeof *m);
}

/* FNV-1a, then a murmur3 finalizer so that short, similar ids spread over the table. */
static uint32_t hash_id(const char *s, size_t len)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= UINT64_C(0x100000001b3);
    }
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return (uint32_t)h;
}

static uint32_t rec_value(const xm_idmap *m, uint32_t r)
{
    uint32_t v;
    memcpy(&v, m->rec + r, sizeof v);
    return v;
}

/* Record of the id, or UINT32_MAX; *slot_out: where it is, or the empty slot to put it. */
static uint32_t find(const xm_idmap *m, const char *id, size_t len, uint32_t h, size_t *slot_out)
{
    size_t mask = m->cap - 1, i;
    for (i = h & mask; m->slot[i] != 0; i = (i + 1) & mask) {
        uint64_t s = m->slot[i];
        if ((uint32_t)(s >> 32) != h)
            continue;
        uint32_t r = (uint32_t)(s & 0xffffffffu) - 1;
        const char *k = m->rec + r + 4;
        if (memcmp(k, id, len) == 0 && k[len] == '\0') {
            *slot_out = i;
            return r;
        }
    }
    *slot_out = i;
    return UINT32_MAX;
}

uint32_t xm_idmap_get(const xm_idmap *m, const char *id, size_t len)
{
    if (m->cap == 0)
        return XM_IDMAP_NONE;
    size_t i;
    uint32_t r = find(m, id, len, hash_id(id, len), &i);
    return r == UINT32_MAX ? XM_IDMAP_NONE : rec_value(m, r);
}

static int rehash(xm_idmap *m, size_t cap)
{
    uint64_t *slot = calloc(cap, sizeof *slot);
    if (slot == NULL)
        return -1;
    size_t mask = cap - 1;
    for (size_t i = 0; i < m->cap; i++) {
        uint64_t s = m->slot[i];
        if (s == 0)
            continue;
        size_t j = (size_t)(s >> 32) & mask;
        while (slot[j] != 0)
            j = (j + 1) & mask;
        slot[j] = s;
    }
    free(m->slot);
    m->slot = slot;
    m->cap = cap;
    return 0;
}

xm_status xm_idmap_put(xm_idmap *m, const char *id, size_t len, uint32_t value, uint32_t *prev,
                       xm_error *err)
{
    *prev = XM_IDMAP_NONE;
    if (m->cap == 0 || (m->n + 1) * 2 > m->cap) {
        if (rehash(m, m->cap ? m->cap * 2 : 1024) != 0)
            return xm_error_set(err, XM_ENOMEM, "account ids: out of memory");
    }
    uint32_t h = hash_id(id, len);
    size_t i;
    uint32_t r = find(m, id, len, h, &i);
    if (r != UINT32_MAX) {
        *prev = rec_value(m, r);
        return XM_OK;
    }
    size_t need = (4 + len + 1 + 3) & ~(size_t)3;
    if (m->rec_len + need >= UINT32_MAX)
        return xm_error_set(err, XM_EMODEL, "account ids: more than 4 GiB of ids");
    if (xm_grow((void **)&m->rec, &m->rec_cap, m->rec_len + need, 1, 65536) != 0)
        return xm_error_set(err, XM_ENOMEM, "account ids: out of memory");
    r = (uint32_t)m->rec_len;
    memcpy(m->rec + r, &value, sizeof value);
    memcpy(m->rec + r + 4, id, len);
    memset(m->rec + r + 4 + len, 0, need - 4 - len);
    m->rec_len += need;
    m->slot[i] = ((uint64_t)h << 32) | (uint64_t)(r + 1);
    m->last = r;
    m->n++;
    return XM_OK;
}

const char *xm_account_id_problem(const char *id, size_t len)
{
    if (len == 0)
        return "it is empty";
    if (len > XM_ACCOUNT_ID_MAX)
        return "longer than 255 bytes";
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)id[i];
        if (ch < 0x20 || ch == 0x7F)
            return "it has a control character";
        if (ch == ',')
            return "it has a comma";
        if (ch == '"')
            return "it has a double quote";
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* reading lines                                                                                */

typedef struct {
    const char *path;
    FILE *f;
    char *buf;
    size_t cap, pos, end;     /* unread bytes: buf[pos..end); buf[end] stays writable */
    int eof;
    unsigned long line;       /* number of the line last returned (1-based) */
} reader;

static xm_status reader_open(reader *r, const char *path, xm_error *err)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->f = fopen(path, "rb");
    if (r->f == NULL)
        return xm_read_error(path, errno, err);
    r->cap = (size_t)1 << 20;
    r->buf = malloc(r->cap + 1);
    if (r->buf == NULL) {
        fclose(r->f);
        r->f = NULL;
        return xm_error_set(err, XM_ENOMEM, "%s: out of memory", path);
    }
    return XM_OK;
}

static void reader_close(reader *r)
{
    if (r->f != NULL)
        fclose(r->f);
    free(r->buf);
    r->f = NULL;
    r->buf = NULL;
}

/* Take the next complete line from the buffer, without reading: NUL-terminated in place, without
 * its "\n" or "\r\n". Returns 0 when the buffer holds no complete line (at the end of the file:
 * when nothing is left). */
static int take_line(reader *r, char **out, size_t *len)
{
    char *s = r->buf + r->pos;
    char *nl = memchr(s, '\n', r->end - r->pos);
    if (nl == NULL) {
        if (!r->eof || r->pos == r->end)
            return 0;
        nl = r->buf + r->end; /* last line without a line end; buf[end] is writable */
    }
    size_t n = (size_t)(nl - s);
    r->pos = (size_t)(nl - r->buf) + (r->pos + n < r->end ? 1 : 0);
    if (n > 0 && s[n - 1] == '\r')
        n--;
    s[n] = '\0';
    r->line++;
    *out = s;
    *len = n;
    return 1;
}

/* Move the unread bytes to the front (lines taken before are no longer valid), make room (the
 * buffer doubles when one line fills it) and read until the buffer is full or the file ends. */
static xm_status refill(reader *r, xm_error *err)
{
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->end - r->pos);
        r->end -= r->pos;
        r->pos = 0;
    }
    if (r->end == r->cap) {
        size_t cap = xm_grown_cap(r->cap, r->cap + 1, 0);  /* + 1: buf[end] stays writable */
        if (xm_resize((void **)&r->buf, cap + 1, 1) != 0)
            return xm_error_set(err, XM_ENOMEM, "%s:%lu: out of memory (a line of %zu bytes)",
                                r->path, r->line + 1, r->end);
        r->cap = cap;
    }
    while (r->end < r->cap && !r->eof) {
        size_t got = fread(r->buf + r->end, 1, r->cap - r->end, r->f);
        r->end += got;
        if (got == 0) {
            if (ferror(r->f))
                return xm_read_error(r->path, errno, err);
            r->eof = 1;
        }
    }
    return XM_OK;
}

/* Next line (see take_line): *out and *len, XM_OK; at the end of the file *out is NULL. */
static xm_status reader_next(reader *r, char **out, size_t *len, xm_error *err)
{
    *out = NULL;
    *len = 0;
    while (!take_line(r, out, len)) {
        if (r->eof)
            return XM_OK;
        xm_status s = refill(r, err);
        if (s != XM_OK)
            return s;
    }
    return XM_OK;
}

/* Up to `max` next lines, all valid until the next call: *n of them (0 at the end of the file),
 * line k numbered no[k]. */
static xm_status reader_batch(reader *r, char **lines, size_t *lens, unsigned long *no,
                              size_t max, size_t *n, xm_error *err)
{
    *n = 0;
    if (!r->eof && r->end - r->pos < r->cap / 2) {
        xm_status s = refill(r, err);
        if (s != XM_OK)
            return s;
    }
    while (*n < max && take_line(r, &lines[*n], &lens[*n]))
        no[(*n)++] = r->line;
    if (*n == 0) { /* a line longer than what is left in the buffer */
        xm_status s = reader_next(r, &lines[0], &lens[0], err);
        if (s != XM_OK)
            return s;
        if (lines[0] != NULL) {
            no[0] = r->line;
            *n = 1;
        }
    }
    return XM_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* fields and values                                                                            */

#define MAX_FIELDS 8

typedef struct {
    char *s;
    size_t len;
} field;

/* Split in place at commas (each field NUL-terminated). Returns the number of fields (which can
 * exceed MAX_FIELDS: only the first MAX_FIELDS are stored). */
static size_t split(char *line, size_t len, field *f)
{
    size_t n = 0;
    char *p = line, *end = line + len;
    for (;;) {
        char *c = memchr(p, ',', (size_t)(end - p));
        char *e = c ? c : end;
        if (n < MAX_FIELDS) {
            f[n].s = p;
            f[n].len = (size_t)(e - p);
        }
        n++;
        if (c == NULL)
            break;
        *c = '\0';
        p = c + 1;
    }
    return n;
}

/* How a field reads in a message: 'text' (control characters escaped, cut at 60 bytes) or
 * "an empty field". */
static char *describe(const char *s, size_t len, char *buf, size_t size)
{
    if (len == 0) {
        snprintf(buf, size, "an empty field");
        return buf;
    }
    size_t pos = 0, max = len > 60 ? 60 : len;
    while (max < len && max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    if (pos + 1 < size)
        buf[pos++] = '\'';
    for (size_t i = 0; i < max && pos + 5 < size; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7F)
            pos += (size_t)snprintf(buf + pos, size - pos, "\\x%02X", ch);
        else
            buf[pos++] = (char)ch;
    }
    if (max < len && pos + 4 < size) {
        memcpy(buf + pos, "...", 3);
        pos += 3;
    }
    if (pos + 1 < size)
        buf[pos++] = '\'';
    buf[pos < size ? pos : size - 1] = '\0';
    return buf;
}

/* "PATH:LINE: COLUMN: expected <fmt...>, got 'VALUE'<suffix>". */
static xm_status fail_field(xm_error *err, const reader *r, const char *column, const field *f,
                            const char *suffix, const char *fmt, ...) XM_PRINTF(6, 7);
static xm_status fail_field(xm_error *err, const reader *r, const char *column, const field *f,
                            const char *suffix, const char *fmt, ...)
{
    char what[320], got[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return xm_error_set(err, XM_EMODEL, "%s:%lu: %s: expected %s, got %s%s", r->path, r->line,
                        column, what, describe(f->s, f->len, got, sizeof got),
                        suffix ? suffix : "");
}

/* Empty or 0 (written as a number): the value of a column a mode does not use. */
static int empty_or_zero(const field *f)
{
    double v;
    return f->len == 0 || (xm_parse_number(f->s, f->len, &v) == 0 && v == 0.0);
}

/* ------------------------------------------------------------------------------------------ */
/* loading                                                                                      */

static const char ACC_HEADER[] = "id,mode,wallet_usd";
static const char POS_HEADER[] = "account_id,asset,qty,entry,margin_usd";

/* A position kept aside (40 bytes). */
typedef struct {
    double qty, entry, margin;
    unsigned long line;       /* its line in the positions file */
    uint32_t acc;             /* account of the file, k */
    uint16_t asset;
} row;

typedef struct {
    const xm_market *m;
    const xm_venue *v;
    xm_accounts *book;
    xm_idmap *ids;
    const xm_accounts_csv_opts *opts;
    uint32_t base;            /* book index of the first account of the files */
    const char *acc_path;
    /* accounts of the file, k = 0.. (on line k + 2) */
    size_t n_acc, cap_acc;
    uint32_t *acc_key;        /* idmap record holding the id */
    uint8_t *acc_mode;
    double *acc_wallet;
    uint32_t *acc_count;      /* positions per account */
    /* positions, in file order */
    size_t n_pos, cap_pos;
    row *pos;
} loader;

static void loader_free(loader *L)
{
    free(L->acc_key);
    free(L->acc_mode);
    free(L->acc_wallet);
    free(L->acc_count);
    free(L->pos);
}

/* Room for one more account of the file (three arrays of one capacity). */
static int grow_accounts(loader *L)
{
    if (L->n_acc < L->cap_acc)
        return 0;
    size_t n = xm_grown_cap(L->cap_acc, L->n_acc + 1, 4096);
    if (xm_resize((void **)&L->acc_key, n, sizeof *L->acc_key) ||
        xm_resize((void **)&L->acc_mode, n, sizeof *L->acc_mode) ||
        xm_resize((void **)&L->acc_wallet, n, sizeof *L->acc_wallet))
        return -1;
    L->cap_acc = n;
    return 0;
}

static int grow_positions(loader *L)
{
    return xm_grow((void **)&L->pos, &L->cap_pos, L->n_pos + 1, sizeof *L->pos, 16384);
}

/* Read and check the header line (a UTF-8 byte-order mark before it is skipped). */
static xm_status read_header(reader *r, const char *want, size_t n_fields, xm_error *err)
{
    char *line;
    size_t len;
    xm_status s = reader_next(r, &line, &len, err);
    if (s != XM_OK)
        return s;
    if (line == NULL)
        return xm_error_set(err, XM_EMODEL, "%s:1: expected the header '%s', got an empty file",
                            r->path, want);
    if (len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
        line += 3;
        len -= 3;
    }
    if (len == strlen(want) && memcmp(line, want, len) == 0)
        return XM_OK;
    char got[128];
    field f = {line, len};
    return xm_error_set(err, XM_EMODEL,
                        "%s:1: expected the header '%s' (%zu columns, in this order), got %s",
                        r->path, want, n_fields, describe(f.s, f.len, got, sizeof got));
}

/* Split a record line and check its shape: n fields, none quoted. */
static xm_status record(const reader *r, char *line, size_t len, const char *header, size_t n,
                        const char *const *columns, field *f, xm_error *err)
{
    if (len == 0)
        return xm_error_set(err, XM_EMODEL, "%s:%lu: expected %zu fields (%s), got an empty line",
                            r->path, r->line, n, header);
    size_t got = split(line, len, f);
    for (size_t i = 0; i < got && i < MAX_FIELDS; i++)
        if (f[i].len > 0 && f[i].s[0] == '"')
            return fail_field(err, r, i < n ? columns[i] : "field", &f[i], NULL,
                              "a field without quotes (quoting is not supported: fields are "
                              "taken as written and cannot hold commas)");
    if (got != n)
        return xm_error_set(err, XM_EMODEL, "%s:%lu: expected %zu fields (%s), got %zu", r->path,
                            r->line, n, header, got);
    return XM_OK;
}

/* Where an account of the book given before the files was given. */
static void earlier_origin(const loader *L, uint32_t a, char *buf, size_t size)
{
    if (a >= L->base) {
        snprintf(buf, size, "line %lu", (unsigned long)(a - L->base) + 2);
        return;
    }
    if (L->opts != NULL && L->opts->origin != NULL) {
        L->opts->origin(L->opts->origin_ctx, a, buf, size);
        return;
    }
    snprintf(buf, size, "account #%lu given before these files", (unsigned long)a);
}

static const char *const ACC_COLUMNS[] = {"id", "mode", "wallet_usd"};
static const char *const POS_COLUMNS[] = {"account_id", "asset", "qty", "entry", "margin_usd"};

/* The fields of one accounts-file record: id, mode, wallet_usd (cross: a number >= 0;
 * isolated: empty or 0). */
static xm_status parse_account(const reader *r, const field *f, xm_margin_mode *mode,
                               double *wallet, xm_error *err)
{
    const char *problem = xm_account_id_problem(f[0].s, f[0].len);
    if (problem != NULL) {
        char why[96];
        snprintf(why, sizeof why, " (%s)", problem);
        return fail_field(err, r, "id", &f[0], why,
                          "an account id (1 to %d bytes; no control characters, commas or "
                          "double quotes)",
                          XM_ACCOUNT_ID_MAX);
    }
    if (f[1].len == 5 && memcmp(f[1].s, "cross", 5) == 0)
        *mode = XM_CROSS;
    else if (f[1].len == 8 && memcmp(f[1].s, "isolated", 8) == 0)
        *mode = XM_ISOLATED;
    else
        return fail_field(err, r, "mode", &f[1], NULL, "cross or isolated");
    *wallet = 0.0;
    if (*mode == XM_CROSS) {
        if (xm_parse_number(f[2].s, f[2].len, wallet) != 0 || !(*wallet >= 0.0) ||
            !(*wallet <= XM_MONEY_MAX))
            return fail_field(err, r, "wallet_usd", &f[2], NULL,
                              "a number in [0, 1e+15] (the wallet of a cross account)");
    } else if (!empty_or_zero(&f[2])) {
        return fail_field(err, r, "wallet_usd", &f[2], NULL,
                          "an empty field or 0 (an isolated account has no wallet: its "
                          "margins are the positions' margin_usd)");
    }
    return XM_OK;
}

/* Keep the account of the record (its id, f[0], unique across every source). */
static xm_status add_account(loader *L, const reader *r, const field *f, xm_margin_mode mode,
                             double wallet, xm_error *err)
{
    if ((uint64_t)L->base + L->n_acc >= UINT32_MAX - 2)
        return xm_error_set(err, XM_EMODEL, "%s:%lu: more than 2^32 accounts", r->path, r->line);
    uint32_t prev;
    xm_status s = xm_idmap_put(L->ids, f[0].s, f[0].len, L->base + (uint32_t)L->n_acc, &prev,
                               err);
    if (s != XM_OK)
        return s;
    if (prev != XM_IDMAP_NONE) {
        char where[300], suffix[320];
        earlier_origin(L, prev, where, sizeof where);
        snprintf(suffix, sizeof suffix, " (also %s)", where);
        return fail_field(err, r, "id", &f[0], suffix, "an id no other account has");
    }
    if (grow_accounts(L) != 0)
        return xm_error_set(err, XM_ENOMEM, "%s:%lu: out of memory", r->path, r->line);
    L->acc_key[L->n_acc] = L->ids->last;
    L->acc_mode[L->n_acc] = (uint8_t)mode;
    L->acc_wallet[L->n_acc] = wallet;
    L->n_acc++;
    return XM_OK;
}

/* The accounts file: per record, split the fields, parse them, add the account. */
static xm_status load_accounts_file(loader *L, const char *path, xm_error *err)
{
    reader r;
    xm_status s = reader_open(&r, path, err);
    if (s != XM_OK)
        return s;
    s = read_header(&r, ACC_HEADER, 3, err);
    field f[MAX_FIELDS];
    char *line;
    size_t len;
    while (s == XM_OK) {
        s = reader_next(&r, &line, &len, err);
        if (s != XM_OK || line == NULL)
            break;
        xm_margin_mode mode = XM_CROSS;
        double wallet = 0.0;
        s = record(&r, line, len, ACC_HEADER, 3, ACC_COLUMNS, f, err);
        if (s == XM_OK)
            s = parse_account(&r, f, &mode, &wallet, err);
        if (s == XM_OK)
            s = add_account(L, &r, f, mode, wallet, err);
    }
    if (s == XM_OK && L->n_acc == 0)
        s = xm_error_set(err, XM_EMODEL, "%s:2: expected at least one account after the header, "
                         "got none", path);
    reader_close(&r);
    return s;
}

/* "BTC, ETH, SOL" */
static void symbol_list(const xm_market *m, char *buf, size_t size)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t j = 0; j < m->n; j++) {
        int w = snprintf(buf + pos, size - pos, "%s%s", j ? ", " : "", m->assets[j].symbol);
        if (w < 0 || (size_t)w >= size - pos)
            break;
        pos += (size_t)w;
    }
}

/* Positions are read in batches of POS_BATCH lines: the id-map slots, then the records, of a
 * whole batch are prefetched before the rows are checked in order, so that the cache misses of
 * random account ids overlap (a positions file need not be grouped by account). */
#define POS_BATCH 16
#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

/* Split the lines of a batch into fields, checking their shapes: the number of lines before the
 * first bad one (its error in err and *shape). */
static size_t batch_shapes(reader *r, char **lines, const size_t *lens, const unsigned long *no,
                           size_t n, field (*f)[MAX_FIELDS], xm_status *shape, xm_error *err)
{
    *shape = XM_OK;
    for (size_t b = 0; b < n; b++) {
        r->line = no[b];
        *shape = record(r, lines[b], lens[b], POS_HEADER, 5, POS_COLUMNS, f[b], err);
        if (*shape != XM_OK)
            return b;
    }
    return n;
}

/* The accounts of a batch's rows (acc[b]: the id map's value or XM_IDMAP_NONE), looked up after
 * the id-map slots and records of the whole batch are prefetched. */
static void batch_accounts(const loader *L, field (*f)[MAX_FIELDS], size_t n, uint32_t *acc)
{
    const xm_idmap *ids = L->ids;
    size_t slot[POS_BATCH];
    if (ids->cap > 0) {
        size_t mask = ids->cap - 1;
        for (size_t b = 0; b < n; b++) {
            slot[b] = hash_id(f[b][0].s, f[b][0].len) & mask;
            PREFETCH(&ids->slot[slot[b]]);
        }
        for (size_t b = 0; b < n; b++) {
            uint64_t v = ids->slot[slot[b]];
            if (v != 0)
                PREFETCH(ids->rec + (uint32_t)(v & 0xffffffffu) - 1);
        }
    }
    for (size_t b = 0; b < n; b++) {
        acc[b] = f[b][0].len ? xm_idmap_get(ids, f[b][0].s, f[b][0].len) : XM_IDMAP_NONE;
        if (acc[b] != XM_IDMAP_NONE && acc[b] >= L->base) {
            PREFETCH(&L->acc_mode[acc[b] - L->base]);
            PREFETCH(&L->acc_count[acc[b] - L->base]);
        }
    }
}

/* The account of a position row: `a` (the id map's value for f[0]) must be an account of the
 * accounts file; *k its index there. */
static xm_status position_account(const loader *L, const reader *r, const field *f, uint32_t a,
                                  uint32_t *k, xm_error *err)
{
    if (a != XM_IDMAP_NONE && a >= L->base) {
        *k = a - L->base;
        return XM_OK;
    }
    char suffix[400] = "";
    if (a != XM_IDMAP_NONE) {
        char where[300];
        earlier_origin(L, a, where, sizeof where);
        snprintf(suffix, sizeof suffix,
                 " (an account given before these files, at %s: its positions are given "
                 "with it)",
                 where);
    }
    return fail_field(err, r, "account_id", &f[0], suffix, "the id of an account of %s",
                      L->acc_path);
}

/* The asset of a position row (f[1]): a market symbol with a tier table. *last_asset: the
 * previous row's, tried first. */
static xm_status position_asset(const loader *L, const reader *r, const field *f,
                                long *last_asset, xm_error *err)
{
    const xm_market *m = L->m;
    long asset = *last_asset;
    if (asset < 0 || strcmp(m->assets[asset].symbol, f[1].s) != 0)
        asset = xm_market_find(m, f[1].s);
    if (asset < 0 || memchr(f[1].s, '\0', f[1].len) != NULL) {
        char list[512];
        symbol_list(m, list, sizeof list);
        return fail_field(err, r, "asset", &f[1], NULL, "the symbol of an asset (%s)", list);
    }
    *last_asset = asset;
    if (L->v->tiers[asset].n > 0)
        return XM_OK;
    char suffix[96];
    snprintf(suffix, sizeof suffix, " (venue.tiers has no table for %s)",
             m->assets[asset].symbol);
    return fail_field(err, r, "asset", &f[1], suffix,
                      "an asset with a maintenance-margin tier table");
}

/* qty, entry and margin_usd of a position row of account k (margin: isolated: a number > 0;
 * cross: empty or 0, *margin 0). */
static xm_status position_numbers(const loader *L, const reader *r, const field *f, uint32_t k,
                                  row *p, xm_error *err)
{
    p->margin = 0.0;
    if (xm_parse_number(f[2].s, f[2].len, &p->qty) != 0 || p->qty == 0.0 || !isfinite(p->qty))
        return fail_field(err, r, "qty", &f[2], NULL,
                          "a non-zero finite number (base units, > 0 long, < 0 short)");
    if (xm_parse_number(f[3].s, f[3].len, &p->entry) != 0 || !(p->entry >= XM_PRICE_MIN) ||
        !(p->entry <= XM_PRICE_MAX))
        return fail_field(err, r, "entry", &f[3], NULL,
                          "a number in [1e-09, 1e+12] (USD per base unit)");
    char suffix[300];
    if (L->acc_mode[k] == XM_ISOLATED) {
        if (xm_parse_number(f[4].s, f[4].len, &p->margin) == 0 && p->margin > 0.0 &&
            p->margin <= XM_MONEY_MAX)
            return XM_OK;
        snprintf(suffix, sizeof suffix,
                 " (account '%s' is isolated: each position has its own margin)",
                 xm_idmap_key(L->ids, L->acc_key[k]));
        return fail_field(err, r, "margin_usd", &f[4], suffix, "a number in (0, 1e+15]");
    }
    if (empty_or_zero(&f[4]))
        return XM_OK;
    snprintf(suffix, sizeof suffix,
             " (account '%s' is cross: its wallet_usd is the margin of all its positions)",
             xm_idmap_key(L->ids, L->acc_key[k]));
    return fail_field(err, r, "margin_usd", &f[4], suffix, "an empty field or 0");
}

/* The entry notional of the position row p lands in (|qty| * entry, or of the position it is
 * folded into: `note` then says so) within its asset's last tier cap (model.md §3). */
static xm_status check_cap(const loader *L, const char *path, const row *p, double notional,
                           const char *note, xm_error *err)
{
    const xm_tier_table *t = &L->v->tiers[p->asset];
    if (xm_tier_index(t, notional) >= 0)
        return XM_OK;
    return xm_error_set(err, XM_EMODEL,
                        "%s:%lu: qty: expected |qty| * entry <= %.15g USD (the last tier cap of "
                        "%s in venue.tiers, model.md §3)%s, got %.15g",
                        path, p->line, t->tier[t->n - 1].cap_usd,
                        L->m->assets[p->asset].symbol, note, notional);
}

/* Check one position row (its fields split; `a`: the id map's value for its account_id) and
 * keep it aside. */
static xm_status check_position(loader *L, const reader *r, const field *f, uint32_t a,
                                long *last_asset, xm_error *err)
{
    uint32_t k = 0;
    row p = {0};
    xm_status s = position_account(L, r, f, a, &k, err);
    if (s == XM_OK)
        s = position_asset(L, r, f, last_asset, err);
    if (s == XM_OK)
        s = position_numbers(L, r, f, k, &p, err);
    if (s != XM_OK)
        return s;
    p.acc = k;
    p.asset = (uint16_t)*last_asset;
    p.line = r->line;
    s = check_cap(L, r->path, &p, fabs(p.qty) * p.entry, "", err);
    if (s != XM_OK)
        return s;
    if (L->n_pos >= UINT32_MAX - 2)
        return xm_error_set(err, XM_EMODEL, "%s:%lu: more than 2^32 positions", r->path, r->line);
    if (grow_positions(L) != 0)
        return xm_error_set(err, XM_ENOMEM, "%s:%lu: out of memory", r->path, r->line);
    L->pos[L->n_pos++] = p;
    L->acc_count[k]++;
    return XM_OK;
}

/* The positions file, in batches: shapes, then accounts (prefetched), then each row checked
 * and kept. */
static xm_status load_positions_file(loader *L, const char *path, xm_error *err)
{
    reader r;
    xm_status s = reader_open(&r, path, err);
    if (s != XM_OK)
        return s;
    s = read_header(&r, POS_HEADER, 5, err);
    field f[POS_BATCH][MAX_FIELDS];
    char *lines[POS_BATCH];
    size_t lens[POS_BATCH];
    unsigned long no[POS_BATCH];
    uint32_t acc[POS_BATCH];
    long last_asset = -1;
    while (s == XM_OK) {
        size_t n;
        s = reader_batch(&r, lines, lens, no, POS_BATCH, &n, err);
        if (s != XM_OK || n == 0)
            break;
        /* shapes first: a bad line ends the batch, after the lines before it are checked */
        xm_status shape;
        size_t ok = batch_shapes(&r, lines, lens, no, n, f, &shape, err);
        batch_accounts(L, f, ok, acc);
        for (size_t b = 0; b < ok && s == XM_OK; b++) {
            r.line = no[b];
            s = check_position(L, &r, f[b], acc[b], &last_asset, err);
        }
        if (s == XM_OK)
            s = shape; /* its message is still in err: checking good rows writes nothing */
        r.line = no[n - 1];
    }
    reader_close(&r);
    return s;
}

/* Add one row to the last account of the book; a row folded into an earlier position of the
 * account (xmrisk/accounts.h, Lots) is checked again against the tier cap, with that
 * position's entry notional. */
static xm_status append_row(loader *L, const row *p, const char *path, xm_error *err)
{
    xm_accounts *b = L->book;
    size_t n = b->n_positions, j = xm_accounts_fold_target(b, p->asset, p->qty);
    xm_status s = xm_accounts_add_position(b, p->asset, p->qty, p->entry, p->margin, err);
    if (s != XM_OK || j == n)
        return s;
    return check_cap(L, path, p, fabs(b->qty[j]) * b->entry[j],
                     " for the account's position in the asset on that side, which this row "
                     "adds to (rows of one cross account, asset and side are one position)",
                     err);
}

/* Group the positions by account (stable counting sort) and append everything to the book. */
static xm_status append_to_book(loader *L, const char *positions_path, xm_error *err)
{
    uint32_t *order = malloc((L->n_pos ? L->n_pos : 1) * sizeof *order);
    uint32_t *next = malloc((L->n_acc + 1) * sizeof *next);
    xm_status s = XM_OK;
    if (order == NULL || next == NULL) {
        s = xm_error_set(err, XM_ENOMEM, "%s: out of memory", L->acc_path);
        goto done;
    }
    uint32_t sum = 0;
    for (size_t k = 0; k < L->n_acc; k++) {
        next[k] = sum;
        sum += L->acc_count[k];
    }
    next[L->n_acc] = sum;
    for (size_t j = 0; j < L->n_pos; j++)
        order[next[L->pos[j].acc]++] = (uint32_t)j;
    size_t j0 = 0, a0 = L->book->n_accounts, folded0 = L->book->n_folded;
    for (size_t k = 0; k < L->n_acc && s == XM_OK; k++) {
        const char *id = xm_idmap_key(L->ids, L->acc_key[k]);
        s = xm_accounts_add_account(L->book, id, (xm_margin_mode)L->acc_mode[k], L->acc_wallet[k],
                                err);
        for (size_t e = j0 + L->acc_count[k]; s == XM_OK && j0 < e; j0++)
            s = append_row(L, &L->pos[order[j0]], positions_path, err);
    }
    if (s != XM_OK)
        xm_accounts_truncate(L->book, a0, folded0);
done:
    free(order);
    free(next);
    return s;
}

/* The id map of the load: opts->ids, else `own` seeded with the ids already in the book. */
static xm_status loader_ids(loader *L, xm_idmap *own, xm_error *err)
{
    if (L->opts != NULL && L->opts->ids != NULL) {
        L->ids = L->opts->ids;
        return XM_OK;
    }
    L->ids = own;
    xm_status s = XM_OK;
    for (size_t a = 0; a < L->book->n_accounts && s == XM_OK; a++) {
        const char *id = xm_accounts_id(L->book, a);
        uint32_t prev;
        s = xm_idmap_put(own, id, strlen(id), (uint32_t)a, &prev, err);
    }
    return s;
}

/* Every account of the accounts file has at least one position. */
static xm_status check_accounts_used(const loader *L, const char *positions_path, xm_error *err)
{
    for (size_t k = 0; k < L->n_acc; k++)
        if (L->acc_count[k] == 0)
            return xm_error_set(err, XM_EMODEL,
                                "%s:%lu: id: expected an account with at least one position in "
                                "%s, got '%s' with none",
                                L->acc_path, (unsigned long)k + 2, positions_path,
                                xm_idmap_key(L->ids, L->acc_key[k]));
    return XM_OK;
}

xm_status xm_accounts_csv_load(const char *accounts_path, const char *positions_path,
                               const xm_market *m, const xm_venue *v, xm_accounts *book,
                               const xm_accounts_csv_opts *opts, xm_error *err)
{
    if (accounts_path == NULL || positions_path == NULL || m == NULL || v == NULL ||
        book == NULL || v->n_assets != m->n)
        return xm_error_set(err, XM_EUSAGE, "xm_accounts_csv_load: bad arguments");
    if (m->n > (size_t)UINT16_MAX + 1)
        return xm_error_set(err, XM_EMODEL, "%s: more than %u assets", accounts_path,
                            (unsigned)UINT16_MAX + 1);
    if (book->n_accounts >= UINT32_MAX - 2)
        return xm_error_set(err, XM_EMODEL, "%s: more than 2^32 accounts", accounts_path);

    loader L = {.m = m, .v = v, .book = book, .opts = opts, .base = (uint32_t)book->n_accounts,
                .acc_path = accounts_path};
    xm_idmap own;
    xm_idmap_init(&own);
    xm_status s = loader_ids(&L, &own, err);
    if (s == XM_OK)
        s = load_accounts_file(&L, accounts_path, err);
    if (s == XM_OK) {
        L.acc_count = calloc(L.n_acc, sizeof *L.acc_count);
        if (L.acc_count == NULL)
            s = xm_error_set(err, XM_ENOMEM, "%s: out of memory", accounts_path);
    }
    if (s == XM_OK)
        s = load_positions_file(&L, positions_path, err);
    if (s == XM_OK)
        s = check_accounts_used(&L, positions_path, err);
    if (s == XM_OK)
        s = append_to_book(&L, positions_path, err);
    loader_free(&L);
    xm_idmap_clear(&own);
    return s;
}
