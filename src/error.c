/* error.c — status names and the error record (see xmrisk/error.h). */
#include "xmrisk/error.h"

#include <stdarg.h>
#include <stdio.h>

void xm_error_clear(xm_error *err)
{
    if (err == NULL)
        return;
    err->status = XM_OK;
    err->msg[0] = '\0';
}

xm_status xm_error_set(xm_error *err, xm_status status, const char *fmt, ...)
{
    if (err == NULL)
        return status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
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
