/* Shape ops: flatten and reshape (views: the same values under another shape), concat and
 * slice along dim 1 (kernels in cl/shape.cl). */
#include "ops/ops_internal.h"

#define PROGRAM "shape.cl"

static cg_status flatten_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t,
                               int n, cg_op_shapes *out) {
    (void)a;
    (void)n;
    out->out = cg_shape_make(2, in[0].d[0], (int)(cg_shape_numel(&in[0]) / (size_t)in[0].d[0]),
                             0, 0);
    out->out_dtype = t[0];
    return CG_OK;
}

static cg_status reshape_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t,
                               int n, cg_op_shapes *out) {
    (void)n;
    cg_shape s = a->target;
    char want[64], have[64];
    cg_shape_str(&a->target, want, sizeof want);
    cg_shape_str(&in[0], have, sizeof have);
    if (s.ndim < 1 || s.ndim > CG_MAX_DIMS)
        return cg__shape_error("reshape", "target %s needs 1 to %d dims", want, CG_MAX_DIMS);
    size_t known = 1;
    int infer_at = -1;
    for (int i = 0; i < s.ndim; i++) {
        if (s.d[i] == -1 && infer_at < 0) {
            infer_at = i;
        } else if (s.d[i] < 1) {
            return cg__shape_error("reshape", "target %s: dims must be positive, with at most "
                                              "one -1 to infer",
                                   want);
        } else {
            known *= (size_t)s.d[i];
        }
    }
    size_t total = cg_shape_numel(&in[0]);
    if (infer_at >= 0 && known > 0 && total % known == 0)
        s.d[infer_at] = (int)(total / known);
    if (cg_shape_numel(&s) != total)
        return cg__shape_error("reshape", "cannot view an input of shape %s (%zu values) as %s",
                               have, total, want);
    out->out = s;
    out->out_dtype = t[0];
    return CG_OK;
}

/* A view's forward and backward when the executor did not alias the buffers. */
static cg_status view_fwd(const cg_op_call *c) {
    size_t n = cg_shape_numel(&c->out->shape);
    return cg__scale_acc(c->ctx, c->out->mem, c->in[0].mem, 1.0f, false, n);
}

static cg_status view_bwd(const cg_op_call *c) {
    if (!c->din[0].mem)
        return CG_OK;
    size_t n = cg_shape_numel(&c->out->shape);
    return cg__scale_acc(c->ctx, c->din[0].mem, c->dout->mem, 1.0f, cg_op_din_acc(c, 0), n);
}

/* The size of one sample's block of `channels` channels: channels times the trailing dims. */
static uint32_t block(const cg_shape *s, int channels) {
    uint32_t inner = (uint32_t)channels;
    for (int i = 2; i < s->ndim; i++)
        inner *= (uint32_t)s->d[i];
    return inner;
}

static cg_status concat_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t,
                              int n, cg_op_shapes *out) {
    (void)a;
    (void)t;
    cg_shape s = in[0];
    for (int i = 1; i < n; i++) {
        bool same = in[i].ndim == s.ndim && in[i].ndim >= 2;
        for (int d = 0; same && d < s.ndim; d++)
            same = d == 1 || in[i].d[d] == s.d[d];
        if (!same) {
            char s0[64], si[64];
            cg_shape_str(&in[0], s0, sizeof s0);
            cg_shape_str(&in[i], si, sizeof si);
            return cg__shape_error("concat", "input %d has shape %s, input 0 %s; concat joins "
                                             "dim 1 and needs every other dim equal",
                                   i, si, s0);
        }
        s.d[1] += in[i].d[1];
    }
    out->out = s;
    return CG_OK;
}

static cg_status concat_fwd(const cg_op_call *c) {
    uint32_t inner_y = block(&c->out->shape, c->out->shape.d[1]), offset = 0;
    for (int i = 0; i < c->n_in; i++) {
        uint32_t inner_x = block(&c->in[i].shape, c->in[i].shape.d[1]);
        size_t n = cg_shape_numel(&c->in[i].shape);
        const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[i].mem), CG_KU32(inner_x),
                                 CG_KU32(inner_y),     CG_KU32(offset),       CG_KU32(n)};
        cg_status st = cg__kernel_run1d(c->ctx, PROGRAM, "block_put", n, 0, args, 6);
        if (st != CG_OK)
            return st;
        offset += inner_x;
    }
    return CG_OK;
}

static cg_status concat_bwd(const cg_op_call *c) {
    uint32_t inner_y = block(&c->out->shape, c->out->shape.d[1]), offset = 0;
    for (int i = 0; i < c->n_in; i++) {
        uint32_t inner_x = block(&c->in[i].shape, c->in[i].shape.d[1]);
        size_t n = cg_shape_numel(&c->in[i].shape);
        if (c->din[i].mem) {
            const cg__karg args[] = {CG_KMEM(c->din[i].mem), CG_KMEM(c->dout->mem),
                                     CG_KU32(inner_x),       CG_KU32(inner_y),
                                     CG_KU32(offset),        CG_KU32(cg_op_din_acc(c, i)),
                                     CG_KU32(n)};
            cg_status st = cg__kernel_run1d(c->ctx, PROGRAM, "block_get", n, 0, args, 7);
            if (st != CG_OK)
                return st;
        }
        offset += inner_x;
    }
    return CG_OK;
}

static cg_status slice_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t, int n,
                             cg_op_shapes *out) {
    (void)t;
    (void)n;
    int start = a->slice[0], count = a->slice[1];
    if (in[0].ndim < 2 || start < 0 || count < 1 || start + count > in[0].d[1]) {
        char s[64];
        cg_shape_str(&in[0], s, sizeof s);
        return cg__shape_error("slice",
                               "channels %d to %d of an input of shape %s; the slice must lie "
                               "inside dim 1",
                               start, start + count - 1, s);
    }
    out->out = in[0];
    out->out.d[1] = count;
    return CG_OK;
}

static cg_status slice_fwd(const cg_op_call *c) {
    const cg_shape *x = &c->in[0].shape;
    uint32_t inner_out = block(x, c->attrs->slice[1]), inner_in = block(x, x->d[1]);
    size_t n = cg_shape_numel(&c->out->shape);
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem), CG_KU32(inner_out),
                             CG_KU32(inner_in),    CG_KU32(block(x, c->attrs->slice[0])),
                             CG_KU32(0),           CG_KU32(n)};
    return cg__kernel_run1d(c->ctx, PROGRAM, "block_get", n, 0, args, 7);
}

static cg_status slice_bwd(const cg_op_call *c) {
    if (!c->din[0].mem)
        return CG_OK;
    const cg_shape *x = &c->in[0].shape;
    size_t n = cg_shape_numel(x);
    const cg__karg args[] = {CG_KMEM(c->din[0].mem),
                             CG_KMEM(c->dout->mem),
                             CG_KU32(block(x, c->attrs->slice[1])),
                             CG_KU32(block(x, x->d[1])),
                             CG_KU32(block(x, c->attrs->slice[0])),
                             CG_KU32(cg_op_din_acc(c, 0)),
                             CG_KU32(n)};
    return cg__kernel_run1d(c->ctx, PROGRAM, "block_scatter_zero", n, 0, args, 7);
}

const cg_op_def cg__op_flatten = {
    .name = "flatten",
    .program = "elementwise.cl",
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = flatten_infer,
    .forward = view_fwd,
    .backward = view_bwd,
    .is_view = true,
};
const cg_op_def cg__op_reshape = {
    .name = "reshape",
    .program = "elementwise.cl",
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = reshape_infer,
    .forward = view_fwd,
    .backward = view_bwd,
    .is_view = true,
};
const cg_op_def cg__op_concat = {
    .name = "concat",
    .program = PROGRAM,
    .min_inputs = 2,
    .max_inputs = CG_MAX_INPUTS,
    .infer = concat_infer,
    .forward = concat_fwd,
    .backward = concat_bwd,
};
const cg_op_def cg__op_slice = {
    .name = "slice",
    .program = PROGRAM,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = slice_infer,
    .forward = slice_fwd,
    .backward = slice_bwd,
};
