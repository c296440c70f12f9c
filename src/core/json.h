/* core/json.h — the JSON writer of every result file, and the one number policy of every
 * result file (JSON and CSV, core/csv.h). Not installed, not public.
 *
 * Numbers: 17 significant digits (%.17g), which strtod reads back to the same double, so
 * equal files mean equal results; a non-finite value (never expected: docs/model.md §7) is
 * null in JSON and an empty field in CSV.
 */
#ifndef XM_CORE_JSON_H
#define XM_CORE_JSON_H

#include <stdio.h>

#define XM_NUM_FORMAT "%.17g"  /* the policy's format for a finite double */
#define XM_NUM_MAX 32          /* room for any double written by xm_num_text, and its NUL */

/* x as text under the number policy into buf, `nonfinite` ("null", "") when x is NaN or
 * infinite. Returns buf. */
const char *xm_num_text(char buf[XM_NUM_MAX], double x, const char *nonfinite);

/* x under the number policy to fp (`nonfinite` when x is NaN or infinite). */
void xm_num_write(FILE *fp, double x, const char *nonfinite);

/* A JSON string literal: quotes and backslashes escaped, control characters as \u00XX, every
 * other byte (UTF-8 included) as is. */
void xm_json_string(FILE *fp, const char *s);

/* A JSON number (the policy above): 17 significant digits, null when not finite. */
void xm_json_num(FILE *fp, double x);

/* `"key": ` (the key escaped as a string). */
void xm_json_key(FILE *fp, const char *key);

/* `"key": x` then the text `after` (a separator, closing brackets). */
void xm_json_key_num(FILE *fp, const char *key, double x, const char *after);

/* `[lo, hi]`: an interval. */
void xm_json_pair(FILE *fp, double lo, double hi);

/* `"key": [lo, hi]` then the text `after`. */
void xm_json_key_pair(FILE *fp, const char *key, double lo, double hi, const char *after);

#endif /* XM_CORE_JSON_H */
