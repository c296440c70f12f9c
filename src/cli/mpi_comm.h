/* mpi_comm.h — the little of MPI that `xmrisk run` needs, and its one-process stand-in.
 *
 * MPI starts only when the process was launched by an MPI launcher: mpirun/mpiexec (Open MPI:
 * OMPI_COMM_WORLD_SIZE; MPICH, Intel MPI: PMI_SIZE) or srun with PMIx (PMIX_RANK), and only
 * in a build with MPI (XM_HAVE_MPI). XM_MPI=0 in the environment keeps it off. Otherwise the
 * program is one process, exactly as without MPI: rank 0 of 1, every call below trivial.
 *
 * Ranks other than 0 send their standard output and error to /dev/null: only rank 0 prints.
 * Every rank must make the same collective calls in the same order.
 */
#ifndef XM_CLI_MPI_COMM_H
#define XM_CLI_MPI_COMM_H

#include <stddef.h>

#include "xmrisk/error.h"

/* Start MPI if launched by a launcher (see above). */
void xm_mpi_begin(int *argc, char ***argv);

/* Finalize MPI when it was started; returns rc. */
int xm_mpi_end(int rc);

int xm_mpi_rank(void);
int xm_mpi_size(void);

/* Collective: the largest rc over all ranks; when it is not 0, every rank's err then holds
 * the message of the lowest rank with that rc (prefixed "rank R: " when R is not 0). */
int xm_mpi_agree(int rc, xm_error *err);

/* Collective: rank 0's rc on every rank. */
int xm_mpi_bcast_rc(int rc);

/* Collective: the sum of v over ranks, on every rank. */
long xm_mpi_sum(long v);

/* Collective: rank 0 receives every rank's bytes, in rank order (its own copied): on rank 0,
 * bufs[r] (len lens[r]) for r < size, arrays and buffers owned by the caller (free each, then
 * the arrays); NULL elsewhere. Any size (sent in pieces). XM_ENOMEM on rank 0 when it cannot
 * hold them (the other ranks' data is still received, then dropped). */
xm_status xm_mpi_gather(const unsigned char *buf, size_t len, unsigned char ***bufs,
                        size_t **lens, xm_error *err);

#endif /* XM_CLI_MPI_COMM_H */
