/* platform.c — the machine: clock and memory (xmrisk/platform.h). */
#include "xmrisk/platform.h"

#include <math.h>
#include <time.h>
#include <unistd.h>

double xm_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double xm_physical_memory_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && size > 0 ? (double)pages * (double)size : INFINITY;
}

xm_status xm_check_paths_memory(const char *what, uint64_t paths, double bytes_per_path,
                                const char *hint, xm_error *err)
{
    double need = (double)paths * bytes_per_path, have = xm_physical_memory_bytes();
    if (need <= have)
        return XM_OK;
    return xm_error_set(err, XM_EUSAGE,
                        "%s: %llu paths need about %.1f GB for per-path results (%.0f bytes "
                        "each), this machine has %.1f GB: %s",
                        what, (unsigned long long)paths, need / 1e9, bytes_per_path,
                        have / 1e9, hint);
}
