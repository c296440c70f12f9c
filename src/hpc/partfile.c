/* hpc/ — large runs: part files for shards and MPI ranks, their merge, checkpoints. */
/* partfile.c — partial results as versioned little-endian binary parts, their checks and their
 * merge (see xmrisk/partfile.h for the format and docs/hpc.md for how they are used). */
#include "xmrisk/partfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "xmrisk/outfile.h"
#include "xmrisk/mergestats.h"
#include "core/le.h"

/* Every field that decides a result is serialized or hashed by hand below; should a struct
 * gain a field, these sizes change and the build stops here: add the field to the fingerprint
 * (model structs) or to the part format, bumping XM_PART_FORMAT (result structs). */
#if UINTPTR_MAX == UINT64_MAX && defined(__x86_64__)
_Static_assert(sizeof(xm_path_metrics) == 104, "xm_path_metrics changed: update partfile.c");
_Static_assert(sizeof(xm_cascade_acc) == 560, "xm_cascade_acc changed: update partfile.c");
_Static_assert(sizeof(xm_impact) == 40, "xm_impact changed: update xm_part_fingerprint");
_Static_assert(sizeof(xm_asset) == 104, "xm_asset changed: update xm_part_fingerprint");
_Static_assert(sizeof(xm_jumps) == 32, "xm_jumps changed: update xm_part_fingerprint");
_Static_assert(sizeof(xm_market) == 112, "xm_market changed: update xm_part_fingerprint");
_Static_assert(sizeof(xm_tier) == 32, "xm_tier changed: update xm_part_fingerprint");
_Static_assert(sizeof(xm_venue) == 80, "xm_venue changed: update xm_part_fingerprint");
/* xm_accounts.n_folded is not hashed: a count for messages; the folded book decides results */
_Static_assert(sizeof(xm_accounts) == 136, "xm_accounts changed: update xm_part_fingerprint");
/* xm_model.history and history_window_days are not hashed: only `backtest` reads them */
_Static_assert(sizeof(xm_model) == 272, "xm_model changed: update xm_part_fingerprint");
#endif

static const unsigned char part_magic[8] = {'X', 'M', 'R', 'P', 'A', 'R', 'T', '\n'};

#define PATH_RECORD_BYTES 100u  /* xm_path_metrics as serialized, without per-asset pairs */
#define ACCOUNT_BYTES 32u      /* liq_paths, first_step_sum, loss_micro (2 x u64) */
#define STRING_MAX (1u << 16)  /* longest string a part may hold (names, ids, symbols) */
#define STATS_EXACT 0u         /* per-path records follow */
#define STATS_BINNED 1u        /* u64 length + xm_mergestats_encode() follow */

struct xm_part {
    xm_part_info info;
    xm_run_result *result;       /* paths [lo, done) */
    char *name;                  /* for messages */
    unsigned char *desc;         /* the description section as stored */
    size_t desc_len;
};

/* ---- FNV-1a 64 (little-endian bytes: core/le.h) ---- */

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t fnv_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t k = 0; k < n; k++)
        h = (h ^ b[k]) * FNV_PRIME;
    return h;
}

static uint64_t fnv_u64(uint64_t h, uint64_t v)
{
    unsigned char b[8];
    xm_le_put_u64(b, v);
    return fnv_bytes(h, b, 8);
}

static uint64_t fnv_f64(uint64_t h, double x)
{
    return fnv_u64(h, xm_f64_bits(x));
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    h = fnv_u64(h, n);
    return fnv_bytes(h, s ? s : "", n);
}

/* ---- model fingerprint ---- */

static uint64_t hash_market(uint64_t h, const xm_market *mk)
{
    h = fnv_u64(h, mk->n);
    h = fnv_u64(h, (uint64_t)mk->process);
    h = fnv_f64(h, mk->dof);
    h = fnv_u64(h, (uint64_t)mk->jumps.enabled);
    h = fnv_f64(h, mk->jumps.rate_per_year);
    h = fnv_f64(h, mk->jumps.mean);
    h = fnv_f64(h, mk->jumps.stdev);
    for (size_t i = 0; i < mk->n; i++) {
        const xm_asset *a = &mk->assets[i];
        h = fnv_str(h, a->symbol);
        h = fnv_f64(h, a->price);
        h = fnv_f64(h, a->vol);
        h = fnv_f64(h, a->drift);
        h = fnv_f64(h, a->jump_beta);
        h = fnv_u64(h, (uint64_t)a->impact.model);
        h = fnv_f64(h, a->impact.depth_1pct_usd);
        h = fnv_f64(h, a->impact.daily_volume_usd);
        h = fnv_f64(h, a->impact.y);
        h = fnv_f64(h, a->impact.half_life_minutes);
    }
    for (size_t k = 0; k < mk->n * mk->n; k++) {
        h = fnv_f64(h, mk->corr[k]);
        h = fnv_f64(h, mk->chol[k]);
    }
    return h;
}

static uint64_t hash_venue(uint64_t h, int has_venue, const xm_venue *v)
{
    h = fnv_u64(h, (uint64_t)has_venue);
    h = fnv_f64(h, v->insurance_fund_usd);
    h = fnv_u64(h, (uint64_t)v->mode);
    h = fnv_f64(h, v->fee_rate);
    h = fnv_u64(h, v->max_rounds);
    h = fnv_f64(h, v->step);
    h = fnv_f64(h, v->min_partial_notional_usd);
    h = fnv_f64(h, v->backstop_ratio);
    h = fnv_u64(h, (uint64_t)v->remaining_equity);
    h = fnv_u64(h, (uint64_t)v->adl);
    h = fnv_u64(h, v->n_assets);
    for (size_t i = 0; i < v->n_assets; i++) {
        const xm_tier_table *t = &v->tiers[i];
        h = fnv_u64(h, t->n);
        for (size_t k = 0; k < t->n; k++) {
            h = fnv_f64(h, t->tier[k].cap_usd);
            h = fnv_f64(h, t->tier[k].mmr);
            h = fnv_f64(h, t->tier[k].max_leverage);
            h = fnv_f64(h, t->tier[k].cum);
        }
    }
    return h;
}

static uint64_t hash_book(uint64_t h, const xm_accounts *b)
{
    if (b == NULL)
        return fnv_u64(h, UINT64_MAX);
    h = fnv_u64(h, b->n_accounts);
    h = fnv_u64(h, b->n_positions);
    for (size_t a = 0; a < b->n_accounts; a++) {
        h = fnv_u64(h, b->mode[a]);
        h = fnv_f64(h, b->wallet[a]);
        h = fnv_u64(h, b->first[a + 1]);
        h = fnv_str(h, xm_accounts_id(b, a));
    }
    for (size_t j = 0; j < b->n_positions; j++) {
        h = fnv_u64(h, b->asset[j]);
        h = fnv_f64(h, b->qty[j]);
        h = fnv_f64(h, b->entry[j]);
        h = fnv_f64(h, b->margin[j]);
    }
    return h;
}

uint64_t xm_part_fingerprint(const xm_model *m)
{
    uint64_t h = fnv_str(FNV_OFFSET, "xmrisk resolved model v1");
    h = fnv_str(h, m->name);
    h = fnv_u64(h, m->steps);
    h = fnv_f64(h, m->horizon_days);
    h = hash_market(h, &m->market);
    h = hash_venue(h, m->has_venue, &m->venue);
    return hash_book(h, m->book);
}

/* ---- writing ---- */

static void w_str(xm_le_writer *w, const char *s)
{
    size_t n = strlen(s);
    xm_le_write_u32(w, (uint32_t)n);
    xm_le_write_bytes(w, s, n);
}

static const char *model_name(const xm_model *m)
{
    return m->name ? m->name : "";
}

/* Bytes of the description section; 0 when a string is longer than STRING_MAX. */
static size_t desc_bytes(const xm_model *m)
{
    size_t n = 4 + strlen(model_name(m)) + 4 + 8 + 8 + 4;
    if (strlen(model_name(m)) > STRING_MAX)
        return 0;
    for (size_t i = 0; i < m->market.n; i++)
        n += 4 + strlen(m->market.assets[i].symbol);
    for (size_t a = 0; a < m->book->n_accounts; a++) {
        size_t len = strlen(xm_accounts_id(m->book, a));
        if (len > STRING_MAX)
            return 0;
        n += 4 + len;
    }
    return n;
}

static void write_desc(xm_le_writer *w, const xm_model *m)
{
    w_str(w, model_name(m));
    xm_le_write_u32(w, m->steps);
    xm_le_write_f64(w, m->horizon_days);
    xm_le_write_f64(w, m->venue.insurance_fund_usd);
    xm_le_write_u32(w, m->venue.max_rounds);
    for (size_t i = 0; i < m->market.n; i++)
        w_str(w, m->market.assets[i].symbol);
    for (size_t a = 0; a < m->book->n_accounts; a++)
        w_str(w, xm_accounts_id(m->book, a));
}

static void write_path(xm_le_writer *w, const xm_run_result *r, uint64_t k)
{
    const xm_path_metrics *pm = &r->pm[k];
    xm_le_write_u64(w, pm->liq_events);
    xm_le_write_u64(w, pm->accounts_liquidated);
    xm_le_write_f64(w, pm->liquidated_notional);
    xm_le_write_f64(w, pm->largest_cascade_usd);
    xm_le_write_u32(w, pm->cascade_rounds_max);
    xm_le_write_u32(w, pm->max_rounds_hits);
    xm_le_write_f64(w, pm->bad_debt_usd);
    xm_le_write_f64(w, pm->fund_paid_usd);
    xm_le_write_f64(w, pm->fund_min_usd);
    xm_le_write_f64(w, pm->adl_notional_usd);
    xm_le_write_u64(w, pm->adl_accounts);
    xm_le_write_f64(w, pm->socialized_usd);
    xm_le_write_u32(w, pm->first_liq_step);
    xm_le_write_u32(w, pm->price_floor_hits);
    xm_le_write_u32(w, pm->beyond_tier_events);
    for (size_t i = 0; i < r->n_assets; i++) {
        xm_le_write_f64(w, r->min_ratio[k * r->n_assets + i]);
        xm_le_write_f64(w, r->impact_at_min[k * r->n_assets + i]);
    }
}

static void write_acc(xm_le_writer *w, const xm_cascade_acc *acc)
{
    xm_le_write_u64(w, acc->cascades);
    for (int k = 0; k < XM_HIST_BINS; k++)
        xm_le_write_u64(w, acc->cascade_hist[k]);
    for (size_t a = 0; a < acc->n_accounts; a++) {
        unsigned __int128 loss = (unsigned __int128)acc->loss_micro[a];
        xm_le_write_u64(w, acc->liq_paths[a]);
        xm_le_write_u64(w, acc->first_step_sum[a]);
        xm_le_write_u64(w, (uint64_t)loss);
        xm_le_write_u64(w, (uint64_t)(loss >> 64));
    }
}

static void write_header(unsigned char *h, const xm_run_result *r, uint64_t fp, uint64_t payload,
                         uint64_t payload_sum)
{
    xm_le_writer w = {h, 0};
    memset(h, 0, XM_PART_HEADER_BYTES);
    memcpy(h, part_magic, sizeof part_magic);
    w.off = 8;
    xm_le_write_u32(&w, XM_PART_FORMAT);
    xm_le_write_u32(&w, XM_PART_HEADER_BYTES);
    snprintf((char *)h + 16, 16, "%s", XM_VERSION);
    w.off = 32;
    xm_le_write_u64(&w, fp);
    xm_le_write_u64(&w, r->seed);
    xm_le_write_u64(&w, r->paths);
    xm_le_write_u64(&w, r->first_path);
    xm_le_write_u64(&w, r->end_path);
    xm_le_write_u64(&w, r->first_path + r->paths_done);
    xm_le_write_u64(&w, r->n_assets);
    xm_le_write_u64(&w, r->acc->n_accounts);
    xm_le_write_u32(&w, r->threads > 0 ? (uint32_t)r->threads : 0u);
    xm_le_write_u32(&w, XM_HIST_BINS);
    xm_le_write_f64(&w, r->elapsed_s);
    xm_le_write_u64(&w, payload);
    xm_le_write_u64(&w, payload_sum);
    xm_le_write_u64(&w, fnv_bytes(FNV_OFFSET, h, 128));
}

static xm_status check_encodable(const xm_model *m, const xm_run_result *r, xm_error *err)
{
    if (m->book == NULL || r == NULL || r->acc == NULL)
        return xm_error_set(err, XM_EUSAGE, "part: no cascade result to write");
    if (r->n_assets != m->market.n || r->acc->n_accounts != m->book->n_accounts)
        return xm_error_set(err, XM_EUSAGE, "part: the result is not one of model %s",
                            model_name(m));
    if (r->first_path > r->end_path || r->end_path > r->paths ||
        r->paths_done > r->end_path - r->first_path)
        return xm_error_set(err, XM_EUSAGE, "part: bad path range in the result");
    return XM_OK;
}

xm_status xm_part_encode(const xm_model *m, uint64_t fp, const xm_run_result *r,
                         unsigned char **buf, size_t *len, xm_error *err)
{
    *buf = NULL;
    *len = 0;
    xm_status st = check_encodable(m, r, err);
    if (st != XM_OK)
        return st;
    size_t desc = desc_bytes(m), rec = PATH_RECORD_BYTES + 16 * r->n_assets;
    if (desc == 0)
        return xm_error_set(err, XM_EUSAGE, "part: a name or id is longer than %u bytes",
                            STRING_MAX);
    size_t acc = 8 + 8 * (size_t)XM_HIST_BINS, room = SIZE_MAX - XM_PART_HEADER_BYTES - desc;
    size_t stats = r->ps != NULL ? xm_mergestats_encoded_size(r->ps) : 0;
    room -= 8 + 8 + stats;  /* mode, statistics length, statistics: far below SIZE_MAX */
    if (r->acc->n_accounts > (room - acc) / ACCOUNT_BYTES ||
        (r->ps == NULL &&
         r->paths_done > (room - acc - ACCOUNT_BYTES * r->acc->n_accounts) / rec))
        return xm_error_set(err, XM_ENOMEM, "part: too large");
    acc += ACCOUNT_BYTES * r->acc->n_accounts;
    size_t body = r->ps != NULL ? 8 + stats : (size_t)r->paths_done * rec;
    size_t payload = desc + 8 + body + acc;
    unsigned char *b = malloc(XM_PART_HEADER_BYTES + payload);
    if (b == NULL)
        return xm_error_set(err, XM_ENOMEM, "part: out of memory for %zu bytes",
                            XM_PART_HEADER_BYTES + payload);
    xm_le_writer w = {b, XM_PART_HEADER_BYTES};
    write_desc(&w, m);
    xm_le_write_u64(&w, r->ps != NULL ? STATS_BINNED : STATS_EXACT);
    if (r->ps != NULL) {
        xm_le_write_u64(&w, stats);
        xm_mergestats_encode(r->ps, w.p + w.off);
        w.off += stats;
    } else {
        for (uint64_t k = 0; k < r->paths_done; k++)
            write_path(&w, r, k);
    }
    write_acc(&w, r->acc);
    uint64_t sum = fnv_bytes(FNV_OFFSET, b + XM_PART_HEADER_BYTES, payload);
    write_header(b, r, fp, payload, sum);
    *buf = b;
    *len = XM_PART_HEADER_BYTES + payload;
    return XM_OK;
}

/* ---- reading ---- */

/* A string of at most `max` bytes without NUL, copied into out[max + 1]; 0 when bad. */
static int r_str(xm_le_reader *r, char *out, size_t max)
{
    uint32_t n = xm_le_read_u32(r);
    if (r->bad || n > max || !xm_le_need(r, n) || memchr(r->p + r->off, '\0', n) != NULL) {
        r->bad = 1;
        return 0;
    }
    if (out != NULL) {
        memcpy(out, r->p + r->off, n);
        out[n] = '\0';
    }
    r->off += n;
    return 1;
}

static xm_status bad(xm_error *err, const char *name, const char *what)
{
    return xm_error_set(err, XM_EDATA, "%s: %s", name, what);
}

/* Header fields into *info, every check that needs only the header. */
static xm_status parse_header(const unsigned char *b, size_t len, const char *name,
                              xm_part_info *info, uint64_t *payload, xm_error *err)
{
    if (len < sizeof part_magic || memcmp(b, part_magic, sizeof part_magic) != 0)
        return bad(err, name, len < sizeof part_magic ? "truncated: not even a part header"
                                                      : "not an xmrisk part file");
    if (len < XM_PART_HEADER_BYTES)
        return xm_error_set(err, XM_EDATA, "%s: truncated: %zu bytes, a part header has %u",
                            name, len, XM_PART_HEADER_BYTES);
    xm_le_reader r = {b, XM_PART_HEADER_BYTES, 8, 0};
    uint32_t format = xm_le_read_u32(&r), hsize = xm_le_read_u32(&r);
    if (format != XM_PART_FORMAT)
        return xm_error_set(err, XM_EDATA, "%s: part format version %u, this xmrisk reads %u",
                            name, format, XM_PART_FORMAT);
    if (hsize != XM_PART_HEADER_BYTES || xm_le_get_u64(b + 128) != fnv_bytes(FNV_OFFSET, b, 128))
        return bad(err, name, "corrupted header (checksum mismatch)");
    memset(info, 0, sizeof *info);
    memcpy(info->version, b + 16, 15);
    char mine[16] = {0};
    snprintf(mine, sizeof mine, "%s", XM_VERSION);
    if (strcmp(info->version, XM_VERSION) != 0)
        return xm_error_set(err, XM_EDATA, "%s: written by xmrisk %s, this is xmrisk %s: run it "
                            "again", name, info->version, XM_VERSION);
    if (memcmp(b + 16, mine, sizeof mine) != 0)  /* the padding too: one encoding per part */
        return bad(err, name, "corrupted header (version field)");
    r.off = 32;
    info->fingerprint = xm_le_read_u64(&r);
    info->seed = xm_le_read_u64(&r);
    info->paths = xm_le_read_u64(&r);
    info->lo = xm_le_read_u64(&r);
    info->hi = xm_le_read_u64(&r);
    info->done = xm_le_read_u64(&r);
    info->n_assets = xm_le_read_u64(&r);
    info->n_accounts = xm_le_read_u64(&r);
    uint32_t threads = xm_le_read_u32(&r), bins = xm_le_read_u32(&r);
    info->threads = threads > INT_MAX ? INT_MAX : (int)threads;
    info->elapsed_s = xm_le_read_f64(&r);
    *payload = xm_le_read_u64(&r);
    if (bins != XM_HIST_BINS || info->lo > info->done || info->done > info->hi ||
        info->hi > info->paths || info->n_assets == 0 || info->n_assets > UINT16_MAX)
        return bad(err, name, "corrupted header (inconsistent fields)");
    return XM_OK;
}

/* The whole buffer against the header: size and payload checksum. */
static xm_status check_payload(const unsigned char *b, size_t len, const char *name,
                               uint64_t payload, xm_error *err)
{
    size_t have = len - XM_PART_HEADER_BYTES;
    if (payload > have)
        return xm_error_set(err, XM_EDATA, "%s: truncated: %zu bytes, expected %llu", name, len,
                            (unsigned long long)payload + XM_PART_HEADER_BYTES);
    if (payload < have)
        return xm_error_set(err, XM_EDATA, "%s: %llu bytes of trailing data after the part",
                            name, (unsigned long long)(have - payload));
    if (xm_le_get_u64(b + 120) != fnv_bytes(FNV_OFFSET, b + XM_PART_HEADER_BYTES, have))
        return bad(err, name, "corrupted (payload checksum mismatch)");
    return XM_OK;
}

/* Read the description; fill `m` (a report model) when not NULL. XM_EDATA when malformed
 * (the caller names the part), XM_ENOMEM. */
static xm_status parse_desc(xm_le_reader *r, const xm_part_info *info, xm_model *m,
                            double *fund_out, xm_error *err)
{
    char *buf = malloc(STRING_MAX + 1);
    if (buf == NULL)
        return xm_error_set(err, XM_ENOMEM, "part: out of memory");
    xm_status st = XM_OK;
    if (r_str(r, buf, STRING_MAX) && m != NULL && (m->name = strdup(buf)) == NULL)
        st = XM_ENOMEM;
    uint32_t steps = xm_le_read_u32(r);
    double horizon = xm_le_read_f64(r), fund = xm_le_read_f64(r);
    uint32_t max_rounds = xm_le_read_u32(r);
    if (fund_out != NULL)
        *fund_out = fund;
    if (m != NULL) {
        m->steps = steps;
        m->horizon_days = horizon;
        m->venue.insurance_fund_usd = fund;
        m->venue.max_rounds = max_rounds;
    }
    for (uint64_t i = 0; st == XM_OK && !r->bad && i < info->n_assets; i++)
        if (r_str(r, buf, XM_SYMBOL_MAX - 1) && m != NULL)
            memcpy(m->market.assets[i].symbol, buf, strlen(buf) + 1);
    for (uint64_t a = 0; st == XM_OK && !r->bad && a < info->n_accounts; a++)
        if (r_str(r, buf, STRING_MAX) && m != NULL)
            st = xm_accounts_add_account(m->book, buf, XM_CROSS, 0.0, err);
    free(buf);
    if (st == XM_ENOMEM)
        return xm_error_set(err, XM_ENOMEM, "part: out of memory");
    if (st == XM_OK && r->bad)
        st = XM_EDATA;
    return st;
}

static void read_path(xm_le_reader *r, xm_run_result *res, uint64_t k)
{
    xm_path_metrics *pm = &res->pm[k];
    pm->liq_events = xm_le_read_u64(r);
    pm->accounts_liquidated = xm_le_read_u64(r);
    pm->liquidated_notional = xm_le_read_f64(r);
    pm->largest_cascade_usd = xm_le_read_f64(r);
    pm->cascade_rounds_max = xm_le_read_u32(r);
    pm->max_rounds_hits = xm_le_read_u32(r);
    pm->bad_debt_usd = xm_le_read_f64(r);
    pm->fund_paid_usd = xm_le_read_f64(r);
    pm->fund_min_usd = xm_le_read_f64(r);
    pm->adl_notional_usd = xm_le_read_f64(r);
    pm->adl_accounts = xm_le_read_u64(r);
    pm->socialized_usd = xm_le_read_f64(r);
    pm->first_liq_step = xm_le_read_u32(r);
    pm->price_floor_hits = xm_le_read_u32(r);
    pm->beyond_tier_events = xm_le_read_u32(r);
    for (size_t i = 0; i < res->n_assets; i++) {
        res->min_ratio[k * res->n_assets + i] = xm_le_read_f64(r);
        res->impact_at_min[k * res->n_assets + i] = xm_le_read_f64(r);
    }
}

static void read_acc(xm_le_reader *r, xm_cascade_acc *acc)
{
    acc->cascades = xm_le_read_u64(r);
    for (int k = 0; k < XM_HIST_BINS; k++)
        acc->cascade_hist[k] = xm_le_read_u64(r);
    for (size_t a = 0; a < acc->n_accounts; a++) {
        acc->liq_paths[a] = xm_le_read_u64(r);
        acc->first_step_sum[a] = xm_le_read_u64(r);
        unsigned __int128 lo = xm_le_read_u64(r), hi = xm_le_read_u64(r);
        acc->loss_micro[a] = (__int128)(lo | hi << 64);
    }
}

/* Do the bytes left after the description hold exactly the per-path data (or the binned
 * statistics) and the sums the header announces? Checked before anything is allocated from
 * header values; *mode and *stats_len (binned) are read here. */
static int sizes_match(xm_le_reader *r, const xm_part_info *info, uint64_t *mode,
                       uint64_t *stats_len)
{
    *mode = xm_le_read_u64(r);
    if (*mode == STATS_BINNED)
        *stats_len = xm_le_read_u64(r);
    if (r->bad || (*mode != STATS_EXACT && *mode != STATS_BINNED))
        return 0;
    size_t left = r->n - r->off, rec = PATH_RECORD_BYTES + 16 * (size_t)info->n_assets;
    size_t acc = 8 + 8 * (size_t)XM_HIST_BINS;
    if (left < acc || info->n_accounts > (left - acc) / ACCOUNT_BYTES)
        return 0;
    left -= acc + ACCOUNT_BYTES * (size_t)info->n_accounts;
    if (*mode == STATS_BINNED)
        return *stats_len == left;
    uint64_t n = info->done - info->lo;
    return n <= left / rec && n * rec == left;
}

static xm_status decode_body(xm_part *p, const unsigned char *buf, size_t len, xm_error *err)
{
    const xm_part_info *info = &p->info;
    xm_le_reader r = {buf, len, XM_PART_HEADER_BYTES, 0};
    double fund = 0.0;
    xm_status st = parse_desc(&r, info, NULL, &fund, err);
    if (st == XM_EDATA)
        return bad(err, p->name, "corrupted (bad description)");
    if (st != XM_OK)
        return st;
    p->desc_len = r.off - XM_PART_HEADER_BYTES;
    uint64_t mode = 0, stats_len = 0;
    if (!sizes_match(&r, info, &mode, &stats_len))
        return bad(err, p->name, "corrupted (sizes do not match the header)");
    p->desc = malloc(p->desc_len ? p->desc_len : 1);
    /* An exact part's memory was checked by sizes_match: its records are in the buffer. */
    p->result = p->desc ? xm_run_result_alloc(info->n_assets, info->n_accounts, info->seed,
                                              info->paths, info->lo, info->hi,
                                              mode == STATS_BINNED, fund, err)
                        : NULL;
    if (p->result == NULL)
        return xm_error_set(err, XM_ENOMEM, "%s: out of memory", p->name);
    memcpy(p->desc, buf + XM_PART_HEADER_BYTES, p->desc_len);
    xm_run_result *res = p->result;
    res->paths_done = info->done - info->lo;
    res->threads = info->threads;
    res->elapsed_s = info->elapsed_s;
    if (mode == STATS_BINNED) {
        if (xm_mergestats_decode(res->ps, r.p + r.off, (size_t)stats_len) != 0 ||
            res->ps->paths != res->paths_done)
            return bad(err, p->name, "corrupted (inconsistent statistics)");
        r.off += (size_t)stats_len;
    } else {
        for (uint64_t k = 0; k < res->paths_done; k++)
            read_path(&r, res, k);
    }
    read_acc(&r, res->acc);
    if (r.bad || r.off != r.n)
        return bad(err, p->name, "corrupted (sizes do not match the header)");
    return XM_OK;
}

xm_part *xm_part_decode(const unsigned char *buf, size_t len, const char *name, xm_error *err)
{
    const char *label = name ? name : "part";
    xm_part *p = calloc(1, sizeof *p);
    if (p == NULL || (p->name = strdup(label)) == NULL) {
        free(p);
        xm_error_set(err, XM_ENOMEM, "%s: out of memory", label);
        return NULL;
    }
    uint64_t payload = 0;
    xm_status st = parse_header(buf, len, label, &p->info, &payload, err);
    if (st == XM_OK)
        st = check_payload(buf, len, label, payload, err);
    if (st == XM_OK)
        st = decode_body(p, buf, len, err);
    if (st != XM_OK) {
        xm_part_free(p);
        return NULL;
    }
    return p;
}

void xm_part_free(xm_part *p)
{
    if (p == NULL)
        return;
    xm_run_result_free(p->result);
    free(p->desc);
    free(p->name);
    free(p);
}

const xm_part_info *xm_part_get_info(const xm_part *p)
{
    return &p->info;
}

const xm_run_result *xm_part_get_result(const xm_part *p)
{
    return p->result;
}

const char *xm_part_name(const xm_part *p)
{
    return p->name;
}

xm_run_result *xm_part_take_result(xm_part *p)
{
    xm_run_result *r = p->result;
    p->result = NULL;
    return r;
}

/* ---- files ---- */

xm_part *xm_part_read(const char *path, xm_error *err)
{
    /* a regular file only: XM_EIO naming the file and the reason */
    static const xm_read_opts regular = {0, NULL, 1};
    char *b;
    size_t n;
    if (xm_read_file(path, &regular, &b, &n, err) != XM_OK)
        return NULL;
    xm_part *p = xm_part_decode((const unsigned char *)b, n, path, err);
    free(b);
    return p;
}

/* After a rename, the directory entry itself reaches the disk (durability across a crash;
 * atomicity against a kill needs only the rename). Best effort. */
static void sync_dir(const char *file)
{
    char dir[XM_PATH_MAX];
    const char *slash = strrchr(file, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - file) : 1, slash ? file : ".");
    int fd = open(dir[0] ? dir : "/", O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

xm_status xm_part_write(const char *path, const xm_model *m, uint64_t fp, const xm_run_result *r,
                        xm_error *err)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    xm_outfile o;
    memset(&o, 0, sizeof o);
    xm_status st = xm_part_encode(m, fp, r, &buf, &len, err);
    if (st == XM_OK)
        st = xm_outfile_open_path(&o, path, err);
    if (st == XM_OK && fwrite(buf, 1, len, o.fp) != len) {
        st = xm_error_set(err, XM_EIO, "%s: write failed: %s", path, strerror(errno ? errno : EIO));
        xm_outfile_abort(&o);
    }
    if (st == XM_OK)
        st = xm_outfile_commit(&o, err);
    if (st == XM_OK)
        sync_dir(o.final_path);
    free(buf);
    return st;
}

/* ---- checks and merge ---- */

xm_status xm_part_check_run(const xm_part *p, uint64_t fp, uint64_t seed, uint64_t paths,
                            uint64_t lo, uint64_t hi, xm_error *err)
{
    const xm_part_info *i = &p->info;
    if (i->fingerprint != fp)
        return xm_error_set(err, XM_EDATA, "%s: from another model (fingerprint %016llx, this "
                            "run's %016llx)", p->name, (unsigned long long)i->fingerprint,
                            (unsigned long long)fp);
    if (i->seed != seed)
        return xm_error_set(err, XM_EDATA, "%s: seed %llu, this run's %llu", p->name,
                            (unsigned long long)i->seed, (unsigned long long)seed);
    if (i->paths != paths)
        return xm_error_set(err, XM_EDATA, "%s: a run of %llu paths, this one has %llu", p->name,
                            (unsigned long long)i->paths, (unsigned long long)paths);
    if (i->lo != lo || i->hi != hi)
        return xm_error_set(err, XM_EDATA, "%s: paths [%llu, %llu), this run's [%llu, %llu) "
                            "(another --shard or number of ranks)", p->name,
                            (unsigned long long)i->lo, (unsigned long long)i->hi,
                            (unsigned long long)lo, (unsigned long long)hi);
    return XM_OK;
}

/* Is q complete and from the same run as ref? */
static xm_status check_same_run(const xm_part *q, const xm_part *ref, xm_error *err)
{
    const xm_part_info *a = &q->info, *b = &ref->info;
    if (a->done != a->hi)
        return xm_error_set(err, XM_EDATA, "%s: incomplete: paths [%llu, %llu) of [%llu, %llu) "
                            "(a checkpoint, not a finished part)", q->name,
                            (unsigned long long)a->lo, (unsigned long long)a->done,
                            (unsigned long long)a->lo, (unsigned long long)a->hi);
    if (a->fingerprint != b->fingerprint || a->n_assets != b->n_assets ||
        a->n_accounts != b->n_accounts || q->desc_len != ref->desc_len ||
        memcmp(q->desc, ref->desc, q->desc_len) != 0)
        return xm_error_set(err, XM_EDATA, "%s: from another model than %s", q->name, ref->name);
    if ((q->result->ps != NULL) != (ref->result->ps != NULL))
        return xm_error_set(err, XM_EDATA, "%s: %s statistics, but %s: %s (run every shard with "
                            "the same --stats)", q->name, q->result->ps ? "binned" : "exact",
                            ref->name, ref->result->ps ? "binned" : "exact");
    if (a->seed != b->seed)
        return xm_error_set(err, XM_EDATA, "%s: seed %llu, but %s: seed %llu", q->name,
                            (unsigned long long)a->seed, ref->name, (unsigned long long)b->seed);
    if (a->paths != b->paths)
        return xm_error_set(err, XM_EDATA, "%s: a run of %llu paths, but %s: %llu", q->name,
                            (unsigned long long)a->paths, ref->name,
                            (unsigned long long)b->paths);
    return XM_OK;
}

/* The insurance fund of a part's description (what its binned statistics were shifted by). */
static double desc_fund(const xm_part *p)
{
    xm_le_reader r = {p->desc, p->desc_len, 0, 0};
    double fund = 0.0;
    if (parse_desc(&r, &p->info, NULL, &fund, NULL) != XM_OK)
        return 0.0;
    return fund;
}

static int by_range(const void *x, const void *y)
{
    const xm_part_info *a = &(*(xm_part *const *)x)->info, *b = &(*(xm_part *const *)y)->info;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    return a->hi < b->hi ? -1 : a->hi > b->hi;
}

/* Sorted parts cover [lo, hi) exactly once? */
static xm_status check_cover(xm_part *const *s, size_t n, uint64_t lo, uint64_t hi, xm_error *err)
{
    uint64_t at = lo;
    for (size_t k = 0; k < n; k++) {
        const xm_part_info *q = &s[k]->info;
        if (q->lo < lo || q->hi > hi)
            return xm_error_set(err, XM_EDATA, "%s: paths [%llu, %llu) are outside [%llu, %llu)",
                                s[k]->name, (unsigned long long)q->lo,
                                (unsigned long long)q->hi, (unsigned long long)lo,
                                (unsigned long long)hi);
        if (k > 0 && q->lo == s[k - 1]->info.lo && q->hi == s[k - 1]->info.hi)
            return xm_error_set(err, XM_EDATA, "%s and %s: both hold paths [%llu, %llu) "
                                "(duplicate)", s[k - 1]->name, s[k]->name,
                                (unsigned long long)q->lo, (unsigned long long)q->hi);
        if (q->lo < at)
            return xm_error_set(err, XM_EDATA, "%s and %s overlap on paths [%llu, %llu)",
                                s[k - 1]->name, s[k]->name, (unsigned long long)q->lo,
                                (unsigned long long)(at < q->hi ? at : q->hi));
        if (q->lo > at)
            return xm_error_set(err, XM_EDATA, "paths [%llu, %llu) are missing: no part holds "
                                "them", (unsigned long long)at, (unsigned long long)q->lo);
        at = q->hi;
    }
    if (at < hi)
        return xm_error_set(err, XM_EDATA, "paths [%llu, %llu) are missing: no part holds them",
                            (unsigned long long)at, (unsigned long long)hi);
    return XM_OK;
}

/* Copy part q's paths into r at their place and add its sums. */
static void merge_into(xm_run_result *r, const xm_part *q)
{
    const xm_run_result *s = q->result;
    uint64_t k = q->info.lo - r->first_path, n = s->paths_done;
    size_t na = r->n_assets;
    if (r->ps != NULL)
        xm_mergestats_merge(r->ps, s->ps);
    else if (n > 0) {
        memcpy(&r->pm[k], s->pm, n * sizeof *s->pm);
        memcpy(&r->min_ratio[k * na], s->min_ratio, n * na * sizeof *s->min_ratio);
        memcpy(&r->impact_at_min[k * na], s->impact_at_min, n * na * sizeof *s->impact_at_min);
    }
    xm_cascade_acc_merge(r->acc, s->acc);
    if (s->threads > r->threads)
        r->threads = s->threads;
    r->elapsed_s += s->elapsed_s;
}

xm_status xm_part_merge(xm_part *const *parts, size_t n, uint64_t lo, uint64_t hi,
                        xm_run_result **out, xm_error *err)
{
    *out = NULL;
    if (n == 0)
        return xm_error_set(err, XM_EUSAGE, "merge: no parts given");
    xm_status st = XM_OK;
    for (size_t k = 0; k < n && st == XM_OK; k++)
        st = check_same_run(parts[k], parts[0], err);
    if (st != XM_OK)
        return st;
    xm_part **s = malloc(n * sizeof *s);
    if (s == NULL)
        return xm_error_set(err, XM_ENOMEM, "merge: out of memory");
    memcpy(s, parts, n * sizeof *s);
    qsort(s, n, sizeof *s, by_range);
    st = check_cover(s, n, lo, hi, err);
    const xm_part_info *i0 = &parts[0]->info;
    xm_run_result *r = NULL;
    if (st == XM_OK) {
        const xm_run_result *r0 = parts[0]->result;
        r = xm_run_result_alloc(i0->n_assets, i0->n_accounts, i0->seed, i0->paths, lo, hi,
                                r0->ps != NULL, desc_fund(parts[0]), err);
        st = r ? XM_OK : err != NULL && err->status != XM_OK ? err->status : XM_ENOMEM;
    }
    for (size_t k = 0; k < n && st == XM_OK; k++)
        merge_into(r, s[k]);
    free(s);
    if (st != XM_OK)
        return st;
    r->paths_done = hi - lo;
    *out = r;
    return XM_OK;
}

/* ---- the report's model ---- */

xm_model *xm_part_report_model(const xm_part *p, xm_error *err)
{
    const xm_part_info *info = &p->info;
    xm_model *m = calloc(1, sizeof *m);
    xm_status st = m ? XM_OK : XM_ENOMEM;
    /* Symbols only: no correlation matrices (n^2 of them for nothing). */
    if (st == XM_OK && (m->market.assets = calloc(info->n_assets, sizeof *m->market.assets)) == NULL)
        st = XM_ENOMEM;
    if (st == XM_OK)
        m->market.n = info->n_assets;
    if (st == XM_OK)
        st = xm_venue_init(&m->venue, info->n_assets, err);
    if (st == XM_OK && ((m->book = xm_accounts_alloc(err)) == NULL ||
                        (m->path = strdup(p->name)) == NULL))
        st = XM_ENOMEM;
    if (st == XM_OK) {
        m->has_venue = 1;
        m->seed = info->seed;
        m->paths = info->paths;
        xm_le_reader r = {p->desc, p->desc_len, 0, 0};
        st = parse_desc(&r, info, m, NULL, err);
        if (st == XM_EDATA)
            bad(err, p->name, "corrupted description");
    }
    if (st != XM_OK) {
        if (st == XM_ENOMEM)
            xm_error_set(err, XM_ENOMEM, "%s: out of memory", p->name);
        xm_model_free(m);
        return NULL;
    }
    return m;
}
