/* market/path_drive.h — a path workspace (xmrisk/paths.h) per thread of a run over paths
 * (core/driver.h): the ws_alloc/ws_free pair of market-only runs and calibration (internal). */
#ifndef XM_MARKET_PATH_DRIVE_H
#define XM_MARKET_PATH_DRIVE_H

#include "xmrisk/market.h"

/* What a thread's path workspace is built from; the first member of the driver's context. */
typedef struct {
    const xm_market *market;
    double tau;                 /* years per step */
} xm_path_drive;

/* ctx points to a struct whose first member is an xm_path_drive. The workspace is owned by the
 * driver: NULL when out of memory; freed with xm_path_drive_ws_free. */
void *xm_path_drive_ws_alloc(void *ctx);
void xm_path_drive_ws_free(void *ctx, void *ws);

#endif /* XM_MARKET_PATH_DRIVE_H */
