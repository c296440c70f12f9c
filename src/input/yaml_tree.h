/* yaml_tree.h — internal: a small YAML tree with positions, and typed getters over it that
 * report problems as "FILE:LINE:COLUMN: KEY.PATH: expected WHAT, got VALUE".
 *
 * Why a tree of our own: libfyaml 0.7 has no public way to ask a mapping or sequence node of
 * its document where it starts, and the messages must name a position for every node. So
 * xy_parse() drives libfyaml's event parser (fy_parser_parse; every event carries a start
 * mark) and builds this tree in one arena. libfyaml's diagnostics are collected (never
 * printed) and the first one becomes "FILE:LINE:COLUMN: YAML syntax error: ...".
 *
 * Scalars follow the YAML 1.2 core schema, decided here and not by libfyaml:
 *   - only plain (unquoted), untagged scalars are typed; "20000" or '1.5' in quotes is a
 *     string and is rejected where a number is expected (the message says it is quoted);
 *   - null: empty, ~, null, Null, NULL;  booleans: true/True/TRUE/false/False/FALSE;
 *   - integers: [-+]?[0-9]+, 0x[0-9a-fA-F]+, 0o[0-7]+;
 *   - floats: [-+]?(.[0-9]+|[0-9]+(.[0-9]*)?)([eE][-+]?[0-9]+)?, [-+]?(.inf|inf) in any of the
 *     cases YAML allows (.inf .Inf .INF), .nan (ditto) and nan;
 *   - explicit core tags are honoured: !!str makes a string, !!int/!!float/!!bool/!!null apply
 *     the syntax above whatever the quoting; any other tag leaves a string; a message shows a
 *     core tag ("got !!float 24");
 *   - an integer key (steps, seed, paths) must be written as an integer: 2.5 and 1.0e3 are
 *     errors there, and so is !!float 24 (a float by its tag, as 24.0 is by its spelling);
 *   - a string key accepts any non-null scalar that is not a number or boolean: write
 *     symbol: "1000" (quoted) for a symbol that looks like a number.
 * Duplicate keys in a mapping are errors that name both positions; anchors and aliases work
 * (an alias shares the anchored node; an alias to an enclosing collection is an error).
 * YAML 1.1 merge keys work: `<<: *a` or `<<: [*a, *b]` adds the pairs of those mappings whose
 * keys the mapping does not give itself (explicit keys win, then the earlier mapping); merged
 * pairs keep their own positions. A `<<` whose value is not a mapping or a sequence of
 * mappings, or a second `<<` in one mapping, is an error; a quoted '<<' is an ordinary key.
 *
 * Numbers are parsed with strtod, hence in the C locale the library runs in ('.' decimal
 * point); the library never calls setlocale.
 */
#ifndef XM_YAML_TREE_H
#define XM_YAML_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "xmrisk/error.h"

typedef enum { XY_SCALAR, XY_SEQUENCE, XY_MAPPING } xy_kind;

typedef struct xy_node xy_node;
struct xy_node {
    xy_kind kind;
    int line, column;         /* 1-based */
    /* scalars */
    const char *text;         /* NUL-terminated copy (may contain NULs: use len) */
    size_t len;
    int quoted;               /* not plain: single/double quoted, literal or folded */
    const char *tag;          /* full explicit tag ("tag:yaml.org,2002:str") or NULL */
    /* collections: a sequence has count items; a mapping has count pairs stored as
     * items[2i] (key) and items[2i+1] (value) */
    size_t count;
    xy_node **items;
};

typedef struct xy_doc xy_doc;

/* Parse `text` (len bytes; need not be NUL-terminated) as one YAML document. `file` names the
 * input in messages and is copied. On success *out owns the tree (its root is NULL for an empty
 * stream); free it with xy_doc_free. On failure *out is NULL and err holds XM_EMODEL (syntax:
 * "FILE:LINE:COLUMN: YAML syntax error: ...") or XM_ENOMEM. */
xm_status xy_parse(const char *text, size_t len, const char *file, xy_doc **out, xm_error *err)
    XM_MUST_CHECK;
void xy_doc_free(xy_doc *doc);
xy_node *xy_doc_root(const xy_doc *doc);
const char *xy_doc_file(const xy_doc *doc);

/* ---- key paths: a chain of stack frames, root first ("market.assets[1].vol") ---- */

typedef struct xy_path xy_path;
struct xy_path {
    const xy_path *up;        /* NULL at the top level */
    const char *key;          /* mapping key, or NULL for a sequence index */
    size_t index;
};
#define XY_KEY(parent, k) ((xy_path){.up = (parent), .key = (k), .index = 0})
#define XY_INDEX(parent, i) ((xy_path){.up = (parent), .key = NULL, .index = (i)})

/* Write the path ("" for the top level) into buf; returns buf. Control characters in keys are
 * escaped so that a message stays one line. */
char *xy_path_format(const xy_path *path, char *buf, size_t size);

/* ---- messages ---- */

typedef struct {
    const char *file;         /* name used in messages */
    xm_error *err;
} xy_ctx;

/* Set XM_EMODEL with "FILE:LINE:COLUMN: PATH: <fmt...>" (", PATH" left out when empty) and
 * return XM_EMODEL. `at` NULL means 1:1. */
xm_status xy_fail(const xy_ctx *c, const xy_node *at, const xy_path *path, const char *fmt, ...)
    XM_PRINTF(4, 5);

/* "FILE:LINE:COLUMN: PATH" for `at` (1:1 if NULL): the prefix other modules put in front of
 * their own messages (xm_market_prepare's `where`). */
char *xy_where(const xy_ctx *c, const xy_node *at, const xy_path *path, char *buf, size_t size);

/* How a value reads in a message: "a mapping", "a sequence", "null", "an empty value", plain
 * numbers and booleans as written (-0.5, true), strings in single quotes ('abc'), quoted
 * numbers as '20000' (quoted, so a string). Escaped to one line and cut at 60 characters. */
char *xy_describe(const xy_node *n, char *buf, size_t size);

/* ---- scalar types ---- */

typedef enum { XY_T_NULL, XY_T_BOOL, XY_T_INT, XY_T_FLOAT, XY_T_STRING, XY_T_COLLECTION } xy_type;
xy_type xy_type_of(const xy_node *n);

/* ---- collections ---- */

/* A mapping key allowed only in a later version: its key is rejected with the message
 * "`KEY` is not supported yet by this version of xmrisk (REASON)". */
typedef struct {
    const char *key;
    const char *reason;
} xy_reserved;

/* Check that n is a mapping whose keys are non-null scalar strings without duplicates, each in
 * `allowed` (NULL-terminated list; NULL allows any key) unless listed in `reserved` (array
 * ending with a {NULL, NULL} entry, or NULL). `what` describes the mapping in a type error
 * ("a mapping", "a mapping of symbol to impact"). The first problem in file order is
 * reported. */
xm_status xy_check_mapping(const xy_ctx *c, const xy_node *n, const xy_path *path,
                           const char *what, const char *const *allowed,
                           const xy_reserved *reserved) XM_MUST_CHECK;

/* Check that n is a sequence; `what` describes it ("a sequence of assets"). */
xm_status xy_check_sequence(const xy_ctx *c, const xy_node *n, const xy_path *path,
                            const char *what) XM_MUST_CHECK;

/* Value (or key node) of `key` in a checked mapping, NULL if absent. */
xy_node *xy_map_get(const xy_node *map, const char *key);
xy_node *xy_map_key_node(const xy_node *map, const char *key);

/* Value of a required key, or XM_EMODEL "PATH: missing required key 'KEY'" at the mapping. */
xm_status xy_require(const xy_ctx *c, const xy_node *map, const xy_path *path, const char *key,
                     xy_node **out) XM_MUST_CHECK;

/* ---- typed values ---- */

/* Allowed range of a number; the "expected ..." text is written from it. */
typedef struct {
    double lo, hi;            /* -INFINITY / INFINITY for no bound */
    unsigned flags;
} xy_range;
#define XY_LO_OPEN 1u         /* value > lo (default >= lo) */
#define XY_HI_OPEN 2u         /* value < hi (default <= hi) */
#define XY_ALLOW_INF 4u       /* +infinity (.inf) is accepted too */

/* "a number > 0", "a number in [-1, 1]", "a finite number", "a number > 0 or .inf". */
char *xy_range_text(const xy_range *r, char *buf, size_t size);

/* A number (integer or float syntax) within r; NaN and infinities fail unless allowed. */
xm_status xy_number(const xy_ctx *c, const xy_node *n, const xy_path *path, const xy_range *r,
                    double *out) XM_MUST_CHECK;

/* An integer in [lo, hi] written as an integer (full uint64 range). */
xm_status xy_uint(const xy_ctx *c, const xy_node *n, const xy_path *path, uint64_t lo,
                  uint64_t hi, uint64_t *out) XM_MUST_CHECK;

/* A non-empty string of at most max_len bytes (0: no limit), without NUL characters. Points
 * into the tree (valid while the document lives). */
xm_status xy_string(const xy_ctx *c, const xy_node *n, const xy_path *path, size_t max_len,
                    const char **out) XM_MUST_CHECK;

/* One of `names` (NULL-terminated); *out is its index. */
xm_status xy_enum(const xy_ctx *c, const xy_node *n, const xy_path *path,
                  const char *const *names, int *out) XM_MUST_CHECK;

/* The same, looking the key up in a checked mapping: absent keys leave *out untouched (the
 * caller stores the default there first) unless `required`. The path passed is the mapping's;
 * messages name PATH.KEY. */
xm_status xy_get_number(const xy_ctx *c, const xy_node *map, const xy_path *path,
                        const char *key, int required, const xy_range *r, double *out)
    XM_MUST_CHECK;
xm_status xy_get_uint(const xy_ctx *c, const xy_node *map, const xy_path *path, const char *key,
                      int required, uint64_t lo, uint64_t hi, uint64_t *out) XM_MUST_CHECK;
xm_status xy_get_string(const xy_ctx *c, const xy_node *map, const xy_path *path,
                        const char *key, int required, size_t max_len, const char **out)
    XM_MUST_CHECK;
xm_status xy_get_enum(const xy_ctx *c, const xy_node *map, const xy_path *path, const char *key,
                      int required, const char *const *names, int *out) XM_MUST_CHECK;

#endif /* XM_YAML_TREE_H */
