/* liqprice_report.c — the liqprice table (xmrisk/liqprice_report.h; the price itself is
 * xm_liq_price, src/margin/liqprice.c). */
#include "xmrisk/liqprice_report.h"

#include <stdlib.h>

#include "core/csv.h"
#include "xmrisk/margin.h"

static void write_rows(FILE *out, const xm_model *model, const double *marks)
{
    const xm_accounts *b = model->book;
    fputs("account_id,asset,qty,entry,mark,liq_price\n", out);
    for (size_t j = 0; b != NULL && j < b->n_positions; j++) {
        uint16_t asset = b->asset[j];
        double x;
        xm_csv_text(out, xm_accounts_id(b, b->owner[j]));
        fputc(',', out);
        xm_csv_text(out, model->market.assets[asset].symbol);
        xm_csv_num(out, b->qty[j]);
        xm_csv_num(out, b->entry[j]);
        xm_csv_num(out, marks[asset]);
        if (xm_liq_price(b, &model->venue, j, marks, &x))
            xm_csv_num(out, x);
        else
            fputc(',', out);
        fputc('\n', out);
    }
}

xm_status xm_liqprice_report_write(FILE *out, const xm_model *model, xm_error *err)
{
    size_t n = model->market.n;
    double *marks = malloc((n ? n : 1) * sizeof *marks);
    if (marks == NULL)
        return xm_error_set(err, XM_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        marks[i] = model->market.assets[i].price;
    write_rows(out, model, marks);
    free(marks);
    return XM_OK;
}
