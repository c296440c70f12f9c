/* core/ — status codes, RNG, the parallel path driver, files and writers, helpers. */
/* error.c — status names and the error record (see xmrisk/error.h). */
#include "xmrisk/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void xm_error_clear(xm_error *err)
{
    if (err == NULL)
        return;
    err->status = XM_OK;
    err->msg[0] = '\0';
}

/* Copy `in` to `out` (size bytes) as one line: control characters that user input can carry
 * into a message (a path or value with a newline) become \n, \r, \t or \xHH. */
static void one_line(const char *in, char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (; *in != '\0'; in++) {
        unsigned char c = (unsigned char)*in;
        char esc[5] = {(char)c, 0, 0, 0, 0};
        if (c < 0x20 || c == 0x7f) {
            esc[0] = '\\';
            esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : 'x';
            if (esc[1] == 'x') {
                esc[2] = hex[c >> 4];
                esc[3] = hex[c & 15];
            }
        }
        size_t len = strlen(esc);
        if (k + len >= size)
            break;
        memcpy(out + k, esc, len);
        k += len;
    }
    out[k] = '\0';
}

xm_status xm_error_set(xm_error *err, xm_status status, const char *fmt, ...)
{
    if (err == NULL)
        return status;
    char raw[XM_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    one_line(raw, err->msg, sizeof err->msg);
    err->status = status;
    return status;
}

const char *xm_status_name(xm_status status)
{
    switch (status) {
#define XM_STATUS_NAME_(name, exit_code, text) case XM_##name: return #name;
        XM_STATUS_MAP(XM_STATUS_NAME_)
#undef XM_STATUS_NAME_
    default: return "?";
    }
}

const char *xm_status_text(xm_status status)
{
    switch (status) {
#define XM_STATUS_TEXT_(name, exit_code, text) case XM_##name: return text;
        XM_STATUS_MAP(XM_STATUS_TEXT_)
#undef XM_STATUS_TEXT_
    default: return "?";
    }
}

int xm_status_exit_code(xm_status status)
{
    switch (status) {
#define XM_STATUS_EXIT_(name, exit_code, text) case XM_##name: return exit_code;
        XM_STATUS_MAP(XM_STATUS_EXIT_)
#undef XM_STATUS_EXIT_
    default: return 1;
    }
}
