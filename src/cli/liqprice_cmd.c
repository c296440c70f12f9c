/* liqprice_cmd.c — `xmrisk liqprice MODEL`: today's liquidation price of every position
 * (see liqprice_cmd.h; the price itself is xm_liq_price, src/margin/liqprice.c). */
#include "liqprice_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmrisk/margin.h"
#include "xmrisk/model.h"

/* Shortest of %.15g, %.16g, %.17g that reads back to v (%.17g always does). */
static void format_number(char *buf, size_t size, double v)
{
    for (int digits = 15; digits < 17; digits++) {
        snprintf(buf, size, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            return;
    }
    snprintf(buf, size, "%.17g", v);
}

/* A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
static void put_field(const char *s, FILE *out)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void put_number(double v, FILE *out)
{
    char buf[40];
    format_number(buf, sizeof buf, v);
    fputs(buf, out);
}

static void print_rows(const xm_model *model, const double *marks, FILE *out)
{
    const xm_accounts *b = model->book;
    fputs("account_id,asset,qty,entry,mark,liq_price\n", out);
    for (size_t j = 0; j < b->n_positions; j++) {
        uint16_t asset = b->asset[j];
        double x;
        put_field(xm_accounts_id(b, b->owner[j]), out);
        fputc(',', out);
        put_field(model->market.assets[asset].symbol, out);
        fputc(',', out);
        put_number(b->qty[j], out);
        fputc(',', out);
        put_number(b->entry[j], out);
        fputc(',', out);
        put_number(marks[asset], out);
        fputc(',', out);
        if (xm_liq_price(b, &model->venue, j, marks, &x))
            put_number(x, out);
        fputc('\n', out);
    }
}

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
    size_t n = model->market.n;
    double *marks = malloc((n ? n : 1) * sizeof *marks);
    if (marks == NULL) {
        fprintf(stderr, "xmrisk: out of memory\n");
        xm_model_free(model);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        marks[i] = model->market.assets[i].price;
    print_rows(model, marks, stdout);
    int rc = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "xmrisk: standard output: %s\n", strerror(errno));
        rc = 1;
    }
    free(marks);
    xm_model_free(model);
    return rc;
}
