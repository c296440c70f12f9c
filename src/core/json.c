/* core/json.c — the JSON writer and the number policy (core/json.h). */
#include "core/json.h"

#include <math.h>

const char *xm_num_text(char buf[XM_NUM_MAX], double x, const char *nonfinite)
{
    if (isfinite(x))
        snprintf(buf, XM_NUM_MAX, XM_NUM_FORMAT, x);
    else
        snprintf(buf, XM_NUM_MAX, "%s", nonfinite);
    return buf;
}

void xm_num_write(FILE *fp, double x, const char *nonfinite)
{
    if (isfinite(x))
        fprintf(fp, XM_NUM_FORMAT, x);
    else
        fputs(nonfinite, fp);
}

/* Length of the run at s that needs no escaping: up to a quote, a backslash, a control
 * character or the end. (A plain loop: strcspn over the 33 special bytes is slower on the
 * short keys written here.) */
static size_t plain_run(const char *s)
{
    size_t n = 0;
    for (unsigned char c; (c = (unsigned char)s[n]) >= 0x20 && c != '"' && c != '\\';)
        n++;
    return n;
}

void xm_json_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (;;) {
        size_t n = plain_run(s);
        fwrite(s, 1, n, fp);
        s += n;
        if (*s == 0)
            break;
        unsigned char c = (unsigned char)*s++;
        if (c == '"' || c == '\\')
            fprintf(fp, "\\%c", c);
        else
            fprintf(fp, "\\u%04x", c);
    }
    fputc('"', fp);
}

void xm_json_num(FILE *fp, double x)
{
    xm_num_write(fp, x, "null");
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
