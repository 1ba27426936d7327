/* Runs one op on host arrays (see cg_op_run_host): the bridge that the self-test's known
 * answers and the CPU-reference tests use to drive the real launchers. */
#include <stdlib.h>
#include <string.h>

#include "ops/ops_internal.h"

/* Creates a device tensor of the shape, filled from host floats (converted for I32), or zero. */
static cg_status upload(cg_context *ctx, const cg_shape *shape, cg_dtype type, const float *data,
                        cg_tensor *t) {
    size_t n = cg_shape_numel(shape);
    t->shape = *shape;
    t->dtype = type;
    cg_status st = cg__buffer_create(ctx, n * 4, &t->mem);
    if (st != CG_OK)
        return st;
    void *host = calloc(n ? n : 1, 4);
    if (!host)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %zu values", n);
    if (data && type == CG_F32)
        memcpy(host, data, n * 4);
    else if (data)
        for (size_t i = 0; i < n; i++)
            ((int32_t *)host)[i] = (int32_t)data[i];
    st = cg__buffer_write(ctx, t->mem, host, n * 4);
    free(host);
    return st;
}

static cg_status download(cg_context *ctx, const cg_tensor *t, float *dst) {
    if (!dst || !t->mem)
        return CG_OK;
    return cg__buffer_read(ctx, t->mem, dst, cg_shape_numel(&t->shape) * 4);
}

cg_status cg_op_run_host(cg_context *ctx, const cg_op_host_io *io, cg_op_shapes *shapes) {
    cg_op_shapes sh;
    memset(&sh, 0, sizeof sh);
    cg_status st = io->op->infer(io->attrs, io->in_shape, io->in_type, io->n_in, &sh);
    if (st != CG_OK)
        return st;
    if (shapes)
        *shapes = sh;
    cg_tensor in[CG_MAX_INPUTS] = {0}, params[CG_MAX_PARAMS] = {0}, out = {0}, dout = {0};
    cg_tensor din[CG_MAX_INPUTS] = {0}, dparams[CG_MAX_PARAMS] = {0};
    bool acc[CG_MAX_INPUTS] = {0};
    cl_mem scratch = NULL;
    for (int i = 0; i < io->n_in && st == CG_OK; i++)
        st = upload(ctx, &io->in_shape[i], io->in_type[i], io->in[i], &in[i]);
    for (int i = 0; i < sh.n_params && st == CG_OK; i++)
        st = upload(ctx, &sh.params[i], CG_F32, io->params[i], &params[i]);
    if (st == CG_OK)
        st = upload(ctx, &sh.out, sh.out_dtype, NULL, &out);
    if (st == CG_OK && sh.scratch_bytes)
        st = cg__buffer_create(ctx, sh.scratch_bytes, &scratch);
    cg_op_call call = {.ctx = ctx, .attrs = io->attrs, .n_in = io->n_in, .in = in,
                       .n_params = sh.n_params, .params = params, .out = &out,
                       .scratch = scratch, .training = io->training,
                       .seed = {io->seed[0], io->seed[1]}, .counter = io->counter};
    cg__profile_label(ctx, "forward"); /* `clgraph bench --ops` times the passes apart */
    if (st == CG_OK)
        st = io->op->forward(&call);
    if (st == CG_OK)
        st = download(ctx, &out, io->out);
    if (st == CG_OK && io->dout && io->op->backward) {
        st = upload(ctx, &sh.out, CG_F32, io->dout, &dout);
        for (int i = 0; i < io->n_in && st == CG_OK; i++)
            if (io->want_din[i]) {
                acc[i] = io->din_init[i] != NULL;
                st = upload(ctx, &io->in_shape[i], CG_F32, io->din_init[i], &din[i]);
            }
        for (int i = 0; i < sh.n_params && st == CG_OK; i++)
            st = upload(ctx, &sh.params[i], CG_F32, io->dparams_init[i], &dparams[i]);
        call.dout = &dout;
        call.din = din;
        call.din_accumulate = acc;
        call.dparams = dparams;
        cg__profile_label(ctx, "backward");
        if (st == CG_OK)
            st = io->op->backward(&call);
        for (int i = 0; i < io->n_in && st == CG_OK; i++)
            st = download(ctx, &din[i], io->din[i]);
        for (int i = 0; i < sh.n_params && st == CG_OK; i++)
            st = download(ctx, &dparams[i], io->dparams[i]);
    }
    cg_tensor *all[] = {&out, &dout};
    for (size_t i = 0; i < 2; i++)
        if (all[i]->mem)
            clReleaseMemObject(all[i]->mem);
    for (int i = 0; i < CG_MAX_INPUTS; i++) {
        if (in[i].mem)
            clReleaseMemObject(in[i].mem);
        if (din[i].mem)
            clReleaseMemObject(din[i].mem);
    }
    for (int i = 0; i < CG_MAX_PARAMS; i++) {
        if (params[i].mem)
            clReleaseMemObject(params[i].mem);
        if (dparams[i].mem)
            clReleaseMemObject(dparams[i].mem);
    }
    if (scratch)
        clReleaseMemObject(scratch);
    return st;
}
