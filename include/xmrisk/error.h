/* xmrisk/error.h — status codes and the error record every fallible call fills.
 *
 * One list (XM_STATUS_MAP) generates the enum, the names and the exit codes, so they cannot
 * drift apart (the libuv UV_ERRNO_MAP idea). Library functions never print and never abort:
 * they return a status and, when given a non-NULL xm_error, leave one human-readable line in
 * it that says what and where (file:line:column, key path, what was expected).
 */
#ifndef XMRISK_ERROR_H
#define XMRISK_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define XM_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define XM_MUST_CHECK __attribute__((warn_unused_result))
#else
#define XM_PRINTF(fmt, args)
#define XM_MUST_CHECK
#endif

/* The library's version, written into every result file and printed by `xmrisk --version`. */
#define XM_VERSION "0.1.0"

/*   name       exit  meaning */
#define XM_STATUS_MAP(XX)                                                        \
    XX(OK,       0, "success")                                                   \
    XX(EUSAGE,   2, "usage error")                                               \
    XX(EMODEL,   2, "model error")                                               \
    XX(EIO,      1, "input/output error")                                        \
    XX(ENOMEM,   1, "out of memory")                                             \
    XX(ENUMERIC, 1, "numerical failure")                                         \
    XX(EINTR,    1, "interrupted")                                               \
    XX(EDATA,    2, "bad result file")

typedef enum {
#define XM_STATUS_ENUM_(name, exit_code, text) XM_##name,
    XM_STATUS_MAP(XM_STATUS_ENUM_)
#undef XM_STATUS_ENUM_
    XM_STATUS_COUNT_
} xm_status;

/* Longest message an xm_error holds, terminating NUL included. Longer messages are cut. */
#define XM_ERROR_MSG_MAX 1024

typedef struct {
    xm_status status;            /* XM_OK until something fails */
    char msg[XM_ERROR_MSG_MAX];  /* one line, no trailing newline; "" when status is XM_OK */
} xm_error;

/* Reset to XM_OK with an empty message. NULL is accepted and ignored. */
void xm_error_clear(xm_error *err);

/* Record a failure (printf-style message) and return `status`, so that callers can write
 * `return xm_error_set(err, XM_EMODEL, "...", ...);`. NULL err is accepted: only the status
 * is returned. */
xm_status xm_error_set(xm_error *err, xm_status status, const char *fmt, ...) XM_PRINTF(3, 4);

/* Short name ("EMODEL") and description ("model error") of a status; "?" when unknown. */
const char *xm_status_name(xm_status status);
const char *xm_status_text(xm_status status);

/* Process exit code for a status: 0 success, 2 usage or model error, 1 anything else. */
int xm_status_exit_code(xm_status status);

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_ERROR_H */
