/* Recorded steps (cl_khr_command_buffer). A training step launches the same kernels with the
 * same arguments every time once its changing numbers (the random-number counter, the
 * optimizer's bias corrections) live in a device buffer: the step can then be recorded once as
 * a command buffer and replayed with one enqueue, which spares the driver's per-launch work.
 *
 * A region (cg__replay_open .. cg__replay_close) runs in one of two modes:
 * - recording: every launch runs as usual and is also recorded, with a copy of its arguments;
 *   anything else enqueued inside the region (a copy, a read, a CLBlast GEMM) abandons the
 *   recording, and the rest of the region just runs;
 * - checking: each launch is compared with the recorded one at its place (kernel, ranges,
 *   argument bytes) and held back while they agree. When the region closes with every launch
 *   matched, the command buffer is enqueued in their stead. At the first difference (or
 *   anything else enqueued) the held-back launches are enqueued from their recorded arguments,
 *   in order, the rest of the region runs as usual, and the recording is dropped so that the
 *   next region records afresh.
 * So a region's commands run exactly once and in order whatever happens; a replay only ever
 * stands in for launches identical to the recorded ones. After three regions in a row that did
 * not replay (they differed, or their recording was abandoned) the recorder stops trying. */
#include <stdlib.h>
#include <string.h>

#include <CL/cl_ext.h>

#include "device/device_internal.h"

typedef struct rec_arg {
    size_t size;
    bool local; /* __local: size alone */
    unsigned char bytes[16];
} rec_arg;

typedef struct rec_launch {
    cl_kernel kernel; /* the context's, for comparisons */
    cl_kernel own;    /* the recorded command's copy (see record) */
    cl_uint dims;
    size_t global[3], local[3];
    size_t arg0, nargs; /* into the argument table */
} rec_launch;

enum { MODE_RECORD = 1, MODE_CHECK = 2 };

/* Regions in a row that could not replay before a recorder stops trying. */
#define MAX_MISSES 3

struct cg__replay {
    void *cb; /* cl_command_buffer_khr, NULL when none */
    rec_launch *launches;
    size_t n, cap;
    rec_arg *args;
    size_t n_args, args_cap;
    bool recorded; /* cb is final and launches[0 .. n) are what it holds */
    int mode;      /* of the open region */
    size_t matched;
    int misses; /* regions in a row that did not replay */
    cl_event last; /* the cb's last enqueue, where the device cannot run it twice at once */
    cg_replay_stats stats;
};

#ifdef cl_khr_command_buffer

typedef struct cb_api {
    clCreateCommandBufferKHR_fn create;
    clCommandNDRangeKernelKHR_fn ndrange;
    clFinalizeCommandBufferKHR_fn finalize;
    clEnqueueCommandBufferKHR_fn enqueue;
    clReleaseCommandBufferKHR_fn release;
} cb_api;

static const cb_api *api_of(const cg_context *ctx) {
    return (const cb_api *)ctx->cb_api;
}

static void release_own(cg__replay *r) {
    for (size_t i = 0; i < r->n; i++)
        if (r->launches[i].own)
            clReleaseKernel(r->launches[i].own);
    r->n = r->n_args = 0;
}

static void drop_cb(const cg_context *ctx, cg__replay *r) {
    if (r->recorded) /* replays may be queued: let them finish before their kernels go */
        clFinish(ctx->queue);
    if (r->cb)
        api_of(ctx)->release((cl_command_buffer_khr)r->cb);
    release_own(r);
    r->cb = NULL;
    r->recorded = false;
    if (r->last)
        clReleaseEvent(r->last);
    r->last = NULL;
}

/* An extension entry point into a function pointer (copied: C has no cast between object and
 * function pointers). */
static void entry(const cg_context *ctx, const char *name, void *fn, size_t size) {
    void *p = clGetExtensionFunctionAddressForPlatform(ctx->platform, name);
    memset(fn, 0, size);
    if (p && size == sizeof p)
        memcpy(fn, &p, size);
}

void cg__replay_setup(cg_context *ctx) {
    ctx->cb_api = NULL;
    const char *env = getenv("CLGRAPH_REPLAY");
    bool want = env && *env ? strcmp(env, "0") != 0 : ctx->info.type == CG_DEVICE_GPU;
    if (!want || !ctx->info.command_buffers)
        return;
    /* The queue must need no properties the context's lacks (none, or profiling). */
    cl_command_queue_properties needed = 0;
    if (clGetDeviceInfo(ctx->device, CL_DEVICE_COMMAND_BUFFER_REQUIRED_QUEUE_PROPERTIES_KHR,
                        sizeof needed, &needed, NULL) != CL_SUCCESS ||
        (needed & ~(cl_command_queue_properties)CL_QUEUE_PROFILING_ENABLE) != 0)
        return;
    cl_device_command_buffer_capabilities_khr caps = 0;
    clGetDeviceInfo(ctx->device, CL_DEVICE_COMMAND_BUFFER_CAPABILITIES_KHR, sizeof caps, &caps,
                    NULL);
    ctx->cb_simultaneous = (caps & CL_COMMAND_BUFFER_CAPABILITY_SIMULTANEOUS_USE_KHR) != 0;
    cb_api api;
    entry(ctx, "clCreateCommandBufferKHR", &api.create, sizeof api.create);
    entry(ctx, "clCommandNDRangeKernelKHR", &api.ndrange, sizeof api.ndrange);
    entry(ctx, "clFinalizeCommandBufferKHR", &api.finalize, sizeof api.finalize);
    entry(ctx, "clEnqueueCommandBufferKHR", &api.enqueue, sizeof api.enqueue);
    entry(ctx, "clReleaseCommandBufferKHR", &api.release, sizeof api.release);
    cb_api *copy = api.create && api.ndrange && api.finalize && api.enqueue && api.release
                       ? malloc(sizeof *copy)
                       : NULL;
    if (copy)
        *copy = api;
    ctx->cb_api = copy; /* freed with the context */
}

#else /* headers without the extension: never replay */

static void drop_cb(const cg_context *ctx, cg__replay *r) {
    (void)ctx;
    r->n = r->n_args = 0;
    r->cb = NULL;
    r->recorded = false;
}

void cg__replay_setup(cg_context *ctx) {
    ctx->cb_api = NULL;
}

#endif

bool cg__replay_available(const cg_context *ctx) {
    return ctx->cb_api != NULL;
}

bool cg_context_replays(const cg_context *ctx) {
    return cg__replay_available(ctx);
}

cg_status cg__replay_new(cg_context *ctx, cg__replay **out) {
    *out = NULL;
    if (!cg__replay_available(ctx))
        return CG_OK;
    *out = calloc(1, sizeof **out);
    return *out ? CG_OK : cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for a step recording");
}

void cg__replay_free(cg_context *ctx, cg__replay *r) {
    if (!r)
        return;
    if (ctx->replay == r)
        ctx->replay = NULL;
    drop_cb(ctx, r);
    free(r->launches);
    free(r->args);
    free(r);
}

cg_replay_stats cg__replay_stats(const cg__replay *r) {
    return r ? r->stats : (cg_replay_stats){0};
}

/* A region that did not replay (it differed from the recording, or its recording was given up
 * part way: steps with a CLBlast GEMM never record, and need not try every time): forget the
 * recording; after MAX_MISSES in a row, stop. */
static void missed(cg_context *ctx, cg__replay *r, bool abandoned) {
    drop_cb(ctx, r);
    if (abandoned)
        r->stats.abandoned++;
    else
        r->stats.misses++;
    if (++r->misses >= MAX_MISSES)
        r->stats.gave_up = true;
    if (ctx->replay == r)
        ctx->replay = NULL;
}

void cg__replay_open(cg_context *ctx, cg__replay *r) {
    if (!r || r->stats.gave_up || ctx->prof || ctx->replay)
        return;
    if (r->recorded) {
        r->mode = MODE_CHECK;
        r->matched = 0;
        ctx->replay = r;
        return;
    }
#ifdef cl_khr_command_buffer
    cl_command_buffer_properties_khr props[] = {
        CL_COMMAND_BUFFER_FLAGS_KHR, CL_COMMAND_BUFFER_SIMULTANEOUS_USE_KHR, 0};
    cl_int err;
    cl_command_buffer_khr cb =
        api_of(ctx)->create(1, &ctx->queue, ctx->cb_simultaneous ? props : NULL, &err);
    if (err != CL_SUCCESS || !cb) {
        r->stats.gave_up = true; /* the driver will not make one: run as usual from now on */
        return;
    }
    r->cb = cb;
    r->n = r->n_args = 0;
    r->mode = MODE_RECORD;
    ctx->replay = r;
#endif
}

static bool grow(void **p, size_t *cap, size_t need, size_t size) {
    if (need <= *cap)
        return true;
    size_t c = *cap ? 2 * *cap : 64;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * size);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

/* A kernel object of its own for a recorded command, with the launch's arguments: a command
 * buffer should keep the arguments it was given, but PoCL 3.1 reads them from the kernel object
 * when the buffer runs (a command recorded, the kernel's arguments set again, and the replay
 * ran with the new ones), so the recorded commands never share one. */
static cl_kernel own_copy(cl_kernel k, const cg__karg *args, size_t nargs) {
    cl_program prog = NULL;
    char name[128];
    if (clGetKernelInfo(k, CL_KERNEL_PROGRAM, sizeof prog, &prog, NULL) != CL_SUCCESS ||
        clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL) != CL_SUCCESS)
        return NULL;
    cl_int err;
    cl_kernel own = clCreateKernel(prog, name, &err);
    if (err != CL_SUCCESS)
        return NULL;
    for (size_t i = 0; i < nargs; i++)
        if (clSetKernelArg(own, (cl_uint)i, args[i].size, args[i].value) != CL_SUCCESS) {
            clReleaseKernel(own);
            return NULL;
        }
    return own;
}

/* Recording: the launch just enqueued, into the command buffer and the list. Where either
 * fails, the recording is abandoned. */
static void record(cg_context *ctx, cg__replay *r, cl_kernel k, cl_uint dims, const size_t *g,
                   const size_t *l, const cg__karg *args, size_t nargs) {
    bool ok = grow((void **)&r->launches, &r->cap, r->n + 1, sizeof *r->launches) &&
              grow((void **)&r->args, &r->args_cap, r->n_args + nargs, sizeof *r->args);
    for (size_t i = 0; ok && i < nargs; i++)
        ok = args[i].size <= sizeof r->args[0].bytes || !args[i].value;
    cl_kernel own = ok ? own_copy(k, args, nargs) : NULL;
#ifdef cl_khr_command_buffer
    ok = own && api_of(ctx)->ndrange((cl_command_buffer_khr)r->cb, NULL, NULL, own, dims, NULL,
                                     g, l, 0, NULL, NULL, NULL) == CL_SUCCESS;
#endif
    if (!ok) {
        if (own)
            clReleaseKernel(own);
        missed(ctx, r, true);
        return;
    }
    rec_launch *L = &r->launches[r->n++];
    *L = (rec_launch){k, own, dims, {1, 1, 1}, {1, 1, 1}, r->n_args, nargs};
    for (cl_uint d = 0; d < dims; d++) {
        L->global[d] = g[d];
        L->local[d] = l[d];
    }
    for (size_t i = 0; i < nargs; i++) {
        rec_arg *a = &r->args[r->n_args++];
        memset(a, 0, sizeof *a);
        a->size = args[i].size;
        a->local = args[i].value == NULL;
        if (!a->local)
            memcpy(a->bytes, args[i].value, args[i].size);
    }
}

static bool same_launch(const cg__replay *r, const rec_launch *L, cl_kernel k, cl_uint dims,
                        const size_t *g, const size_t *l, const cg__karg *args, size_t nargs) {
    if (L->kernel != k || L->dims != dims || L->nargs != nargs)
        return false;
    for (cl_uint d = 0; d < dims; d++)
        if (L->global[d] != g[d] || L->local[d] != l[d])
            return false;
    for (size_t i = 0; i < nargs; i++) {
        const rec_arg *a = &r->args[L->arg0 + i];
        if (a->size != args[i].size || a->local != (args[i].value == NULL) ||
            (!a->local && memcmp(a->bytes, args[i].value, a->size) != 0))
            return false;
    }
    return true;
}

/* Checking, at a difference: the launches held back so far run from their recorded
 * arguments, and the region goes on as usual. */
static cg_status diverge(cg_context *ctx, cg__replay *r) {
    cg_status st = CG_OK;
    for (size_t i = 0; i < r->matched && st == CG_OK; i++) {
        const rec_launch *L = &r->launches[i];
        for (size_t a = 0; a < L->nargs && st == CG_OK; a++) {
            const rec_arg *x = &r->args[L->arg0 + a];
            cl_int err = clSetKernelArg(L->kernel, (cl_uint)a, x->size, x->local ? NULL : x->bytes);
            if (err != CL_SUCCESS)
                st = cg__cl_fail(err, "setting a held-back launch's argument");
        }
        cl_int err = st == CG_OK ? clEnqueueNDRangeKernel(ctx->queue, L->kernel, L->dims, NULL,
                                                          L->global, L->local, 0, NULL, NULL)
                                 : CL_SUCCESS;
        if (err != CL_SUCCESS)
            st = cg__cl_fail(err, "launching a held-back kernel");
    }
    missed(ctx, r, false);
    return st;
}

cg_status cg__replay_launch(cg_context *ctx, cl_kernel k, cl_uint dims, const size_t *g,
                            const size_t *l, const cg__karg *args, size_t nargs, bool *held) {
    *held = false;
    cg__replay *r = ctx->replay;
    if (!r || r->mode != MODE_CHECK)
        return CG_OK;
    if (args && r->matched < r->n &&
        same_launch(r, &r->launches[r->matched], k, dims, g, l, args, nargs)) {
        r->matched++;
        *held = true;
        return CG_OK;
    }
    return diverge(ctx, r);
}

void cg__replay_launched(cg_context *ctx, cl_kernel k, cl_uint dims, const size_t *g,
                         const size_t *l, const cg__karg *args, size_t nargs) {
    cg__replay *r = ctx->replay;
    if (!r || r->mode != MODE_RECORD)
        return;
    if (!args && nargs == 0) { /* arguments set elsewhere: cannot be compared later */
        missed(ctx, r, true);
        return;
    }
    record(ctx, r, k, dims, g, l, args, nargs);
}

cg_status cg__replay_interrupt(cg_context *ctx) {
    cg__replay *r = ctx->replay;
    if (!r)
        return CG_OK;
    if (r->mode == MODE_CHECK)
        return diverge(ctx, r);
    missed(ctx, r, true);
    return CG_OK;
}

cg_status cg__replay_close(cg_context *ctx, cg__replay *r, bool *replayed) {
    if (replayed)
        *replayed = false;
    if (!r || ctx->replay != r)
        return CG_OK; /* not open, or it ran as usual since a difference */
    ctx->replay = NULL;
    if (r->mode == MODE_CHECK && (r->matched < r->n))
        return diverge(ctx, r); /* fewer launches than recorded */
#ifdef cl_khr_command_buffer
    const cb_api *api = api_of(ctx);
    if (r->mode == MODE_RECORD) {
        if (r->n == 0 || api->finalize((cl_command_buffer_khr)r->cb) != CL_SUCCESS) {
            missed(ctx, r, true);
            return CG_OK;
        }
        r->recorded = true;
        r->stats.recorded++;
        return CG_OK;
    }
    /* Where the device cannot run the buffer twice at once, the previous replay must be done. */
    if (!ctx->cb_simultaneous && r->last) {
        cl_int err = clWaitForEvents(1, &r->last);
        clReleaseEvent(r->last);
        r->last = NULL;
        if (err != CL_SUCCESS)
            return cg__cl_fail(err, "waiting for the previous replay");
    }
    cl_int err = api->enqueue(1, &ctx->queue, (cl_command_buffer_khr)r->cb, 0, NULL,
                              ctx->cb_simultaneous ? NULL : &r->last);
    if (err != CL_SUCCESS) {
        r->mode = MODE_CHECK; /* run the held-back launches instead */
        ctx->replay = r;
        cg_status st = diverge(ctx, r);
        r->stats.gave_up = true;
        return st;
    }
    r->misses = 0;
    r->stats.replayed++;
    if (replayed)
        *replayed = true;
#endif
    return CG_OK;
}
