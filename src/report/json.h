/* JSON for the whole project, on Debian's cJSON: documents are built as cJSON trees and written
 * here (strings escaped, NaN and infinities written as null, numbers that read back exactly), and
 * read back with errors that name the file, line and column. */
#ifndef CG_REPORT_JSON_H
#define CG_REPORT_JSON_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "clgraph/status.h"

/* The document as indented text (freed with free()), or NULL without memory. */
char *cg_json_text(const cJSON *doc);

/* Writes the document to a stream, or to a file under a temporary name and renamed into place,
 * so a reader never sees half a file. */
cg_status cg_json_write(const cJSON *doc, FILE *f);
cg_status cg_json_write_file(const cJSON *doc, const char *path);

/* Parses text (what names it in messages: a path); *out is freed with cJSON_Delete. */
cg_status cg_json_parse(const char *what, const char *text, size_t len, cJSON **out);
cg_status cg_json_read_file(const char *path, cJSON **out);

/* A number member, or fallback when it is missing or not a number (null gives NaN). */
double cg_json_number(const cJSON *obj, const char *key, double fallback);

/* A string member, or fallback. */
const char *cg_json_string(const cJSON *obj, const char *key, const char *fallback);

/* Adds a number, writing NaN and infinities as null. Returns the item, NULL without memory. */
cJSON *cg_json_add_number(cJSON *obj, const char *key, double v);

#endif
