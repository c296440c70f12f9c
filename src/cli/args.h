/* args.h — the one option parser and usage printer of every `xmrisk` subcommand.
 *
 * Each subcommand declares its flags in a table (xm_arg_opt: name, kind, destination as an
 * offset into its arguments struct, help line) and calls xm_args_parse(). Errors are one line
 * on standard error, "xmrisk: CMD: MESSAGE (see xmrisk CMD --help)", and exit status 2;
 * --help (or -h) prints the subcommand's usage, generated from the same table, and exit 0.
 */
#ifndef XM_CLI_ARGS_H
#define XM_CLI_ARGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "xmrisk/error.h"

typedef enum {
    XM_ARG_FLAG,    /* no value: int set to 1 */
    XM_ARG_U64,     /* digits only: uint64_t in [min, max] */
    XM_ARG_INT,     /* digits only: int in [min, max] */
    XM_ARG_DOUBLE,  /* a finite number: double (NAN until given) */
    XM_ARG_STRING,  /* const char *; refused when empty if `what` is set */
    XM_ARG_ENUM,    /* one of `choices`: int, its index */
    XM_ARG_CUSTOM   /* parse(value, args struct) == 0, else "expected `what`" */
} xm_arg_kind;

/* The destination `given` of an option: an int of the arguments struct set to 1 when the
 * option is given (0 in the table: none). */
#define XM_ARG_GIVEN(type, field) (offsetof(type, field) + 1)

typedef struct {
    const char *name;            /* "--paths" */
    xm_arg_kind kind;
    size_t off;                  /* offsetof the destination in the arguments struct */
    size_t given;                /* XM_ARG_GIVEN(...) or 0 */
    const char *metavar;         /* "N" in the usage; ENUM: the choices when NULL */
    const char *help;            /* lines separated by '\n' */
    uint64_t min, max;           /* U64, INT: the range, max 0 for none */
    const char *what;            /* U64, INT: the range in words ("expected at least 1 path");
                                    STRING: what an empty value is not ("a directory name");
                                    CUSTOM: what was expected */
    const char *const *choices;  /* ENUM: NULL-terminated */
    int (*parse)(const char *value, void *args);  /* CUSTOM: 0, or -1 */
} xm_arg_opt;

typedef struct {
    const char *name;            /* "run" */
    const char *synopsis;        /* forms after "xmrisk NAME ", one a line; a line starting
                                    with a space continues the form above */
    const char *summary;         /* for `xmrisk --help`, lines separated by '\n' */
    const char *about;           /* for `xmrisk NAME --help` */
    const xm_arg_opt *opts;
    size_t n_opts;
    size_t min_pos, max_pos;     /* positional arguments; max_pos 0: any number */
    const char *pos_name;        /* "MODEL" */
    const char *missing;         /* fewer than min_pos: the message */
    const char *extra;           /* more than max_pos: the message (NULL: "unexpected
                                    argument 'ARG'") */
} xm_arg_spec;

/* Options that several subcommands share, for a `type` with the fields named here. */
#define XM_ARG_OPT_PATHS(type, help_) \
    {.name = "--paths", .kind = XM_ARG_U64, .off = offsetof(type, paths), \
     .given = XM_ARG_GIVEN(type, has_paths), .metavar = "N", .min = 1, \
     .what = "expected at least 1 path", .help = help_}
#define XM_ARG_OPT_SEED(type) \
    {.name = "--seed", .kind = XM_ARG_U64, .off = offsetof(type, seed), \
     .given = XM_ARG_GIVEN(type, has_seed), .metavar = "S", \
     .help = "seed of the paths (default: the model's)"}
#define XM_ARG_OPT_THREADS(type) \
    {.name = "--threads", .kind = XM_ARG_INT, .off = offsetof(type, threads), .metavar = "T", \
     .min = 1, .max = 4096, .what = "expected 1 to 4096 threads", \
     .help = "worker threads (default: all cores)"}
#define XM_ARG_OPT_OUT(type, help_) \
    {.name = "--out", .kind = XM_ARG_STRING, .off = offsetof(type, out_dir), .metavar = "DIR", \
     .what = "a directory name", .help = help_}
#define XM_ARG_OPT_QUIET(type) \
    {.name = "--quiet", .kind = XM_ARG_FLAG, .off = offsetof(type, quiet), \
     .help = "print nothing but errors"}

typedef enum { XM_ARGS_OK = 0, XM_ARGS_HELP, XM_ARGS_ERROR } xm_args_status;

/* Parse argv[2..] (argv[1] is the subcommand) into `args` (zeroed by the caller; DOUBLE
 * destinations set to NAN first) and the positional arguments into pos[0..*npos) (room for
 * spec->max_pos entries, or argc when any number). Flags and arguments in any order; the
 * first error is the one reported. */
xm_args_status xm_args_parse(const xm_arg_spec *spec, int argc, char **argv, void *args,
                             const char **pos, size_t *npos);

/* The exit status for a status other than XM_ARGS_OK: 0 after --help, 2 after an error. */
int xm_args_exit_code(xm_args_status st);

/* `xmrisk NAME --help`: usage, about, every option. */
void xm_args_help(FILE *fp, const xm_arg_spec *spec);

/* The usage lines of spec (lead: "usage: " or as many spaces), and its summary line. */
void xm_args_synopsis(FILE *fp, const xm_arg_spec *spec, const char *lead);
void xm_args_summary(FILE *fp, const xm_arg_spec *spec);

/* "xmrisk: CMD: MESSAGE (see xmrisk CMD --help)" on standard error (cmd NULL: "xmrisk:
 * MESSAGE (see xmrisk --help)"); returns 2, the exit status of a usage error. */
int xm_cli_usage(const char *cmd, const char *fmt, ...) XM_PRINTF(2, 3);

/* Leading digits of s into *v (no sign, no overflow), the rest of s in *end; 0 or -1. */
int xm_cli_parse_digits(const char *s, uint64_t *v, const char **end);

/* Digits only, the whole string; 0 or -1. */
int xm_cli_parse_u64(const char *s, uint64_t *out);

#endif /* XM_CLI_ARGS_H */
