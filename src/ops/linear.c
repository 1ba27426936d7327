/* linear: y (N, out) = x (N, in) W^T + b, with W (out, in) as in PyTorch. The products go
 * through CLBlast; the bias kernels (cl/linear.cl) are shared with the convolutions. */
#include "ops/ops_internal.h"

#define PROGRAM "linear.cl"

cg_status cg__bias_add(cg_context *ctx, cl_mem y, cl_mem b, uint32_t channels, uint32_t inner,
                       size_t n) {
    if (channels == 0 || inner == 0)
        return CG_OK;
    const size_t outer = n / ((size_t)channels * inner);
    const cg__karg args[] = {CG_KMEM(y), CG_KMEM(b), CG_KU32(channels), CG_KU32(inner),
                             CG_KU32(outer)};
    /* work-groups of about 256 items: up to 64 along each row, then channels, then rows */
    size_t global[3] = {inner, channels, outer}, local[3];
    cg__local_within(3, global, (const size_t[]){64, 64, 256}, local);
    return cg__kernel_run(ctx, PROGRAM, "bias_add", 3, global, local, args, 5);
}

cg_status cg__bias_bwd(cg_context *ctx, cl_mem db, cl_mem dy, uint32_t channels, uint32_t inner,
                       uint32_t outer) {
    if (inner == 1) /* rows of a linear layer: the rows are the chunks, a column sum each */
        return cg__add_chunk_sums(ctx, db, dy, 0, outer, channels);
    size_t local = cg__reduce_local(ctx);
    size_t global = local * channels;
    const cg__karg args[] = {CG_KMEM(db),       CG_KMEM(dy),    CG_KU32(channels),
                             CG_KU32(inner),    CG_KU32(outer), CG_KLOCAL(local * sizeof(float))};
    return cg__kernel_run(ctx, PROGRAM, "bias_bwd", 1, &global, &local, args, 6);
}

static cg_status linear_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *types,
                              int n_in, cg_op_shapes *out) {
    (void)types;
    (void)n_in;
    if (in[0].ndim != 2) {
        char s[64];
        cg_shape_str(&in[0], s, sizeof s);
        return cg__shape_error("linear",
                               "input of shape %s; linear takes (batch, features): put a "
                               "flatten layer before it",
                               s);
    }
    if (a->features < 1)
        return cg__shape_error("linear", "out features must be at least 1, not %d",
                               a->features);
    out->out = cg_shape_make(2, in[0].d[0], a->features, 0, 0);
    out->n_params = a->bias ? 2 : 1;
    out->params[0] = cg_shape_make(2, a->features, in[0].d[1], 0, 0);
    out->params[1] = cg_shape_make(1, a->features, 0, 0, 0);
    return CG_OK;
}

static cg_status linear_fwd(const cg_op_call *c) {
    size_t n = (size_t)c->in[0].shape.d[0], k = (size_t)c->in[0].shape.d[1];
    size_t m = (size_t)c->attrs->features;
    cg_status st = cg__sgemm(c->ctx, false, true, n, m, k, 1.0f, c->in[0].mem, 0, k,
                             c->params[0].mem, 0, k, 0.0f, c->out->mem, 0, m);
    if (st == CG_OK && c->attrs->bias)
        st = cg__bias_add(c->ctx, c->out->mem, c->params[1].mem, (uint32_t)m, 1, n * m);
    return st;
}

static cg_status linear_bwd(const cg_op_call *c) {
    size_t n = (size_t)c->in[0].shape.d[0], k = (size_t)c->in[0].shape.d[1];
    size_t m = (size_t)c->attrs->features;
    cg_status st = CG_OK;
    if (c->din[0].mem) /* dx (n, k) = dy (n, m) W (m, k) */
        st = cg__sgemm(c->ctx, false, false, n, k, m, 1.0f, c->dout->mem, 0, m,
                       c->params[0].mem, 0, k, cg_op_din_acc(c, 0) ? 1.0f : 0.0f,
                       c->din[0].mem, 0, k);
    if (st == CG_OK) /* dW (m, k) += dy^T (m, n) x (n, k) */
        st = cg__sgemm(c->ctx, true, false, m, k, n, 1.0f, c->dout->mem, 0, m, c->in[0].mem, 0,
                       k, 1.0f, c->dparams[0].mem, 0, k);
    if (st == CG_OK && c->attrs->bias)
        st = cg__bias_bwd(c->ctx, c->dparams[1].mem, c->dout->mem, (uint32_t)m, 1, (uint32_t)n);
    return st;
}

/* per_sample_linear: each of the N samples has its own W (N, out, in) and b (N, out), so the
 * batch is a set of independent layers trained together (the dAE study's fooling generators,
 * one per trial). The parameters' shapes follow the batch. */
static cg_status psl_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *types,
                           int n_in, cg_op_shapes *out) {
    (void)types;
    (void)n_in;
    size_t weights = (size_t)in[0].d[0] * (size_t)a->features * (size_t)in[0].d[1];
    if (in[0].ndim != 2 || a->features < 1 || weights >= (size_t)UINT32_MAX) {
        char s[64];
        cg_shape_str(&in[0], s, sizeof s);
        return cg__shape_error("per_sample_linear",
                               "input of shape %s with %d out features; it takes (batch, "
                               "features) and at most 2^32 weights in all",
                               s, a->features);
    }
    out->out = cg_shape_make(2, in[0].d[0], a->features, 0, 0);
    out->n_params = a->bias ? 2 : 1;
    out->params[0] = cg_shape_make(3, in[0].d[0], a->features, in[0].d[1], 0);
    out->params[1] = cg_shape_make(2, in[0].d[0], a->features, 0, 0);
    return CG_OK;
}

static cg_status psl_fwd(const cg_op_call *c) {
    uint32_t I = (uint32_t)c->in[0].shape.d[1], O = (uint32_t)c->attrs->features;
    size_t total = (size_t)c->in[0].shape.d[0] * O;
    cl_mem b = c->attrs->bias ? c->params[1].mem : c->params[0].mem;
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem),
                             CG_KMEM(c->params[0].mem), CG_KMEM(b),
                             CG_KU32(c->attrs->bias), CG_KU32(O), CG_KU32(I), CG_KU32(total)};
    return cg__kernel_run1d(c->ctx, PROGRAM, "per_sample_linear_fwd", total, 0, args, 8);
}

static cg_status psl_bwd(const cg_op_call *c) {
    uint32_t I = (uint32_t)c->in[0].shape.d[1], O = (uint32_t)c->attrs->features;
    size_t N = (size_t)c->in[0].shape.d[0];
    cg_status st = CG_OK;
    if (c->din[0].mem) {
        const cg__karg args[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->dout->mem),
                                 CG_KMEM(c->params[0].mem), CG_KU32(O), CG_KU32(I),
                                 CG_KU32(cg_op_din_acc(c, 0)), CG_KU32(N * I)};
        st = cg__kernel_run1d(c->ctx, PROGRAM, "per_sample_linear_bwd_data", N * I, 0, args, 7);
    }
    if (st == CG_OK) {
        const cg__karg args[] = {CG_KMEM(c->dparams[0].mem), CG_KMEM(c->dout->mem),
                                 CG_KMEM(c->in[0].mem), CG_KU32(O), CG_KU32(I),
                                 CG_KU32(N * O * I)};
        st = cg__kernel_run1d(c->ctx, PROGRAM, "per_sample_linear_bwd_weight", N * O * I, 0, args,
                              6);
    }
    if (st == CG_OK && c->attrs->bias) /* db[n, o] += dy[n, o] */
        st = cg__scale_acc(c->ctx, c->dparams[1].mem, c->dout->mem, 1.0f, true, N * O);
    return st;
}

const cg_op_def cg__op_per_sample_linear = {
    .name = "per_sample_linear",
    .program = PROGRAM,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = psl_infer,
    .forward = psl_fwd,
    .backward = psl_bwd,
};

const cg_op_def cg__op_linear = {
    .name = "linear",
    .program = PROGRAM,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = linear_infer,
    .forward = linear_fwd,
    .backward = linear_bwd,
};
