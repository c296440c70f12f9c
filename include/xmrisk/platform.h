/* xmrisk/platform.h — what the library and the program ask of the machine: a monotonic
 * clock, the physical memory, and whether per-path results of a run fit in it. */
#ifndef XMRISK_PLATFORM_H
#define XMRISK_PLATFORM_H

#include <stdint.h>

#include "xmrisk/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Monotonic wall time in seconds (timing fields only; never part of a result). */
double xm_now_s(void);

/* Physical memory of this machine in bytes (INFINITY when unknown). */
double xm_physical_memory_bytes(void);

/* Per-path results of `paths` paths at `bytes_per_path` each: refuse, with the estimate, a
 * count that cannot fit in this machine's memory (XM_EUSAGE, a request error: exit 2).
 * `what` prefixes the message ("run"); `hint` ends it ("use fewer paths"). */
xm_status xm_check_paths_memory(const char *what, uint64_t paths, double bytes_per_path,
                                const char *hint, xm_error *err);

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_PLATFORM_H */
