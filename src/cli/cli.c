/* cli.c — pieces shared by the subcommands (cli.h). */
#include "cli.h"

#include <stdio.h>

#include "mpi_comm.h"
#include "xmrisk/outfile.h"

int xm_cli_fail(const xm_error *err)
{
    fprintf(stderr, "xmrisk: %s\n", err->msg);
    return xm_status_exit_code(err->status);
}

int xm_cli_fail_input(const xm_error *err)
{
    fprintf(stderr, "xmrisk: %s\n", err->msg);
    return 2;
}

void xm_cli_default_out_dir(const char *name, char *dir, size_t size)
{
    char safe[256];
    size_t k = 0;
    for (const char *c = name; *c && k + 1 < sizeof safe; c++) {
        int ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                 (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || (*c == '.' && k > 0);
        safe[k++] = ok ? *c : '_';
    }
    safe[k] = '\0';
    snprintf(dir, size, "results/%s", k ? safe : "model");
}

int xm_cli_out_dir(const char *opt, const char *model_name, char *dir, size_t size)
{
    if (opt != NULL)
        snprintf(dir, size, "%s", opt);
    else
        xm_cli_default_out_dir(model_name, dir, size);
    xm_error err;
    xm_error_clear(&err);
    int rc = xm_mpi_rank() == 0 && xm_outdir_check(dir, &err) != XM_OK ? 1 : 0;
    return xm_mpi_agree(rc, &err) != 0 ? xm_cli_fail(&err) : 0;
}

void xm_cli_print_results(const char *dir, const xm_run_result *r)
{
    printf("\nresults: %s/summary.json, %s/accounts.csv", dir, dir);
    if (r->ps == NULL)
        printf(", %s/paths.csv", dir);
    putchar('\n');
}
