/* liqprice_report.c — the liqprice table (xmrisk/liqprice_report.h; the price itself is
 * xm_liq_price, src/margin/liqprice.c). */
#include "xmrisk/liqprice_report.h"

#include <stdlib.h>

#include "core/csv.h"
#include "xmrisk/margin.h"

/* Units liquidatable now named one by one on `warn`; past this, one line gives the count. */
#define XM_LIQPRICE_NAMED 10

/* 1 when position j's unit is liquidatable at `marks` (the engine's own test,
 * xm_health_liquidatable); a cross account is warned about at its first position only. */
static int liquidatable_now(const xm_margin_state *s, size_t j, const double *marks, FILE *warn,
                            size_t *count)
{
    const xm_accounts *b = s->book;
    size_t a = b->owner[j];
    long unit = b->mode[a] == XM_CROSS ? XM_UNIT_ACCOUNT : (long)j;
    xm_health h = xm_margin_health(s, a, unit, marks);
    if (!xm_health_liquidatable(h))
        return 0;
    if (unit != XM_UNIT_ACCOUNT || j == b->first[a]) {
        if (warn != NULL && *count < XM_LIQPRICE_NAMED)
            fprintf(warn, "xmrisk: warning: account %s%s is liquidatable at the start prices "
                          "(equity %.2f <= maintenance %.2f): its liq_price is the mark\n",
                    xm_accounts_id(b, a), unit == XM_UNIT_ACCOUNT ? "" : " (isolated position)",
                    h.equity, h.mm);
        ++*count;
    }
    return 1;
}

static size_t write_rows(FILE *out, FILE *warn, const xm_model *model, const xm_margin_state *s,
                         const double *marks)
{
    const xm_accounts *b = model->book;
    size_t now = 0;
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
        if (liquidatable_now(s, j, marks, warn, &now))
            xm_csv_num(out, marks[asset]);
        else if (xm_liq_price(b, &model->venue, j, marks, &x))
            xm_csv_num(out, x);
        else
            fputc(',', out);
        fputc('\n', out);
    }
    return now;
}

/* The notes on `warn` after the table: units liquidatable now beyond those named, rows folded. */
static void write_notes(FILE *warn, const xm_accounts *b, size_t now)
{
    if (warn == NULL)
        return;
    if (now > XM_LIQPRICE_NAMED)
        fprintf(warn, "xmrisk: warning: ... %zu units in all are liquidatable at the start prices\n",
                now);
    if (b != NULL && b->n_folded > 0)
        fprintf(warn, "xmrisk: note: %zu position rows folded into an earlier row of the same "
                      "cross account, asset and side (one row per position: qty summed, entry "
                      "quantity-weighted; docs/margin.md)\n", b->n_folded);
}

xm_status xm_liqprice_report_write(FILE *out, FILE *warn, const xm_model *model, xm_error *err)
{
    size_t n = model->market.n;
    double *marks = malloc((n ? n : 1) * sizeof *marks);
    xm_margin_state *s = NULL;
    if (marks != NULL && model->book != NULL)
        s = xm_margin_state_alloc(model->book, &model->venue, err);
    if (marks == NULL || (model->book != NULL && s == NULL)) {
        free(marks);
        return xm_error_set(err, XM_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        marks[i] = model->market.assets[i].price;
    write_notes(warn, model->book, write_rows(out, warn, model, s, marks));
    xm_margin_state_free(s);
    free(marks);
    return XM_OK;
}
