/* fuzz_csv.c — libFuzzer harness: any bytes as an accounts file and a positions file.
 *
 * The input is split at its first 0x00 byte (or, when it has none, at its first line "--",
 * i.e. the bytes "\n--\n", so that seeds can be written as text): the bytes before are written
 * to DIR/accounts.csv, the bytes after to DIR/positions.csv (a missing part is an empty file;
 * later 0x00 bytes stay in the positions file). DIR is a private temporary directory under
 * $TMPDIR. The two files are then loaded twice:
 *
 *  1. directly, with xm_accounts_csv_load() (src/input/accounts_csv.h), into a book that already holds
 *     one account "yaml-1" (opts NULL: the loader seeds its private id map from the book), over
 *     the market and venue of MODEL below (BTC and ETH with tier tables, SOL without);
 *     (one input in 256, by hash, is first padded to cross the reader's 1 MiB blocks, see
 *     write_big, and are only loaded this way);
 *  2. through xm_model_load_string() of MODEL + "accounts_csv: {accounts: accounts.csv,
 *     positions: positions.csv}", named DIR/model.yaml (the paths resolve to DIR), where the
 *     YAML account "yaml-1" comes first (shared id map, origin callback in messages).
 *
 * Besides crashes, leaks and sanitizer reports, the harness aborts when a documented property
 * does not hold:
 *  - a failure leaves a non-empty one-line message, and (1) leaves the book unchanged;
 *  - a success leaves a well-formed book (CSR offsets, every account with >= 1 position, asset
 *    indices in range, q != 0 finite, e > 0 finite, margins by mode, ids NUL-terminated,
 *    unique and within the id rules);
 *  - (1) and (2) agree: both fail with the same status, or both succeed with the same accounts
 *    and positions.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input/accounts_csv.h"
#include "xmrisk/accounts.h"
#include "xmrisk/model.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char MODEL[] =
    "name: fuzz-csv\n"
    "horizon_days: 1\n"
    "steps: 4\n"
    "seed: 1\n"
    "market:\n"
    "  process: gbm\n"
    "  assets:\n"
    "    - {symbol: BTC, price: 91234.56, vol: 0.57}\n"
    "    - {symbol: ETH, price: 3047.19, vol: 0.75}\n"
    "    - {symbol: SOL, price: 137.9, vol: 0.84}\n"
    "  correlation: [[1, 0.8, 0.7], [0.8, 1, 0.75], [0.7, 0.75, 1]]\n"
    "venue:\n"
    "  insurance_fund_usd: 2.5e7\n"
    "  tiers:\n"
    "    BTC:\n"
    "      - {cap_usd: 312500, mmr: 0.0041, max_leverage: 125}\n"
    "      - {cap_usd: 8.0e6, mmr: 0.0053, max_leverage: 100}\n"
    "    ETH:\n"
    "      - {cap_usd: 2.5e6, mmr: 0.0047, max_leverage: 100}\n"
    "accounts:\n"
    "  - id: yaml-1\n"
    "    wallet_usd: 1234.5\n"
    "    positions: [{asset: BTC, qty: -0.0313, entry: 90111}]\n";
static const char MODEL_CSV[] =
    "accounts_csv: {accounts: accounts.csv, positions: positions.csv}\n";

static char g_dir[4096];
static char g_acc[4200], g_pos[4200], g_name[4200];
static char *g_model_text;
static size_t g_model_len;
static xm_model *g_base; /* MODEL alone: the market and venue of the direct load */
static int g_verbose;    /* XM_FUZZ_VERBOSE=1: print each load's outcome (reproducing) */

static void cleanup(void)
{
    remove(g_acc);
    remove(g_pos);
    rmdir(g_dir);
    xm_model_free(g_base);
    free(g_model_text);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/xm_fuzz_csv.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(g_dir) == NULL) {
        perror(g_dir);
        abort();
    }
    g_verbose = getenv("XM_FUZZ_VERBOSE") != NULL && *getenv("XM_FUZZ_VERBOSE") == '1';
    snprintf(g_acc, sizeof g_acc, "%s/accounts.csv", g_dir);
    snprintf(g_pos, sizeof g_pos, "%s/positions.csv", g_dir);
    snprintf(g_name, sizeof g_name, "%s/model.yaml", g_dir);
    g_model_len = strlen(MODEL) + strlen(MODEL_CSV);
    g_model_text = malloc(g_model_len + 1);
    if (g_model_text == NULL)
        abort();
    memcpy(g_model_text, MODEL, strlen(MODEL));
    memcpy(g_model_text + strlen(MODEL), MODEL_CSV, strlen(MODEL_CSV) + 1);
    xm_error err;
    g_base = xm_model_load_string(MODEL, strlen(MODEL), g_name, &err);
    if (g_base == NULL || g_base->book == NULL || g_base->book->n_accounts != 1) {
        fprintf(stderr, "fuzz_csv: the base model does not load: %s\n", err.msg);
        abort();
    }
    atexit(cleanup);
    return 0;
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || (n > 0 && fwrite(p, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

/* Big mode (one input in 256: those whose FNV-1a hash has a zero top byte, so that a mutant of a
 * big input is rarely big again; about 120 ms each under ASan, against 2-3 ms): the
 * reader (src/input/accounts_csv.c) reads in blocks of 1 MiB, and inputs of a few KiB never reach the
 * end of the first block (refill, a line split over two blocks, CR at a block end). So the
 * part's first line (the header) is written, then FILL_LINES valid filler records, then the rest
 * of the part: accounts "fNNNNNxxx...,cross,1", positions "fNNNNNxxx...,BTC,1,1," (the same
 * ids: every filler account has its position), ids lengthened so that the accounts filler ends
 * `delta` (0..1023, from the input) bytes before 1 MiB. */
#define FILL_LINES 4096u
#define BLOCK ((size_t)1 << 20)

/* Total length of the filler ids: the accounts filler, FILL_LINES * (id + ",cross,1\n"), ends
 * `delta` bytes before BLOCK after the accounts part's first line (head bytes, plus a line end
 * when it has none). The positions file uses the same ids. */
static size_t filler_ids(const uint8_t *acc, size_t n, unsigned delta)
{
    const uint8_t *nl = memchr(acc, '\n', n);
    size_t head = nl ? (size_t)(nl - acc) + 1 : n + 1;
    size_t want = BLOCK - (head < BLOCK ? head : 0) - delta;
    return want > FILL_LINES * 9 ? want - FILL_LINES * 9 : 0;
}

static void write_big(const char *path, const uint8_t *p, size_t n, int positions, size_t ids)
{
    const uint8_t *nl = memchr(p, '\n', n);
    size_t head = nl ? (size_t)(nl - p) + 1 : n;
    FILE *f = fopen(path, "wb");
    if (f == NULL || (head > 0 && fwrite(p, 1, head, f) != head)) {
        perror(path);
        abort();
    }
    if (nl == NULL)
        fputc('\n', f);
    char id[300];
    for (unsigned i = 0; i < FILL_LINES; i++) {
        size_t len = ids / FILL_LINES + (i < ids % FILL_LINES ? 1 : 0);
        if (len < 6)
            len = 6;
        if (len > 255)
            len = 255;
        snprintf(id, sizeof id, "f%05u", i);
        memset(id + 6, 'x', len - 6);
        id[len] = '\0';
        fprintf(f, positions ? "%s,BTC,1,1,\n" : "%s,cross,1\n", id);
    }
    if (n > head && fwrite(p + head, 1, n - head, f) != n - head) {
        perror(path);
        abort();
    }
    if (fclose(f) != 0) {
        perror(path);
        abort();
    }
}

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "fuzz_csv: %s:%d: property failed: %s\n", __FILE__, __LINE__,     \
                    #cond);                                                                    \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

static void check_failure(const xm_error *err)
{
    if (err->status == XM_OK || err->msg[0] == '\0' || strchr(err->msg, '\n') != NULL) {
        fprintf(stderr, "fuzz_csv: failure without a one-line message: status %d, '%s'\n",
                (int)err->status, err->msg);
        abort();
    }
}

/* A well-formed book over market m (see xmrisk/accounts.h). */
static void check_book(const xm_accounts *b, const xm_market *m, const xm_venue *v)
{
    xm_idmap ids;
    xm_idmap_init(&ids);
    CHECK(b->first[0] == 0);
    CHECK(b->first[b->n_accounts] == b->n_positions);
    for (size_t a = 0; a < b->n_accounts; a++) {
        const char *id = xm_accounts_id(b, a);
        size_t len = strlen(id);
        CHECK(xm_account_id_problem(id, len) == NULL);
        uint32_t prev;
        xm_error err;
        CHECK(xm_idmap_put(&ids, id, len, (uint32_t)a, &prev, &err) == XM_OK);
        CHECK(prev == XM_IDMAP_NONE); /* unique */
        CHECK(b->first[a] < b->first[a + 1]);
        CHECK(b->mode[a] == XM_CROSS || b->mode[a] == XM_ISOLATED);
        if (b->mode[a] == XM_CROSS)
            CHECK(b->wallet[a] >= 0.0 && isfinite(b->wallet[a]));
        else
            CHECK(b->wallet[a] == 0.0);
        for (uint32_t j = b->first[a]; j < b->first[a + 1]; j++) {
            CHECK(b->owner[j] == a);
            CHECK(b->asset[j] < m->n);
            CHECK(v->tiers[b->asset[j]].n > 0);
            CHECK(b->qty[j] != 0.0 && isfinite(b->qty[j]));
            CHECK(b->entry[j] > 0.0 && isfinite(b->entry[j]));
            if (b->mode[a] == XM_ISOLATED)
                CHECK(b->margin[j] > 0.0 && isfinite(b->margin[j]));
            else
                CHECK(b->margin[j] == 0.0);
        }
    }
    xm_idmap_clear(&ids);
}

static int same_book(const xm_accounts *x, const xm_accounts *y)
{
    if (x->n_accounts != y->n_accounts || x->n_positions != y->n_positions)
        return 0;
    for (size_t a = 0; a < x->n_accounts; a++)
        if (strcmp(xm_accounts_id(x, a), xm_accounts_id(y, a)) != 0 || x->mode[a] != y->mode[a] ||
            x->wallet[a] != y->wallet[a] || x->first[a + 1] != y->first[a + 1])
            return 0;
    for (size_t j = 0; j < x->n_positions; j++)
        if (x->asset[j] != y->asset[j] || x->qty[j] != y->qty[j] ||
            x->entry[j] != y->entry[j] || x->margin[j] != y->margin[j])
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t acc_len = size, pos_off = size;
    if (nul != NULL) {
        acc_len = (size_t)(nul - data);
        pos_off = acc_len + 1;
    } else {
        for (size_t k = 0; k + 4 <= size; k++)
            if (memcmp(data + k, "\n--\n", 4) == 0) {
                acc_len = k + 1; /* the accounts file keeps its last line end */
                pos_off = k + 4;
                break;
            }
    }
    uint32_t h = UINT32_C(2166136261); /* FNV-1a of the input */
    for (size_t k = 0; k < size; k++)
        h = (h ^ data[k]) * UINT32_C(16777619);
    int big = (h >> 24) == 0; /* the top byte: FNV's low bits mix poorly */
    if (big) {
        /* big mode: the fuzzed lines start near the reader's 1 MiB block boundary */
        unsigned delta = h % 1024u;
        size_t ids = filler_ids(data, acc_len, delta);
        write_big(g_acc, data, acc_len, 0, ids);
        write_big(g_pos, data + pos_off, size - pos_off, 1, ids);
    } else {
        write_file(g_acc, data, acc_len);
        write_file(g_pos, data + pos_off, size - pos_off);
    }

    /* 1. directly, over a book holding the YAML account of MODEL */
    xm_error err;
    xm_error_clear(&err);
    xm_accounts *book = xm_accounts_alloc(&err);
    CHECK(book != NULL);
    const xm_accounts *yb = g_base->book;
    CHECK(xm_accounts_add_account(book, xm_accounts_id(yb, 0), (xm_margin_mode)yb->mode[0],
                              yb->wallet[0], &err) == XM_OK);
    CHECK(xm_accounts_add_position(book, yb->asset[0], yb->qty[0], yb->entry[0], yb->margin[0],
                               &err) == XM_OK);
    xm_status s1 = xm_accounts_csv_load(g_acc, g_pos, &g_base->market, &g_base->venue, book,
                                        NULL, &err);
    if (s1 != XM_OK) {
        check_failure(&err);
        if (s1 == XM_EMODEL || s1 == XM_EIO)
            CHECK(book->n_accounts == 1 && book->n_positions == 1); /* unchanged */
    } else {
        CHECK(err.status == XM_OK);
        check_book(book, &g_base->market, &g_base->venue);
    }

    if (g_verbose)
        fprintf(stderr, "fuzz_csv: direct: %s\n", s1 == XM_OK ? "ok" : err.msg);

    /* 2. through a model file naming the two files (not in big mode: the same reader again) */
    if (big) {
        xm_accounts_free(book);
        return 0;
    }
    xm_error err2;
    xm_error_clear(&err2);
    xm_model *m = xm_model_load_string(g_model_text, g_model_len, g_name, &err2);
    if (g_verbose)
        fprintf(stderr, "fuzz_csv: model: %s\n", m != NULL ? "ok" : err2.msg);
    if (m == NULL) {
        check_failure(&err2);
        if (err2.status != s1) {
            fprintf(stderr, "fuzz_csv: direct load: %s (%s); model load: %s (%s)\n",
                    xm_status_name(s1), s1 == XM_OK ? "" : err.msg,
                    xm_status_name(err2.status), err2.msg);
            abort();
        }
    } else {
        if (s1 != XM_OK) {
            fprintf(stderr, "fuzz_csv: direct load failed (%s) but the model loads\n", err.msg);
            abort();
        }
        CHECK(m->book != NULL);
        check_book(m->book, &m->market, &m->venue);
        CHECK(same_book(book, m->book));
        xm_model_free(m);
    }
    xm_accounts_free(book);
    return 0;
}
