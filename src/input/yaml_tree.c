/* yaml_tree.c — YAML tree with positions over libfyaml's event parser, and typed getters that
 * report "FILE:LINE:COLUMN: KEY.PATH: expected WHAT, got VALUE" (see yaml_tree.h). */
#include "input/yaml_tree.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>

#include "core/grow.h"

/* ------------------------------------------------------------------------------------------ */
/* arena                                                                                       */

typedef struct xy_block {
    struct xy_block *next;
    size_t used, cap;
    max_align_t data[]; /* cap bytes */
} xy_block;

struct xy_doc {
    xy_block *blocks;
    xy_node *root;
    char *file;
};

#define XY_BLOCK_SIZE 16384u

static void *arena_alloc(xy_doc *d, size_t size)
{
    const size_t a = _Alignof(max_align_t);
    if (size > SIZE_MAX / 2)
        return NULL;
    size = size == 0 ? a : (size + a - 1) / a * a;
    xy_block *b = d->blocks;
    if (b == NULL || b->cap - b->used < size) {
        size_t cap = size > XY_BLOCK_SIZE ? size : XY_BLOCK_SIZE;
        b = malloc(sizeof *b + cap);
        if (b == NULL)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = d->blocks;
        d->blocks = b;
    }
    void *p = (unsigned char *)b->data + b->used;
    b->used += size;
    return p;
}

static char *arena_strndup(xy_doc *d, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *p = arena_alloc(d, len + 1);
    if (p == NULL)
        return NULL;
    if (len > 0)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void xy_doc_free(xy_doc *doc)
{
    if (doc == NULL)
        return;
    xy_block *b = doc->blocks;
    while (b != NULL) {
        xy_block *next = b->next;
        free(b);
        b = next;
    }
    free(doc->file);
    free(doc);
}

xy_node *xy_doc_root(const xy_doc *doc) { return doc ? doc->root : NULL; }

const char *xy_doc_file(const xy_doc *doc) { return doc ? doc->file : NULL; }

/* ------------------------------------------------------------------------------------------ */
/* messages                                                                                    */

/* Append to buf[*pos..size), always NUL-terminated, silently cut. */
static void buf_put(char *buf, size_t size, size_t *pos, const char *s, size_t len)
{
    if (size == 0)
        return;
    while (len > 0 && *pos + 1 < size) {
        buf[(*pos)++] = *s++;
        len--;
    }
    buf[*pos < size ? *pos : size - 1] = '\0';
}

static void buf_puts(char *buf, size_t size, size_t *pos, const char *s)
{
    buf_put(buf, size, pos, s, strlen(s));
}

/* Escape control characters so a message stays one line; keep UTF-8 as is. Writes at most
 * `max` source bytes then "..." (never cutting a UTF-8 sequence); max 0 = no limit. */
static void buf_put_escaped(char *buf, size_t size, size_t *pos, const char *s, size_t len,
                            size_t max)
{
    size_t n = len;
    int cut = 0;
    if (max > 0 && len > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        cut = 1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char tmp[8];
        if (ch == '\n')
            buf_puts(buf, size, pos, "\\n");
        else if (ch == '\t')
            buf_puts(buf, size, pos, "\\t");
        else if (ch < 0x20 || ch == 0x7F) {
            snprintf(tmp, sizeof tmp, "\\x%02X", ch);
            buf_puts(buf, size, pos, tmp);
        } else
            buf_put(buf, size, pos, (const char *)&s[i], 1);
    }
    if (cut)
        buf_puts(buf, size, pos, "...");
}

static size_t path_append(const xy_path *p, char *buf, size_t size, size_t pos)
{
    if (p == NULL)
        return pos;
    pos = path_append(p->up, buf, size, pos);
    if (p->key != NULL) {
        if (pos > 0)
            buf_puts(buf, size, &pos, ".");
        buf_put_escaped(buf, size, &pos, p->key, strlen(p->key), 60);
    } else {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "[%zu]", p->index);
        buf_puts(buf, size, &pos, tmp);
    }
    return pos;
}

char *xy_path_format(const xy_path *path, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    buf[0] = '\0';
    path_append(path, buf, size, 0);
    return buf;
}

xm_status xy_fail(const xy_ctx *c, const xy_node *at, const xy_path *path, const char *fmt, ...)
{
    char pbuf[256];
    char msg[XM_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    xy_path_format(path, pbuf, sizeof pbuf);
    int line = at ? at->line : 1, col = at ? at->column : 1;
    if (pbuf[0] != '\0')
        return xm_error_set(c->err, XM_EMODEL, "%s:%d:%d: %s: %s", c->file, line, col, pbuf, msg);
    return xm_error_set(c->err, XM_EMODEL, "%s:%d:%d: %s", c->file, line, col, msg);
}

char *xy_where(const xy_ctx *c, const xy_node *at, const xy_path *path, char *buf, size_t size)
{
    char pbuf[256];
    xy_path_format(path, pbuf, sizeof pbuf);
    int line = at ? at->line : 1, col = at ? at->column : 1;
    if (pbuf[0] != '\0')
        snprintf(buf, size, "%s:%d:%d: %s", c->file, line, col, pbuf);
    else
        snprintf(buf, size, "%s:%d:%d", c->file, line, col);
    return buf;
}

/* ------------------------------------------------------------------------------------------ */
/* scalar syntax (YAML 1.2 core schema, see yaml_tree.h)                                       */

#define XY_CORE_TAG "tag:yaml.org,2002:"

static bool text_is(const char *t, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(t, lit, len) == 0;
}

static bool is_null_text(const char *t, size_t len)
{
    return len == 0 || text_is(t, len, "~") || text_is(t, len, "null") ||
           text_is(t, len, "Null") || text_is(t, len, "NULL");
}

static bool is_bool_text(const char *t, size_t len)
{
    static const char *const b[] = {"true", "True", "TRUE", "false", "False", "FALSE"};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
        if (text_is(t, len, b[i]))
            return true;
    return false;
}

static bool all_of(const char *t, size_t len, const char *set)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (t[i] == '\0' || strchr(set, t[i]) == NULL)
            return false;
    return true;
}

#define XY_DIGITS "0123456789"

static bool is_int_text(const char *t, size_t len)
{
    if (len > 2 && t[0] == '0' && t[1] == 'o')
        return all_of(t + 2, len - 2, "01234567");
    if (len > 2 && t[0] == '0' && t[1] == 'x')
        return all_of(t + 2, len - 2, XY_DIGITS "abcdefABCDEF");
    if (len > 0 && (t[0] == '-' || t[0] == '+'))
        t++, len--;
    return all_of(t, len, XY_DIGITS);
}

/* 1 infinity (sign in *neg), 2 NaN, 0 neither. */
static int special_float(const char *t, size_t len, int *neg)
{
    *neg = 0;
    static const char *const nan[] = {".nan", ".NaN", ".NAN", "nan", "NaN", "NAN"};
    for (size_t i = 0; i < sizeof nan / sizeof nan[0]; i++)
        if (text_is(t, len, nan[i]))
            return 2;
    if (len > 0 && (t[0] == '-' || t[0] == '+')) {
        *neg = t[0] == '-';
        t++, len--;
    }
    static const char *const inf[] = {".inf", ".Inf", ".INF", "inf", "Inf", "INF"};
    for (size_t i = 0; i < sizeof inf / sizeof inf[0]; i++)
        if (text_is(t, len, inf[i]))
            return 1;
    return 0;
}

static size_t count_digits(const char *t, size_t len)
{
    size_t i = 0;
    while (i < len && t[i] >= '0' && t[i] <= '9')
        i++;
    return i;
}

static bool is_float_text(const char *t, size_t len)
{
    int neg;
    if (special_float(t, len, &neg))
        return true;
    size_t i = 0;
    if (i < len && (t[i] == '-' || t[i] == '+'))
        i++;
    size_t before = count_digits(t + i, len - i);
    i += before;
    size_t after = 0;
    if (i < len && t[i] == '.') {
        i++;
        after = count_digits(t + i, len - i);
        i += after;
    }
    if (before == 0 && after == 0)
        return false;
    if (i < len && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        if (i < len && (t[i] == '-' || t[i] == '+'))
            i++;
        size_t exp = count_digits(t + i, len - i);
        if (exp == 0)
            return false;
        i += exp;
    }
    return i == len;
}

static xy_type plain_type(const char *t, size_t len)
{
    if (is_null_text(t, len))
        return XY_T_NULL;
    if (is_bool_text(t, len))
        return XY_T_BOOL;
    if (is_int_text(t, len))
        return XY_T_INT;
    if (is_float_text(t, len))
        return XY_T_FLOAT;
    return XY_T_STRING;
}

xy_type xy_type_of(const xy_node *n)
{
    if (n->kind != XY_SCALAR)
        return XY_T_COLLECTION;
    if (n->tag != NULL) {
        const size_t pl = strlen(XY_CORE_TAG);
        if (strncmp(n->tag, XY_CORE_TAG, pl) != 0)
            return XY_T_STRING;
        const char *s = n->tag + pl;
        if (strcmp(s, "null") == 0 && is_null_text(n->text, n->len))
            return XY_T_NULL;
        if (strcmp(s, "bool") == 0 && is_bool_text(n->text, n->len))
            return XY_T_BOOL;
        if (strcmp(s, "int") == 0 && is_int_text(n->text, n->len))
            return XY_T_INT;
        if (strcmp(s, "float") == 0 &&
            (is_int_text(n->text, n->len) || is_float_text(n->text, n->len)))
            return XY_T_FLOAT;
        return XY_T_STRING;
    }
    if (n->quoted)
        return XY_T_STRING;
    return plain_type(n->text, n->len);
}

/* "!!float " for a scalar with an explicit core tag (`steps: !!float 24` reads "!!float 24" in
 * a message, so that "expected an integer" says why 24 is not one). */
static void put_core_tag(char *buf, size_t size, size_t *pos, const xy_node *n)
{
    const size_t pl = strlen(XY_CORE_TAG);
    if (n->tag == NULL || strncmp(n->tag, XY_CORE_TAG, pl) != 0)
        return;
    buf_puts(buf, size, pos, "!!");
    buf_puts(buf, size, pos, n->tag + pl);
    buf_puts(buf, size, pos, " ");
}

char *xy_describe(const xy_node *n, char *buf, size_t size)
{
    size_t pos = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    switch (xy_type_of(n)) {
    case XY_T_COLLECTION:
        if (n->kind == XY_MAPPING)
            buf_puts(buf, size, &pos, n->count ? "a mapping" : "an empty mapping");
        else
            buf_puts(buf, size, &pos, n->count ? "a sequence" : "an empty sequence");
        break;
    case XY_T_NULL:
        if (n->len == 0)
            buf_puts(buf, size, &pos, "an empty value");
        else
            buf_put_escaped(buf, size, &pos, n->text, n->len, 60);
        break;
    case XY_T_BOOL:
    case XY_T_INT:
    case XY_T_FLOAT:
        put_core_tag(buf, size, &pos, n);
        buf_put_escaped(buf, size, &pos, n->text, n->len, 60);
        break;
    case XY_T_STRING:
        put_core_tag(buf, size, &pos, n);
        buf_puts(buf, size, &pos, "'");
        buf_put_escaped(buf, size, &pos, n->text, n->len, 60);
        buf_puts(buf, size, &pos, "'");
        {
            xy_type t = plain_type(n->text, n->len);
            if ((t == XY_T_INT || t == XY_T_FLOAT) && n->tag == NULL)
                buf_puts(buf, size, &pos, " (quoted: a string, not a number)");
        }
        break;
    }
    return buf;
}

/* ------------------------------------------------------------------------------------------ */
/* parsing                                                                                     */

typedef struct {
    xy_node *node;
    xy_node **items;
    size_t n, cap;
    const char *anchor; /* arena copy, or NULL */
    size_t anchor_len;
} xy_frame;

typedef struct {
    const char *name;
    size_t len;
    xy_node *node;
} xy_anchor;

typedef struct {
    xy_doc *doc;
    xy_ctx ctx;
    xy_frame *stack;
    size_t depth, stack_cap;
    xy_anchor *anchors;
    size_t n_anchors, anchors_cap;
    int documents;
    const char *text;   /* the input, for positions */
    size_t len;
} xy_builder;

static xm_status nomem(xm_error *err)
{
    return xm_error_set(err, XM_ENOMEM, "out of memory while reading the model");
}

static void diag_sink(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    (void)diag;
    (void)user;
    (void)buf;
    (void)len;
}

static void set_mark(xy_node *n, struct fy_event *e)
{
    const struct fy_mark *m = fy_event_start_mark(e);
    n->line = m ? m->line + 1 : 1;
    n->column = m ? m->column + 1 : 1;
}

static xy_node *new_node(xy_builder *b, xy_kind kind, struct fy_event *e)
{
    xy_node *n = arena_alloc(b->doc, sizeof *n);
    if (n == NULL)
        return NULL;
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->text = "";
    set_mark(n, e);
    return n;
}

static xm_status add_anchor(xy_builder *b, const char *name, size_t len, xy_node *node)
{
    if (xm_grow((void **)&b->anchors, &b->anchors_cap, b->n_anchors + 1, sizeof *b->anchors,
                16) != 0)
        return nomem(b->ctx.err);
    b->anchors[b->n_anchors++] = (xy_anchor){name, len, node};
    return XM_OK;
}

/* Place a finished node in the open collection, or make it the root. */
static xm_status add_node(xy_builder *b, xy_node *n)
{
    if (b->depth == 0) {
        b->doc->root = n;
        return XM_OK;
    }
    xy_frame *f = &b->stack[b->depth - 1];
    if (xm_grow((void **)&f->items, &f->cap, f->n + 1, sizeof *f->items, 8) != 0)
        return nomem(b->ctx.err);
    f->items[f->n++] = n;
    return XM_OK;
}

static const char *token_text(struct fy_token *t, size_t *len)
{
    *len = 0;
    if (t == NULL)
        return NULL;
    const char *s = fy_token_get_text(t, len);
    if (s == NULL)
        *len = 0;
    return s;
}

static xm_status open_collection(xy_builder *b, struct fy_event *e, xy_kind kind,
                                 struct fy_token *anchor, struct fy_token *tag)
{
    (void)tag; /* tags on collections carry no meaning in our schema */
    xy_node *n = new_node(b, kind, e);
    if (n == NULL)
        return nomem(b->ctx.err);
    if (xm_grow((void **)&b->stack, &b->stack_cap, b->depth + 1, sizeof *b->stack, 16) != 0)
        return nomem(b->ctx.err);
    xy_frame *f = &b->stack[b->depth++];
    memset(f, 0, sizeof *f);
    f->node = n;
    size_t alen;
    const char *a = token_text(anchor, &alen);
    if (a != NULL) {
        f->anchor = arena_strndup(b->doc, a, alen);
        if (f->anchor == NULL)
            return nomem(b->ctx.err);
        f->anchor_len = alen;
    }
    return XM_OK;
}

/* A YAML 1.1 merge key: `<<` plain and untagged, or tagged !!merge. */
static bool is_merge_key(const xy_node *k)
{
    if (k->kind != XY_SCALAR || !text_is(k->text, k->len, "<<"))
        return false;
    if (k->tag != NULL)
        return strcmp(k->tag, XY_CORE_TAG "merge") == 0;
    return !k->quoted;
}

static bool has_key(xy_node *const *items, size_t pairs, const xy_node *k)
{
    for (size_t i = 0; i < pairs; i++) {
        const xy_node *e = items[2 * i];
        if (e->kind == XY_SCALAR && e->len == k->len && memcmp(e->text, k->text, k->len) == 0)
            return true;
    }
    return false;
}

/* Append src's pairs whose keys out[0..2*(*pairs)) does not have yet. */
static xm_status merge_from(xy_builder *b, const xy_node *src, xy_node ***out, size_t *pairs,
                            size_t *cap)
{
    for (size_t i = 0; i < src->count; i++) {
        const xy_node *k = src->items[2 * i];
        if (k->kind == XY_SCALAR && has_key(*out, *pairs, k))
            continue;
        if (xm_grow((void **)out, cap, 2 * (*pairs + 1), sizeof **out, 16) != 0)
            return nomem(b->ctx.err);
        (*out)[2 * *pairs] = src->items[2 * i];
        (*out)[2 * *pairs + 1] = src->items[2 * i + 1];
        (*pairs)++;
    }
    return XM_OK;
}

/* The value of `<<`: a mapping, or a sequence of mappings (the earlier one wins). */
static xm_status merge_value(xy_builder *b, const xy_node *v, xy_node ***out, size_t *pairs,
                             size_t *cap)
{
    static const char what[] = "a mapping or a sequence of mappings to merge (YAML merge key <<)";
    char got[128];
    const xy_path mp = XY_KEY(NULL, "<<");
    if (v->kind == XY_MAPPING)
        return merge_from(b, v, out, pairs, cap);
    if (v->kind != XY_SEQUENCE)
        return xy_fail(&b->ctx, v, &mp, "expected %s, got %s", what, xy_describe(v, got, sizeof got));
    for (size_t i = 0; i < v->count; i++) {
        const xy_node *m = v->items[i];
        if (m->kind != XY_MAPPING)
            return xy_fail(&b->ctx, m, &mp, "expected %s, got a sequence holding %s", what,
                           xy_describe(m, got, sizeof got));
        xm_status s = merge_from(b, m, out, pairs, cap);
        if (s != XM_OK)
            return s;
    }
    return XM_OK;
}

/* YAML 1.1 merge keys (https://yaml.org/type/merge.html): the pairs of `<<`'s mapping(s) whose
 * keys the mapping does not give itself are added after its own pairs; explicit keys win. A
 * merged pair keeps its position, so a message about it points where it was written. */
static xm_status expand_merges(xy_builder *b, xy_frame *f)
{
    const xy_path mp = XY_KEY(NULL, "<<");
    const xy_node *key = NULL, *val = NULL;
    size_t own = 0;
    for (size_t i = 0; i + 1 < f->n; i += 2) {
        xy_node *k = f->items[i], *v = f->items[i + 1];
        if (!is_merge_key(k)) {
            f->items[2 * own] = k;
            f->items[2 * own + 1] = v;
            own++;
        } else if (key != NULL) {
            return xy_fail(&b->ctx, k, &mp, "duplicate key (first given at %d:%d)", key->line,
                           key->column);
        } else {
            key = k;
            val = v;
        }
    }
    if (key == NULL)
        return XM_OK;
    xm_status s = merge_value(b, val, &f->items, &own, &f->cap);
    f->n = 2 * own;
    return s;
}

static xm_status close_collection(xy_builder *b)
{
    if (b->depth == 0)
        return XM_OK; /* cannot happen with a well-formed event stream */
    xy_frame *f = &b->stack[b->depth - 1];
    xy_node *n = f->node;
    if (n->kind == XY_MAPPING) {
        xm_status s = expand_merges(b, f);
        if (s != XM_OK)
            return s;
    }
    if (f->n > 0) {
        if (f->n > SIZE_MAX / sizeof *n->items)
            return nomem(b->ctx.err);
        n->items = arena_alloc(b->doc, f->n * sizeof *n->items);
        if (n->items == NULL)
            return nomem(b->ctx.err);
        memcpy(n->items, f->items, f->n * sizeof *n->items);
    }
    n->count = n->kind == XY_MAPPING ? f->n / 2 : f->n;
    free(f->items);
    f->items = NULL;
    const char *anchor = f->anchor;
    size_t alen = f->anchor_len;
    b->depth--;
    if (anchor != NULL) {
        xm_status s = add_anchor(b, anchor, alen, n);
        if (s != XM_OK)
            return s;
    }
    return add_node(b, n);
}

static xm_status on_scalar(xy_builder *b, struct fy_event *e)
{
    xy_node *n = new_node(b, XY_SCALAR, e);
    if (n == NULL)
        return nomem(b->ctx.err);
    size_t len;
    const char *t = token_text(e->scalar.value, &len);
    n->text = arena_strndup(b->doc, t ? t : "", len);
    if (n->text == NULL)
        return nomem(b->ctx.err);
    n->len = len;
    enum fy_scalar_style st = e->scalar.value ? fy_token_scalar_style(e->scalar.value) : FYSS_PLAIN;
    n->quoted = st != FYSS_PLAIN && st != FYSS_ANY;
    /* libfyaml marks a quoted scalar at its first character: point at the opening quote. */
    if (st == FYSS_SINGLE_QUOTED || st == FYSS_DOUBLE_QUOTED) {
        const struct fy_mark *m = fy_event_start_mark(e);
        char q = st == FYSS_SINGLE_QUOTED ? '\'' : '"';
        if (m != NULL && m->input_pos > 0 && m->input_pos <= b->len &&
            b->text[m->input_pos - 1] == q && n->column > 1)
            n->column--;
    }
    size_t tlen;
    const char *tag = token_text(e->scalar.tag, &tlen);
    if (tag != NULL && tlen > 0) {
        n->tag = arena_strndup(b->doc, tag, tlen);
        if (n->tag == NULL)
            return nomem(b->ctx.err);
    }
    size_t alen;
    const char *a = token_text(e->scalar.anchor, &alen);
    if (a != NULL) {
        const char *name = arena_strndup(b->doc, a, alen);
        if (name == NULL)
            return nomem(b->ctx.err);
        xm_status s = add_anchor(b, name, alen, n);
        if (s != XM_OK)
            return s;
    }
    return add_node(b, n);
}

static xm_status on_alias(xy_builder *b, struct fy_event *e)
{
    size_t len;
    const char *name = token_text(e->alias.anchor, &len);
    for (size_t i = b->n_anchors; name != NULL && i-- > 0;)
        if (b->anchors[i].len == len && memcmp(b->anchors[i].name, name, len) == 0)
            return add_node(b, b->anchors[i].node);
    xy_node at = {0};
    set_mark(&at, e);
    char shown[128];
    size_t pos = 0;
    shown[0] = '\0';
    buf_put_escaped(shown, sizeof shown, &pos, name ? name : "", len, 60);
    return xy_fail(&b->ctx, &at, NULL,
                   "alias *%s refers to no anchor defined before it outside its own collection",
                   shown);
}

static xm_status on_event(xy_builder *b, struct fy_event *e)
{
    switch (e->type) {
    case FYET_DOCUMENT_START:
        if (++b->documents > 1) {
            xy_node at = {0};
            set_mark(&at, e);
            return xy_fail(&b->ctx, &at, NULL,
                           "expected one YAML document, found a second one (a model file holds "
                           "exactly one)");
        }
        return XM_OK;
    case FYET_MAPPING_START:
        return open_collection(b, e, XY_MAPPING, e->mapping_start.anchor, e->mapping_start.tag);
    case FYET_SEQUENCE_START:
        return open_collection(b, e, XY_SEQUENCE, e->sequence_start.anchor,
                               e->sequence_start.tag);
    case FYET_MAPPING_END:
    case FYET_SEQUENCE_END:
        return close_collection(b);
    case FYET_SCALAR:
        return on_scalar(b, e);
    case FYET_ALIAS:
        return on_alias(b, e);
    default:
        return XM_OK;
    }
}

static xm_status syntax_error(xy_builder *b, struct fy_diag *diag)
{
    void *it = NULL;
    struct fy_diag_error *de, *first = NULL;
    while ((de = fy_diag_errors_iterate(diag, &it)) != NULL) {
        if (de->type >= FYET_ERROR) {
            first = de;
            break;
        }
        if (first == NULL)
            first = de;
    }
    char msg[512];
    size_t pos = 0;
    msg[0] = '\0';
    const char *text = first && first->msg ? first->msg : "the parser stopped";
    size_t len = strlen(text);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
        len--;
    buf_put_escaped(msg, sizeof msg, &pos, text, len, 400);
    /* libfyaml's collected diagnostics carry 1-based line and column. */
    int line = first && first->line > 0 ? first->line : 1;
    int col = first && first->column > 0 ? first->column : 1;
    return xm_error_set(b->ctx.err, XM_EMODEL, "%s:%d:%d: YAML syntax error: %s", b->ctx.file,
                        line, col, msg);
}

/* Length of the UTF-8 sequence at s (at most n bytes), 0 if invalid (overlong, surrogate,
 * beyond U+10FFFF, truncated). */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min, cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, min = 0x80, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, min = 0x800, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* libfyaml 0.7 silently ends the stream at a NUL byte or at invalid UTF-8, which would turn
 * into misleading "missing key" messages: refuse such input first, with its position. */
static xm_status check_encoding(const char *file, const char *text, size_t len, xm_error *err)
{
    const unsigned char *s = (const unsigned char *)text;
    if ((len >= 2 && ((s[0] == 0xFF && s[1] == 0xFE) || (s[0] == 0xFE && s[1] == 0xFF))) ||
        (len >= 4 && s[0] == 0 && s[1] == 0 && s[2] == 0xFE && s[3] == 0xFF))
        return xm_error_set(err, XM_EMODEL,
                            "%s:1:1: expected UTF-8 text, got a UTF-16 or UTF-32 byte-order mark",
                            file);
    int line = 1, col = 1;
    for (size_t i = 0; i < len;) {
        size_t n = s[i] == 0 ? 0 : utf8_sequence(s + i, len - i);
        if (n == 0) {
            if (s[i] == 0)
                return xm_error_set(err, XM_EMODEL,
                                    "%s:%d:%d: expected UTF-8 text, got a NUL byte", file, line,
                                    col);
            return xm_error_set(err, XM_EMODEL,
                                "%s:%d:%d: expected UTF-8 text, got the byte 0x%02X", file, line,
                                col, s[i]);
        }
        if (s[i] == '\n' || (s[i] == '\r' && (i + 1 == len || s[i + 1] != '\n')))
            line++, col = 1;
        else if (s[i] != '\r' && !(i == 0 && n == 3 && s[1] == 0xBB && s[2] == 0xBF)) /* BOM */
            col++;
        i += n;
    }
    return XM_OK;
}

/* libfyaml's diagnostics, collected rather than printed, and an event parser over text. */
static xm_status parser_create(const char *text, size_t len, struct fy_diag **diag,
                               struct fy_parser **fyp, xm_error *err)
{
    struct fy_diag_cfg dc;
    fy_diag_cfg_default(&dc);
    dc.fp = NULL;
    dc.output_fn = diag_sink;
    dc.user = NULL;
    dc.colorize = false;
    *diag = fy_diag_create(&dc);
    if (*diag == NULL)
        return nomem(err);
    fy_diag_set_collect_errors(*diag, true);

    struct fy_parse_cfg pc;
    memset(&pc, 0, sizeof pc);
    pc.flags = FYPCF_QUIET | FYPCF_JSON_NONE;
    pc.diag = *diag;
    *fyp = fy_parser_create(&pc);
    if (*fyp == NULL || fy_parser_set_string(*fyp, text, len) != 0)
        return nomem(err);
    return XM_OK;
}

/* Every event into the tree; a stream that ends in an error, or early, is a syntax error. */
static xm_status build_tree(xy_builder *b, struct fy_parser *fyp, struct fy_diag *diag)
{
    struct fy_event *e;
    while ((e = fy_parser_parse(fyp)) != NULL) {
        xm_status status = on_event(b, e);
        fy_parser_event_free(fyp, e);
        if (status != XM_OK)
            return status;
    }
    if (fy_parser_get_stream_error(fyp))
        return syntax_error(b, diag);
    if (b->depth != 0) /* an event stream that stopped early without saying why */
        return syntax_error(b, diag);
    return XM_OK;
}

/* The new document (its file name) and the input the builder reads. */
static xm_status builder_init(xy_builder *b, const char *text, size_t len, const char *file,
                              xm_error *err)
{
    memset(b, 0, sizeof *b);
    b->doc = calloc(1, sizeof *b->doc);
    if (b->doc == NULL)
        return nomem(err);
    b->doc->file = strdup(file ? file : "<string>");
    if (b->doc->file == NULL)
        return nomem(err);
    b->ctx.file = b->doc->file;
    b->ctx.err = err;
    b->text = text ? text : "";
    b->len = text ? len : 0;
    return XM_OK;
}

/* What the builder holds besides the document. */
static void builder_clear(xy_builder *b)
{
    for (size_t i = 0; i < b->depth; i++)
        free(b->stack[i].items);
    free(b->stack);
    free(b->anchors);
}

xm_status xy_parse(const char *text, size_t len, const char *file, xy_doc **out, xm_error *err)
{
    *out = NULL;
    xy_builder b;
    struct fy_diag *diag = NULL;
    struct fy_parser *fyp = NULL;
    xm_status status = builder_init(&b, text, len, file, err);
    if (status == XM_OK)
        status = check_encoding(b.doc->file, b.text, b.len, err);
    if (status == XM_OK)
        status = parser_create(b.text, b.len, &diag, &fyp, err);
    if (status == XM_OK)
        status = build_tree(&b, fyp, diag);
    builder_clear(&b);
    if (fyp != NULL)
        fy_parser_destroy(fyp);
    if (diag != NULL)
        fy_diag_destroy(diag);
    if (status != XM_OK) {
        xy_doc_free(b.doc);
        return status;
    }
    *out = b.doc;
    return XM_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* collections                                                                                 */

static bool key_matches(const xy_node *k, const char *key)
{
    return k->kind == XY_SCALAR && text_is(k->text, k->len, key);
}

xy_node *xy_map_key_node(const xy_node *map, const char *key)
{
    if (map == NULL || map->kind != XY_MAPPING)
        return NULL;
    for (size_t i = 0; i < map->count; i++)
        if (key_matches(map->items[2 * i], key))
            return map->items[2 * i];
    return NULL;
}

xy_node *xy_map_get(const xy_node *map, const char *key)
{
    if (map == NULL || map->kind != XY_MAPPING)
        return NULL;
    for (size_t i = 0; i < map->count; i++)
        if (key_matches(map->items[2 * i], key))
            return map->items[2 * i + 1];
    return NULL;
}

static void join_names(const char *const *names, const char *sep, char *buf, size_t size)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t i = 0; names[i] != NULL; i++) {
        if (i > 0)
            buf_puts(buf, size, &pos, sep);
        buf_puts(buf, size, &pos, names[i]);
    }
}

xm_status xy_check_mapping(const xy_ctx *c, const xy_node *n, const xy_path *path,
                           const char *what, const char *const *allowed,
                           const xy_reserved *reserved)
{
    char got[128];
    if (n->kind != XY_MAPPING)
        return xy_fail(c, n, path, "expected %s, got %s", what, xy_describe(n, got, sizeof got));
    for (size_t i = 0; i < n->count; i++) {
        const xy_node *k = n->items[2 * i];
        xy_type t = xy_type_of(k);
        if (k->kind != XY_SCALAR || t == XY_T_NULL || memchr(k->text, '\0', k->len) != NULL)
            return xy_fail(c, k, path, "expected a key (a non-empty string), got %s",
                           xy_describe(k, got, sizeof got));
        xy_path kp = XY_KEY(path, k->text);
        for (size_t j = 0; j < i; j++) {
            const xy_node *prev = n->items[2 * j];
            if (prev->len == k->len && memcmp(prev->text, k->text, k->len) == 0)
                return xy_fail(c, k, &kp, "duplicate key (first given at %d:%d)", prev->line,
                               prev->column);
        }
        if (allowed == NULL)
            continue;
        bool ok = false;
        for (size_t a = 0; allowed[a] != NULL && !ok; a++)
            ok = key_matches(k, allowed[a]);
        if (ok)
            continue;
        for (size_t r = 0; reserved != NULL && reserved[r].key != NULL; r++)
            if (key_matches(k, reserved[r].key))
                return xy_fail(c, k, &kp,
                               "`%s` is not supported yet by this version of xmrisk (%s)",
                               reserved[r].key, reserved[r].reason);
        char list[512];
        join_names(allowed, ", ", list, sizeof list);
        return xy_fail(c, k, &kp, "unknown key (expected one of: %s)", list);
    }
    return XM_OK;
}

xm_status xy_check_sequence(const xy_ctx *c, const xy_node *n, const xy_path *path,
                            const char *what)
{
    char got[128];
    if (n->kind != XY_SEQUENCE)
        return xy_fail(c, n, path, "expected %s, got %s", what, xy_describe(n, got, sizeof got));
    return XM_OK;
}

xm_status xy_require(const xy_ctx *c, const xy_node *map, const xy_path *path, const char *key,
                     xy_node **out)
{
    *out = xy_map_get(map, key);
    if (*out == NULL)
        return xy_fail(c, map, path, "missing required key '%s'", key);
    return XM_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* typed values                                                                                */

/* A bound as written in a message: %.15g, or %g when that is shorter and exact (1e+12, not
 * 1000000000000). */
static void fmt_bound(double v, char *buf, size_t size)
{
    char s[32];
    snprintf(buf, size, "%.15g", v);
    snprintf(s, sizeof s, "%g", v);
    if (strlen(s) < strlen(buf) && strtod(s, NULL) == v)
        snprintf(buf, size, "%s", s);
}

char *xy_range_text(const xy_range *r, char *buf, size_t size)
{
    char lo[40], hi[40];
    fmt_bound(r->lo, lo, sizeof lo);
    fmt_bound(r->hi, hi, sizeof hi);
    bool has_lo = isfinite(r->lo), has_hi = isfinite(r->hi);
    bool inf = (r->flags & XY_ALLOW_INF) != 0;
    const char *glo = (r->flags & XY_LO_OPEN) ? ">" : ">=";
    const char *ghi = (r->flags & XY_HI_OPEN) ? "<" : "<=";
    if (has_lo && has_hi)
        snprintf(buf, size, "a number in %c%s, %s%c", (r->flags & XY_LO_OPEN) ? '(' : '[', lo, hi,
                 (r->flags & XY_HI_OPEN) ? ')' : ']');
    else if (has_lo)
        snprintf(buf, size, "a number %s %s%s", glo, lo, inf ? " or .inf" : "");
    else if (has_hi)
        snprintf(buf, size, "a number %s %s", ghi, hi);
    else
        snprintf(buf, size, "%s", inf ? "a number (not .nan)" : "a finite number");
    return buf;
}

/* Value of a scalar of type XY_T_INT or XY_T_FLOAT. */
static double number_value(const xy_node *n)
{
    int neg;
    switch (special_float(n->text, n->len, &neg)) {
    case 1: return neg ? -INFINITY : INFINITY;
    case 2: return NAN;
    default: break;
    }
    if (n->len > 2 && n->text[0] == '0' && (n->text[1] == 'x' || n->text[1] == 'o')) {
        errno = 0;
        unsigned long long v = strtoull(n->text + 2, NULL, n->text[1] == 'x' ? 16 : 8);
        if (errno == ERANGE)
            return INFINITY;
        return (double)v;
    }
    return strtod(n->text, NULL); /* syntax already checked; overflow gives +-HUGE_VAL */
}

xm_status xy_number(const xy_ctx *c, const xy_node *n, const xy_path *path, const xy_range *r,
                    double *out)
{
    char what[96], got[128];
    xy_type t = xy_type_of(n);
    if (t != XY_T_INT && t != XY_T_FLOAT)
        return xy_fail(c, n, path, "expected %s, got %s", xy_range_text(r, what, sizeof what),
                       xy_describe(n, got, sizeof got));
    double v = number_value(n);
    bool ok = !isnan(v);
    if (ok && isinf(v))
        ok = v > 0 && (r->flags & XY_ALLOW_INF) && !isfinite(r->hi);
    if (ok && isfinite(v)) {
        if (isfinite(r->lo))
            ok = (r->flags & XY_LO_OPEN) ? v > r->lo : v >= r->lo;
        if (ok && isfinite(r->hi))
            ok = (r->flags & XY_HI_OPEN) ? v < r->hi : v <= r->hi;
    }
    if (!ok)
        return xy_fail(c, n, path, "expected %s, got %s", xy_range_text(r, what, sizeof what),
                       xy_describe(n, got, sizeof got));
    *out = v;
    return XM_OK;
}

xm_status xy_uint(const xy_ctx *c, const xy_node *n, const xy_path *path, uint64_t lo,
                  uint64_t hi, uint64_t *out)
{
    char what[96], got[128];
    if (hi == UINT64_MAX)
        snprintf(what, sizeof what, "an integer >= %llu", (unsigned long long)lo);
    else
        snprintf(what, sizeof what, "an integer in [%llu, %llu]", (unsigned long long)lo,
                 (unsigned long long)hi);
    if (xy_type_of(n) != XY_T_INT)
        return xy_fail(c, n, path, "expected %s, got %s", what, xy_describe(n, got, sizeof got));
    const char *t = n->text;
    int base = 10;
    bool neg = false;
    if (n->len > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'o')) {
        base = t[1] == 'x' ? 16 : 8;
        t += 2;
    } else if (t[0] == '-' || t[0] == '+') {
        neg = t[0] == '-';
        t++;
    }
    errno = 0;
    unsigned long long v = strtoull(t, NULL, base);
    if (errno == ERANGE || (unsigned long long)(uint64_t)v != v)
        return xy_fail(c, n, path, "expected %s, got %s (more than 2^64-1)", what,
                       xy_describe(n, got, sizeof got));
    if ((neg && v != 0) || v < lo || v > hi)
        return xy_fail(c, n, path, "expected %s, got %s", what, xy_describe(n, got, sizeof got));
    *out = (uint64_t)v;
    return XM_OK;
}

xm_status xy_string(const xy_ctx *c, const xy_node *n, const xy_path *path, size_t max_len,
                    const char **out)
{
    char what[96], got[128];
    if (max_len > 0)
        snprintf(what, sizeof what, "a non-empty string of at most %zu characters", max_len);
    else
        snprintf(what, sizeof what, "a non-empty string");
    xy_type t = xy_type_of(n);
    if (t == XY_T_BOOL || t == XY_T_INT || t == XY_T_FLOAT)
        return xy_fail(c, n, path, "expected %s, got %s (quote it to make it a string)", what,
                       xy_describe(n, got, sizeof got));
    if (t != XY_T_STRING || n->len == 0)
        return xy_fail(c, n, path, "expected %s, got %s", what, xy_describe(n, got, sizeof got));
    if (memchr(n->text, '\0', n->len) != NULL)
        return xy_fail(c, n, path, "expected %s without NUL characters, got %s", what,
                       xy_describe(n, got, sizeof got));
    if (max_len > 0 && n->len > max_len)
        return xy_fail(c, n, path, "expected %s, got %s (%zu characters)", what,
                       xy_describe(n, got, sizeof got), n->len);
    *out = n->text;
    return XM_OK;
}

xm_status xy_enum(const xy_ctx *c, const xy_node *n, const xy_path *path,
                  const char *const *names, int *out)
{
    if (xy_type_of(n) == XY_T_STRING)
        for (int i = 0; names[i] != NULL; i++)
            if (text_is(n->text, n->len, names[i])) {
                *out = i;
                return XM_OK;
            }
    char list[256], got[128];
    join_names(names, ", ", list, sizeof list);
    return xy_fail(c, n, path, "expected one of %s, got %s", list,
                   xy_describe(n, got, sizeof got));
}

/* Look `key` up; *node NULL (and XM_OK) when absent and optional. */
static xm_status lookup(const xy_ctx *c, const xy_node *map, const xy_path *path,
                        const char *key, int required, xy_node **node)
{
    if (required)
        return xy_require(c, map, path, key, node);
    *node = xy_map_get(map, key);
    return XM_OK;
}

xm_status xy_get_number(const xy_ctx *c, const xy_node *map, const xy_path *path,
                        const char *key, int required, const xy_range *r, double *out)
{
    xy_node *n;
    xm_status s = lookup(c, map, path, key, required, &n);
    if (s != XM_OK || n == NULL)
        return s;
    xy_path kp = XY_KEY(path, key);
    return xy_number(c, n, &kp, r, out);
}

xm_status xy_get_uint(const xy_ctx *c, const xy_node *map, const xy_path *path, const char *key,
                      int required, uint64_t lo, uint64_t hi, uint64_t *out)
{
    xy_node *n;
    xm_status s = lookup(c, map, path, key, required, &n);
    if (s != XM_OK || n == NULL)
        return s;
    xy_path kp = XY_KEY(path, key);
    return xy_uint(c, n, &kp, lo, hi, out);
}

xm_status xy_get_string(const xy_ctx *c, const xy_node *map, const xy_path *path,
                        const char *key, int required, size_t max_len, const char **out)
{
    xy_node *n;
    xm_status s = lookup(c, map, path, key, required, &n);
    if (s != XM_OK || n == NULL)
        return s;
    xy_path kp = XY_KEY(path, key);
    return xy_string(c, n, &kp, max_len, out);
}

xm_status xy_get_enum(const xy_ctx *c, const xy_node *map, const xy_path *path, const char *key,
                      int required, const char *const *names, int *out)
{
    xy_node *n;
    xm_status s = lookup(c, map, path, key, required, &n);
    if (s != XM_OK || n == NULL)
        return s;
    xy_path kp = XY_KEY(path, key);
    return xy_enum(c, n, &kp, names, out);
}
