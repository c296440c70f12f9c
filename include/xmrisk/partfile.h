/* xmrisk/partfile.h — partial results of a cascade run: the result over a contiguous path range
 * [lo, hi) of a run (a shard, an MPI rank's share, a checkpoint) as a self-describing binary
 * part, and the merge of parts into the result of a larger range or of the whole run.
 *
 * A part holds everything the result files need: per path its metrics, per path and asset the
 * lowest mark ratio and the impact then (or, binned, the mergeable statistics of its paths), the integer per-account sums and the cascade
 * histogram (xm_cascade_acc), and the few model fields the report prints (name, steps,
 * horizon, insurance fund, max_rounds, symbols, account ids), so parts merge without the
 * model file. Merging adds integer sums and concatenates per-path data in path order: the
 * merged result is bit-identical to a single-process run (docs/hpc.md).
 *
 * Format (version XM_PART_FORMAT), every integer and double little-endian whatever the host:
 *   header, 136 bytes:
 *     0  magic "XMRPART\n"        8  u32 format version      12 u32 header size (136)
 *    16  char[16] XM_VERSION of the writer, NUL-padded
 *    32  u64 model fingerprint   40  u64 seed               48  u64 paths of the run (P)
 *    56  u64 lo                  64  u64 hi                 72  u64 done (lo <= done <= hi)
 *    80  u64 n_assets            88  u64 n_accounts         96  u32 threads
 *   100  u32 XM_HIST_BINS       104  f64 elapsed_s         112  u64 payload size
 *   120  u64 FNV-1a 64 of the payload                      128  u64 FNV-1a 64 of bytes 0..127
 *   payload: the description (name, u32 steps, f64 horizon_days, f64 insurance_fund_usd,
 *     u32 max_rounds, n_assets symbols, n_accounts ids; strings as u32 length + bytes), then
 *     u64 statistics mode: 0 (exact) and per path lo..done-1 its xm_path_metrics field by
 *     field and n_assets pairs (min_ratio, impact_at_min); or 1 (binned), u64 L and L bytes of
 *     xm_mergestats_encode(); then u64 cascades, XM_HIST_BINS u64 bins, and per account u64
 *     liq_paths, u64 first_step_sum, and loss_micro as two's-complement low and high u64.
 * A part with done == hi is complete; done < hi is a checkpoint (paths [lo, done) finished).
 *
 * The model fingerprint (xm_part_fingerprint) is FNV-1a 64 over the *resolved* model: name,
 * steps, horizon, every market field (assets, process, jumps, impact, the correlation used and
 * its Cholesky factor), every venue field and tier, and every account and position of the book
 * as loaded (so a population is identified by what it drew). Comments, formatting, the file's
 * location and the `paths:`/`seed:` keys do not enter it; seed and paths are header fields.
 *
 * Every failure to accept a part is one line and XM_EDATA (exit 2): not a part, another format
 * or xmrisk version, truncated, trailing bytes, checksum mismatch, inconsistent sizes; merging:
 * another model / seed / path count / statistics mode, incomplete, duplicate, overlapping or
 * missing ranges.
 * XM_EIO when a file cannot be read or written, XM_ENOMEM.
 */
#ifndef XMRISK_PARTFILE_H
#define XMRISK_PARTFILE_H

#include <stddef.h>
#include <stdint.h>

#include "xmrisk/error.h"
#include "xmrisk/model.h"
#include "xmrisk/cascade_run.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XM_PART_FORMAT 3u   /* 2: xm_path_metrics gained price_floor_steps, beyond_tier_events;
                             * 3: a statistics mode, binned statistics (xmrisk/mergestats.h) */
#define XM_PART_HEADER_BYTES 136u

/* What identifies a part: its run and its range. */
typedef struct {
    char version[16];            /* XM_VERSION of the writer */
    uint64_t fingerprint;        /* xm_part_fingerprint of the model */
    uint64_t seed, paths;        /* the run */
    uint64_t lo, hi, done;       /* for paths [lo, hi); paths [lo, done) are in it */
    uint64_t n_assets, n_accounts;
    int threads;                 /* timing of the paths in it, as in xm_run_result */
    double elapsed_s;
} xm_part_info;

typedef struct xm_part xm_part;  /* a decoded part: its info, result and description */

/* Fingerprint of a resolved model with accounts (see above). */
uint64_t xm_part_fingerprint(const xm_model *m);

/* Serialize r (r->first_path .. + paths_done of a run of `m`, whose fingerprint is `fp`) into
 * a new buffer *buf of *len bytes, owned by the caller (free()). */
xm_status xm_part_encode(const xm_model *m, uint64_t fp, const xm_run_result *r,
                         unsigned char **buf, size_t *len, xm_error *err) XM_MUST_CHECK;

/* Parse and check buf[0..len); `name` (a file name, "rank 3") starts every message. Returns a
 * part owned by the caller (xm_part_free), or NULL with err (XM_EDATA, XM_ENOMEM). */
xm_part *xm_part_decode(const unsigned char *buf, size_t len, const char *name, xm_error *err);

/* The same from a file; XM_EIO when it cannot be read. */
xm_part *xm_part_read(const char *path, xm_error *err);

/* Encode r and write it to `path`, aside and renamed into place (fsync'd, then the directory
 * fsync'd), so that a kill at any moment leaves either the old file or the new one. */
xm_status xm_part_write(const char *path, const xm_model *m, uint64_t fp, const xm_run_result *r,
                        xm_error *err) XM_MUST_CHECK;

void xm_part_free(xm_part *p);

/* Borrowed views of a part (valid until xm_part_free). The result covers [lo, done). */
const xm_part_info *xm_part_get_info(const xm_part *p);
const xm_run_result *xm_part_get_result(const xm_part *p);
const char *xm_part_name(const xm_part *p);

/* Take the result out of the part (the caller then owns it: xm_run_result_free). */
xm_run_result *xm_part_take_result(xm_part *p);

/* Does part p belong to the run of the model with fingerprint fp, seed, paths and range
 * [lo, hi)? XM_OK, or XM_EDATA naming the first thing that differs ("seed 7, this run 8"). */
xm_status xm_part_check_run(const xm_part *p, uint64_t fp, uint64_t seed, uint64_t paths,
                            uint64_t lo, uint64_t hi, xm_error *err) XM_MUST_CHECK;

/* Merge n complete parts of one run that cover [lo, hi) exactly once, given in any order,
 * into a new result for [lo, hi) (*out, owned by the caller): per-path data in path order,
 * integer sums added; threads the largest of the parts', elapsed_s the sum of theirs. */
xm_status xm_part_merge(xm_part *const *parts, size_t n, uint64_t lo, uint64_t hi,
                        xm_run_result **out, xm_error *err) XM_MUST_CHECK;

/* A model holding only what the run report reads (name, steps, horizon_days, the insurance
 * fund, max_rounds, the symbols and the account ids), from a part's description: enough for
 * xm_run_report_write/print of a merged result, NOT for simulation (no prices, no correlation,
 * no tiers, no positions). Owned by the caller: xm_model_free. */
xm_model *xm_part_report_model(const xm_part *p, xm_error *err);

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_PARTFILE_H */
