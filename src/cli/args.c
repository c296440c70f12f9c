/* args.c — the option parser and usage printer of every subcommand (args.h). */
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define HELP_COLUMN 24  /* option help starts here */

static int vusage(const char *cmd, const char *fmt, va_list ap)
{
    fputs("xmrisk: ", stderr);
    if (cmd != NULL)
        fprintf(stderr, "%s: ", cmd);
    vfprintf(stderr, fmt, ap);
    if (cmd != NULL)
        fprintf(stderr, " (see xmrisk %s --help)\n", cmd);
    else
        fputs(" (see xmrisk --help)\n", stderr);
    return 2;
}

int xm_cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vusage(cmd, fmt, ap);
    va_end(ap);
    return 2;
}

int xm_cli_parse_digits(const char *s, uint64_t *v, const char **end)
{
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *e;
    unsigned long long x = strtoull(s, &e, 10);
    if (errno != 0)
        return -1;
    *v = (uint64_t)x;
    *end = e;
    return 0;
}

int xm_cli_parse_u64(const char *s, uint64_t *out)
{
    const char *end;
    return xm_cli_parse_digits(s, out, &end) == 0 && *end == '\0' ? 0 : -1;
}

/* A finite real number and nothing else. */
static int parse_real(const char *s, double *out)
{
    if (*s == '\0')
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static const xm_arg_opt *find_opt(const xm_arg_spec *spec, const char *name)
{
    for (size_t i = 0; i < spec->n_opts; i++)
        if (strcmp(spec->opts[i].name, name) == 0)
            return &spec->opts[i];
    return NULL;
}

/* "FLAG: expected a, b or c, got 'VALUE'". */
static int bad_choice(const xm_arg_spec *spec, const xm_arg_opt *o, const char *value)
{
    char list[256] = "";
    for (size_t k = 0; o->choices[k] != NULL; k++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", k == 0 ? "" : o->choices[k + 1] ? ", "
                                                                                      : " or ",
                 o->choices[k]);
    }
    return xm_cli_usage(spec->name, "%s: expected %s, got '%s'", o->name, list, value);
}

/* Digits in [o->min, o->max] into *v; else the error's exit status. */
static int integer_value(const xm_arg_spec *spec, const xm_arg_opt *o, const char *value,
                         uint64_t *v)
{
    if (xm_cli_parse_u64(value, v) != 0)
        return xm_cli_usage(spec->name, "%s: expected a non-negative integer, got '%s'",
                            o->name, value);
    if (*v < o->min || (o->max > 0 && *v > o->max))
        return xm_cli_usage(spec->name, "%s: %s, got %s", o->name, o->what, value);
    return 0;
}

/* The value of option o into args; 0, or the exit status of the error. */
static int store(const xm_arg_spec *spec, const xm_arg_opt *o, const char *value, char *args)
{
    void *dst = args + o->off;
    uint64_t v = 0;
    int rc = 0;
    switch (o->kind) {
    case XM_ARG_FLAG:
        *(int *)dst = 1;
        break;
    case XM_ARG_U64:
    case XM_ARG_INT:
        rc = integer_value(spec, o, value, &v);
        if (rc == 0 && o->kind == XM_ARG_U64)
            *(uint64_t *)dst = v;
        else if (rc == 0)
            *(int *)dst = (int)v;
        break;
    case XM_ARG_DOUBLE:
        if (parse_real(value, dst) != 0)
            rc = xm_cli_usage(spec->name, "%s: expected a finite number, got '%s'", o->name,
                              value);
        break;
    case XM_ARG_STRING:
        if (o->what != NULL && value[0] == '\0')
            rc = xm_cli_usage(spec->name, "%s: expected %s, got ''", o->name, o->what);
        *(const char **)dst = value;
        break;
    case XM_ARG_ENUM:
        rc = -1;
        for (int k = 0; o->choices[k] != NULL && rc != 0; k++)
            if (strcmp(value, o->choices[k]) == 0) {
                *(int *)dst = k;
                rc = 0;
            }
        if (rc != 0)
            rc = bad_choice(spec, o, value);
        break;
    case XM_ARG_CUSTOM:
        if (o->parse(value, args) != 0)
            rc = xm_cli_usage(spec->name, "%s: expected %s, got '%s'", o->name, o->what, value);
        break;
    }
    if (rc == 0 && o->given > 0)
        *(int *)(args + o->given - 1) = 1;
    return rc;
}

static int unknown_option(const xm_arg_spec *spec, const char *arg)
{
    if (spec->n_opts > 0)
        return xm_cli_usage(spec->name, "unknown option '%s'", arg);
    return xm_cli_usage(spec->name, "unknown option '%s' (%s takes only a %s file; a file "
                        "named so: ./%s)", arg, spec->name, spec->pos_name, arg);
}

static void init_doubles(const xm_arg_spec *spec, char *args)
{
    for (size_t i = 0; i < spec->n_opts; i++)
        if (spec->opts[i].kind == XM_ARG_DOUBLE)
            *(double *)(args + spec->opts[i].off) = NAN;
}

/* One argument at argv[*i] (an option and its value advance *i); 0, or the exit status. */
static int one_arg(const xm_arg_spec *spec, int argc, char **argv, int *i, char *args,
                   const char **pos, size_t *npos)
{
    const char *arg = argv[*i];
    if (arg[0] != '-' || arg[1] == '\0') {  /* "-" is a file name */
        if (spec->max_pos > 0 && *npos == spec->max_pos)
            return spec->extra ? xm_cli_usage(spec->name, "%s", spec->extra)
                               : xm_cli_usage(spec->name, "unexpected argument '%s'", arg);
        pos[(*npos)++] = arg;
        return 0;
    }
    const xm_arg_opt *o = find_opt(spec, arg);
    if (o == NULL)
        return unknown_option(spec, arg);
    const char *value = NULL;
    if (o->kind != XM_ARG_FLAG) {
        if (*i + 1 >= argc)
            return xm_cli_usage(spec->name, "%s needs a value", arg);
        value = argv[++*i];
    }
    return store(spec, o, value, args);
}

xm_args_status xm_args_parse(const xm_arg_spec *spec, int argc, char **argv, void *args,
                             const char **pos, size_t *npos)
{
    *npos = 0;
    init_doubles(spec, args);
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            xm_args_help(stdout, spec);
            return XM_ARGS_HELP;
        }
        if (one_arg(spec, argc, argv, &i, args, pos, npos) != 0)
            return XM_ARGS_ERROR;
    }
    if (*npos < spec->min_pos) {
        xm_cli_usage(spec->name, "%s", spec->missing);
        return XM_ARGS_ERROR;
    }
    return XM_ARGS_OK;
}

int xm_args_exit_code(xm_args_status st)
{
    return st == XM_ARGS_HELP ? 0 : 2;
}

/* ---- usage ---- */

/* The lines of text, the first after what the caller printed, the others indented by
 * `indent` spaces. */
static void put_lines(FILE *fp, const char *text, int indent)
{
    for (const char *s = text; *s;) {
        size_t n = strcspn(s, "\n");
        if (s != text)
            fprintf(fp, "%*s", indent, "");
        fprintf(fp, "%.*s\n", (int)n, s);
        s += n + (s[n] == '\n');
    }
}

void xm_args_synopsis(FILE *fp, const xm_arg_spec *spec, const char *lead)
{
    int width = (int)strlen(lead), args_col = width + (int)strlen(spec->name) + 8;
    for (const char *s = spec->synopsis; *s;) {
        size_t n = strcspn(s, "\n");
        if (*s == ' ')
            fprintf(fp, "%*s%.*s\n", args_col, "", (int)n - 1, s + 1);
        else if (s == spec->synopsis)
            fprintf(fp, "%sxmrisk %s %.*s\n", lead, spec->name, (int)n, s);
        else
            fprintf(fp, "%*sxmrisk %s %.*s\n", width, "", spec->name, (int)n, s);
        s += n + (s[n] == '\n');
    }
}

void xm_args_summary(FILE *fp, const xm_arg_spec *spec)
{
    fprintf(fp, "  %-10s ", spec->name);
    put_lines(fp, spec->summary, 13);
}

/* "  --stats auto|exact|binned" and its help lines from HELP_COLUMN. */
static void put_option(FILE *fp, const xm_arg_opt *o)
{
    char left[128], choices[96] = "";
    const char *meta = o->metavar;
    if (meta == NULL && o->kind == XM_ARG_ENUM) {
        for (size_t k = 0; o->choices[k] != NULL; k++) {
            size_t len = strlen(choices);
            snprintf(choices + len, sizeof choices - len, "%s%s", k ? "|" : "", o->choices[k]);
        }
        meta = choices;
    }
    int n = snprintf(left, sizeof left, "  %s%s%s", o->name, meta ? " " : "", meta ? meta : "");
    if (n + 1 < HELP_COLUMN)
        fprintf(fp, "%-*s", HELP_COLUMN, left);
    else
        fprintf(fp, "%s\n%*s", left, HELP_COLUMN, "");
    put_lines(fp, o->help, HELP_COLUMN);
}

void xm_args_help(FILE *fp, const xm_arg_spec *spec)
{
    xm_args_synopsis(fp, spec, "usage: ");
    fputs("\n", fp);
    put_lines(fp, spec->about, 0);
    fputs("\noptions:\n", fp);
    for (size_t i = 0; i < spec->n_opts; i++)
        put_option(fp, &spec->opts[i]);
    fprintf(fp, "%-*s%s\n", HELP_COLUMN, "  -h, --help", "print this help and exit");
    fputs("\nexit status: 0 success, 1 failure while running, 2 usage or model error\n", fp);
}
