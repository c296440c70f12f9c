/* fuzz_part.c — libFuzzer harness: any bytes as a part file (xmrisk/partfile.h, docs/hpc.md).
 *
 *   bytes -> xm_part_decode(data, size, "fuzz.xmp", &err)
 *
 * Random bytes rarely get past the two checksums, so for every other input (odd last byte) the
 * harness first makes both checksums right (header bytes 120 and 128): those inputs are
 * crafted parts that lie about their content, and reach every check behind the checksums.
 *
 * Decoding must return a part or an error for every input: no crash, no leak, no read out of
 * bounds, no allocation larger than the input announces and holds. Besides that, the harness
 * aborts when a documented property does not hold:
 *  - a refusal is XM_EDATA (or XM_ENOMEM) with a one-line message that starts with the name;
 *  - an accepted part is consistent: lo <= done <= hi <= paths, its result covers [lo, done)
 *    with the header's assets and accounts;
 *  - it round-trips: encoded again through its report model (xm_part_report_model) with its
 *    fingerprint, it gives back exactly the input bytes;
 *  - a complete part merges alone into [lo, hi) with the same per-path data.
 *
 * Seeds (corpus_part/): a finished part, a checkpoint, an empty shard and a binned part
 * (--stats binned) of tests/data/models/margin.yaml, written by `xmrisk run ... --shard` and test_partfile-like calls; they carry
 * XM_VERSION, so after a version change regenerate them (docs/robustness.md) or the fuzzer
 * mostly explores the "written by xmrisk X" refusal.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmrisk/partfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "fuzz_part: property failed: %s (line %d)\n", #cond, __LINE__);    \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

static void check_refusal(const xm_error *err)
{
    CHECK(err->status == XM_EDATA || err->status == XM_ENOMEM);
    CHECK(strncmp(err->msg, "fuzz.xmp: ", 10) == 0 || err->status == XM_ENOMEM);
    CHECK(strchr(err->msg, '\n') == NULL);
}

static void check_consistent(const xm_part *p)
{
    const xm_part_info *i = xm_part_get_info(p);
    const xm_run_result *r = xm_part_get_result(p);
    CHECK(i->lo <= i->done && i->done <= i->hi && i->hi <= i->paths);
    CHECK(r->first_path == i->lo && r->end_path == i->hi && r->paths == i->paths);
    CHECK(r->paths_done == i->done - i->lo);
    CHECK(r->n_assets == i->n_assets && r->acc->n_accounts == i->n_accounts);
}

/* Encoded again, the part is the input. */
static void check_round_trip(const xm_part *p, const uint8_t *data, size_t size)
{
    xm_error err;
    xm_model *m = xm_part_report_model(p, &err);
    if (m == NULL) {
        CHECK(err.status == XM_ENOMEM);
        return;
    }
    const xm_part_info *i = xm_part_get_info(p);
    unsigned char *buf = NULL;
    size_t len = 0;
    xm_status st = xm_part_encode(m, i->fingerprint, xm_part_get_result(p), &buf, &len, &err);
    CHECK(st == XM_OK || st == XM_ENOMEM);
    if (st == XM_OK && (uint64_t)i->threads < INT32_MAX) {
        CHECK(len == size);
        CHECK(memcmp(buf, data, size) == 0);
    }
    free(buf);
    xm_model_free(m);
}

/* Two binned statistics encode alike (xmrisk/mergestats.h). */
static int same_stats(const xm_mergestats *a, const xm_mergestats *b)
{
    size_t n = xm_mergestats_encoded_size(a);
    if (n != xm_mergestats_encoded_size(b))
        return 0;
    unsigned char *x = malloc(n), *y = malloc(n);
    int same = x == NULL || y == NULL;   /* out of memory: nothing to compare */
    if (!same) {
        xm_mergestats_encode(a, x);
        xm_mergestats_encode(b, y);
        same = memcmp(x, y, n) == 0;
    }
    free(x);
    free(y);
    return same;
}

static void check_merge_alone(xm_part *p)
{
    const xm_part_info *i = xm_part_get_info(p);
    if (i->done != i->hi)
        return;
    xm_run_result *r = NULL;
    xm_error err;
    xm_status st = xm_part_merge(&p, 1, i->lo, i->hi, &r, &err);
    CHECK(st == XM_OK || st == XM_ENOMEM);
    if (st == XM_OK) {
        const xm_run_result *s = xm_part_get_result(p);
        CHECK(r->paths_done == s->paths_done);
        CHECK((r->ps == NULL) == (s->ps == NULL));
        if (s->ps == NULL)
            CHECK(s->paths_done == 0 || memcmp(r->pm, s->pm, s->paths_done * sizeof *s->pm) == 0);
        else
            CHECK(same_stats(r->ps, s->ps));
    }
    xm_run_result_free(r);
}

static uint64_t fnv(const uint8_t *b, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t k = 0; k < n; k++)
        h = (h ^ b[k]) * 0x100000001b3ULL;
    return h;
}

static void put64(uint8_t *b, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        b[k] = (uint8_t)(v >> (8 * k));
}

/* Both checksums right, whatever the content. */
static void reseal(uint8_t *b, size_t size)
{
    put64(b + 120, fnv(b + XM_PART_HEADER_BYTES, size - XM_PART_HEADER_BYTES));
    put64(b + 128, fnv(b, 128));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *in = malloc(size ? size : 1);
    if (in == NULL)
        return 0;
    if (size > 0)
        memcpy(in, data, size);
    if (size >= XM_PART_HEADER_BYTES && (in[size - 1] & 1))
        reseal(in, size);
    xm_error err;
    xm_error_clear(&err);
    xm_part *p = xm_part_decode(in, size, "fuzz.xmp", &err);
    if (p == NULL) {
        check_refusal(&err);
    } else {
        check_consistent(p);
        check_round_trip(p, in, size);
        check_merge_alone(p);
        xm_part_free(p);
    }
    free(in);
    return 0;
}
