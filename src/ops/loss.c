/* Losses (kernels in cl/loss.cl). Each takes (prediction, target...) and writes one value per
 * sample, shape (N); backward scales by the per-sample upstream gradient. Labels are int32 class
 * indices in [0, classes); contrastive similarity targets are floats (1 similar, 0 not). */
#include <math.h>

#include "ops/ops_internal.h"

#define PROGRAM "loss.cl"

static size_t rows(const cg_tensor *t) {
    return (size_t)t->shape.d[0];
}

static size_t per_row(const cg_shape *s) {
    return s->ndim ? cg_shape_numel(s) / (size_t)s->d[0] : 0;
}

/* Checks that input i is a label vector (N) of int32 for an N-row prediction. */
static cg_status expect_labels(const char *op, const cg_shape *in, const cg_dtype *t, int i,
                               int n) {
    if (in[i].ndim != 1 || in[i].d[0] != n || t[i] != CG_I32) {
        char s[64];
        cg_shape_str(&in[i], s, sizeof s);
        return cg__shape_error(op,
                               "input %d has shape %s%s; it must be integer labels, one per "
                               "sample (%d)",
                               i, s, t[i] == CG_I32 ? "" : " and holds floats", n);
    }
    return CG_OK;
}

/* Checks that inputs first..last have the shape of input 0. */
static cg_status expect_same(const char *op, const cg_shape *in, int first, int last) {
    for (int i = first; i <= last; i++)
        if (!cg_shape_equal(&in[0], &in[i])) {
            char s0[64], si[64];
            cg_shape_str(&in[0], s0, sizeof s0);
            cg_shape_str(&in[i], si, sizeof si);
            return cg__shape_error(op, "input %d has shape %s, input 0 %s; they must be equal", i,
                                   si, s0);
        }
    return CG_OK;
}

static cg_status expect_matrix(const char *op, const cg_shape *s) {
    if (s->ndim == 2)
        return CG_OK;
    char str[64];
    cg_shape_str(s, str, sizeof str);
    return cg__shape_error(op, "input 0 has shape %s; it must be (batch, features)", str);
}

static void per_sample(const cg_shape *in, cg_op_shapes *out, int elements) {
    out->out = cg_shape_make(1, in[0].d[0], 0, 0, 0);
    out->loss_elements = elements;
}

/* A loss of inputs 0..last that are all the same (batch, features) matrix, one value per
 * sample: triplet, kl_normal, kl_sample. */
static cg_status same_matrices_infer(const char *op, const cg_shape *in, int last,
                                     cg_op_shapes *out) {
    cg_status st = expect_matrix(op, &in[0]);
    if (st == CG_OK)
        st = expect_same(op, in, 1, last);
    if (st == CG_OK)
        per_sample(in, out, 1);
    return st;
}

/* ---- cross-entropy and COOL ---- */

static cg_status ce_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t, int n,
                          cg_op_shapes *out) {
    (void)a;
    (void)n;
    cg_status st = expect_matrix("cross_entropy", &in[0]);
    if (st == CG_OK)
        st = expect_labels("cross_entropy", in, t, 1, in[0].d[0]);
    if (st == CG_OK)
        per_sample(in, out, 1);
    return st;
}

static cg_status ce_fwd(const cg_op_call *c) {
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem), CG_KMEM(c->in[1].mem),
                             CG_KU32(c->in[0].shape.d[1]), CG_KU32(rows(&c->in[0]))};
    return cg__kernel_run1d(c->ctx, PROGRAM, "cross_entropy_fwd", rows(&c->in[0]), 0, args, 5);
}

static cg_status ce_bwd(const cg_op_call *c) {
    if (!c->din[0].mem)
        return CG_OK;
    const cg__karg args[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->dout->mem), CG_KMEM(c->in[0].mem),
                             CG_KMEM(c->in[1].mem), CG_KU32(c->in[0].shape.d[1]),
                             CG_KU32(cg_op_din_acc(c, 0)), CG_KU32(rows(&c->in[0]))};
    return cg__kernel_run1d(c->ctx, PROGRAM, "cross_entropy_bwd", rows(&c->in[0]), 0, args, 7);
}

static cg_status cool_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t, int n,
                            cg_op_shapes *out) {
    (void)n;
    cg_status st = expect_matrix("cool", &in[0]);
    if (st == CG_OK && (a->count < 1 || in[0].d[1] % a->count != 0))
        st = cg__shape_error("cool", "%d outputs do not split into groups of omega = %d per "
                                     "class",
                             in[0].d[1], a->count);
    if (st == CG_OK)
        st = expect_labels("cool", in, t, 1, in[0].d[0]);
    if (st == CG_OK)
        per_sample(in, out, 1);
    return st;
}

static cg_status cool_fwd(const cg_op_call *c) {
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem), CG_KMEM(c->in[1].mem),
                             CG_KU32(c->in[0].shape.d[1]), CG_KU32(c->attrs->count),
                             CG_KU32(rows(&c->in[0]))};
    return cg__kernel_run1d(c->ctx, PROGRAM, "cool_fwd", rows(&c->in[0]), 0, args, 6);
}

static cg_status cool_bwd(const cg_op_call *c) {
    if (!c->din[0].mem)
        return CG_OK;
    const cg__karg args[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->dout->mem), CG_KMEM(c->in[0].mem),
                             CG_KMEM(c->in[1].mem), CG_KU32(c->in[0].shape.d[1]),
                             CG_KU32(c->attrs->count), CG_KU32(cg_op_din_acc(c, 0)),
                             CG_KU32(rows(&c->in[0]))};
    return cg__kernel_run1d(c->ctx, PROGRAM, "cool_bwd", rows(&c->in[0]), 0, args, 8);
}

/* ---- element-wise losses: binary cross-entropy from logits, squared error ---- */

static cg_status pair_infer(const char *op, const cg_shape *in, cg_op_shapes *out) {
    cg_status st = expect_same(op, in, 1, 1);
    if (st == CG_OK)
        per_sample(in, out, (int)per_row(&in[0]));
    return st;
}

static cg_status bce_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t, int n,
                           cg_op_shapes *out) {
    (void)a;
    (void)t;
    (void)n;
    /* (N, 1) logits against (N) targets, as PyTorch users write a binary classifier's loss:
     * the same numbers in the same order. */
    bool column = in[0].ndim == 2 && in[0].d[1] == 1 && in[1].ndim == 1 &&
                  in[1].d[0] == in[0].d[0];
    if (column) {
        per_sample(in, out, 1);
        return CG_OK;
    }
    return pair_infer("binary_cross_entropy", in, out);
}

static cg_status mse_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t, int n,
                           cg_op_shapes *out) {
    (void)a;
    (void)t;
    (void)n;
    return pair_infer("mse", in, out);
}

static cg_status rowwise_fwd(const cg_op_call *c, const char *kernel) {
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem), CG_KMEM(c->in[1].mem),
                             CG_KU32(per_row(&c->in[0].shape)), CG_KU32(rows(&c->in[0]))};
    return cg__kernel_run1d(c->ctx, PROGRAM, kernel, rows(&c->in[0]), 0, args, 5);
}

static cg_status bce_fwd(const cg_op_call *c) {
    return rowwise_fwd(c, "bce_logits_fwd");
}

static cg_status bce_bwd(const cg_op_call *c) {
    if (!c->din[0].mem)
        return CG_OK;
    size_t total = cg_shape_numel(&c->in[0].shape);
    const cg__karg args[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->dout->mem), CG_KMEM(c->in[0].mem),
                             CG_KMEM(c->in[1].mem), CG_KU32(per_row(&c->in[0].shape)),
                             CG_KU32(cg_op_din_acc(c, 0)), CG_KU32(total)};
    return cg__kernel_run1d(c->ctx, PROGRAM, "bce_logits_bwd", total, 0, args, 7);
}

/* The squared error, scale * sum (p - t)^2 + offset per sample: mse is scale 1, offset 0; the
 * Gaussian negative log-likelihood of variance v is scale 1 / (2 v), offset F/2 log(2 pi v). */
static void squared_error_terms(const cg_op_call *c, bool gaussian, float *scale, float *offset) {
    double v = c->attrs->alpha, F = (double)per_row(&c->in[0].shape);
    *scale = gaussian ? (float)(0.5 / v) : 1.0f;
    *offset = gaussian ? (float)(0.5 * F * log(2.0 * 3.14159265358979323846 * v)) : 0.0f;
}

static cg_status squared_error_fwd(const cg_op_call *c, bool gaussian) {
    float scale, offset;
    squared_error_terms(c, gaussian, &scale, &offset);
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem), CG_KMEM(c->in[1].mem),
                             CG_KF32(scale), CG_KF32(offset), CG_KU32(per_row(&c->in[0].shape)),
                             CG_KU32(rows(&c->in[0]))};
    return cg__kernel_run1d(c->ctx, PROGRAM, "mse_fwd", rows(&c->in[0]), 0, args, 7);
}

static cg_status squared_error_bwd(const cg_op_call *c, bool gaussian) {
    float scale, offset;
    squared_error_terms(c, gaussian, &scale, &offset);
    size_t total = cg_shape_numel(&c->in[0].shape);
    for (int i = 0; i < 2; i++) {
        if (!c->din[i].mem)
            continue;
        const cg__karg args[] = {CG_KMEM(c->din[i].mem), CG_KMEM(c->dout->mem),
                                 CG_KMEM(c->in[0].mem), CG_KMEM(c->in[1].mem),
                                 CG_KF32(i == 0 ? scale : -scale), CG_KU32(per_row(&c->in[0].shape)),
                                 CG_KU32(cg_op_din_acc(c, i)), CG_KU32(total)};
        cg_status st = cg__kernel_run1d(c->ctx, PROGRAM, "mse_bwd", total, 0, args, 8);
        if (st != CG_OK)
            return st;
    }
    return CG_OK;
}

static cg_status mse_fwd(const cg_op_call *c) {
    return squared_error_fwd(c, false);
}

static cg_status mse_bwd(const cg_op_call *c) {
    return squared_error_bwd(c, false);
}

static cg_status gaussian_nll_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t,
                                    int n, cg_op_shapes *out) {
    (void)t;
    (void)n;
    if (!(a->alpha > 0.0f))
        return cg__shape_error("gaussian_nll", "variance %g; it must be above 0", (double)a->alpha);
    return pair_infer("gaussian_nll", in, out);
}

static cg_status gaussian_nll_fwd(const cg_op_call *c) {
    return squared_error_fwd(c, true);
}

static cg_status gaussian_nll_bwd(const cg_op_call *c) {
    return squared_error_bwd(c, true);
}

/* ---- metric learning: contrastive, triplet ---- */

static cg_status contrastive_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t,
                                   int n, cg_op_shapes *out) {
    (void)a;
    cg_status st = expect_matrix("contrastive", &in[0]);
    if (st == CG_OK)
        st = expect_same("contrastive", in, 1, 1);
    if (st == CG_OK && (in[2].ndim != 1 || in[2].d[0] != in[0].d[0] || t[2] != CG_F32))
        st = cg__shape_error("contrastive", "input 2 must hold one float target per pair "
                                            "(1 similar, 0 dissimilar), %d of them",
                             in[0].d[0]);
    if (st == CG_OK && n == 4 && (in[3].ndim != 1 || in[3].d[0] != in[0].d[0] || t[3] != CG_F32))
        st = cg__shape_error("contrastive", "input 3 must hold one float weight per pair, %d "
                                            "of them",
                             in[0].d[0]);
    if (st == CG_OK)
        per_sample(in, out, 1);
    return st;
}

/* The optional fourth input weights each pair; without it the kernels get the targets in its
 * place and do not read them. */
static const cl_mem *pair_weights(const cg_op_call *c) {
    return c->n_in > 3 ? &c->in[3].mem : &c->in[2].mem;
}

static cg_status contrastive_fwd(const cg_op_call *c) {
    const cg__karg args[] = {CG_KMEM(c->out->mem),    CG_KMEM(c->in[0].mem),
                             CG_KMEM(c->in[1].mem),   CG_KMEM(c->in[2].mem),
                             {sizeof(cl_mem), pair_weights(c)}, CG_KU32(c->n_in > 3),
                             CG_KF32(c->attrs->alpha), CG_KU32(c->in[0].shape.d[1]),
                             CG_KU32(rows(&c->in[0]))};
    return cg__kernel_run1d(c->ctx, PROGRAM, "contrastive_fwd", rows(&c->in[0]), 0, args, 9);
}

static cg_status contrastive_bwd(const cg_op_call *c) {
    if (!c->din[0].mem && !c->din[1].mem)
        return CG_OK;
    size_t total = cg_shape_numel(&c->in[0].shape);
    const cg__karg args[] = {CG_KMEM(c->din[0].mem),  CG_KMEM(c->din[1].mem),
                             CG_KMEM(c->dout->mem),   CG_KMEM(c->in[0].mem),
                             CG_KMEM(c->in[1].mem),   CG_KMEM(c->in[2].mem),
                             {sizeof(cl_mem), pair_weights(c)}, CG_KU32(c->n_in > 3),
                             CG_KF32(c->attrs->alpha), CG_KU32(c->in[0].shape.d[1]),
                             CG_KU32(c->din[0].mem != NULL), CG_KU32(c->din[1].mem != NULL),
                             CG_KU32(cg_op_din_acc(c, 0)), CG_KU32(cg_op_din_acc(c, 1)),
                             CG_KU32(total)};
    return cg__kernel_run1d(c->ctx, PROGRAM, "contrastive_bwd", total, 0, args, 15);
}

static cg_status triplet_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t,
                               int n, cg_op_shapes *out) {
    (void)a;
    (void)t;
    (void)n;
    return same_matrices_infer("triplet", in, 2, out);
}

static cg_status triplet_fwd(const cg_op_call *c) {
    const cg__karg args[] = {CG_KMEM(c->out->mem),  CG_KMEM(c->in[0].mem),
                             CG_KMEM(c->in[1].mem), CG_KMEM(c->in[2].mem),
                             CG_KF32(c->attrs->alpha), CG_KU32(c->in[0].shape.d[1]),
                             CG_KU32(rows(&c->in[0]))};
    return cg__kernel_run1d(c->ctx, PROGRAM, "triplet_fwd", rows(&c->in[0]), 0, args, 7);
}

static cg_status triplet_bwd(const cg_op_call *c) {
    size_t total = cg_shape_numel(&c->in[0].shape);
    for (uint32_t which = 0; which < 3; which++) {
        if (!c->din[which].mem)
            continue;
        const cg__karg args[] = {CG_KMEM(c->din[which].mem), CG_KMEM(c->dout->mem),
                                 CG_KMEM(c->in[0].mem),      CG_KMEM(c->in[1].mem),
                                 CG_KMEM(c->in[2].mem),      CG_KF32(c->attrs->alpha),
                                 CG_KU32(c->in[0].shape.d[1]), CG_KU32(which),
                                 CG_KU32(cg_op_din_acc(c, (int)which)), CG_KU32(total)};
        cg_status st = cg__kernel_run1d(c->ctx, PROGRAM, "triplet_bwd", total, 0, args, 10);
        if (st != CG_OK)
            return st;
    }
    return CG_OK;
}

/* ---- similarity (class means) and KL ---- */

static cg_status similarity_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t,
                                  int n, cg_op_shapes *out) {
    cg_status st = expect_matrix("similarity", &in[0]);
    if (st == CG_OK)
        st = expect_labels("similarity", in, t, 1, in[0].d[0]);
    if (st == CG_OK && n == 3) /* pairs with different groups (backgrounds) only */
        st = expect_labels("similarity", in, t, 2, in[0].d[0]);
    if (st == CG_OK && a->count < 1)
        st = cg__shape_error("similarity", "needs the number of classes (at least 1), not %d",
                             a->count);
    if (st != CG_OK)
        return st;
    per_sample(in, out, 1);
    size_t kd = (size_t)a->count * (size_t)in[0].d[1];
    out->scratch_bytes = (2 * kd + (size_t)a->count) * sizeof(float);
    return CG_OK;
}

static cg_status class_stats(const cg_op_call *c, cl_mem w) {
    uint32_t K = (uint32_t)c->attrs->count, D = (uint32_t)c->in[0].shape.d[1];
    const cg__karg args[] = {CG_KMEM(c->scratch), CG_KMEM(c->in[0].mem), CG_KMEM(c->in[1].mem),
                             CG_KMEM(w),          CG_KU32(w != NULL),    CG_KU32(K),
                             CG_KU32(D),          CG_KU32(rows(&c->in[0]))};
    return cg__kernel_run1d(c->ctx, PROGRAM, "class_stats", (size_t)K * D, 0, args, 8);
}

/* With a third input (a group id per sample), only same-class pairs of different groups pull
 * together: the study's "different backgrounds" variant. */
static cg_status pairs_fwd(const cg_op_call *c) {
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem), CG_KMEM(c->in[1].mem),
                             CG_KMEM(c->in[2].mem), CG_KU32(c->in[0].shape.d[1]),
                             CG_KU32(rows(&c->in[0]))};
    return cg__kernel_run1d(c->ctx, PROGRAM, "similarity_pairs_fwd", rows(&c->in[0]), 0, args, 6);
}

static cg_status pairs_bwd(const cg_op_call *c) {
    size_t total = cg_shape_numel(&c->in[0].shape);
    const cg__karg args[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->dout->mem), CG_KMEM(c->in[0].mem),
                             CG_KMEM(c->in[1].mem), CG_KMEM(c->in[2].mem),
                             CG_KU32(c->in[0].shape.d[1]), CG_KU32(cg_op_din_acc(c, 0)),
                             CG_KU32(total)};
    return cg__kernel_run1d(c->ctx, PROGRAM, "similarity_pairs_bwd", total, 0, args, 8);
}

static cg_status similarity_fwd(const cg_op_call *c) {
    if (c->n_in == 3)
        return pairs_fwd(c);
    cg_status st = class_stats(c, NULL);
    if (st != CG_OK)
        return st;
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem), CG_KMEM(c->in[1].mem),
                             CG_KMEM(c->scratch),  CG_KU32(c->attrs->count),
                             CG_KU32(c->in[0].shape.d[1]), CG_KU32(rows(&c->in[0]))};
    return cg__kernel_run1d(c->ctx, PROGRAM, "similarity_fwd", rows(&c->in[0]), 0, args, 7);
}

static cg_status similarity_bwd(const cg_op_call *c) {
    if (!c->din[0].mem)
        return CG_OK;
    if (c->n_in == 3)
        return pairs_bwd(c);
    cg_status st = class_stats(c, c->dout->mem);
    if (st != CG_OK)
        return st;
    size_t total = cg_shape_numel(&c->in[0].shape);
    const cg__karg args[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->dout->mem), CG_KMEM(c->in[0].mem),
                             CG_KMEM(c->in[1].mem),  CG_KMEM(c->scratch), CG_KU32(c->attrs->count),
                             CG_KU32(c->in[0].shape.d[1]), CG_KU32(cg_op_din_acc(c, 0)),
                             CG_KU32(total)};
    return cg__kernel_run1d(c->ctx, PROGRAM, "similarity_bwd", total, 0, args, 9);
}

static cg_status kl_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t, int n,
                          cg_op_shapes *out) {
    (void)a;
    (void)t;
    (void)n;
    return same_matrices_infer("kl_normal", in, 1, out);
}

static cg_status kl_fwd(const cg_op_call *c) {
    return rowwise_fwd(c, "kl_normal_fwd");
}

static cg_status kl_bwd(const cg_op_call *c) {
    if (!c->din[0].mem && !c->din[1].mem)
        return CG_OK;
    size_t total = cg_shape_numel(&c->in[0].shape);
    const cg__karg args[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->din[1].mem), CG_KMEM(c->dout->mem),
                             CG_KMEM(c->in[0].mem),  CG_KMEM(c->in[1].mem),
                             CG_KU32(c->in[0].shape.d[1]), CG_KU32(c->din[0].mem != NULL),
                             CG_KU32(c->din[1].mem != NULL), CG_KU32(cg_op_din_acc(c, 0)),
                             CG_KU32(cg_op_din_acc(c, 1)), CG_KU32(total)};
    return cg__kernel_run1d(c->ctx, PROGRAM, "kl_normal_bwd", total, 0, args, 11);
}

/* ---- one draw's log q(z) - log p(z) (kl_sample) ---- */

static cg_status kl_sample_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t,
                                 int n, cg_op_shapes *out) {
    (void)a;
    (void)t;
    (void)n;
    return same_matrices_infer("kl_sample", in, 2, out);
}

static cg_status kl_sample_fwd(const cg_op_call *c) {
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem), CG_KMEM(c->in[1].mem),
                             CG_KMEM(c->in[2].mem), CG_KU32(per_row(&c->in[0].shape)),
                             CG_KU32(rows(&c->in[0]))};
    return cg__kernel_run1d(c->ctx, PROGRAM, "kl_sample_fwd", rows(&c->in[0]), 0, args, 6);
}

static cg_status kl_sample_bwd(const cg_op_call *c) {
    unsigned want = 0, acc = 0;
    for (int i = 0; i < 3; i++) {
        want |= c->din[i].mem ? 1u << i : 0u;
        acc |= c->din[i].mem && cg_op_din_acc(c, i) ? 1u << i : 0u;
    }
    if (!want)
        return CG_OK;
    size_t total = cg_shape_numel(&c->in[0].shape);
    const cg__karg args[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->din[1].mem),
                             CG_KMEM(c->din[2].mem), CG_KMEM(c->dout->mem),
                             CG_KMEM(c->in[0].mem),  CG_KMEM(c->in[1].mem),
                             CG_KMEM(c->in[2].mem),  CG_KU32(per_row(&c->in[0].shape)),
                             CG_KU32(want),          CG_KU32(acc),
                             CG_KU32(total)};
    return cg__kernel_run1d(c->ctx, PROGRAM, "kl_sample_bwd", total, 0, args, 11);
}

#define LOSS(var, name_, n_in, infer_, fwd_, bwd_)                                                 \
    const cg_op_def var = {.name = name_,       .program = PROGRAM, .min_inputs = n_in,           \
                           .max_inputs = n_in,  .is_loss = true,    .infer = infer_,              \
                           .forward = fwd_,     .backward = bwd_}

static int cool_classes(const cg_op_attrs *a, const cg_shape *in) {
    return a->count > 0 ? in[0].d[1] / a->count : 0;
}

static int similarity_classes(const cg_op_attrs *a, const cg_shape *in) {
    (void)in;
    return a->count;
}

const cg_op_def cg__op_cross_entropy = {.name = "cross_entropy", .program = PROGRAM,
                                        .min_inputs = 2, .max_inputs = 2, .is_loss = true,
                                        .infer = ce_infer, .forward = ce_fwd, .backward = ce_bwd,
                                        .label_input = 2, .classes = cg__classes_of_width};
const cg_op_def cg__op_cool = {.name = "cool", .program = PROGRAM, .min_inputs = 2,
                               .max_inputs = 2, .is_loss = true, .infer = cool_infer,
                               .forward = cool_fwd, .backward = cool_bwd, .label_input = 2,
                               .classes = cool_classes};
LOSS(cg__op_bce, "binary_cross_entropy", 2, bce_infer, bce_fwd, bce_bwd);
LOSS(cg__op_mse, "mse", 2, mse_infer, mse_fwd, mse_bwd);
LOSS(cg__op_gaussian_nll, "gaussian_nll", 2, gaussian_nll_infer, gaussian_nll_fwd,
     gaussian_nll_bwd);
const cg_op_def cg__op_contrastive = {.name = "contrastive", .program = PROGRAM, .min_inputs = 3,
                                      .max_inputs = 4, .is_loss = true,
                                      .infer = contrastive_infer, .forward = contrastive_fwd,
                                      .backward = contrastive_bwd};
LOSS(cg__op_triplet, "triplet", 3, triplet_infer, triplet_fwd, triplet_bwd);
const cg_op_def cg__op_similarity = {.name = "similarity", .program = PROGRAM, .min_inputs = 2,
                                     .max_inputs = 3, .is_loss = true,
                                     .infer = similarity_infer, .forward = similarity_fwd,
                                     .backward = similarity_bwd, .label_input = 2,
                                     .classes = similarity_classes};
LOSS(cg__op_kl_normal, "kl_normal", 2, kl_infer, kl_fwd, kl_bwd);
LOSS(cg__op_kl_sample, "kl_sample", 3, kl_sample_infer, kl_sample_fwd, kl_sample_bwd);
