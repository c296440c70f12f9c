/* core/csv.c — CSV fields (core/csv.h). */
#include "core/csv.h"

#include <string.h>

#include "core/json.h"

void xm_csv_text(FILE *fp, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

void xm_csv_num(FILE *fp, double x)
{
    fputc(',', fp);
    xm_num_write(fp, x, "");
}
