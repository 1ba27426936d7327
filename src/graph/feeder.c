/* The feeder (see feeder.h). */
#include <stdlib.h>
#include <string.h>

#include "graph/feeder.h"

struct cg_feeder {
    cg_context *ctx;
    const cg_split *split;
    cl_mem arrays[CG_MAX_ARRAYS];
    cg_graph *graph;
    int feeds[CG_MAX_ARRAYS]; /* the graph input each array fills, -1 none */
    cl_mem index;
    int index_len;
    int identity_batch; /* the index holds every sample in order padded to this batch; 0: not */
};

cg_status cg_feeder_create(cg_context *ctx, const cg_split *split, cg_feeder **out) {
    *out = NULL;
    cg_feeder *f = calloc(1, sizeof *f);
    if (!f)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for a feeder");
    f->ctx = ctx;
    f->split = split;
    cg_status st = CG_OK;
    for (int i = 0; st == CG_OK && i < split->n_arrays; i++) {
        size_t bytes = cg_shape_numel(&split->arrays[i].shape) * 4;
        st = cg__buffer_create(ctx, bytes ? bytes : 4, &f->arrays[i]);
        if (st == CG_OK && bytes)
            st = cg__buffer_write(ctx, f->arrays[i], split->arrays[i].data, bytes);
        f->feeds[i] = -1;
    }
    if (st != CG_OK) {
        cg_feeder_destroy(f);
        return cg__error_prefix(st, "uploading split '%s'", split->name);
    }
    *out = f;
    return CG_OK;
}

void cg_feeder_destroy(cg_feeder *f) {
    if (!f)
        return;
    for (int i = 0; i < CG_MAX_ARRAYS; i++)
        cg__buffer_release(f->arrays[i]);
    cg__buffer_release(f->index);
    free(f);
}

const cg_split *cg_feeder_split(const cg_feeder *f) {
    return f->split;
}

cg_status cg_feeder_bind(cg_feeder *f, cg_graph *g) {
    const cg_split *s = f->split;
    for (int i = 0; i < s->n_arrays; i++) {
        int v = cg_graph_find_input(g, s->arrays[i].name);
        f->feeds[i] = v >= 0 && cg_graph_value_used(g, v) ? v : -1;
        if (v < 0)
            continue;
        cg_shape want = cg_graph_value_shape(g, v), have = s->arrays[i].shape;
        have.d[0] = want.d[0];
        if (!cg_shape_equal(&want, &have)) {
            char a[64], b[64];
            cg_shape_str(&want, a, sizeof a);
            cg_shape_str(&s->arrays[i].shape, b, sizeof b);
            return cg__error(CG_ERR_SHAPE, "split '%s': array '%s' is %s, but the model's input "
                                           "of that name takes %s per batch",
                             s->name, s->arrays[i].name, b, a);
        }
    }
    f->graph = g;
    f->identity_batch = 0;
    return CG_OK;
}

cg_status cg_feeder_order(cg_feeder *f, const int *index, int n) {
    int batch = f->graph ? cg_graph_batch(f->graph) : 1, count = cg_split_count(f->split);
    int len = index ? n : (count + batch - 1) / batch * batch;
    if (!index && f->identity_batch == batch)
        return CG_OK; /* every evaluation reads the split in order: upload that once */
    int *pad = NULL;
    if (!index) {
        if (!(pad = malloc((size_t)(len > 0 ? len : 1) * sizeof *pad)))
            return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %d indices", len);
        for (int i = 0; i < len; i++)
            pad[i] = i < count ? i : count - 1;
        index = pad;
    }
    cg_status st = CG_OK;
    if (f->index_len < len) {
        cg__buffer_release(f->index);
        f->index = NULL;
        f->index_len = 0;
        st = cg__buffer_create(f->ctx, (size_t)len * sizeof *index, &f->index);
        if (st == CG_OK)
            f->index_len = len;
    }
    if (st == CG_OK && len > 0)
        st = cg__buffer_write(f->ctx, f->index, index, (size_t)len * sizeof *index);
    f->identity_batch = st == CG_OK && pad ? batch : 0;
    free(pad);
    return st;
}

cg_status cg_feeder_gather(cg_feeder *f, int off) {
    if (!f->graph)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "a feeder gathers once bound to a graph");
    int batch = cg_graph_batch(f->graph);
    if (off < 0 || off + batch > f->index_len)
        return cg__error(CG_ERR_INVALID_ARGUMENT,
                         "samples %d to %d of split '%s': the order has %d", off, off + batch,
                         f->split->name, f->index_len);
    for (int k = 0; k < f->split->n_arrays; k++) {
        if (f->feeds[k] < 0)
            continue;
        const cg_array *a = &f->split->arrays[k];
        size_t row = cg_shape_numel(&a->shape) / (size_t)a->shape.d[0];
        cl_mem dst = cg_graph_value_mem(f->graph, f->feeds[k]);
        const cg__karg args[] = {CG_KMEM(dst),  CG_KMEM(f->arrays[k]), CG_KMEM(f->index),
                                 CG_KU32(off),  CG_KU32(row),          CG_KU32(batch)};
        cg_status st = cg__kernel_run1d(f->ctx, "core.cl", "gather_rows", row * (size_t)batch, 0,
                                        args, 6);
        if (st != CG_OK)
            return st;
    }
    return CG_OK;
}

/* Device memory for collected rows before a read-back: large splits are read in chunks. */
#define COLLECT_CHUNK_BYTES ((size_t)64 << 20)

cg_status cg_feeder_collect(cg_feeder *f, const int *values, int n_values, float **out) {
    return cg_feeder_collect_first(f, values, n_values, 0, out);
}

cg_status cg_feeder_collect_first(cg_feeder *f, const int *values, int n_values, int first,
                                  float **out) {
    cg_graph *g = f->graph;
    if (!g)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "a feeder collects once bound to a graph");
    int n = cg_split_count(f->split), batch = cg_graph_batch(g);
    if (first > 0 && first < n)
        n = first;
    size_t rows[64], per_sample = 0;
    if (n_values > 64)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "at most 64 values are collected at once");
    for (int k = 0; k < n_values; k++) {
        out[k] = NULL;
        cg_shape s = cg_graph_value_shape(g, values[k]);
        if (s.ndim < 1 || s.d[0] != batch)
            return cg__error(CG_ERR_SHAPE, "value %d has no row per sample", values[k]);
        rows[k] = cg_shape_numel(&s) / (size_t)batch;
        per_sample += rows[k];
    }
    /* Samples per chunk: whole batches whose rows fit the chunk buffer. */
    size_t chunk = COLLECT_CHUNK_BYTES / (per_sample * 4 + 1) / (size_t)batch * (size_t)batch;
    if (chunk < (size_t)batch)
        chunk = (size_t)batch;
    if (chunk > (size_t)n)
        chunk = ((size_t)n + (size_t)batch - 1) / (size_t)batch * (size_t)batch;
    cl_mem dev[64] = {NULL};
    /* An evaluation graph runs only what these values, the losses and the metrics need. */
    bool part = cg_graph_run_only(g, values, n_values) == CG_OK;
    cg_status st = cg_feeder_order(f, NULL, 0);
    for (int k = 0; st == CG_OK && k < n_values; k++) {
        out[k] = malloc((size_t)(n > 0 ? n : 1) * rows[k] * sizeof(float));
        st = out[k] ? cg__buffer_create(f->ctx, chunk * rows[k] * 4, &dev[k])
                    : cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %d rows", n);
    }
    for (int start = 0; st == CG_OK && start < n; start += (int)chunk) {
        int end = start + (int)chunk < n ? start + (int)chunk : n;
        for (int at = start; st == CG_OK && at < end; at += batch) {
            cg_graph_set_valid_rows(g, n - at < batch ? n - at : 0);
            st = cg_feeder_gather(f, at);
            if (st == CG_OK)
                st = cg_graph_forward(g, false);
            for (int k = 0; st == CG_OK && k < n_values; k++)
                st = cg__buffer_copy(f->ctx, dev[k], (size_t)(at - start) * rows[k] * 4,
                                     cg_graph_value_mem(g, values[k]), 0,
                                     (size_t)batch * rows[k] * 4);
        }
        for (int k = 0; st == CG_OK && k < n_values; k++)
            st = cg__buffer_read(f->ctx, dev[k], out[k] + (size_t)start * rows[k],
                                 (size_t)(end - start) * rows[k] * 4);
    }
    cg_graph_set_valid_rows(g, 0);
    if (part)
        cg_graph_run_all(g);
    for (int k = 0; k < n_values; k++)
        cg__buffer_release(dev[k]);
    if (st != CG_OK)
        for (int k = 0; k < n_values; k++) {
            free(out[k]);
            out[k] = NULL;
        }
    return st;
}

cg_status cg_feeder_evaluate(cg_feeder *f) {
    return cg_feeder_collect(f, NULL, 0, NULL);
}
