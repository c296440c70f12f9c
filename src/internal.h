/* internal.h — small helpers shared by several modules (not installed, not public). */
#ifndef XM_INTERNAL_H
#define XM_INTERNAL_H

#include <stdio.h>
#include <time.h>

/* Monotonic wall time in seconds (timing fields only; never part of a result). */
static inline double xm_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

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

#endif /* XM_INTERNAL_H */
