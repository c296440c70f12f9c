/* numparse.h — internal: the one strict decimal-number parser of the input readers (the
 * accounts/positions CSV files, the price history files); not installed.
 *
 * Exact fast path (Clinger 1990, "How to read floating point numbers accurately": an integer
 * mantissa <= 2^53 times or over an exact power of ten <= 1e22 is correctly rounded), strtod
 * for the rest (the syntax is checked first, so strtod reads exactly the bytes checked).
 */
#ifndef XM_INPUT_NUMPARSE_H
#define XM_INPUT_NUMPARSE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

static const double xm_pow10_exact_[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                        1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                        1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The digits of [+-]digits[.digits] from s[*i] on: the first 17 significant ones in *mant
 * (*exact = 0 when there are more), *exp10 lowered by the fraction digits kept, *digits all
 * digits seen. */
static inline void xm_parse_mantissa_(const char *s, size_t len, size_t *i, uint64_t *mant,
                                      long *exp10, size_t *digits, int *exact)
{
    for (; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++, (*digits)++) {
        if (*mant < UINT64_C(100000000000000000))
            *mant = *mant * 10 + (uint64_t)(s[*i] - '0');
        else
            *exact = 0;
    }
    if (*i < len && s[*i] == '.') {
        for ((*i)++; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++, (*digits)++) {
            if (*mant < UINT64_C(100000000000000000)) {
                *mant = *mant * 10 + (uint64_t)(s[*i] - '0');
                (*exp10)--;
            } else {
                *exact = 0;
            }
        }
    }
}

/* An exponent (e|E)[+-]digits from s[*i] on, if there is one, added to *exp10 (saturated
 * beyond 99999). -1 when the 'e' has no digits. */
static inline int xm_parse_exponent_(const char *s, size_t len, size_t *i, long *exp10)
{
    if (*i >= len || (s[*i] != 'e' && s[*i] != 'E'))
        return 0;
    (*i)++;
    int eneg = 0;
    if (*i < len && (s[*i] == '+' || s[*i] == '-')) {
        eneg = s[*i] == '-';
        (*i)++;
    }
    if (*i >= len || s[*i] < '0' || s[*i] > '9')
        return -1;
    long e = 0;
    for (; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++)
        if (e < 100000)
            e = e * 10 + (s[*i] - '0');
    *exp10 += eneg ? -e : e;
    return 0;
}

/* A decimal number [+-]digits[.digits][(e|E)[+-]digits] (also ".5" and "5."; no inf, nan or
 * hex); s is NUL-terminated at s[len]. Returns 0 and the value (possibly +-inf on overflow), or
 * -1 for anything else. */
static inline int xm_parse_number(const char *s, size_t len, double *out)
{
    size_t i = 0, digits = 0;
    int neg = 0, exact = 1;
    if (i < len && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    uint64_t mant = 0;
    long exp10 = 0;
    xm_parse_mantissa_(s, len, &i, &mant, &exp10, &digits, &exact);
    if (digits == 0 || xm_parse_exponent_(s, len, &i, &exp10) != 0 || i != len)
        return -1;
    if (exact && mant <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
        double d = (double)mant;
        d = exp10 < 0 ? d / xm_pow10_exact_[-exp10] : d * xm_pow10_exact_[exp10];
        *out = neg ? -d : d;
        return 0;
    }
    char *end;
    *out = strtod(s, &end); /* the syntax is checked: strtod reads exactly these len bytes */
    return end == s + len ? 0 : -1;
}

#endif /* XM_INPUT_NUMPARSE_H */
