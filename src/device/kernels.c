/* The per-context kernel table and launch helpers. Kernels are created once per (file,
 * defines, name) and kept; launching sets the arguments and enqueues on the in-order queue
 * without waiting, so a training step never synchronises with the host. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/device_internal.h"

static uint64_t fnv1a(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static cg_status grow(cg_context *ctx) {
    size_t cap = ctx->kernel_cap ? 2 * ctx->kernel_cap : 64;
    cg__kernel_entry *table = calloc(cap, sizeof *table);
    if (!table)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for the kernel table");
    for (size_t i = 0; i < ctx->kernel_cap; i++) {
        cg__kernel_entry *e = &ctx->kernels[i];
        if (!e->kernel)
            continue;
        size_t j = e->hash & (cap - 1);
        while (table[j].kernel)
            j = (j + 1) & (cap - 1);
        table[j] = *e;
    }
    free(ctx->kernels);
    ctx->kernels = table;
    ctx->kernel_cap = cap;
    return CG_OK;
}

cg_status cg__kernel_get(cg_context *ctx, const char *file, const char *defines, const char *name,
                         cl_kernel *out, size_t *max_local) {
    char key[512];
    snprintf(key, sizeof key, "%s|%s|%s", file, defines ? defines : "", name);
    uint64_t h = fnv1a(key);
    if (ctx->kernel_cap) {
        for (size_t j = h & (ctx->kernel_cap - 1); ctx->kernels[j].kernel;
             j = (j + 1) & (ctx->kernel_cap - 1)) {
            cg__kernel_entry *e = &ctx->kernels[j];
            if (e->hash == h && strcmp(e->key, key) == 0) {
                *out = e->kernel;
                if (max_local)
                    *max_local = e->max_local;
                return CG_OK;
            }
        }
    }
    if (2 * (ctx->kernel_count + 1) > ctx->kernel_cap) {
        cg_status st = grow(ctx);
        if (st != CG_OK)
            return st;
    }
    cl_kernel k;
    cg_status st = cg__kernel_create(ctx, file, defines, name, &k);
    if (st != CG_OK)
        return st;
    size_t wg = 0;
    if (clGetKernelWorkGroupInfo(k, ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg, &wg,
                                 NULL) != CL_SUCCESS ||
        wg == 0)
        wg = ctx->info.max_work_group_size;
    char *copy = strdup(key);
    if (!copy) {
        clReleaseKernel(k);
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for the kernel table");
    }
    size_t j = h & (ctx->kernel_cap - 1);
    while (ctx->kernels[j].kernel)
        j = (j + 1) & (ctx->kernel_cap - 1);
    ctx->kernels[j] = (cg__kernel_entry){h, copy, k, wg};
    ctx->kernel_count++;
    *out = k;
    if (max_local)
        *max_local = wg;
    return CG_OK;
}

static cg_status set_args(cl_kernel k, const char *name, const cg__karg *args, size_t nargs) {
    for (size_t i = 0; i < nargs; i++) {
        cl_int err = clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].value);
        if (err != CL_SUCCESS) {
            char what[160];
            snprintf(what, sizeof what, "setting argument %zu of kernel %s", i, name);
            return cg__cl_fail(err, what);
        }
    }
    return CG_OK;
}

/* Sets the arguments and enqueues: the one place a launch reaches the queue. Inside a replay
 * region (replay.c) a launch that matches the recording is held back instead, and one that
 * runs is recorded. args NULL: the caller set the arguments. */
static cg_status submit(cg_context *ctx, cl_kernel k, const char *name, cl_uint dims,
                        const size_t *global, const size_t *local, size_t items,
                        const cg__karg *args, size_t nargs) {
    bool held = false;
    cg_status st = ctx->replay ? cg__replay_launch(ctx, k, dims, global, local, args, nargs, &held)
                               : CG_OK;
    if (st != CG_OK || held)
        return st;
    if (args && (st = set_args(k, name, args, nargs)) != CG_OK)
        return st;
    cl_int err = clEnqueueNDRangeKernel(ctx->queue, k, dims, NULL, global, local, 0, NULL,
                                        cg__profile_event(ctx, name, items, args, nargs));
    if (err != CL_SUCCESS) {
        char what[160];
        snprintf(what, sizeof what, "launching kernel %s", name);
        return cg__cl_fail(err, what);
    }
    if (ctx->replay)
        cg__replay_launched(ctx, k, dims, global, local, args, nargs);
    return CG_OK;
}

/* Enqueues a 1-D range of n items. The work-group size is `local` (0: the context's default),
 * never above what the kernel allows, and halved for small launches so that a group is no larger
 * than the work; the global size is rounded up to it. */
static cg_status enqueue_1d(cg_context *ctx, cl_kernel k, const char *name, size_t n,
                            size_t local, size_t max_local, const cg__karg *args, size_t nargs) {
    if (local == 0)
        local = ctx->default_local;
    if (local > max_local)
        local = max_local;
    while (local > 32 && local / 2 >= n)
        local /= 2;
    size_t global = (n + local - 1) / local * local;
    if (global == 0)
        return CG_OK;
    return submit(ctx, k, name, 1, &global, &local, n, args, nargs);
}

cg_status cg__launch_1d(cg_context *ctx, cl_kernel kernel, size_t n, size_t local) {
    size_t max_local = 0;
    if (clGetKernelWorkGroupInfo(kernel, ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof max_local,
                                 &max_local, NULL) != CL_SUCCESS ||
        max_local == 0)
        max_local = ctx->info.max_work_group_size;
    return enqueue_1d(ctx, kernel, "(uncached)", n, local, max_local, NULL, 0);
}

void cg__local_within(int dims, const size_t *global, const size_t *caps, size_t *local) {
    size_t items = 1;
    for (int d = 0; d < dims; d++) {
        local[d] = 1;
        while (items * local[d] < caps[d] && local[d] < global[d])
            local[d] *= 2;
        items *= local[d];
    }
}

cg_status cg__kernel_run(cg_context *ctx, const char *file, const char *name, int dims,
                         const size_t *global, const size_t *local, const cg__karg *args,
                         size_t nargs) {
    return cg__kernel_run_defs(ctx, file, NULL, name, dims, global, local, args, nargs);
}

cg_status cg__kernel_run_defs(cg_context *ctx, const char *file, const char *defines,
                              const char *name, int dims, const size_t *global,
                              const size_t *local, const cg__karg *args, size_t nargs) {
    cl_kernel k;
    size_t max_local;
    cg_status st = cg__kernel_get(ctx, file, defines, name, &k, &max_local);
    if (st != CG_OK)
        return st;
    size_t g[3], l[3], total_local = 1;
    for (int d = 0; d < dims; d++) {
        l[d] = local[d];
        total_local *= l[d];
    }
    if (total_local > max_local)
        return cg__error(CG_ERR_INVALID_ARGUMENT,
                         "kernel %s: a work-group of %zu items is more than the %zu this device "
                         "allows for it",
                         name, total_local, max_local);
    for (int d = 0; d < dims; d++) {
        if (global[d] == 0)
            return CG_OK; /* nothing to do */
        g[d] = (global[d] + l[d] - 1) / l[d] * l[d];
    }
    size_t items = 1;
    for (int d = 0; d < dims; d++)
        items *= global[d];
    return submit(ctx, k, name, (cl_uint)dims, g, l, items, args, nargs);
}

cg_status cg__kernel_run1d(cg_context *ctx, const char *file, const char *name, size_t n,
                           size_t local, const cg__karg *args, size_t nargs) {
    cl_kernel k;
    size_t max_local;
    cg_status st = cg__kernel_get(ctx, file, NULL, name, &k, &max_local);
    return st == CG_OK ? enqueue_1d(ctx, k, name, n, local, max_local, args, nargs) : st;
}

uint32_t cg__vector_width(size_t cols) {
    uint32_t best = 16;
    size_t best_cost = SIZE_MAX;
    for (uint32_t vw = 16; vw >= 4; vw /= 2) {
        size_t cost = (cols + vw - 1) / vw * (vw + 8);
        if (cost < best_cost)
            best = vw, best_cost = cost;
    }
    return best;
}
