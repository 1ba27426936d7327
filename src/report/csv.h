/* CSV as RFC 4180 writes it: a field with a comma, a quote or a line break is quoted, quotes
 * doubled; numbers are written so that they read back to the same double. And a reader of the
 * same, for rebuilding reports from metrics.csv. */
#ifndef CG_REPORT_CSV_H
#define CG_REPORT_CSV_H

#include <stdio.h>

#include "clgraph/status.h"

void cg_csv_field(FILE *f, const char *s);

/* The shortest of %.15g, %.16g, %.17g that reads back exactly; nan, inf and -inf as such. */
void cg_csv_number(FILE *f, double v);
void cg_csv_format_number(char *out, size_t cap, double v);

/* Reads a whole CSV file: *rows rows of *cols[r] fields each; fields[r][c] are NUL-terminated.
 * Free with cg_csv_free. A quote left open is an error naming the file and line. */
typedef struct cg_csv {
    int n_rows;
    int *n_fields;
    char ***fields;
} cg_csv;

cg_status cg_csv_read(const char *path, cg_csv *out);
void cg_csv_free(cg_csv *c);

#endif
