/* Recorded steps (cl_khr_command_buffer). A training step launches the same kernels with the
 * same arguments every time once its changing numbers (the random-number counter, the
 * optimizer's bias corrections) live in a device buffer: the step can then be recorded once as
 * command buffers and replayed with an enqueue each, which spares the driver's per-launch work.
 *
 * A region (cg__replay_open .. cg__replay_close) runs in one of two modes:
 * - recording: every launch runs as usual and is also recorded, with a copy of its arguments.
 *   Anything else enqueued inside the region (a CLBlast GEMM, a copy, a read, a wait) runs as
 *   usual and ends a segment: the launches between two such commands make one command buffer.
 * - checking: each launch is compared with the recorded one at its place (kernel, ranges,
 *   argument bytes) and held back while they agree. Where the held-back launches make whole
 *   segments, at another command or at the region's end, the segments' command buffers are
 *   enqueued in their stead (before that command, which runs as usual). At the first difference
 *   (a launch, or a command inside a segment, or fewer launches than recorded) the held-back
 *   launches are enqueued from their recorded arguments, in order, the rest of the region runs
 *   as usual, and the recording is dropped so that the next region records afresh.
 * So a region's commands run exactly once and in order whatever happens; a command buffer only
 * ever stands in for launches identical to the ones it recorded. After three regions in a row
 * that did not replay whole the recorder stops trying. */
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
    cl_kernel own;    /* the recorded command's copy (see own_copy) */
    cl_uint dims;
    size_t global[3], local[3];
    size_t arg0, nargs; /* into the argument table */
} rec_launch;

/* One run of launches between two other commands: a command buffer. */
typedef struct segment {
    void *cb;      /* cl_command_buffer_khr */
    size_t start;  /* its first launch */
    cl_event last; /* its last enqueue, where the device cannot run a buffer twice at once */
} segment;

enum { MODE_RECORD = 1, MODE_CHECK = 2 };

/* Regions in a row that could not replay before a recorder stops trying. */
#define MAX_MISSES 3

struct cg__replay {
    segment *segs;
    size_t n_segs, segs_cap;
    rec_launch *launches;
    size_t n, cap;
    rec_arg *args;
    size_t n_args, args_cap;
    bool recorded; /* the segments are final and hold launches[0 .. n) */
    int mode;      /* of the open region */
    bool boundary; /* recording: another command came since the last launch */
    size_t matched, held_from; /* checking: launches matched; the first one held back */
    int misses;                /* regions in a row that did not replay */
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

static void *new_cb(cg_context *ctx) {
    cl_command_buffer_properties_khr props[] = {
        CL_COMMAND_BUFFER_FLAGS_KHR, CL_COMMAND_BUFFER_SIMULTANEOUS_USE_KHR, 0};
    cl_int err;
    cl_command_buffer_khr cb =
        api_of(ctx)->create(1, &ctx->queue, ctx->cb_simultaneous ? props : NULL, &err);
    return err == CL_SUCCESS ? cb : NULL;
}

static bool record_cb(cg_context *ctx, void *cb, cl_kernel k, cl_uint dims, const size_t *g,
                      const size_t *l) {
    return api_of(ctx)->ndrange((cl_command_buffer_khr)cb, NULL, NULL, k, dims, NULL, g, l, 0,
                                NULL, NULL, NULL) == CL_SUCCESS;
}

static bool finalize_cb(cg_context *ctx, void *cb) {
    return api_of(ctx)->finalize((cl_command_buffer_khr)cb) == CL_SUCCESS;
}

static cl_int enqueue_cb(cg_context *ctx, void *cb, cl_event *ev) {
    return api_of(ctx)->enqueue(1, &ctx->queue, (cl_command_buffer_khr)cb, 0, NULL, ev);
}

static void release_cb(cg_context *ctx, void *cb) {
    api_of(ctx)->release((cl_command_buffer_khr)cb);
}

#else /* headers without the extension: never replay */

void cg__replay_setup(cg_context *ctx) {
    ctx->cb_api = NULL;
}

static void *new_cb(cg_context *ctx) {
    (void)ctx;
    return NULL;
}

static bool record_cb(cg_context *ctx, void *cb, cl_kernel k, cl_uint dims, const size_t *g,
                      const size_t *l) {
    (void)ctx, (void)cb, (void)k, (void)dims, (void)g, (void)l;
    return false;
}

static bool finalize_cb(cg_context *ctx, void *cb) {
    (void)ctx, (void)cb;
    return false;
}

static cl_int enqueue_cb(cg_context *ctx, void *cb, cl_event *ev) {
    (void)ctx, (void)cb, (void)ev;
    return CL_INVALID_OPERATION;
}

static void release_cb(cg_context *ctx, void *cb) {
    (void)ctx, (void)cb;
}

#endif

bool cg__replay_available(const cg_context *ctx) {
    return ctx->cb_api != NULL;
}

bool cg_context_replays(const cg_context *ctx) {
    return cg__replay_available(ctx);
}

/* Forgets the recording: its command buffers (once queued replays are done) and kernels. */
static void drop(cg_context *ctx, cg__replay *r) {
    if (r->recorded)
        clFinish(ctx->queue);
    for (size_t s = 0; s < r->n_segs; s++) {
        if (r->segs[s].cb)
            release_cb(ctx, r->segs[s].cb);
        if (r->segs[s].last)
            clReleaseEvent(r->segs[s].last);
    }
    for (size_t i = 0; i < r->n; i++)
        if (r->launches[i].own)
            clReleaseKernel(r->launches[i].own);
    r->n_segs = r->n = r->n_args = 0;
    r->recorded = false;
}

/* Whether the device's command buffers give a known answer: three fills of one buffer (each
 * with its own arguments, each over part of the last one's) recorded, the buffer cleared, the
 * recording replayed. A driver that runs a buffer's commands out of order or with arguments
 * other than the recorded ones (as PoCL 3.1 would with shared kernel objects) fails it, and
 * its steps never replay. */
static bool known_answer(cg_context *ctx) {
    cl_mem b = NULL;
    cg__replay *r = calloc(1, sizeof *r);
    bool ok = r && cg__buffer_create(ctx, 64 * sizeof(float), &b) == CG_OK;
    bool replayed = false;
    for (int k = 0; ok && k < 2; k++) {
        ok = cg__fill(ctx, b, 0.0f, 64) == CG_OK;
        cg__replay_open(ctx, r);
        for (int f = 0; ok && f < 3; f++)
            ok = cg__fill(ctx, b, (float)(f + 1), (size_t)(64 >> f)) == CG_OK;
        ok = cg__replay_close(ctx, r, &replayed) == CG_OK && ok;
    }
    float h[64];
    ok = ok && replayed && cg__buffer_read(ctx, b, h, sizeof h) == CG_OK;
    for (int i = 0; ok && i < 64; i++)
        ok = h[i] == (i < 16 ? 3.0f : i < 32 ? 2.0f : 1.0f);
    cg__replay_free(ctx, r);
    cg__buffer_release(b);
    cg_error_clear();
    return ok;
}

cg_status cg__replay_new(cg_context *ctx, cg__replay **out) {
    *out = NULL;
    if (!cg__replay_available(ctx) || ctx->prof) /* while profiling: asked again later */
        return CG_OK;
    if (!ctx->cb_checked) {
        ctx->cb_checked = true;
        if (!known_answer(ctx)) {
            free(ctx->cb_api); /* this device's steps run launch by launch */
            ctx->cb_api = NULL;
            return CG_OK;
        }
    }
    *out = calloc(1, sizeof **out);
    return *out ? CG_OK : cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for a step recording");
}

void cg__replay_free(cg_context *ctx, cg__replay *r) {
    if (!r)
        return;
    if (ctx->replay == r)
        ctx->replay = NULL;
    drop(ctx, r);
    free(r->segs);
    free(r->launches);
    free(r->args);
    free(r);
}

cg_replay_stats cg__replay_stats(const cg__replay *r) {
    cg_replay_stats s = r ? r->stats : (cg_replay_stats){0};
    s.segments = r && r->recorded ? (unsigned)r->n_segs : 0;
    return s;
}

/* A region that did not replay whole (it differed from the recording, or its recording failed):
 * the rest of it runs as usual, the recording is forgotten; after MAX_MISSES in a row, no more
 * tries. */
static void missed(cg_context *ctx, cg__replay *r, bool abandoned) {
    drop(ctx, r);
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
    r->mode = r->recorded ? MODE_CHECK : MODE_RECORD;
    r->matched = r->held_from = 0;
    r->boundary = false;
    ctx->replay = r;
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

/* Recording: the launch just enqueued, into the current segment's command buffer (a new one
 * after another command) and the list. Where that fails, the recording is abandoned. */
static void record(cg_context *ctx, cg__replay *r, cl_kernel k, cl_uint dims, const size_t *g,
                   const size_t *l, const cg__karg *args, size_t nargs) {
    bool ok = grow((void **)&r->launches, &r->cap, r->n + 1, sizeof *r->launches) &&
              grow((void **)&r->args, &r->args_cap, r->n_args + nargs, sizeof *r->args) &&
              grow((void **)&r->segs, &r->segs_cap, r->n_segs + 1, sizeof *r->segs);
    for (size_t i = 0; ok && i < nargs; i++)
        ok = args[i].size <= sizeof r->args[0].bytes || !args[i].value;
    if (ok && (r->n_segs == 0 || r->boundary)) {
        void *cb = new_cb(ctx);
        if (cb)
            r->segs[r->n_segs++] = (segment){cb, r->n, NULL};
        ok = cb != NULL;
        r->boundary = false;
    }
    cl_kernel own = ok ? own_copy(k, args, nargs) : NULL;
    ok = own && (r->n + 1 == ctx->cb_test_drop ||
                 record_cb(ctx, r->segs[r->n_segs - 1].cb, own, dims, g, l));
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

/* Checking, at a difference: the launches held back run from their recorded arguments, and the
 * region goes on as usual. */
static cg_status diverge(cg_context *ctx, cg__replay *r) {
    cg_status st = CG_OK;
    for (size_t i = r->held_from; i < r->matched && st == CG_OK; i++) {
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

/* The segment that starts at launch i, or -1. */
static long segment_at(const cg__replay *r, size_t i) {
    for (size_t s = 0; s < r->n_segs; s++)
        if (r->segs[s].start == i)
            return (long)s;
    return -1;
}

/* Checking, before another command or at the end: the held-back launches, where they are whole
 * segments, go to the queue as those segments' command buffers; otherwise the region differs. */
static cg_status settle(cg_context *ctx, cg__replay *r) {
    if (r->held_from == r->matched)
        return CG_OK;
    long first = segment_at(r, r->held_from);
    long end = r->matched == r->n ? (long)r->n_segs : segment_at(r, r->matched);
    if (first < 0 || end < 0)
        return diverge(ctx, r); /* another command inside a recorded segment */
    for (long s = first; s < end; s++) {
        segment *seg = &r->segs[s];
        /* Where the device cannot run a buffer twice at once, its previous run must be done. */
        if (!ctx->cb_simultaneous && seg->last) {
            cl_int err = clWaitForEvents(1, &seg->last);
            clReleaseEvent(seg->last);
            seg->last = NULL;
            if (err != CL_SUCCESS)
                return cg__cl_fail(err, "waiting for a command buffer's previous run");
        }
        cl_int err = enqueue_cb(ctx, seg->cb, ctx->cb_simultaneous ? NULL : &seg->last);
        if (err != CL_SUCCESS) {
            /* run the launches of this and the later held-back segments one by one */
            r->held_from = seg->start;
            cg_status st = diverge(ctx, r);
            r->stats.gave_up = true;
            return st;
        }
    }
    r->held_from = r->matched;
    return CG_OK;
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
    if (!args) { /* arguments set elsewhere: cannot be compared later */
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
        return settle(ctx, r);
    r->boundary = r->n_segs > 0;
    return CG_OK;
}

cg_status cg__replay_close(cg_context *ctx, cg__replay *r, bool *replayed) {
    if (replayed)
        *replayed = false;
    if (!r || ctx->replay != r)
        return CG_OK; /* not open, or it ran as usual since a difference */
    if (r->mode == MODE_CHECK) {
        if (r->matched < r->n)
            return diverge(ctx, r); /* fewer launches than recorded */
        cg_status st = settle(ctx, r);
        if (st != CG_OK || ctx->replay != r)
            return st; /* it did not replay whole */
        ctx->replay = NULL;
        r->misses = 0;
        r->stats.replayed++;
        if (replayed)
            *replayed = true;
        return CG_OK;
    }
    ctx->replay = NULL;
    bool ok = r->n > 0;
    for (size_t s = 0; ok && s < r->n_segs; s++)
        ok = finalize_cb(ctx, r->segs[s].cb);
    if (!ok) {
        missed(ctx, r, true);
        return CG_OK;
    }
    r->recorded = true;
    r->stats.recorded++;
    return CG_OK;
}
