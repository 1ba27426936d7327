/* Element-wise ops: relu, leaky_relu, prelu, tanh, sigmoid, add, scale, mul (rows scaled by a
 * number per sample). Kernels in cl/elementwise.cl. */
#include "ops/ops.h"
#include "ops/ops_internal.h"

#define PROGRAM "elementwise.cl"

static cg_status same_shape(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *types,
                            int n_in, cg_op_shapes *out) {
    (void)a;
    (void)types;
    (void)n_in;
    out->out = in[0];
    return CG_OK;
}

static size_t numel(const cg_tensor *t) {
    return cg_shape_numel(&t->shape);
}

/* y = f(x) for the kernels with signature (y, x, n), `per_item` elements a work-item. */
static cg_status unary_fwd(const cg_op_call *c, const char *kernel, size_t per_item) {
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem),
                             CG_KU32(numel(c->out))};
    return cg__kernel_run1d(c->ctx, PROGRAM, kernel, (numel(c->out) + per_item - 1) / per_item,
                            0, args, 3);
}

/* dx from (dx, dy, saved, acc, n), where saved is the input x or the output y. */
static cg_status unary_bwd(const cg_op_call *c, const char *kernel, cl_mem saved) {
    if (!c->din[0].mem)
        return CG_OK;
    const cg__karg args[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->dout->mem), CG_KMEM(saved),
                             CG_KU32(cg_op_din_acc(c, 0)), CG_KU32(numel(c->out))};
    return cg__kernel_run1d(c->ctx, PROGRAM, kernel, numel(c->out), 0, args, 5);
}

static cg_status relu_fwd(const cg_op_call *c) {
    return unary_fwd(c, "relu_fwd", 1);
}
static cg_status relu_bwd(const cg_op_call *c) {
    return unary_bwd(c, "relu_bwd", c->in[0].mem);
}
static cg_status tanh_fwd(const cg_op_call *c) {
    return unary_fwd(c, "tanh_fwd", CG__BLOCK16);
}
static cg_status tanh_bwd(const cg_op_call *c) {
    return unary_bwd(c, "tanh_bwd", c->out->mem);
}
static cg_status sigmoid_fwd(const cg_op_call *c) {
    return unary_fwd(c, "sigmoid_fwd", CG__BLOCK16);
}
static cg_status sigmoid_bwd(const cg_op_call *c) {
    return unary_bwd(c, "sigmoid_bwd", c->out->mem);
}

static cg_status leaky_fwd(const cg_op_call *c) {
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem),
                             CG_KF32(c->attrs->alpha), CG_KU32(numel(c->out))};
    return cg__kernel_run1d(c->ctx, PROGRAM, "leaky_relu_fwd", numel(c->out), 0, args, 4);
}

static cg_status leaky_bwd(const cg_op_call *c) {
    if (!c->din[0].mem)
        return CG_OK;
    const cg__karg args[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->dout->mem),
                             CG_KMEM(c->in[0].mem),  CG_KF32(c->attrs->alpha),
                             CG_KU32(cg_op_din_acc(c, 0)), CG_KU32(numel(c->out))};
    return cg__kernel_run1d(c->ctx, PROGRAM, "leaky_relu_bwd", numel(c->out), 0, args, 6);
}

/* prelu on (N, C, ...) or (N, F): channels is dim 1, inner the product of the dims after it. */
static void prelu_dims(const cg_shape *s, uint32_t *channels, uint32_t *inner) {
    *channels = s->ndim > 1 ? (uint32_t)s->d[1] : 1;
    *inner = 1;
    for (int i = 2; i < s->ndim; i++)
        *inner *= (uint32_t)s->d[i];
}

/* The slope gradient's partial sums per slope: one per work-group of PRELU_LOCAL runs of
 * PRELU_RUN elements (elementwise.cl); fixed sizes, so that the shape rule can size the scratch. */
#define PRELU_RUN 512
#define PRELU_LOCAL 64

static uint32_t prelu_runs(const cg_shape *x, int slopes) {
    uint32_t channels, inner;
    prelu_dims(x, &channels, &inner);
    uint32_t batch = (uint32_t)x->d[0];
    if (slopes == 1)
        return (batch * channels * inner + PRELU_RUN - 1) / PRELU_RUN;
    return batch * ((inner + PRELU_RUN - 1) / PRELU_RUN);
}

static uint32_t prelu_chunks(const cg_shape *x, int slopes) {
    return (prelu_runs(x, slopes) + PRELU_LOCAL - 1) / PRELU_LOCAL;
}

static cg_status prelu_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *types,
                             int n_in, cg_op_shapes *out) {
    (void)types;
    (void)n_in;
    int channels = in[0].ndim > 1 ? in[0].d[1] : 1;
    if (a->count != 1 && a->count != channels)
        return cg__shape_error("prelu",
                               "%d slopes for an input of %d channels; use 1 (shared) or %d "
                               "(one per channel)",
                               a->count, channels, channels);
    out->out = in[0];
    out->n_params = 1;
    out->params[0] = cg_shape_make(1, a->count, 0, 0, 0);
    out->scratch_bytes = (size_t)prelu_chunks(&in[0], a->count) * (size_t)a->count * sizeof(float);
    return CG_OK;
}

static cg_status prelu_fwd(const cg_op_call *c) {
    uint32_t channels, inner;
    prelu_dims(&c->out->shape, &channels, &inner);
    const cg__karg args[] = {CG_KMEM(c->out->mem),    CG_KMEM(c->in[0].mem),
                             CG_KMEM(c->params[0].mem), CG_KU32(channels),
                             CG_KU32(inner),           CG_KU32(c->attrs->count == 1),
                             CG_KU32(numel(c->out))};
    return cg__kernel_run1d(c->ctx, PROGRAM, "prelu_fwd", numel(c->out), 0, args, 7);
}

static cg_status prelu_bwd(const cg_op_call *c) {
    uint32_t channels, inner;
    prelu_dims(&c->out->shape, &channels, &inner);
    uint32_t shared = c->attrs->count == 1;
    if (!c->dparams || !c->dparams[0].mem) { /* the slopes frozen: dx alone */
        if (!c->din[0].mem)
            return CG_OK;
        const cg__karg args[] = {CG_KMEM(c->din[0].mem),   CG_KMEM(c->dout->mem),
                                 CG_KMEM(c->in[0].mem),    CG_KMEM(c->params[0].mem),
                                 CG_KU32(channels),        CG_KU32(inner),
                                 CG_KU32(shared),          CG_KU32(cg_op_din_acc(c, 0)),
                                 CG_KU32(numel(c->out))};
        return cg__kernel_run1d(c->ctx, PROGRAM, "prelu_bwd_data", numel(c->out), 0, args, 9);
    }
    uint32_t chunks = prelu_chunks(&c->in[0].shape, c->attrs->count);
    size_t local[2] = {PRELU_LOCAL, 1};
    size_t global[2] = {(size_t)PRELU_LOCAL * chunks, (size_t)c->attrs->count};
    const bool want_dx = c->din[0].mem != NULL;
    cl_mem dx = want_dx ? c->din[0].mem : c->dout->mem; /* not written without want_dx */
    const uint32_t acc = want_dx ? cg_op_din_acc(c, 0) : 0;
    const cg__karg args[] = {CG_KMEM(c->scratch),
                             CG_KMEM(dx),
                             CG_KMEM(c->dout->mem),
                             CG_KMEM(c->in[0].mem),
                             CG_KMEM(c->params[0].mem),
                             CG_KU32(channels),
                             CG_KU32(inner),
                             CG_KU32(shared),
                             CG_KU32(c->out->shape.d[0]),
                             CG_KU32(acc),
                             CG_KU32(want_dx),
                             CG_KLOCAL(PRELU_LOCAL * sizeof(float))};
    cg__profile_bytes(c->ctx, 4.0 * numel(c->out) * (2 + (want_dx ? 1 + acc : 0)));
    cg_status st = cg__kernel_run(c->ctx, PROGRAM, "prelu_bwd", 2, global, local, args,
                                  CG__ARRAY_LEN(args));
    if (st == CG_OK)
        st = cg__add_chunk_sums(c->ctx, c->dparams[0].mem, c->scratch, 0, chunks,
                                (size_t)c->attrs->count);
    return st;
}

static cg_status add_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *types,
                           int n_in, cg_op_shapes *out) {
    (void)a;
    (void)types;
    (void)n_in;
    if (!cg_shape_equal(&in[0], &in[1])) {
        char s0[64], s1[64];
        cg_shape_str(&in[0], s0, sizeof s0);
        cg_shape_str(&in[1], s1, sizeof s1);
        return cg__shape_error("add", "inputs of shapes %s and %s; add needs equal shapes", s0,
                               s1);
    }
    out->out = in[0];
    return CG_OK;
}

static cg_status add_fwd(const cg_op_call *c) {
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem), CG_KMEM(c->in[1].mem),
                             CG_KU32(numel(c->out))};
    return cg__kernel_run1d(c->ctx, PROGRAM, "add_fwd", numel(c->out), 0, args, 4);
}

/* dx = alpha * dy, overwriting or accumulating: scale's forward and every linear backward. */
cg_status cg__scale_acc(cg_context *ctx, cl_mem dx, cl_mem dy, float alpha, bool acc, size_t n) {
    const cg__karg args[] = {CG_KMEM(dx), CG_KMEM(dy), CG_KF32(alpha), CG_KU32(acc), CG_KU32(n)};
    return cg__kernel_run1d(ctx, PROGRAM, "scale_acc", n, 0, args, 5);
}

static cg_status add_bwd(const cg_op_call *c) {
    for (int i = 0; i < 2; i++)
        if (c->din[i].mem) {
            cg_status st = cg__scale_acc(c->ctx, c->din[i].mem, c->dout->mem, 1.0f,
                                         cg_op_din_acc(c, i), numel(c->out));
            if (st != CG_OK)
                return st;
        }
    return CG_OK;
}

/* mul: x (N, ...) times s, one number per sample ((N) or (N, 1)): each row scaled by its own. */
static cg_status mul_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *types,
                           int n_in, cg_op_shapes *out) {
    (void)a;
    (void)types;
    (void)n_in;
    if (in[0].ndim < 1 || in[1].d[0] != in[0].d[0] ||
        cg_shape_numel(&in[1]) != (size_t)in[0].d[0]) {
        char s0[64], s1[64];
        cg_shape_str(&in[0], s0, sizeof s0);
        cg_shape_str(&in[1], s1, sizeof s1);
        return cg__shape_error("mul", "inputs of shapes %s and %s; mul scales each sample of "
                                      "the first by the second's one number per sample", s0, s1);
    }
    out->out = in[0];
    return CG_OK;
}

static uint32_t row_len(const cg_tensor *t) {
    return (uint32_t)(numel(t) / (size_t)t->shape.d[0]);
}

static cg_status mul_fwd(const cg_op_call *c) {
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem), CG_KMEM(c->in[1].mem),
                             CG_KU32(row_len(c->out)), CG_KU32(numel(c->out))};
    return cg__kernel_run1d(c->ctx, PROGRAM, "mul_rows_fwd", numel(c->out), 0, args, 5);
}

static cg_status mul_bwd(const cg_op_call *c) {
    cg_status st = CG_OK;
    if (c->din[0].mem) {
        const cg__karg args[] = {CG_KMEM(c->din[0].mem),   CG_KMEM(c->dout->mem),
                                 CG_KMEM(c->in[1].mem),    CG_KU32(row_len(c->out)),
                                 CG_KU32(cg_op_din_acc(c, 0)), CG_KU32(numel(c->out))};
        st = cg__kernel_run1d(c->ctx, PROGRAM, "mul_rows_bwd_x", numel(c->out), 0, args, 6);
    }
    if (st == CG_OK && c->din[1].mem) {
        size_t N = (size_t)c->out->shape.d[0];
        const cg__karg args[] = {CG_KMEM(c->din[1].mem),   CG_KMEM(c->dout->mem),
                                 CG_KMEM(c->in[0].mem),    CG_KU32(row_len(c->out)),
                                 CG_KU32(cg_op_din_acc(c, 1)), CG_KU32(N)};
        st = cg__kernel_run1d(c->ctx, PROGRAM, "mul_rows_bwd_s", N, 0, args, 6);
    }
    return st;
}

static cg_status scale_fwd(const cg_op_call *c) {
    return cg__scale_acc(c->ctx, c->out->mem, c->in[0].mem, c->attrs->alpha, false,
                         numel(c->out));
}

static cg_status scale_bwd(const cg_op_call *c) {
    if (!c->din[0].mem)
        return CG_OK;
    return cg__scale_acc(c->ctx, c->din[0].mem, c->dout->mem, c->attrs->alpha,
                         cg_op_din_acc(c, 0), numel(c->out));
}

const cg_op_def cg__op_relu = {
    .name = "relu",
    .program = PROGRAM,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = same_shape,
    .forward = relu_fwd,
    .backward = relu_bwd,
};
const cg_op_def cg__op_leaky_relu = {
    .name = "leaky_relu",
    .program = PROGRAM,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = same_shape,
    .forward = leaky_fwd,
    .backward = leaky_bwd,
};
const cg_op_def cg__op_prelu = {
    .name = "prelu",
    .program = PROGRAM,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = prelu_infer,
    .forward = prelu_fwd,
    .backward = prelu_bwd,
};
const cg_op_def cg__op_tanh = {
    .name = "tanh",
    .program = PROGRAM,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = same_shape,
    .forward = tanh_fwd,
    .backward = tanh_bwd,
};
const cg_op_def cg__op_sigmoid = {
    .name = "sigmoid",
    .program = PROGRAM,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = same_shape,
    .forward = sigmoid_fwd,
    .backward = sigmoid_bwd,
};
const cg_op_def cg__op_add = {
    .name = "add",
    .program = PROGRAM,
    .min_inputs = 2,
    .max_inputs = 2,
    .infer = add_infer,
    .forward = add_fwd,
    .backward = add_bwd,
};
const cg_op_def cg__op_scale = {
    .name = "scale",
    .program = PROGRAM,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = same_shape,
    .forward = scale_fwd,
    .backward = scale_bwd,
};
const cg_op_def cg__op_mul = {
    .name = "mul",
    .program = PROGRAM,
    .min_inputs = 2,
    .max_inputs = 2,
    .infer = mul_infer,
    .forward = mul_fwd,
    .backward = mul_bwd,
};
