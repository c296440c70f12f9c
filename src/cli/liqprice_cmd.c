/* liqprice_cmd.c — `xmrisk liqprice MODEL`: today's liquidation price of every position
 * (see liqprice_cmd.h; the table is xm_liqprice_report_write, src/report/liqprice_report.c). */
#include "liqprice_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmrisk/liqprice_report.h"
#include "xmrisk/model.h"

int xm_cli_liqprice(const char *model_path)
{
    xm_error err;
    xm_error_clear(&err);
    xm_model *model = xm_model_load(model_path, &err);
    if (model == NULL) {
        /* A model that cannot be loaded, unreadable file included, is the user's input. */
        fprintf(stderr, "xmrisk: %s\n", err.msg);
        return 2;
    }
    if (model->book == NULL || model->book->n_accounts == 0) {
        fprintf(stderr, "xmrisk: %s: no accounts to price\n", model_path);
        xm_model_free(model);
        return 2;
    }
    int rc = 0;
    if (xm_liqprice_report_write(stdout, stderr, model, &err) != XM_OK) {
        fprintf(stderr, "xmrisk: %s\n", err.msg);
        rc = 1;
    } else if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "xmrisk: standard output: %s\n", strerror(errno));
        rc = 1;
    }
    xm_model_free(model);
    return rc;
}
