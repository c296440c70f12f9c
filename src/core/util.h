/* core/util.h — small helpers shared by several modules (not installed, not public). */
#ifndef XM_CORE_UTIL_H
#define XM_CORE_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "xmrisk/error.h"
#include "xmrisk/platform.h"  /* xm_now_s, xm_physical_memory_bytes, xm_check_paths_memory */

/* A JSON string literal: quotes and backslashes escaped, control characters as \u00XX. */
static inline void xm_json_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(fp, "\\%c", c);
        else if (c < 0x20)
            fprintf(fp, "\\u%04x", c);
        else
            fputc(c, fp);
    }
    fputc('"', fp);
}

/* A JSON number with 17 significant digits (doubles round-trip); null for anything non-finite
 * (never expected: docs/model.md §7). */
static inline void xm_json_num(FILE *fp, double x)
{
    if (isfinite(x))
        fprintf(fp, "%.17g", x);
    else
        fputs("null", fp);
}

/* A CSV field after a comma; empty for anything non-finite. */
static inline void xm_csv_num(FILE *fp, double x)
{
    if (isfinite(x))
        fprintf(fp, ",%.17g", x);
    else
        fputc(',', fp);
}

#endif /* XM_CORE_UTIL_H */
