/* The host parameter store (see params.h) and its .safetensors files: an 8-byte little-endian
 * header length, a JSON header mapping each tensor name to {"dtype", "shape", "data_offsets"}
 * (and "__metadata__" to strings), padded with spaces to a multiple of 8, then the raw data, so
 * safetensors.torch.load_file reads the files and load_state_dict takes them. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/params.h"
#include "report/json.h"

void cg_param_store_free(cg_param_store *s) {
    for (int i = 0; i < s->n; i++)
        free(s->tensors[i].data);
    s->n = 0;
}

cg_param_tensor *cg_param_store_find(cg_param_store *s, const char *name) {
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->tensors[i].name, name) == 0)
            return &s->tensors[i];
    return NULL;
}

/* The tensor of this name with this shape, created or reshaped as needed. */
static cg_param_tensor *slot_for(cg_param_store *s, const char *name, const cg_shape *shape) {
    cg_param_tensor *t = cg_param_store_find(s, name);
    if (!t) {
        if (s->n == CG_GRAPH_MAX_PARAMS) {
            cg__error(CG_ERR_INVALID_ARGUMENT, "more than %d parameter tensors", CG_GRAPH_MAX_PARAMS);
            return NULL;
        }
        t = &s->tensors[s->n++];
        memset(t, 0, sizeof *t);
        cg__copy_str(t->name, sizeof t->name, name);
    }
    if (!t->data || !cg_shape_equal(&t->shape, shape)) {
        float *d = realloc(t->data, (cg_shape_numel(shape) ? cg_shape_numel(shape) : 1) * sizeof *d);
        if (!d) {
            cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %s", name);
            return NULL;
        }
        t->data = d;
        t->shape = *shape;
    }
    return t;
}

/* A host copy of the graph's flat parameter buffer; the caller frees *out, also on failure. */
static cg_status read_host(cg_graph *g, float **out) {
    size_t n = cg_graph_param_buffer_floats(g);
    *out = malloc((n ? n : 1) * sizeof **out);
    if (!*out)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %zu parameters", n);
    return cg_graph_read_params(g, *out, false);
}

cg_status cg_param_store_take(cg_param_store *s, cg_graph *g) {
    float *host;
    cg_status st = read_host(g, &host);
    for (int i = 0; st == CG_OK && i < cg_graph_param_count(g); i++) {
        cg_param_info p = cg_graph_param_at(g, i);
        cg_param_tensor *t = slot_for(s, p.name, &p.shape);
        if (!t)
            st = CG_ERR_OUT_OF_MEMORY;
        else
            memcpy(t->data, host + p.offset, cg_shape_numel(&p.shape) * sizeof(float));
    }
    free(host);
    return st;
}

cg_status cg_param_store_give(const cg_param_store *s, cg_graph *g, bool require_all,
                              const char *source) {
    float *host;
    cg_status st = read_host(g, &host);
    for (int i = 0; st == CG_OK && i < cg_graph_param_count(g); i++) {
        cg_param_info p = cg_graph_param_at(g, i);
        const cg_param_tensor *t = cg_param_store_find((cg_param_store *)s, p.name);
        char want[64];
        cg_shape_str(&p.shape, want, sizeof want);
        if (!t) {
            if (require_all)
                st = cg__error(CG_ERR_NOT_FOUND, "%s has no tensor '%s' (shape %s); the model and "
                                                 "the file do not match",
                               source, p.name, want);
            continue;
        }
        if (!cg_shape_equal(&t->shape, &p.shape)) {
            char have[64];
            cg_shape_str(&t->shape, have, sizeof have);
            st = cg__error(CG_ERR_SHAPE, "%s: tensor '%s' has shape %s but the model needs %s",
                           source, p.name, have, want);
            break;
        }
        memcpy(host + p.offset, t->data, cg_shape_numel(&p.shape) * sizeof(float));
    }
    if (st == CG_OK)
        st = cg_graph_write_params(g, host);
    free(host);
    return st;
}

cg_status cg_param_store_save(const cg_param_store *s, const char *path, const char *const *meta,
                              int n_meta) {
    /* The header: metadata strings, then each tensor's dtype, shape and byte range. */
    cJSON *h = cJSON_CreateObject();
    cJSON *m = h && n_meta > 0 ? cJSON_AddObjectToObject(h, "__metadata__") : NULL;
    for (int i = 0; m && i + 1 < n_meta; i += 2)
        cJSON_AddStringToObject(m, meta[i], meta[i + 1]);
    size_t at = 0;
    for (int i = 0; h && i < s->n; i++) {
        const cg_param_tensor *t = &s->tensors[i];
        size_t bytes = cg_shape_numel(&t->shape) * 4;
        cJSON *e = cJSON_AddObjectToObject(h, t->name);
        cJSON *dtype = e ? cJSON_AddStringToObject(e, "dtype", "F32") : NULL;
        cJSON *shape = dtype ? cJSON_AddArrayToObject(e, "shape") : NULL;
        cJSON *off = shape ? cJSON_AddArrayToObject(e, "data_offsets") : NULL;
        if (!off)
            break;
        for (int d = 0; d < t->shape.ndim; d++)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber(t->shape.d[d]));
        cJSON_AddItemToArray(off, cJSON_CreateNumber((double)at));
        cJSON_AddItemToArray(off, cJSON_CreateNumber((double)(at + bytes)));
        at += bytes;
    }
    char *text = h ? cJSON_PrintUnformatted(h) : NULL;
    cJSON_Delete(h);
    if (!text)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for the safetensors header");
    /* Padded with spaces so the data starts on a multiple of 8. */
    size_t header_len = strlen(text), padded = (header_len + 7) / 8 * 8;
    /* Written beside the file and renamed over it: a reader (or a resumed run) never sees
     * half a file. */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%.4000s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        free(text);
        return cg__error(CG_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    }
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    bool ok = fwrite(len, 1, 8, f) == 8 && fwrite(text, 1, header_len, f) == header_len;
    for (size_t i = header_len; ok && i < padded; i++)
        ok = fputc(' ', f) != EOF;
    for (int i = 0; ok && i < s->n; i++) {
        size_t count = cg_shape_numel(&s->tensors[i].shape);
        ok = fwrite(s->tensors[i].data, sizeof(float), count, f) == count; /* little-endian */
    }
    ok = fclose(f) == 0 && ok;
    free(text);
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return cg__error(CG_ERR_IO, "writing %s failed (is the disk full?)", path);
    }
    return CG_OK;
}

/* One tensor entry of the header: its shape and byte range, checked against the body. */
static cg_status read_entry(const char *path, const cJSON *e, size_t body_len, cg_shape *shape,
                            size_t *b0, size_t *b1) {
    const char *name = e->string;
    const char *dtype = cg_json_string(e, "dtype", NULL);
    if (!cJSON_IsObject(e))
        return cg__error(CG_ERR_PARSE, "%s: entry '%s' is not a tensor", path, name);
    if (!dtype || strcmp(dtype, "F32") != 0)
        return cg__error(CG_ERR_PARSE, "%s: tensor '%s' is %s, not float32 (F32); convert it "
                                       "first",
                         path, name, dtype ? dtype : "of no dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    bool ok = cJSON_IsArray(sh) && cJSON_GetArraySize(sh) <= CG_MAX_DIMS && cJSON_IsArray(off) &&
              cJSON_GetArraySize(off) == 2;
    shape->ndim = ok ? cJSON_GetArraySize(sh) : 0;
    for (int d = 0; ok && d < shape->ndim; d++) {
        const cJSON *v = cJSON_GetArrayItem(sh, d);
        ok = cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 1 << 30 &&
             v->valuedouble == (int)v->valuedouble;
        shape->d[d] = ok ? (int)v->valuedouble : 0;
    }
    for (int k = 0; ok && k < 2; k++) {
        const cJSON *v = cJSON_GetArrayItem(off, k);
        ok = cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= (double)body_len;
        *(k ? b1 : b0) = ok ? (size_t)v->valuedouble : 0;
    }
    if (!ok || *b1 < *b0 || *b1 - *b0 != cg_shape_numel(shape) * 4)
        return cg__error(CG_ERR_PARSE, "%s: tensor '%s' has a bad shape or data offsets (file "
                                       "truncated?)",
                         path, name);
    return CG_OK;
}

cg_status cg_param_store_load(cg_param_store *s, const char *path) {
    return cg_param_store_load_meta(s, path, NULL);
}

cg_status cg_param_store_load_meta(cg_param_store *s, const char *path, char **meta) {
    if (meta)
        *meta = NULL;
    char *data;
    size_t size;
    cg_status st = cg__read_file(path, &data, &size);
    if (st != CG_OK)
        return st;
    uint64_t hlen = 0;
    for (int i = 0; size >= 8 && i < 8; i++)
        hlen |= (uint64_t)(unsigned char)data[i] << (8 * i);
    if (size < 9 || hlen > size - 8 || hlen > (1u << 26) || data[8] != '{') {
        free(data);
        return cg__error(CG_ERR_PARSE, "%s: not a safetensors file (the header is wrong)", path);
    }
    cJSON *h = NULL;
    st = cg_json_parse(path, data + 8, (size_t)hlen, &h);
    if (st == CG_OK && !cJSON_IsObject(h))
        st = cg__error(CG_ERR_PARSE, "%s: the header is not a JSON object", path);
    const char *body = data + 8 + hlen;
    size_t body_len = size - 8 - hlen;
    for (const cJSON *e = h ? h->child : NULL; st == CG_OK && e; e = e->next) {
        for (const cJSON *o = h->child; o != e && st == CG_OK; o = o->next)
            if (!strcmp(o->string, e->string))
                st = cg__error(CG_ERR_PARSE, "%s: the header names '%.100s' twice", path,
                               e->string);
        if (st != CG_OK)
            break;
        if (strcmp(e->string, "__metadata__") == 0) {
            if (meta && !(*meta = cJSON_PrintUnformatted(e)))
                st = cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %s's metadata", path);
            continue;
        }
        cg_shape shape = {0, {0, 0, 0, 0}};
        size_t b0 = 0, b1 = 0;
        st = read_entry(path, e, body_len, &shape, &b0, &b1);
        cg_param_tensor *t = st == CG_OK ? slot_for(s, e->string, &shape) : NULL;
        if (st == CG_OK && !t)
            st = CG_ERR_OUT_OF_MEMORY;
        if (st == CG_OK)
            memcpy(t->data, body + b0, b1 - b0);
    }
    cJSON_Delete(h);
    free(data);
    if (st != CG_OK && meta) {
        free(*meta);
        *meta = NULL;
    }
    return st;
}
