/* Launch recording for the benchmark: while a profiler is attached to a context, every kernel
 * launch (ours and CLBlast's GEMM) gets an event and a record of what it is: the graph node and
 * pass that made it, the kernel, its work-items, the bytes of the buffers it was given and, where
 * the launcher knows them, its floating-point operations. Nothing is recorded, and no event is
 * made, when no profiler is attached. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/device_internal.h"

void cg__profile_attach(cg_context *ctx, cg__profiler *p) {
    ctx->prof = p;
}

bool cg__profiling(const cg_context *ctx) {
    return ctx->prof != NULL;
}

void cg__profile_label(cg_context *ctx, const char *fmt, ...) {
    if (!ctx->prof) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->prof->label, sizeof ctx->prof->label, fmt, ap);
    va_end(ap);
    ctx->prof->has_note = false;
}

void cg__profile_note(cg_context *ctx, const uint32_t key[11]) {
    if (!ctx->prof) return;
    memcpy(ctx->prof->note, key, sizeof ctx->prof->note);
    ctx->prof->has_note = true;
}

void cg__profile_flops(cg_context *ctx, double flops) {
    if (ctx->prof) ctx->prof->next_flops = flops;
}

void cg__profile_bytes(cg_context *ctx, double bytes) {
    if (ctx->prof) ctx->prof->next_bytes = bytes;
}

/* Sums the sizes of the buffer arguments: each is read or written about once by our kernels. */
static double buffer_bytes(const cg__karg *args, size_t nargs) {
    double bytes = 0;
    for (size_t i = 0; i < nargs; i++) {
        if (args[i].size != sizeof(cl_mem) || !args[i].value)
            continue; /* scalars are 4 bytes; local memory has no value */
        size_t size = 0;
        cl_mem m = *(const cl_mem *)args[i].value;
        if (m && clGetMemObjectInfo(m, CL_MEM_SIZE, sizeof size, &size, NULL) == CL_SUCCESS)
            bytes += (double)size;
    }
    return bytes;
}

cg__launch_record *cg__profile_record(cg_context *ctx, const char *kernel, size_t items,
                                      double bytes, const cg__karg *args, size_t nargs) {
    cg__profiler *p = ctx->prof;
    if (!p) return NULL;
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 256;
        cg__launch_record *r = realloc(p->rec, cap * sizeof *r);
        if (!r) return NULL; /* the launch goes on unrecorded */
        p->rec = r;
        p->cap = cap;
    }
    cg__launch_record *r = &p->rec[p->n++];
    memset(r, 0, sizeof *r);
    cg__copy_str(r->label, sizeof r->label, p->label);
    cg__copy_str(r->kernel, sizeof r->kernel, kernel);
    r->items = items;
    r->bytes = p->next_bytes > 0 ? p->next_bytes : args ? buffer_bytes(args, nargs) : bytes;
    r->flops = p->next_flops;
    r->has_note = p->has_note;
    memcpy(r->note, p->note, sizeof r->note);
    p->next_flops = 0;
    p->next_bytes = 0;
    return r;
}

cl_event *cg__profile_event(cg_context *ctx, const char *kernel, size_t items,
                            const cg__karg *args, size_t nargs) {
    cg__launch_record *r = ctx->prof ? cg__profile_record(ctx, kernel, items, 0, args, nargs) : NULL;
    return r ? &r->event : NULL;
}

double cg__profile_event_us(cl_event e) {
    cl_ulong t0 = 0, t1 = 0;
    if (!e ||
        clGetEventProfilingInfo(e, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL) !=
            CL_SUCCESS ||
        clGetEventProfilingInfo(e, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL) != CL_SUCCESS)
        return -1;
    return t1 > t0 ? (double)(t1 - t0) / 1000.0 : 0.0;
}

void cg__profile_clear(cg__profiler *p) {
    for (size_t i = 0; i < p->n; i++)
        if (p->rec[i].event) clReleaseEvent(p->rec[i].event);
    p->n = 0;
    p->next_flops = 0;
    p->next_bytes = 0;
}

void cg__profile_free(cg__profiler *p) {
    cg__profile_clear(p);
    free(p->rec);
    memset(p, 0, sizeof *p);
}
