/* xmrisk/calibration_report.h — what `xmrisk calibrate` prints and writes: the table and
 * DIR/calibration.json (docs/calibrate.md documents every field). */
#ifndef XMRISK_CALIBRATION_REPORT_H
#define XMRISK_CALIBRATION_REPORT_H

#include <stdio.h>

#include "xmrisk/calibrate.h"
#include "xmrisk/error.h"
#include "xmrisk/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { XM_CAL_POSITION = 0, XM_CAL_VENUE, XM_CAL_TIERS } xm_cal_kind;

/* Everything one calibration produced, for the table and calibration.json. Borrows every
 * pointer (the caller owns them). */
typedef struct {
    xm_cal_kind kind;
    const xm_model *model;        /* with the horizon actually used */
    uint64_t paths, seed;
    int threads;
    double confidence, precision, elapsed_s;
    /* position and tiers */
    const xm_cal_extremes *ext;
    size_t asset;
    int is_long;
    double notional_usd, alpha, mmr_override;  /* mmr_override <= 0: the venue's tiers */
    const xm_cal_position_res *pos;
    const xm_cal_tiers_res *tiers;  /* n_tiers entries (one per asset) */
    size_t n_tiers;
    /* venue */
    const xm_cal_venue_req *vreq;
    const xm_cal_venue_res *venue;
} xm_cal_report;

/* The human table on fp. */
void xm_cal_print(FILE *fp, const xm_cal_report *r);

/* DIR/calibration.json (created with its parents), written aside and renamed into place.
 * Numbers have 17 significant digits; null where there is no value. */
xm_status xm_cal_write_json(const char *dir, const xm_cal_report *r, xm_error *err) XM_MUST_CHECK;

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_CALIBRATION_REPORT_H */
