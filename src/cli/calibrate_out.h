/* calibrate_out.h — what `xmrisk calibrate` prints and writes (calibrate_out.c). */
#ifndef XMRISK_CLI_CALIBRATE_OUT_H
#define XMRISK_CLI_CALIBRATE_OUT_H

#include <stdio.h>

#include "xmrisk/calibrate.h"
#include "xmrisk/model.h"

typedef enum { CAL_POSITION = 0, CAL_VENUE, CAL_TIERS } cal_kind;

/* Everything one calibration produced, for the table and calibration.json. */
typedef struct {
    cal_kind kind;
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
} cal_report;

void cal_print(FILE *fp, const cal_report *r);

/* DIR/calibration.json, aside and renamed into place. */
xm_status cal_write_json(const char *dir, const cal_report *r, xm_error *err) XM_MUST_CHECK;

#endif /* XMRISK_CLI_CALIBRATE_OUT_H */
