/* The host parameter store (see params.h) and its .safetensors files: an 8-byte little-endian
 * header length, a JSON header mapping each tensor name to {"dtype", "shape", "data_offsets"}
 * (and "__metadata__" to strings), padded with spaces to a multiple of 8, then the raw data, so
 * safetensors.torch.load_file reads the files and load_state_dict takes them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/params.h"

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

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if ((unsigned char)*s >= 0x20)
            fputc(*s, f);
    }
    fputc('"', f);
}

cg_status cg_param_store_save(const cg_param_store *s, const char *path, const char *const *meta,
                              int n_meta) {
    /* The header goes to memory first: its length comes before it in the file. */
    char *header = NULL;
    size_t header_len = 0;
    FILE *h = open_memstream(&header, &header_len);
    if (!h)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for the safetensors header");
    fputc('{', h);
    if (n_meta > 0) {
        fputs("\"__metadata__\":{", h);
        for (int i = 0; i + 1 < n_meta; i += 2) {
            json_str(h, meta[i]);
            fputc(':', h);
            json_str(h, meta[i + 1]);
            if (i + 3 < n_meta)
                fputc(',', h);
        }
        fputs("},", h);
    }
    size_t at = 0;
    for (int i = 0; i < s->n; i++) {
        const cg_param_tensor *t = &s->tensors[i];
        size_t bytes = cg_shape_numel(&t->shape) * 4;
        json_str(h, t->name);
        fputs(":{\"dtype\":\"F32\",\"shape\":[", h);
        for (int d = 0; d < t->shape.ndim; d++)
            fprintf(h, "%s%d", d ? "," : "", t->shape.d[d]);
        fprintf(h, "],\"data_offsets\":[%zu,%zu]}%s", at, at + bytes, i + 1 < s->n ? "," : "");
        at += bytes;
    }
    fputc('}', h);
    while ((ftell(h) % 8) != 0)
        fputc(' ', h);
    fclose(h);
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(header);
        return cg__error(CG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    }
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)((uint64_t)header_len >> (8 * i));
    bool ok = fwrite(len, 1, 8, f) == 8 && fwrite(header, 1, header_len, f) == header_len;
    for (int i = 0; ok && i < s->n; i++) {
        size_t count = cg_shape_numel(&s->tensors[i].shape);
        ok = fwrite(s->tensors[i].data, sizeof(float), count, f) == count; /* little-endian */
    }
    ok = fclose(f) == 0 && ok;
    free(header);
    if (!ok)
        return cg__error(CG_ERR_IO, "writing %s failed (is the disk full?)", path);
    return CG_OK;
}

/* ---- reading: a small scanner for the header's JSON ---- */

static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

/* Reads a JSON string at p into out; returns the character after it, or NULL. */
static const char *read_str(const char *p, char *out, size_t cap) {
    if (*p != '"')
        return NULL;
    size_t n = 0;
    for (p++; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1])
            p++;
        if (n + 1 < cap)
            out[n++] = *p;
    }
    out[n] = '\0';
    return *p == '"' ? p + 1 : NULL;
}

/* Skips a JSON value (object, array, string, number, literal). */
static const char *skip_value(const char *p) {
    p = skip_ws(p);
    if (*p == '"') {
        char tmp[8];
        return read_str(p, tmp, sizeof tmp);
    }
    if (*p == '{' || *p == '[') {
        int depth = 0;
        for (; *p; p++) {
            if (*p == '"') {
                char tmp[8];
                p = read_str(p, tmp, sizeof tmp);
                if (!p)
                    return NULL;
                p--;
            } else if (*p == '{' || *p == '[') {
                depth++;
            } else if (*p == '}' || *p == ']') {
                if (--depth == 0)
                    return p + 1;
            }
        }
        return NULL;
    }
    while (*p && *p != ',' && *p != '}' && *p != ']')
        p++;
    return p;
}

cg_status cg_param_store_load(cg_param_store *s, const char *path) {
    char *data;
    size_t size;
    cg_status st = cg__read_file(path, &data, &size);
    if (st != CG_OK)
        return st;
    uint64_t hlen = 0;
    for (int i = 0; size >= 8 && i < 8; i++)
        hlen |= (uint64_t)(unsigned char)data[i] << (8 * i);
    if (size < 8 || hlen > size - 8 || hlen > (1u << 26) || data[8] != '{') {
        free(data);
        return cg__error(CG_ERR_PARSE, "%s: not a safetensors file (the header is wrong)", path);
    }
    char *header = strndup(data + 8, (size_t)hlen);
    const char *body = data + 8 + hlen;
    size_t body_len = size - 8 - hlen;
    const char *p = header ? skip_ws(header + 1) : NULL;
    if (!p)
        st = cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %s", path);
    while (st == CG_OK && *p && *p != '}') {
        char name[128], key[32], dtype[16] = "";
        p = read_str(p, name, sizeof name);
        p = p ? skip_ws(p) : NULL;
        if (!p || *p != ':') {
            st = cg__error(CG_ERR_PARSE, "%s: the header is not valid JSON", path);
            break;
        }
        p = skip_ws(p + 1);
        if (strcmp(name, "__metadata__") == 0) {
            p = skip_value(p);
        } else if (*p == '{') {
            cg_shape shape = {0, {0, 0, 0, 0}};
            unsigned long long b0 = 0, b1 = 0;
            bool have_off = false;
            p = skip_ws(p + 1);
            while (p && *p && *p != '}') {
                p = read_str(p, key, sizeof key);
                p = p ? skip_ws(p) : NULL;
                if (!p || *p != ':')
                    break;
                p = skip_ws(p + 1);
                if (strcmp(key, "dtype") == 0) {
                    p = read_str(p, dtype, sizeof dtype);
                } else if (strcmp(key, "shape") == 0 && *p == '[') {
                    p = skip_ws(p + 1);
                    while (*p && *p != ']') {
                        long v = strtol(p, (char **)&p, 10);
                        if (shape.ndim < CG_MAX_DIMS)
                            shape.d[shape.ndim] = (int)v;
                        shape.ndim++;
                        p = skip_ws(p);
                        if (*p == ',')
                            p = skip_ws(p + 1);
                    }
                    p = *p ? p + 1 : NULL;
                } else if (strcmp(key, "data_offsets") == 0) {
                    have_off = sscanf(p, "[%llu , %llu]", &b0, &b1) == 2;
                    p = skip_value(p);
                } else {
                    p = skip_value(p);
                }
                p = p ? skip_ws(p) : NULL;
                if (p && *p == ',')
                    p = skip_ws(p + 1);
            }
            if (!p || *p != '}') {
                st = cg__error(CG_ERR_PARSE, "%s: the entry of '%s' is not valid JSON", path, name);
                break;
            }
            p++;
            if (strcmp(dtype, "F32") != 0) {
                st = cg__error(CG_ERR_PARSE, "%s: tensor '%s' is %s, not float32 (F32); convert "
                                             "it first",
                               path, name, dtype[0] ? dtype : "of no dtype");
                break;
            }
            if (shape.ndim > CG_MAX_DIMS || !have_off || b1 < b0 || b1 > body_len ||
                b1 - b0 != cg_shape_numel(&shape) * 4) {
                st = cg__error(CG_ERR_PARSE, "%s: tensor '%s' has a bad shape or data offsets "
                                             "(file truncated?)",
                               path, name);
                break;
            }
            cg_param_tensor *t = slot_for(s, name, &shape);
            if (!t) {
                st = CG_ERR_OUT_OF_MEMORY;
                break;
            }
            memcpy(t->data, body + b0, (size_t)(b1 - b0));
        } else {
            st = cg__error(CG_ERR_PARSE, "%s: entry '%s' is not a tensor", path, name);
            break;
        }
        p = p ? skip_ws(p) : NULL;
        if (p && *p == ',')
            p = skip_ws(p + 1);
        if (!p)
            st = cg__error(CG_ERR_PARSE, "%s: the header is not valid JSON", path);
    }
    free(header);
    free(data);
    return st;
}
