/* core/le.h — the one little-endian codec of the binary formats (part files, mergeable
 * statistics): u32, u64, i64 (two's complement) and f64 (IEEE-754 bits) at a byte address,
 * a writing cursor, and a reading cursor bounded by its buffer. Not installed, not public. */
#ifndef XM_CORE_LE_H
#define XM_CORE_LE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t xm_f64_bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline double xm_bits_f64(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static inline void xm_le_put_u32(unsigned char *b, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        b[k] = (unsigned char)(v >> (8 * k));
}

static inline void xm_le_put_u64(unsigned char *b, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        b[k] = (unsigned char)(v >> (8 * k));
}

static inline uint32_t xm_le_get_u32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline uint64_t xm_le_get_u64(const unsigned char *b)
{
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = (v << 8) | b[k];
    return v;
}

/* ---- writing cursor: the caller sized p for everything written ---- */

typedef struct {
    unsigned char *p;
    size_t off;
} xm_le_writer;

static inline void xm_le_write_u32(xm_le_writer *w, uint32_t v)
{
    xm_le_put_u32(w->p + w->off, v);
    w->off += 4;
}

static inline void xm_le_write_u64(xm_le_writer *w, uint64_t v)
{
    xm_le_put_u64(w->p + w->off, v);
    w->off += 8;
}

static inline void xm_le_write_i64(xm_le_writer *w, int64_t v)
{
    xm_le_write_u64(w, (uint64_t)v);
}

static inline void xm_le_write_f64(xm_le_writer *w, double x)
{
    xm_le_write_u64(w, xm_f64_bits(x));
}

static inline void xm_le_write_bytes(xm_le_writer *w, const void *s, size_t n)
{
    memcpy(w->p + w->off, s, n);
    w->off += n;
}

/* ---- reading cursor: n bytes at p; reading past the end sets bad and gives zeros ---- */

typedef struct {
    const unsigned char *p;
    size_t n, off;
    int bad;                     /* read past the end, or found malformed by the caller */
} xm_le_reader;

/* 1 when k more bytes can be read; else 0 and bad set. */
static inline int xm_le_need(xm_le_reader *r, size_t k)
{
    if (r->bad || r->n - r->off < k) {
        r->bad = 1;
        return 0;
    }
    return 1;
}

/* The next k bytes, the cursor past them; NULL (and bad set) when fewer are left. */
static inline const unsigned char *xm_le_take(xm_le_reader *r, size_t k)
{
    if (!xm_le_need(r, k))
        return NULL;
    r->off += k;
    return r->p + r->off - k;
}

static inline uint32_t xm_le_read_u32(xm_le_reader *r)
{
    const unsigned char *b = xm_le_take(r, 4);
    return b ? xm_le_get_u32(b) : 0;
}

static inline uint64_t xm_le_read_u64(xm_le_reader *r)
{
    const unsigned char *b = xm_le_take(r, 8);
    return b ? xm_le_get_u64(b) : 0;
}

static inline int64_t xm_le_read_i64(xm_le_reader *r)
{
    return (int64_t)xm_le_read_u64(r);
}

static inline double xm_le_read_f64(xm_le_reader *r)
{
    return xm_bits_f64(xm_le_read_u64(r));
}

#endif /* XM_CORE_LE_H */
