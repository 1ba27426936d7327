/* CSV writing and reading (see csv.h). */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "report/csv.h"

void cg_csv_field(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void cg_csv_format_number(char *out, size_t cap, double v) {
    if (isnan(v)) {
        snprintf(out, cap, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(out, cap, v > 0 ? "inf" : "-inf");
        return;
    }
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(out, cap, "%.*g", digits, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

void cg_csv_number(FILE *f, double v) {
    char buf[40];
    cg_csv_format_number(buf, sizeof buf, v);
    fputs(buf, f);
}

void cg_csv_free(cg_csv *c) {
    for (int r = 0; r < c->n_rows; r++) {
        for (int k = 0; k < c->n_fields[r]; k++)
            free(c->fields[r][k]);
        free(c->fields[r]);
    }
    free(c->fields);
    free(c->n_fields);
    memset(c, 0, sizeof *c);
}

/* Appends one field to the last row. */
static bool push_field(cg_csv *c, const char *text, size_t len) {
    int r = c->n_rows - 1;
    char **row = realloc(c->fields[r], (size_t)(c->n_fields[r] + 1) * sizeof *row);
    if (!row)
        return false;
    c->fields[r] = row;
    if (!(row[c->n_fields[r]] = strndup(text, len)))
        return false;
    c->n_fields[r]++;
    return true;
}

static bool push_row(cg_csv *c) {
    int *nf = realloc(c->n_fields, (size_t)(c->n_rows + 1) * sizeof *nf);
    if (nf)
        c->n_fields = nf;
    char ***f = nf ? realloc(c->fields, (size_t)(c->n_rows + 1) * sizeof *f) : NULL;
    if (!f)
        return false;
    c->fields = f;
    c->fields[c->n_rows] = NULL;
    c->n_fields[c->n_rows++] = 0;
    return true;
}

cg_status cg_csv_read(const char *path, cg_csv *out) {
    memset(out, 0, sizeof *out);
    char *text;
    size_t size;
    cg_status st = cg__read_file(path, &text, &size);
    if (st != CG_OK)
        return st;
    char *field = malloc(size + 1);
    size_t len = 0, i = 0;
    int line = 1;
    bool ok = field != NULL;
    while (ok && i < size) {
        if (!push_row(out)) {
            ok = false;
            break;
        }
        int start = line;
        for (;;) { /* one field per pass */
            len = 0;
            if (i < size && text[i] == '"') {
                i++;
                for (;;) {
                    if (i >= size) {
                        free(field);
                        free(text);
                        cg_csv_free(out);
                        return cg__error(CG_ERR_PARSE, "%s:%d: a quoted field is never closed",
                                         path, start);
                    }
                    if (text[i] == '"' && i + 1 < size && text[i + 1] == '"') {
                        field[len++] = '"';
                        i += 2;
                    } else if (text[i] == '"') {
                        i++;
                        break;
                    } else {
                        line += text[i] == '\n';
                        field[len++] = text[i++];
                    }
                }
            }
            while (i < size && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
                field[len++] = text[i++];
            if (!(ok = push_field(out, field, len)))
                break;
            if (i < size && text[i] == ',') {
                i++;
                continue;
            }
            if (i < size && text[i] == '\r')
                i++;
            if (i < size && text[i] == '\n') {
                i++;
                line++;
            }
            break;
        }
    }
    free(field);
    free(text);
    if (!ok) {
        cg_csv_free(out);
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory to read %s", path);
    }
    return CG_OK;
}
