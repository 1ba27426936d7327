/* softmax and log_softmax over dim 1 of (N, K). Kernels in cl/softmax.cl. */
#include "ops/ops_internal.h"

#define PROGRAM "softmax.cl"

static cg_status rows_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t, int n,
                            cg_op_shapes *out) {
    (void)a;
    (void)t;
    (void)n;
    if (in[0].ndim != 2) {
        char s[64];
        cg_shape_str(&in[0], s, sizeof s);
        return cg__shape_error("softmax", "input of shape %s; softmax takes (batch, classes)", s);
    }
    out->out = in[0];
    return CG_OK;
}

static cg_status rows_fwd(const cg_op_call *c, const char *kernel) {
    const cg_shape *s = &c->in[0].shape;
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem), CG_KU32(s->d[1]),
                             CG_KU32(s->d[0])};
    return cg__kernel_run1d(c->ctx, PROGRAM, kernel, (size_t)s->d[0], 0, args, 4);
}

static cg_status rows_bwd(const cg_op_call *c, const char *kernel) {
    if (!c->din[0].mem)
        return CG_OK;
    const cg_shape *s = &c->in[0].shape;
    const cg__karg args[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->dout->mem), CG_KMEM(c->out->mem),
                             CG_KU32(s->d[1]), CG_KU32(cg_op_din_acc(c, 0)), CG_KU32(s->d[0])};
    return cg__kernel_run1d(c->ctx, PROGRAM, kernel, (size_t)s->d[0], 0, args, 6);
}

static cg_status softmax_fwd(const cg_op_call *c) {
    return rows_fwd(c, "softmax_fwd");
}
static cg_status softmax_bwd(const cg_op_call *c) {
    return rows_bwd(c, "softmax_bwd");
}
static cg_status log_softmax_fwd(const cg_op_call *c) {
    return rows_fwd(c, "log_softmax_fwd");
}
static cg_status log_softmax_bwd(const cg_op_call *c) {
    return rows_bwd(c, "log_softmax_bwd");
}

const cg_op_def cg__op_softmax = {
    .name = "softmax",
    .program = PROGRAM,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = rows_infer,
    .forward = softmax_fwd,
    .backward = softmax_bwd,
};
const cg_op_def cg__op_log_softmax = {
    .name = "log_softmax",
    .program = PROGRAM,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = rows_infer,
    .forward = log_softmax_fwd,
    .backward = log_softmax_bwd,
};
