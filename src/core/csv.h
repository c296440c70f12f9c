/* core/csv.h — the CSV field writer of every result table (accounts.csv, paths.csv, the
 * liqprice table; docs/interface.md). Numbers follow the one policy of core/json.h: 17
 * significant digits, an empty field when not finite. Not installed, not public. */
#ifndef XM_CORE_CSV_H
#define XM_CORE_CSV_H

#include <stdio.h>

/* A text field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
void xm_csv_text(FILE *fp, const char *s);

/* A comma, then the number field: %.17g, empty when x is not finite. */
void xm_csv_num(FILE *fp, double x);

#endif /* XM_CORE_CSV_H */
