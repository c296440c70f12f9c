/* mpi_comm.c — MPI for `xmrisk run`, or its one-process stand-in (see mpi_comm.h). The
 * program's only MPI state lives here (the library never sees MPI). */
#include "mpi_comm.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef XM_HAVE_MPI
#include <mpi.h>

static struct {
    int started, rank, size;
} g_mpi = {0, 0, 1};

/* Launched by mpirun/mpiexec/srun? (an MPI singleton start costs ~0.4 s: never by default) */
static int launched(void)
{
    const char *off = getenv("XM_MPI");
    if (off != NULL && strcmp(off, "0") == 0)
        return 0;
    return getenv("OMPI_COMM_WORLD_SIZE") != NULL || getenv("PMI_SIZE") != NULL ||
           getenv("PMIX_RANK") != NULL;
}

void xm_mpi_begin(int *argc, char ***argv)
{
    if (!launched())
        return;
    int provided;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    g_mpi.started = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_mpi.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_mpi.size);
    if (g_mpi.rank != 0) {
        if (freopen("/dev/null", "w", stdout) == NULL)
            fclose(stdout);
        if (freopen("/dev/null", "w", stderr) == NULL)
            fclose(stderr);
    }
}

int xm_mpi_end(int rc)
{
    if (g_mpi.started) {
        fflush(stdout);
        MPI_Finalize();
        g_mpi.started = 0;
    }
    return rc;
}

int xm_mpi_rank(void)
{
    return g_mpi.rank;
}

int xm_mpi_size(void)
{
    return g_mpi.size;
}

int xm_mpi_agree(int rc, xm_error *err)
{
    if (!g_mpi.started || g_mpi.size == 1)
        return rc;
    struct {
        int rc, rank;
    } in = {rc, g_mpi.rank}, out;
    /* MAXLOC: the largest rc, and among equal ones the lowest rank. */
    MPI_Allreduce(&in, &out, 1, MPI_2INT, MPI_MAXLOC, MPI_COMM_WORLD);
    if (out.rc != 0) {
        char msg[XM_ERROR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err->msg);
        MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, out.rank, MPI_COMM_WORLD);
        msg[sizeof msg - 1] = '\0';
        xm_status st = err->status != XM_OK ? err->status : out.rc == 2 ? XM_EUSAGE : XM_EIO;
        if (out.rank != 0)
            xm_error_set(err, st, "rank %d: %s", out.rank, msg);
        else
            xm_error_set(err, st, "%s", msg);
    }
    return out.rc;
}

int xm_mpi_bcast_rc(int rc)
{
    if (g_mpi.started && g_mpi.size > 1)
        MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return rc;
}

long xm_mpi_sum(long v)
{
    long s = v;
    if (g_mpi.started && g_mpi.size > 1)
        MPI_Allreduce(&v, &s, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    return s;
}

#define PIECE ((size_t)1 << 30) /* bytes per message: counts are int */

static void send_bytes(const unsigned char *buf, size_t len)
{
    for (size_t off = 0; off < len; off += PIECE) {
        size_t n = len - off < PIECE ? len - off : PIECE;
        MPI_Send(buf + off, (int)n, MPI_BYTE, 0, 2, MPI_COMM_WORLD);
    }
}

static void recv_bytes(unsigned char *buf, size_t len, int from)
{
    for (size_t off = 0; off < len; off += PIECE) {
        size_t n = len - off < PIECE ? len - off : PIECE;
        MPI_Recv(buf + off, (int)n, MPI_BYTE, from, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
}

/* Rank 0: room for every rank's bytes; 0 when out of memory (then nothing is kept). */
static int alloc_all(const uint64_t *all, int size, unsigned char ***bufs, size_t **lens)
{
    *bufs = calloc((size_t)size, sizeof **bufs);
    *lens = calloc((size_t)size, sizeof **lens);
    int ok = *bufs != NULL && *lens != NULL;
    for (int r = 0; ok && r < size; r++) {
        (*lens)[r] = (size_t)all[r];
        ok = all[r] < SIZE_MAX && ((*bufs)[r] = malloc(all[r] ? (size_t)all[r] : 1)) != NULL;
    }
    if (!ok) {
        for (int r = 0; *bufs != NULL && r < size; r++)
            free((*bufs)[r]);
        free(*bufs);
        free(*lens);
        *bufs = NULL;
        *lens = NULL;
    }
    return ok;
}

xm_status xm_mpi_gather(const unsigned char *buf, size_t len, unsigned char ***bufs,
                        size_t **lens, xm_error *err)
{
    *bufs = NULL;
    *lens = NULL;
    int size = g_mpi.started ? g_mpi.size : 1, root = g_mpi.rank == 0;
    uint64_t mine = len, *all = root ? calloc((size_t)size, sizeof *all) : NULL;
    int ok = !root || all != NULL;
    if (g_mpi.started && size > 1)
        MPI_Gather(&mine, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    else if (all != NULL)
        all[0] = mine;
    if (root && ok)
        ok = alloc_all(all, size, bufs, lens);
    free(all);
    if (g_mpi.started && size > 1)
        MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (!ok)
        return xm_error_set(err, XM_ENOMEM, "MPI: rank 0 is out of memory for the ranks' results");
    if (!root) {
        send_bytes(buf, len);
        return XM_OK;
    }
    if (len > 0)
        memcpy((*bufs)[0], buf, len);
    for (int r = 1; r < size; r++)
        recv_bytes((*bufs)[r], (*lens)[r], r);
    return XM_OK;
}

#else /* one process */

void xm_mpi_begin(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *n = getenv("OMPI_COMM_WORLD_SIZE");
    if (n == NULL)
        n = getenv("PMI_SIZE");
    if (n != NULL && strcmp(n, "1") != 0)
        fputs("xmrisk: warning: started by an MPI launcher, but built without MPI: every process "
              "runs the whole model\n", stderr);
}

int xm_mpi_end(int rc)
{
    return rc;
}

int xm_mpi_rank(void)
{
    return 0;
}

int xm_mpi_size(void)
{
    return 1;
}

int xm_mpi_agree(int rc, xm_error *err)
{
    (void)err;
    return rc;
}

int xm_mpi_bcast_rc(int rc)
{
    return rc;
}

long xm_mpi_sum(long v)
{
    return v;
}

xm_status xm_mpi_gather(const unsigned char *buf, size_t len, unsigned char ***bufs,
                        size_t **lens, xm_error *err)
{
    *bufs = calloc(1, sizeof **bufs);
    *lens = calloc(1, sizeof **lens);
    if (*bufs != NULL && *lens != NULL && ((*bufs)[0] = malloc(len ? len : 1)) != NULL) {
        if (len > 0)
            memcpy((*bufs)[0], buf, len);
        (*lens)[0] = len;
        return XM_OK;
    }
    free(*bufs);
    free(*lens);
    *bufs = NULL;
    *lens = NULL;
    return xm_error_set(err, XM_ENOMEM, "out of memory for the result");
}

#endif
