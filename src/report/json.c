/* JSON writing and reading on cJSON (see json.h). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "report/json.h"

char *cg_json_text(const cJSON *doc) {
    return cJSON_Print(doc); /* cJSON writes NaN and infinities as null */
}

cg_status cg_json_write(const cJSON *doc, FILE *f) {
    char *text = cg_json_text(doc);
    if (!text)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory to write JSON");
    bool ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    free(text);
    return ok ? CG_OK : cg__error(CG_ERR_IO, "writing JSON failed: %s", strerror(errno));
}

cg_status cg_json_write_file(const cJSON *doc, const char *path) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return cg__error(CG_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    cg_status st = cg_json_write(doc, f);
    if (fclose(f) != 0 && st == CG_OK)
        st = cg__error(CG_ERR_IO, "writing %s failed (is the disk full?)", tmp);
    if (st == CG_OK && rename(tmp, path) != 0)
        st = cg__error(CG_ERR_IO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    if (st != CG_OK)
        remove(tmp);
    return st;
}

cg_status cg_json_parse(const char *what, const char *text, size_t len, cJSON **out) {
    const char *end = NULL;
    *out = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (*out)
        return CG_OK;
    if (!end || end < text || end > text + len)
        return cg__error(CG_ERR_PARSE, "%s: not valid JSON (or no memory to read it)", what);
    int line = 1, col = 1;
    for (const char *p = text; p < end; p++) {
        if (*p == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    return cg__error(CG_ERR_PARSE, "%s:%d:%d: not valid JSON here", what, line, col);
}

cg_status cg_json_read_file(const char *path, cJSON **out) {
    char *text;
    size_t size;
    *out = NULL;
    cg_status st = cg__read_file(path, &text, &size);
    if (st != CG_OK)
        return st;
    st = cg_json_parse(path, text, size, out);
    free(text);
    return st;
}

double cg_json_number(const cJSON *obj, const char *key, double fallback) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    return cJSON_IsNull(v) ? NAN : fallback;
}

const char *cg_json_string(const cJSON *obj, const char *key, const char *fallback) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : fallback;
}

cJSON *cg_json_add_number(cJSON *obj, const char *key, double v) {
    if (isfinite(v))
        return cJSON_AddNumberToObject(obj, key, v);
    return cJSON_AddNullToObject(obj, key);
}
