/* Saving and loading a graph's parameters as .safetensors: an 8-byte little-endian header
 * length, a JSON header mapping each tensor name to {"dtype", "shape", "data_offsets"} (and
 * "__metadata__" to strings), padded with spaces to a multiple of 8, then the raw data. The
 * names are PyTorch's ("lenet.conv1.weight") and the layouts too, so
 * safetensors.torch.load_file reads the result and load_state_dict takes it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "graph/safetensors.h"

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

cg_status cg_safetensors_save(cg_graph *g, const char *path, const char *const *meta,
                              int n_meta) {
    size_t n = cg_graph_param_buffer_floats(g);
    float *host = malloc((n ? n : 1) * sizeof *host);
    if (!host)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory to save %zu parameters", n);
    cg_status st = cg_graph_read_params(g, host, false);
    if (st != CG_OK) {
        free(host);
        return st;
    }
    /* The header goes to memory first: its length comes before it in the file. */
    char *header = NULL;
    size_t header_len = 0;
    FILE *h = open_memstream(&header, &header_len);
    if (!h) {
        free(host);
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for the safetensors header");
    }
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
    for (int s = 0; s < cg_graph_param_count(g); s++) {
        cg_param_info p = cg_graph_param_at(g, s);
        size_t bytes = cg_shape_numel(&p.shape) * 4;
        json_str(h, p.name);
        fputs(":{\"dtype\":\"F32\",\"shape\":[", h);
        for (int d = 0; d < p.shape.ndim; d++)
            fprintf(h, "%s%d", d ? "," : "", p.shape.d[d]);
        fprintf(h, "],\"data_offsets\":[%zu,%zu]}%s", at, at + bytes,
                s + 1 < cg_graph_param_count(g) ? "," : "");
        at += bytes;
    }
    fputc('}', h);
    while ((ftell(h) % 8) != 0)
        fputc(' ', h);
    fclose(h);
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(header);
        free(host);
        return cg__error(CG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    }
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)((uint64_t)header_len >> (8 * i));
    bool ok = fwrite(len, 1, 8, f) == 8 && fwrite(header, 1, header_len, f) == header_len;
    for (int s = 0; ok && s < cg_graph_param_count(g); s++) {
        cg_param_info p = cg_graph_param_at(g, s);
        size_t count = cg_shape_numel(&p.shape);
        ok = fwrite(host + p.offset, sizeof(float), count, f) == count; /* little-endian hosts */
    }
    ok = fclose(f) == 0 && ok;
    free(header);
    free(host);
    if (!ok)
        return cg__error(CG_ERR_IO, "writing %s failed (is the disk full?)", path);
    return CG_OK;
}

/* A minimal reader for the header: finds "name":{...} and reads dtype, shape and offsets. */
static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

/* Finds the entry of a tensor name in the header; NULL when absent. */
static const char *find_entry(const char *header, const char *name) {
    size_t n = strlen(name);
    for (const char *p = strchr(header, '"'); p; p = strchr(p + 1, '"')) {
        if (strncmp(p + 1, name, n) == 0 && p[n + 1] == '"') {
            const char *q = skip_ws(p + n + 2);
            if (*q == ':')
                return skip_ws(q + 1);
        }
        /* Step over the string so its closing quote is not taken as an opening one. */
        const char *end = p + 1;
        while (*end && *end != '"')
            end += *end == '\\' ? 2 : 1;
        if (!*end)
            break;
        p = end;
    }
    return NULL;
}

cg_status cg_safetensors_load(cg_graph *g, const char *path) {
    char *data;
    size_t size;
    cg_status st = cg__read_file(path, &data, &size);
    if (st != CG_OK)
        return st;
    uint64_t hlen = 0;
    for (int i = 0; size >= 8 && i < 8; i++)
        hlen |= (uint64_t)(unsigned char)data[i] << (8 * i);
    if (size < 8 || hlen > size - 8 || hlen > (1u << 26)) {
        free(data);
        return cg__error(CG_ERR_PARSE, "%s: not a safetensors file (the header length is wrong)",
                         path);
    }
    char *header = malloc(hlen + 1);
    if (!header) {
        free(data);
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %s", path);
    }
    memcpy(header, data + 8, hlen);
    header[hlen] = '\0';
    const char *body = data + 8 + hlen;
    size_t body_len = size - 8 - hlen;
    size_t n = cg_graph_param_buffer_floats(g);
    float *host = malloc((n ? n : 1) * sizeof *host);
    if (host)
        st = cg_graph_read_params(g, host, false);
    else
        st = cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %zu parameters", n);
    for (int s = 0; st == CG_OK && s < cg_graph_param_count(g); s++) {
        cg_param_info p = cg_graph_param_at(g, s);
        const char *e = find_entry(header, p.name);
        char want[64];
        cg_shape_str(&p.shape, want, sizeof want);
        if (!e) {
            st = cg__error(CG_ERR_NOT_FOUND, "%s has no tensor '%s' (shape %s); the model and "
                                             "the file do not match",
                           path, p.name, want);
            break;
        }
        const char *dt = strstr(e, "\"dtype\""), *sh = strstr(e, "\"shape\"");
        const char *off = strstr(e, "\"data_offsets\""), *close = strchr(e, '}');
        if (!dt || !sh || !off || !close || dt > close || sh > close || off > close) {
            st = cg__error(CG_ERR_PARSE, "%s: the entry of '%s' is incomplete", path, p.name);
            break;
        }
        if (!strstr(dt, "\"F32\"") || strstr(dt, "\"F32\"") > close) {
            st = cg__error(CG_ERR_PARSE, "%s: tensor '%s' is not float32 (F32); convert it first",
                           path, p.name);
            break;
        }
        cg_shape got = {0, {0, 0, 0, 0}};
        const char *q = strchr(sh, '[');
        for (q = q ? q + 1 : close; *q && *q != ']' && got.ndim <= CG_MAX_DIMS;) {
            q = skip_ws(q);
            if (*q == ']')
                break;
            long v = strtol(q, (char **)&q, 10);
            if (got.ndim < CG_MAX_DIMS)
                got.d[got.ndim] = (int)v;
            got.ndim++;
            q = skip_ws(q);
            if (*q == ',')
                q++;
        }
        if (!cg_shape_equal(&got, &p.shape)) {
            char have[64];
            cg_shape_str(&got, have, sizeof have);
            st = cg__error(CG_ERR_SHAPE, "%s: tensor '%s' has shape %s but the model needs %s",
                           path, p.name, have, want);
            break;
        }
        q = strchr(off, '[');
        unsigned long long b0 = 0, b1 = 0;
        if (!q || sscanf(q, "[%llu , %llu]", &b0, &b1) != 2 || b1 < b0 || b1 > body_len ||
            b1 - b0 != cg_shape_numel(&p.shape) * 4) {
            st = cg__error(CG_ERR_PARSE, "%s: tensor '%s' has bad data offsets (file truncated?)",
                           path, p.name);
            break;
        }
        memcpy(host + p.offset, body + b0, (size_t)(b1 - b0));
    }
    if (st == CG_OK)
        st = cg_graph_write_params(g, host);
    free(host);
    free(header);
    free(data);
    return st;
}
