/* core/json.c — the JSON writer and the number policy (core/json.h). */
#include "core/json.h"

#include <math.h>

const char *xm_num_text(char buf[XM_NUM_MAX], double x, const char *nonfinite)
{
    if (isfinite(x))
        snprintf(buf, XM_NUM_MAX, "%.17g", x);
    else
        snprintf(buf, XM_NUM_MAX, "%s", nonfinite);
    return buf;
}

void xm_json_string(FILE *fp, const char *s)
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

void xm_json_num(FILE *fp, double x)
{
    char buf[XM_NUM_MAX];
    fputs(xm_num_text(buf, x, "null"), fp);
}

void xm_json_key(FILE *fp, const char *key)
{
    xm_json_string(fp, key);
    fputs(": ", fp);
}

void xm_json_key_num(FILE *fp, const char *key, double x, const char *after)
{
    xm_json_key(fp, key);
    xm_json_num(fp, x);
    fputs(after, fp);
}

void xm_json_pair(FILE *fp, double lo, double hi)
{
    fputc('[', fp);
    xm_json_num(fp, lo);
    fputs(", ", fp);
    xm_json_num(fp, hi);
    fputc(']', fp);
}

void xm_json_key_pair(FILE *fp, const char *key, double lo, double hi, const char *after)
{
    xm_json_key(fp, key);
    xm_json_pair(fp, lo, hi);
    fputs(after, fp);
}
