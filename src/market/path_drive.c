/* path_drive.c — a path workspace per thread of a run over paths (see market/path_drive.h). */
#include "market/path_drive.h"

#include "xmrisk/paths.h"

void *xm_path_drive_ws_alloc(void *ctx)
{
    const xm_path_drive *d = ctx;
    return xm_path_ws_alloc(d->market, d->tau, NULL);
}

void xm_path_drive_ws_free(void *ctx, void *ws)
{
    (void)ctx;
    xm_path_ws_free(ws);
}
