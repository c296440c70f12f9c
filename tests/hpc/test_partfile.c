/* test_partfile.c — partial results (src/hpc/partfile.c), chunked runs (src/cascade/cascade_run.c) and checkpoints
 * (src/hpc/checkpoint.c): runs cut into chunks and ranges equal the whole run byte for byte; parts
 * round-trip through memory and files; every truncation and every flipped byte of a part is
 * refused, never crashes; merges check run, completeness and coverage; a merged result writes
 * the same files as the run; checkpoints resume, refuse another run's, survive interruption. */
#include "xm_test.h"

#include <errno.h>
#include <sys/stat.h>

#include "xmrisk/checkpoint.h"
#include "xmrisk/model.h"
#include "xmrisk/outfile.h"
#include "xmrisk/partfile.h"
#include "xmrisk/cascade_run.h"

#define NP 48 /* paths of the test runs */

/* ---- fixtures ---- */

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot read %s", path);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *copy = strdup(text);
    assert_non_null(copy);
    return copy;
}

/* models/default.yaml with one piece of text replaced (it must occur once), plus `more`. */
static xm_model *load_default(const char *from, const char *to)
{
    char *text = read_text(XM_MODELS_DIR "/default.yaml");
    char *at = strstr(text, from);
    if (at == NULL || strstr(at + 1, from) != NULL)
        fail_msg("default.yaml: expected \"%s\" exactly once", from);
    size_t head = (size_t)(at - text), nf = strlen(from), nt = strlen(to), n = strlen(text);
    char *out = malloc(n - nf + nt + 1);
    assert_non_null(out);
    memcpy(out, text, head);
    memcpy(out + head, to, nt);
    memcpy(out + head + nt, at + nf, n - head - nf + 1);
    xm_error err;
    xm_model *m = xm_model_load_string(out, strlen(out), "default.yaml", &err);
    if (m == NULL)
        fail_msg("default.yaml (edited): %s", err.msg);
    free(out);
    free(text);
    return m;
}

#define POP "\n  accounts: 20000\n"
/* The default model with 300 accounts: many liquidations, fast paths. */
static xm_model *small_model(void)
{
    return load_default(POP, "\n  accounts: 300\n");
}

static xm_run_opts opts_of(const xm_model *m)
{
    xm_run_opts o = {.paths = NP, .seed = m->seed, .threads = 2};
    return o;
}

/* Paths [lo, hi) in chunks of `chunk` (the whole range at once when 0). */
static xm_run_result *run_range(const xm_model *m, uint64_t lo, uint64_t hi, uint64_t chunk)
{
    xm_run_opts o = opts_of(m);
    xm_error err;
    xm_run_result *r = xm_run_result_alloc(m->market.n, m->book->n_accounts, o.seed, NP, lo, hi, 0, 0.0, &err);
    assert_non_null(r);
    do {
        if (xm_run_cascades_more(m, &o, 0, chunk ? chunk : hi - lo, r, &err) != XM_OK)
            fail_msg("xm_run_cascades_more: %s", err.msg);
    } while (r->paths_done < hi - lo);
    return r;
}

static xm_run_result *run_whole(const xm_model *m)
{
    xm_run_opts o = opts_of(m);
    xm_run_result *r = NULL;
    xm_error err;
    if (xm_run_cascades(m, &o, 0, &r, &err) != XM_OK)
        fail_msg("xm_run_cascades: %s", err.msg);
    return r;
}

/* Slots of `part` equal paths [part->first_path, ...) of `whole`; equal sums when `sums`. */
static void assert_slice(const xm_run_result *part, const xm_run_result *whole, int sums)
{
    uint64_t k0 = part->first_path - whole->first_path, n = part->paths_done;
    size_t na = part->n_assets;
    assert_int_equal(na, whole->n_assets);
    assert_true(k0 + n <= whole->paths_done);
    if (n > 0) {
        assert_memory_equal(part->pm, &whole->pm[k0], n * sizeof *part->pm);
        assert_memory_equal(part->min_ratio, &whole->min_ratio[k0 * na], n * na * sizeof(double));
        assert_memory_equal(part->impact_at_min, &whole->impact_at_min[k0 * na],
                            n * na * sizeof(double));
    }
    if (!sums)
        return;
    const xm_cascade_acc *x = part->acc, *y = whole->acc;
    assert_int_equal(x->n_accounts, y->n_accounts);
    assert_memory_equal(x->liq_paths, y->liq_paths, x->n_accounts * sizeof *x->liq_paths);
    assert_memory_equal(x->first_step_sum, y->first_step_sum,
                        x->n_accounts * sizeof *x->first_step_sum);
    assert_memory_equal(x->loss_micro, y->loss_micro, x->n_accounts * sizeof *x->loss_micro);
    assert_memory_equal(x->cascade_hist, y->cascade_hist, sizeof x->cascade_hist);
    assert_int_equal(x->cascades, y->cascades);
}

static void encode(const xm_model *m, const xm_run_result *r, unsigned char **buf, size_t *len)
{
    xm_error err;
    if (xm_part_encode(m, xm_part_fingerprint(m), r, buf, len, &err) != XM_OK)
        fail_msg("xm_part_encode: %s", err.msg);
}

static xm_part *part_of(const xm_model *m, const xm_run_result *r, const char *name)
{
    unsigned char *buf;
    size_t len;
    encode(m, r, &buf, &len);
    xm_error err;
    xm_part *p = xm_part_decode(buf, len, name, &err);
    if (p == NULL)
        fail_msg("xm_part_decode: %s", err.msg);
    free(buf);
    return p;
}

/* Decoding must fail with XM_EDATA and a one-line message containing `needle` (NULL: any). */
static void assert_refused(const unsigned char *buf, size_t len, const char *needle)
{
    xm_error err;
    xm_error_clear(&err);
    xm_part *p = xm_part_decode(buf, len, "x.xmp", &err);
    if (p != NULL)
        fail_msg("a bad part (%zu bytes) was accepted", len);
    assert_int_equal(err.status, XM_EDATA);
    assert_contains(err.msg, "x.xmp: ");
    assert_null(strchr(err.msg, '\n'));
    if (needle != NULL)
        assert_contains(err.msg, needle);
}

static uint64_t fnv(const unsigned char *b, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t k = 0; k < n; k++)
        h = (h ^ b[k]) * 0x100000001b3ULL;
    return h;
}

static void put64(unsigned char *b, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        b[k] = (unsigned char)(v >> (8 * k));
}

static uint64_t get64(const unsigned char *b)
{
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = v << 8 | b[k];
    return v;
}

/* After editing header bytes, make its checksum right again (a crafted, not a damaged file). */
static void reseal_header(unsigned char *b)
{
    put64(b + 128, fnv(b, 128));
}

static void reseal_payload(unsigned char *b, size_t len)
{
    put64(b + 120, fnv(b + XM_PART_HEADER_BYTES, len - XM_PART_HEADER_BYTES));
    reseal_header(b);
}

static char tmpdir[256];

static int make_tmpdir(void **state)
{
    (void)state;
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/xm_partial.XXXXXX", t ? t : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tmp(const char *name)
{
    static char path[16][512];
    static int k;
    k = (k + 1) % 16;
    snprintf(path[k], sizeof path[k], "%s/%s", tmpdir, name);
    return path[k];
}

/* ---- run ranges and chunks ---- */

static void test_chunks_equal_whole(void **state)
{
    (void)state;
    xm_model *m = small_model();
    xm_run_result *whole = run_whole(m);
    const uint64_t chunks[] = {1, 7, 16, NP};
    for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
        xm_run_result *r = run_range(m, 0, NP, chunks[c]);
        assert_int_equal(r->paths_done, NP);
        assert_slice(r, whole, 1);
        xm_run_result_free(r);
    }
    /* A range holds exactly the whole run's paths in that range. */
    xm_run_result *mid = run_range(m, 13, 31, 5);
    assert_int_equal(mid->first_path, 13);
    assert_slice(mid, whole, 0);
    xm_run_result_free(mid);
    xm_run_result_free(whole);
    xm_model_free(m);
}

static void test_run_api_errors(void **state)
{
    (void)state;
    xm_error err;
    assert_null(xm_run_result_alloc(2, 3, 1, 10, 5, 4, 0, 0.0, &err));
    assert_int_equal(err.status, XM_EUSAGE);
    assert_contains(err.msg, "bad path range [5, 4) of 10 paths");
    assert_null(xm_run_result_alloc(2, 3, 1, 10, 0, 11, 0, 0.0, &err));
    assert_int_equal(err.status, XM_EUSAGE);

    xm_model *m = small_model();
    xm_run_opts o = opts_of(m);
    xm_run_result *r = xm_run_result_alloc(m->market.n + 1, m->book->n_accounts, 1, NP, 0, NP, 0, 0.0, &err);
    assert_non_null(r);
    assert_int_equal(xm_run_cascades_more(m, &o, 0, 1, r, &err), XM_EUSAGE);
    assert_contains(err.msg, "not one of this model");
    xm_run_result_free(r);
    xm_model *market = xm_model_load(XM_TEST_DATA_DIR "/cli/repaired.yaml", &err);
    assert_non_null(market);
    assert_int_equal(xm_run_cascades_more(market, &o, 0, 1, r, &err), XM_EUSAGE);
    assert_contains(err.msg, "no accounts");
    xm_model_free(market);
    xm_model_free(m);
}

/* A stop raised mid-chunk drops the chunk: the result is as before it. */
static void raise_stop(void *ctx, uint64_t done, uint64_t total)
{
    (void)total;
    if (done >= 8)
        *(volatile sig_atomic_t *)ctx = 1;
}

static void test_interrupted_chunk_is_dropped(void **state)
{
    (void)state;
    xm_model *m = small_model();
    volatile sig_atomic_t stop = 0;
    xm_run_opts o = opts_of(m);
    o.threads = 1;
    o.stop = &stop;
    o.progress = raise_stop;
    o.progress_ctx = (void *)&stop;
    xm_error err;
    xm_run_result *r = xm_run_result_alloc(m->market.n, m->book->n_accounts, o.seed, NP, 0, NP, 0, 0.0, &err);
    assert_non_null(r);
    assert_int_equal(xm_run_cascades_more(m, &o, 0, NP, r, &err), XM_EINTR);
    assert_contains(err.msg, "interrupted after");
    assert_int_equal(r->paths_done, 0);
    assert_int_equal(r->acc->cascades, 0);
    assert_true(r->elapsed_s == 0.0);
    xm_run_result_free(r);
    xm_model_free(m);
}

/* ---- fingerprint ---- */

static void test_fingerprint(void **state)
{
    (void)state;
    xm_model *a = small_model(), *b = small_model();
    uint64_t fa = xm_part_fingerprint(a);
    assert_true(fa == xm_part_fingerprint(b));
    /* Comments, the paths and seed keys do not enter it; the model's content does. */
    xm_model *c = load_default(POP, "\n  accounts: 300   # a comment\n");
    assert_true(xm_part_fingerprint(c) == fa);
    xm_model_free(c);
    xm_model *full = load_default(POP, POP), *p77 = load_default("\npaths: 10000", "\npaths: 77");
    assert_true(xm_part_fingerprint(full) == xm_part_fingerprint(p77));
    xm_model_free(full);
    xm_model_free(p77);
    xm_model *other[] = {load_default(POP, "\n  accounts: 301\n"),
                         load_default("name: default", "name: default2"),
                         load_default("insurance_fund_usd: 5.0e7", "insurance_fund_usd: 5.1e7"),
                         load_default(POP, POP), /* the population of 20000 */
                         load_default("\nseed: 20261125", "\nseed: 20261126")};
    for (size_t k = 0; k < sizeof other / sizeof *other; k++) {
        assert_true(xm_part_fingerprint(other[k]) != fa);
        xm_model_free(other[k]);
    }
    xm_model_free(a);
    xm_model_free(b);
}

/* ---- encode, decode, files ---- */

static void test_round_trip(void **state)
{
    (void)state;
    xm_model *m = small_model();
    xm_run_result *r = run_range(m, 10, 40, 0);
    r->threads = 3;
    r->elapsed_s = 1.25;
    unsigned char *buf;
    size_t len;
    encode(m, r, &buf, &len);
    /* Little-endian whatever the host: magic, format 3, the seed at offset 40. */
    assert_memory_equal(buf, "XMRPART\n", 8);
    assert_int_equal(buf[8], 3);
    assert_int_equal(buf[9] | buf[10] | buf[11], 0);
    assert_true(get64(buf + 40) == m->seed);
    assert_string_equal((const char *)buf + 16, XM_VERSION);

    xm_error err;
    xm_part *p = xm_part_decode(buf, len, "mem", &err);
    assert_non_null(p);
    const xm_part_info *i = xm_part_get_info(p);
    assert_true(i->fingerprint == xm_part_fingerprint(m));
    assert_true(i->seed == m->seed);
    assert_int_equal(i->paths, NP);
    assert_int_equal(i->lo, 10);
    assert_int_equal(i->hi, 40);
    assert_int_equal(i->done, 40);
    assert_int_equal(i->n_assets, m->market.n);
    assert_int_equal(i->n_accounts, 300);
    assert_int_equal(i->threads, 3);
    assert_true(i->elapsed_s == 1.25);
    assert_string_equal(xm_part_name(p), "mem");
    const xm_run_result *q = xm_part_get_result(p);
    assert_int_equal(q->first_path, 10);
    assert_int_equal(q->end_path, 40);
    assert_int_equal(q->paths_done, 30);
    assert_slice(q, r, 1);
    xm_part_free(p);
    free(buf);

    /* A checkpoint: paths [10, 22) of [10, 40). */
    xm_run_result *c = xm_run_result_alloc(m->market.n, 300, r->seed, NP, 10, 40, 0, 0.0, &err);
    xm_run_opts o = opts_of(m);
    assert_int_equal(xm_run_cascades_more(m, &o, 0, 12, c, &err), XM_OK);
    p = part_of(m, c, "ck");
    assert_int_equal(xm_part_get_info(p)->done, 22);
    assert_slice(xm_part_get_result(p), r, 0);
    xm_run_result *taken = xm_part_take_result(p);
    assert_null(xm_part_get_result(p));
    assert_slice(taken, c, 1);
    xm_run_result_free(taken);
    xm_part_free(p);
    xm_run_result_free(c);
    xm_run_result_free(r);
    xm_model_free(m);
}

static void test_encode_errors(void **state)
{
    (void)state;
    xm_model *m = small_model(), *other = load_default(POP, "\n  accounts: 301\n");
    xm_run_result *r = run_range(m, 0, 4, 0);
    unsigned char *buf;
    size_t len;
    xm_error err;
    assert_int_equal(xm_part_encode(other, 0, r, &buf, &len, &err), XM_EUSAGE);
    assert_contains(err.msg, "not one of model");
    assert_null(buf);
    r->paths_done = 5;
    assert_int_equal(xm_part_encode(m, 0, r, &buf, &len, &err), XM_EUSAGE);
    assert_contains(err.msg, "bad path range");
    r->paths_done = 4;
    assert_int_equal(xm_part_encode(m, 0, NULL, &buf, &len, &err), XM_EUSAGE);
    xm_run_result_free(r);
    xm_model_free(other);
    xm_model_free(m);
}

static void test_files(void **state)
{
    (void)state;
    xm_model *m = small_model();
    xm_run_result *r = run_range(m, 0, 20, 0);
    xm_error err;
    uint64_t fp = xm_part_fingerprint(m);
    const char *path = tmp("sub/dir/p.xmp");
    assert_int_equal(xm_part_write(path, m, fp, r, &err), XM_OK);
    /* Written aside: nothing but the part is left in the directory. */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "test \"$(ls -A '%s/sub/dir')\" = p.xmp", tmpdir);
    assert_int_equal(system(cmd), 0);
    xm_part *p = xm_part_read(path, &err);
    assert_non_null(p);
    assert_slice(xm_part_get_result(p), r, 1);
    xm_part_free(p);
    /* Overwriting keeps one file. */
    assert_int_equal(xm_part_write(path, m, fp, r, &err), XM_OK);
    assert_int_equal(system(cmd), 0);

    assert_null(xm_part_read(tmp("nope.xmp"), &err));
    assert_int_equal(err.status, XM_EIO);
    assert_contains(err.msg, "nope.xmp: cannot read: No such file");
    assert_null(xm_part_read(tmpdir, &err));
    assert_int_equal(err.status, XM_EIO);
    assert_contains(err.msg, "Is a directory");
    /* A directory that cannot be made (a file is in the way): XM_EIO, nothing written. */
    assert_int_equal(xm_part_write(tmp("sub/dir/p.xmp/x.xmp"), m, fp, r, &err), XM_EIO);
    assert_int_equal(xm_part_write(tmp("sub/"), m, fp, r, &err), XM_EIO);
    assert_contains(err.msg, "not a file name");
    xm_run_result_free(r);
    xm_model_free(m);
}

/* Every prefix of a part, and the part with a byte more, is refused. */
static void test_truncated_and_trailing(void **state)
{
    (void)state;
    xm_model *m = small_model();
    xm_run_result *r = run_range(m, 0, 3, 0);
    unsigned char *buf;
    size_t len;
    encode(m, r, &buf, &len);
    assert_refused(buf, 0, "truncated");
    assert_refused(buf, 7, "truncated");
    assert_refused(buf, 100, "truncated: 100 bytes, a part header has 136");
    for (size_t n = 0; n < len; n++)
        assert_refused(buf, n, "truncated");
    unsigned char *more = malloc(len + 1);
    memcpy(more, buf, len);
    more[len] = 0;
    assert_refused(more, len + 1, "1 bytes of trailing data");
    free(more);
    free(buf);
    xm_run_result_free(r);
    xm_model_free(m);
}

/* Any single flipped byte anywhere is refused (header or payload checksum). */
static void test_every_flipped_byte(void **state)
{
    (void)state;
    xm_model *m = load_default(POP, "\n  accounts: 20\n");
    xm_run_result *r = run_range(m, 0, 3, 0);
    unsigned char *buf;
    size_t len;
    encode(m, r, &buf, &len);
    for (size_t k = 0; k < len; k++) {
        for (int bit = 0; bit < 8; bit += 7) {
            buf[k] ^= (unsigned char)(1u << bit);
            assert_refused(buf, len, NULL);
            buf[k] ^= (unsigned char)(1u << bit);
        }
    }
    assert_refused(buf + 1, len - 1, "not an xmrisk part file");
    free(buf);
    xm_run_result_free(r);
    xm_model_free(m);
}

/* Crafted parts (checksums right) that lie about their content. */
static void test_crafted_headers(void **state)
{
    (void)state;
    xm_model *m = small_model();
    xm_run_result *r = run_range(m, 5, 9, 0);
    unsigned char *buf;
    size_t len;
    encode(m, r, &buf, &len);
    unsigned char *b = malloc(len);

#define CRAFT(edit, needle)                                                                   \
    do {                                                                                      \
        memcpy(b, buf, len);                                                                  \
        edit;                                                                                 \
        reseal_header(b);                                                                     \
        assert_refused(b, len, needle);                                                       \
    } while (0)

    CRAFT(b[8] = 1, "part format version 1, this xmrisk reads 3");
    CRAFT(b[12] = 0, "corrupted header");
    CRAFT(memcpy(b + 16, "9.9.9\0", 6), "written by xmrisk 9.9.9, this is xmrisk " XM_VERSION);
    CRAFT(b[30] = (unsigned char)'X', "corrupted header (version field)");
    CRAFT(put64(b + 56, 10), "inconsistent fields");          /* lo > done */
    CRAFT(put64(b + 72, 10), "inconsistent fields");          /* done > hi */
    CRAFT(put64(b + 64, NP + 1), "inconsistent fields");      /* hi > paths */
    CRAFT(put64(b + 80, 0), "inconsistent fields");           /* no assets */
    CRAFT(b[100] = 7, "inconsistent fields");                 /* histogram bins */
    CRAFT(put64(b + 88, 301), "corrupted");                   /* one account more */
    CRAFT(put64(b + 88, 1000000000), "corrupted");
    CRAFT(put64(b + 72, 8), "sizes do not match");            /* a path less */
    CRAFT(put64(b + 80, get64(b + 80) + 1), "corrupted");     /* an asset more */
    CRAFT(put64(b + 112, get64(b + 112) + 1), "truncated");   /* payload size */
    CRAFT(put64(b + 112, get64(b + 112) - 1), "trailing data");
#undef CRAFT
    /* A payload whose checksum is right but whose description is cut short. */
    memcpy(b, buf, len);
    put64(b + XM_PART_HEADER_BYTES, 0xffffffffULL); /* name length 4 GB, and the steps */
    reseal_payload(b, len);
    assert_refused(b, len, "bad description");
    free(b);
    free(buf);
    xm_run_result_free(r);
    xm_model_free(m);
}

/* ---- binned parts (xmrisk/mergestats.h) ---- */

static void assert_merge_fails(xm_part **parts, size_t n, const char *needle);

static xm_run_result *run_binned(const xm_model *m, uint64_t lo, uint64_t hi, uint64_t chunk)
{
    xm_run_opts o = opts_of(m);
    o.binned = 1;
    xm_error err;
    xm_run_result *r = xm_run_result_alloc(m->market.n, m->book->n_accounts, o.seed, NP, lo, hi,
                                           1, m->venue.insurance_fund_usd, &err);
    assert_non_null(r);
    assert_null(r->pm);
    assert_non_null(r->ps);
    do {
        if (xm_run_cascades_more(m, &o, 0, chunk ? chunk : hi - lo, r, &err) != XM_OK)
            fail_msg("xm_run_cascades_more: %s", err.msg);
    } while (r->paths_done < hi - lo);
    return r;
}

/* The statistics and per-account sums of two binned results are the same bits. */
static void assert_same_binned(const xm_run_result *a, const xm_run_result *b)
{
    size_t la = xm_mergestats_encoded_size(a->ps), lb = xm_mergestats_encoded_size(b->ps);
    assert_int_equal(la, lb);
    unsigned char *x = malloc(la), *y = malloc(lb);
    assert_true(x && y);
    xm_mergestats_encode(a->ps, x);
    xm_mergestats_encode(b->ps, y);
    assert_memory_equal(x, y, la);
    free(x);
    free(y);
    assert_memory_equal(a->acc->liq_paths, b->acc->liq_paths,
                        a->acc->n_accounts * sizeof *a->acc->liq_paths);
    assert_memory_equal(a->acc->loss_micro, b->acc->loss_micro,
                        a->acc->n_accounts * sizeof *a->acc->loss_micro);
    assert_memory_equal(a->acc->cascade_hist, b->acc->cascade_hist, sizeof a->acc->cascade_hist);
}

/* Binned: chunks, parts merged in any order and the encoding all give the whole run's bits;
 * the statistics are those of the exact run's paths; damaged parts are refused. */
static void test_binned_parts(void **state)
{
    (void)state;
    xm_model *m = small_model();
    xm_run_result *whole = run_binned(m, 0, NP, 0), *chunks = run_binned(m, 0, NP, 7);
    assert_same_binned(whole, chunks);
    /* The same paths as the exact run: its per-path values binned give the same statistics. */
    xm_run_result *exact = run_whole(m);
    xm_mergestats *ps = xm_mergestats_alloc(m->market.n, m->venue.insurance_fund_usd, NULL);
    assert_non_null(ps);
    for (uint64_t p = 0; p < NP; p++)
        xm_mergestats_add(ps, &exact->pm[p], &exact->min_ratio[p * m->market.n],
                         &exact->impact_at_min[p * m->market.n]);
    xm_mergestats *keep = exact->ps;
    exact->ps = ps;
    assert_same_binned(whole, exact);
    exact->ps = keep;
    xm_mergestats_free(ps);

    const uint64_t cut[][2] = {{20, 45}, {0, 20}, {45, NP}, {20, 20}};
    xm_part *parts[4];
    for (int k = 0; k < 4; k++) {
        xm_run_result *r = run_binned(m, cut[k][0], cut[k][1], 0);
        char name[16];
        snprintf(name, sizeof name, "b%d", k);
        parts[k] = part_of(m, r, name);
        assert_same_binned(r, xm_part_get_result(parts[k]));
        xm_run_result_free(r);
    }
    xm_run_result *merged = NULL;
    xm_error err;
    assert_int_equal(xm_part_merge(parts, 4, 0, NP, &merged, &err), XM_OK);
    assert_same_binned(whole, merged);
    xm_run_result_free(merged);
    /* An exact part among binned ones. */
    xm_run_result *ex = run_range(m, 0, 20, 0);
    xm_part *mixed[3] = {part_of(m, ex, "exact"), parts[0], parts[2]};
    assert_merge_fails(mixed, 3, "b0: binned statistics, but exact: exact");
    xm_part_free(mixed[0]);
    xm_run_result_free(ex);
    for (int k = 0; k < 4; k++)
        xm_part_free(parts[k]);

    /* Damage: every truncation, a flipped bit anywhere, a crafted bin count. */
    unsigned char *buf;
    size_t len;
    encode(m, whole, &buf, &len);
    for (size_t n = 0; n < len; n += 1 + n / 64)
        assert_refused(buf, n, "truncated");
    for (size_t k = 0; k < len; k += 1 + k / 256) {
        buf[k] ^= 0x10;
        assert_refused(buf, len, NULL);
        buf[k] ^= 0x10;
    }
    /* After the description: u64 mode, u64 length, then the statistics: n_assets, paths,
     * events, then the first column's moments (n at +0). */
    size_t stats = XM_PART_HEADER_BYTES + 0;
    for (size_t k = XM_PART_HEADER_BYTES; k + 16 < len; k++)
        if (get64(buf + k) == 1 && get64(buf + k + 8) == xm_mergestats_encoded_size(whole->ps)) {
            stats = k + 16;
            break;
        }
    assert_true(stats > XM_PART_HEADER_BYTES);
    unsigned char *b = malloc(len);
    assert_non_null(b);
    memcpy(b, buf, len);
    put64(b + stats + 8, NP + 1);                  /* paths: not the header's */
    reseal_payload(b, len);
    assert_refused(b, len, "inconsistent statistics");
    memcpy(b, buf, len);
    put64(b + stats + 16, NP + 1);                 /* an event on more paths than there are */
    reseal_payload(b, len);
    assert_refused(b, len, "inconsistent statistics");
    memcpy(b, buf, len);
    put64(b + stats - 16, 2);                      /* an unknown statistics mode */
    reseal_payload(b, len);
    assert_refused(b, len, "sizes do not match");
    memcpy(b, buf, len);
    put64(b + stats - 8, get64(b + stats - 8) - 1); /* the statistics' length */
    reseal_payload(b, len);
    assert_refused(b, len, "sizes do not match");
    free(b);
    free(buf);
    xm_run_result_free(whole);
    xm_run_result_free(chunks);
    xm_run_result_free(exact);
    xm_model_free(m);
}

/* ---- merge ---- */

static void test_merge_equals_whole(void **state)
{
    (void)state;
    xm_model *m = small_model();
    xm_run_result *whole = run_whole(m);
    const uint64_t cut[][2] = {{20, 45}, {0, 20}, {45, NP}, {20, 20}};
    xm_part *parts[4];
    double elapsed = 0;
    for (int k = 0; k < 4; k++) {
        xm_run_result *r = run_range(m, cut[k][0], cut[k][1], 0);
        r->threads = k + 1;
        r->elapsed_s = 0.5 * (k + 1);
        elapsed += r->elapsed_s;
        char name[16];
        snprintf(name, sizeof name, "p%d", k);
        parts[k] = part_of(m, r, name);
        xm_run_result_free(r);
    }
    xm_run_result *merged = NULL;
    xm_error err;
    assert_int_equal(xm_part_merge(parts, 4, 0, NP, &merged, &err), XM_OK);
    assert_int_equal(merged->first_path, 0);
    assert_int_equal(merged->end_path, NP);
    assert_int_equal(merged->paths_done, NP);
    assert_int_equal(merged->paths, NP);
    assert_true(merged->seed == whole->seed);
    assert_slice(merged, whole, 1);
    assert_int_equal(merged->threads, 4);
    assert_near(merged->elapsed_s, elapsed, 1e-12);
    xm_run_result_free(merged);
    /* A sub-range from the parts inside it. */
    assert_int_equal(xm_part_merge(parts, 2, 0, 45, &merged, &err), XM_OK);
    assert_int_equal(merged->end_path, 45);
    assert_slice(merged, whole, 0);
    xm_run_result_free(merged);
    for (int k = 0; k < 4; k++)
        xm_part_free(parts[k]);
    xm_run_result_free(whole);
    xm_model_free(m);
}

static void assert_merge_fails(xm_part **parts, size_t n, const char *needle)
{
    xm_run_result *r = (xm_run_result *)1;
    xm_error err;
    xm_status st = xm_part_merge(parts, n, 0, NP, &r, &err);
    assert_null(r);
    assert_int_equal(st, n ? XM_EDATA : XM_EUSAGE);
    assert_contains(err.msg, needle);
}

static void test_merge_errors(void **state)
{
    (void)state;
    xm_model *m = small_model(), *other = load_default(POP, "\n  accounts: 301\n");
    xm_run_result *r0 = run_range(m, 0, 20, 0), *r1 = run_range(m, 20, NP, 0);
    xm_part *a = part_of(m, r0, "a"), *b = part_of(m, r1, "b"), *a2 = part_of(m, r0, "a2");
    xm_run_result *r15 = run_range(m, 15, 30, 0);
    xm_part *over = part_of(m, r15, "over");
    r1->seed++;
    xm_part *seed = part_of(m, r1, "seed");
    r1->seed--;
    r1->paths++;
    xm_part *paths = part_of(m, r1, "paths");
    r1->paths--;
    xm_run_result *o1 = xm_run_result_alloc(other->market.n, 301, r1->seed, NP, 20, NP, 0, 0.0, NULL);
    o1->paths_done = NP - 20;
    xm_part *model = part_of(other, o1, "model");
    r1->paths_done = 10;
    xm_part *ck = part_of(m, r1, "ck");

    assert_merge_fails((xm_part *[]){a}, 1, "paths [20, 48) are missing");
    assert_merge_fails((xm_part *[]){b}, 1, "paths [0, 20) are missing");
    assert_merge_fails((xm_part *[]){b, a, a2}, 3, "both hold paths [0, 20) (duplicate)");
    assert_merge_fails((xm_part *[]){a, over, b}, 3, "overlap on paths [15, 20)");
    assert_merge_fails((xm_part *[]){a, seed}, 2, "seed: seed");
    assert_merge_fails((xm_part *[]){seed, a}, 2, "a: seed");
    assert_merge_fails((xm_part *[]){a, paths}, 2, "a run of 49 paths, but a: 48");
    assert_merge_fails((xm_part *[]){a, model}, 2, "model: from another model than a");
    assert_merge_fails((xm_part *[]){a, ck}, 2, "ck: incomplete: paths [20, 30) of [20, 48)");
    assert_merge_fails(NULL, 0, "no parts");
    xm_run_result *r = NULL;
    xm_error err;
    assert_int_equal(xm_part_merge((xm_part *[]){a, b}, 2, 0, 30, &r, &err), XM_EDATA);
    assert_contains(err.msg, "b: paths [20, 48) are outside [0, 30)");

    xm_part *all[] = {a, b, a2, over, seed, paths, model, ck};
    for (size_t k = 0; k < sizeof all / sizeof *all; k++)
        xm_part_free(all[k]);
    xm_run_result_free(o1);
    xm_run_result_free(r0);
    xm_run_result_free(r1);
    xm_run_result_free(r15);
    xm_model_free(other);
    xm_model_free(m);
}

static void test_check_run(void **state)
{
    (void)state;
    xm_model *m = small_model();
    xm_run_result *r = run_range(m, 8, 16, 0);
    xm_part *p = part_of(m, r, "ck.xmp");
    uint64_t fp = xm_part_fingerprint(m), s = m->seed;
    xm_error err;
    assert_int_equal(xm_part_check_run(p, fp, s, NP, 8, 16, &err), XM_OK);
    assert_int_equal(xm_part_check_run(p, fp + 1, s, NP, 8, 16, &err), XM_EDATA);
    assert_contains(err.msg, "ck.xmp: from another model (fingerprint ");
    assert_int_equal(xm_part_check_run(p, fp, s + 1, NP, 8, 16, &err), XM_EDATA);
    assert_contains(err.msg, "ck.xmp: seed 20261125, this run's 20261126");
    assert_int_equal(xm_part_check_run(p, fp, s, NP + 2, 8, 16, &err), XM_EDATA);
    assert_contains(err.msg, "ck.xmp: a run of 48 paths, this one has 50");
    assert_int_equal(xm_part_check_run(p, fp, s, NP, 8, 17, &err), XM_EDATA);
    assert_contains(err.msg, "ck.xmp: paths [8, 16), this run's [8, 17)");
    xm_part_free(p);
    xm_run_result_free(r);
    xm_model_free(m);
}

/* summary.json, accounts.csv and paths.csv of a merged result, written through the report
 * model of a part, are those of the run written through the model itself. */
static void test_report_model_writes_same_files(void **state)
{
    (void)state;
    xm_model *m = small_model();
    xm_run_result *whole = run_whole(m);
    xm_part *p = part_of(m, whole, "whole.xmp");
    xm_error err;
    xm_model *rm = xm_part_report_model(p, &err);
    assert_non_null(rm);
    assert_string_equal(rm->name, m->name);
    assert_int_equal(rm->steps, m->steps);
    assert_int_equal(rm->book->n_accounts, 300);
    assert_string_equal(xm_accounts_id(rm->book, 299), xm_accounts_id(m->book, 299));
    assert_string_equal(rm->market.assets[3].symbol, "DOGE");
    const xm_run_result *back = xm_part_get_result(p);
    assert_int_equal(xm_run_report_write(tmp("direct"), m, whole, &err), XM_OK);
    assert_int_equal(xm_run_report_write(tmp("via_part"), rm, back, &err), XM_OK);
    char cmd[2400];
    const char *files[] = {"summary.json", "accounts.csv", "paths.csv"};
    for (int k = 0; k < 3; k++) {  /* equal but for the run id, a fresh one per run */
        snprintf(cmd, sizeof cmd,
                 "sed 's/\"run_id\": \"[^\"]*\"//' '%s/via_part/%s' > '%s/via_part.txt' && "
                 "sed 's/\"run_id\": \"[^\"]*\"//' '%s/direct/%s' | cmp -s - '%s/via_part.txt'",
                 tmpdir, files[k], tmpdir, tmpdir, files[k], tmpdir);
        if (system(cmd) != 0)
            fail_msg("%s differs", files[k]);
    }
    xm_model_free(rm);
    xm_part_free(p);
    xm_run_result_free(whole);
    xm_model_free(m);
}

/* ---- checkpoints ---- */

static xm_status ck_run(const xm_model *m, const xm_run_opts *o, uint64_t lo, uint64_t hi,
                        const char *path, uint64_t every, xm_run_result **r, uint64_t *resumed,
                        xm_error *err)
{
    xm_checkpoint_opts ck = {path, every, every ? 0.0 : 0.05};
    return xm_checkpoint_run(m, o, lo, hi, &ck, r, resumed, err);
}

static void test_checkpoint_run_and_resume(void **state)
{
    (void)state;
    xm_model *m = small_model();
    xm_run_result *whole = run_whole(m);
    xm_run_opts o = opts_of(m);
    xm_error err;
    xm_run_result *r = NULL;
    uint64_t resumed = 99;
    const char *path = tmp("ck/a.xmp");
    assert_int_equal(ck_run(m, &o, 5, 41, path, 7, &r, &resumed, &err), XM_OK);
    assert_int_equal(resumed, 0);
    assert_int_equal(r->first_path, 5);
    assert_int_equal(r->paths_done, 36);
    assert_slice(r, whole, 0);
    /* The checkpoint is left complete; running again resumes everything and does nothing. */
    xm_part *p = xm_part_read(path, &err);
    assert_non_null(p);
    assert_int_equal(xm_part_get_info(p)->done, 41);
    xm_part_free(p);
    xm_run_result *again = NULL;
    assert_int_equal(ck_run(m, &o, 5, 41, path, 7, &again, &resumed, &err), XM_OK);
    assert_int_equal(resumed, 36);
    assert_slice(again, r, 1);
    assert_true(again->elapsed_s == r->elapsed_s);
    xm_run_result_free(again);

    /* Resuming from a checkpoint of [0, 17): the rest is run, the whole is the same. */
    xm_run_result *head = run_range(m, 0, NP, 0);
    head->paths_done = 17;  /* the first 17 slots are those of a run stopped there */
    xm_cascade_acc_free(head->acc);
    xm_run_result *h17 = run_range(m, 0, 17, 0);
    head->acc = h17->acc;
    h17->acc = NULL;
    xm_run_result_free(h17);
    assert_int_equal(xm_part_write(tmp("b.xmp"), m, xm_part_fingerprint(m), head, &err), XM_OK);
    xm_run_result *full = NULL;
    assert_int_equal(ck_run(m, &o, 0, NP, tmp("b.xmp"), 0, &full, &resumed, &err), XM_OK);
    assert_int_equal(resumed, 17);
    assert_slice(full, whole, 1);
    assert_int_equal(xm_checkpoint_remove(tmp("b.xmp"), &err), XM_OK);
    assert_int_equal(access(tmp("b.xmp"), F_OK), -1);
    assert_int_equal(xm_checkpoint_remove(tmp("b.xmp"), &err), XM_OK);  /* already gone */
    xm_run_result_free(full);
    xm_run_result_free(head);
    xm_run_result_free(r);
    xm_run_result_free(whole);
    xm_model_free(m);
}

/* Interrupted: the checkpoint keeps whole chunks; the resumed run equals an uninterrupted one. */
static void test_checkpoint_interrupted(void **state)
{
    (void)state;
    xm_model *m = small_model();
    xm_run_result *whole = run_whole(m);
    volatile sig_atomic_t stop = 0;
    xm_run_opts o = opts_of(m);
    o.threads = 1;
    o.stop = &stop;
    o.progress = raise_stop;
    o.progress_ctx = (void *)&stop;
    xm_error err;
    xm_run_result *r = NULL;
    uint64_t resumed;
    const char *path = tmp("int.xmp");
    assert_int_equal(ck_run(m, &o, 0, NP, path, 5, &r, &resumed, &err), XM_EINTR);
    assert_null(r);
    xm_part *p = xm_part_read(path, &err);
    assert_non_null(p);
    uint64_t done = xm_part_get_info(p)->done;
    assert_true(done > 0 && done < NP && done % 5 == 0);
    xm_part_free(p);
    stop = 0;
    o.progress = NULL;
    assert_int_equal(ck_run(m, &o, 0, NP, path, 5, &r, &resumed, &err), XM_OK);
    assert_int_equal(resumed, done);
    assert_slice(r, whole, 1);
    xm_run_result_free(r);
    xm_run_result_free(whole);
    xm_model_free(m);
}

static void test_checkpoint_refusals(void **state)
{
    (void)state;
    xm_model *m = small_model(), *other = load_default(POP, "\n  accounts: 301\n");
    xm_run_opts o = opts_of(m);
    xm_error err;
    xm_run_result *r = NULL;
    uint64_t resumed;
    const char *path = tmp("ref.xmp");
    assert_int_equal(ck_run(m, &o, 0, 10, path, 5, &r, &resumed, &err), XM_OK);
    xm_run_result_free(r);

    xm_run_opts o2 = o;
    o2.seed++;
    assert_int_equal(ck_run(m, &o2, 0, 10, path, 5, &r, &resumed, &err), XM_EDATA);
    assert_contains(err.msg, "checkpoint ");
    assert_contains(err.msg, "ref.xmp: seed 20261125, this run's 20261126; remove it to start over");
    o2 = o;
    o2.paths = NP + 1;
    assert_int_equal(ck_run(m, &o2, 0, 10, path, 5, &r, &resumed, &err), XM_EDATA);
    assert_contains(err.msg, "a run of 48 paths, this one has 49");
    assert_int_equal(ck_run(m, &o, 0, 11, path, 5, &r, &resumed, &err), XM_EDATA);
    assert_contains(err.msg, "paths [0, 10), this run's [0, 11)");
    assert_int_equal(ck_run(other, &o, 0, 10, path, 5, &r, &resumed, &err), XM_EDATA);
    assert_contains(err.msg, "from another model");
    assert_null(r);

    /* Corrupt or not a checkpoint at all: refused, not overwritten. */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 300, SEEK_SET);
    fputc('!', f);
    fclose(f);
    assert_int_equal(ck_run(m, &o, 0, 10, path, 5, &r, &resumed, &err), XM_EDATA);
    assert_contains(err.msg, "corrupted");
    assert_int_equal(ck_run(m, &o, 0, 10, XM_MODELS_DIR "/default.yaml", 5, &r, &resumed, &err),
                     XM_EDATA);
    assert_contains(err.msg, "not an xmrisk part file");
    /* Unreadable (a directory) and unwritable (a file in the way): XM_EIO, before any work. */
    assert_int_equal(ck_run(m, &o, 0, 10, tmpdir, 5, &r, &resumed, &err), XM_EIO);
    assert_contains(err.msg, "Is a directory");
    assert_int_equal(ck_run(m, &o, 0, 10, tmp("ref.xmp/x.xmp"), 5, &r, &resumed, &err), XM_EIO);
    assert_contains(err.msg, "cannot write the checkpoint: ");
    assert_contains(err.msg, "ref.xmp: not a directory");
    /* A directory where the file should be cannot be removed. */
    assert_int_equal(mkdir(tmp("adir"), 0777), 0);
    assert_int_equal(xm_checkpoint_remove(tmp("adir"), &err), XM_EIO);
    assert_contains(err.msg, "cannot remove");

    /* Arguments. */
    xm_checkpoint_opts none = {path, 0, 0.0};
    assert_int_equal(xm_checkpoint_run(m, &o, 0, 10, &none, &r, &resumed, &err), XM_EUSAGE);
    assert_int_equal(ck_run(m, &o, 10, 9, path, 5, &r, &resumed, &err), XM_EUSAGE);
    xm_model *market = xm_model_load(XM_TEST_DATA_DIR "/cli/repaired.yaml", &err);
    assert_non_null(market);
    assert_int_equal(ck_run(market, &o, 0, 10, path, 5, &r, &resumed, &err), XM_EUSAGE);
    xm_model_free(market);
    xm_model_free(other);
    xm_model_free(m);
}

/* A time interval: chunks sized from the measured rate; the same result. */
static void test_checkpoint_time_interval(void **state)
{
    (void)state;
    xm_model *m = small_model();
    xm_run_result *whole = run_whole(m);
    xm_run_opts o = opts_of(m);
    xm_error err;
    xm_run_result *r = NULL;
    uint64_t resumed;
    assert_int_equal(ck_run(m, &o, 0, NP, tmp("t.xmp"), 0, &r, &resumed, &err), XM_OK);
    assert_slice(r, whole, 1);
    xm_run_result_free(r);
    xm_run_result_free(whole);
    xm_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunks_equal_whole),
        cmocka_unit_test(test_run_api_errors),
        cmocka_unit_test(test_interrupted_chunk_is_dropped),
        cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_encode_errors),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_truncated_and_trailing),
        cmocka_unit_test(test_every_flipped_byte),
        cmocka_unit_test(test_crafted_headers),
        cmocka_unit_test(test_binned_parts),
        cmocka_unit_test(test_merge_equals_whole),
        cmocka_unit_test(test_merge_errors),
        cmocka_unit_test(test_check_run),
        cmocka_unit_test(test_report_model_writes_same_files),
        cmocka_unit_test(test_checkpoint_run_and_resume),
        cmocka_unit_test(test_checkpoint_interrupted),
        cmocka_unit_test(test_checkpoint_refusals),
        cmocka_unit_test(test_checkpoint_time_interval),
    };
    return xm_run_tests(tests, make_tmpdir, remove_tmpdir);
}
