/* Metric ops (no backward): `accuracy` gives 1 or 0 per sample for an argmax against labels
 * (with `threshold`, only where the best score exceeds it); `cool_confidence` gives the COOL
 * confidence of every class; `jacobian_trace` estimates the trace of an autoencoder's Jacobian
 * from probes (see `probe`) and `dae_confidence` turns it and the reconstruction error into the
 * dAE study's confidence; `max` gives each row's largest number (a classifier's top score). cg__sum_into adds a vector's sum into an accumulator slot on the
 * device. Kernels in cl/metrics.cl. */
#include <math.h>
#include <stdlib.h>

#include "ops/ops_internal.h"

#define PROGRAM "metrics.cl"

/* Scores (batch, classes) and an integer per sample (batch): accuracy's labels, pick's indices;
 * one number per sample out. what says what the integers are, for the message. */
static cg_status scores_and_ints_infer(const char *op, const char *what, const cg_shape *in,
                                       const cg_dtype *t, cg_op_shapes *out) {
    if (in[0].ndim != 2 || in[1].ndim != 1 || in[1].d[0] != in[0].d[0] || t[1] != CG_I32) {
        char s0[64], s1[64];
        cg_shape_str(&in[0], s0, sizeof s0);
        cg_shape_str(&in[1], s1, sizeof s1);
        return cg__shape_error(op, "inputs %s and %s; %s takes scores (batch, classes) and %s",
                               s0, s1, op, what);
    }
    out->out = cg_shape_make(1, in[0].d[0], 0, 0, 0);
    return CG_OK;
}

static cg_status accuracy_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t,
                                int n, cg_op_shapes *out) {
    (void)a;
    (void)n;
    return scores_and_ints_infer("accuracy", "integer labels (batch)", in, t, out);
}

static cg_status accuracy_fwd(const cg_op_call *c) {
    size_t n = (size_t)c->in[0].shape.d[0];
    float threshold = c->attrs->thresholded ? c->attrs->threshold : -INFINITY;
    const cg__karg args[] = {CG_KMEM(c->out->mem),         CG_KMEM(c->in[0].mem),
                             CG_KMEM(c->in[1].mem),        CG_KF32(threshold),
                             CG_KU32(c->in[0].shape.d[1]), CG_KU32(n)};
    return cg__kernel_run1d(c->ctx, PROGRAM, "argmax_correct", n, 0, args, 6);
}

static cg_status confidence_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t,
                                  int n, cg_op_shapes *out) {
    (void)t;
    (void)n;
    if (in[0].ndim != 2 || a->count < 1 || in[0].d[1] % a->count != 0) {
        char s[64];
        cg_shape_str(&in[0], s, sizeof s);
        return cg__shape_error("cool_confidence",
                               "input %s with omega %d; it takes (batch, classes * omega)", s,
                               a->count);
    }
    out->out = cg_shape_make(2, in[0].d[0], in[0].d[1] / a->count, 0, 0);
    return CG_OK;
}

static cg_status confidence_fwd(const cg_op_call *c) {
    size_t n = (size_t)c->in[0].shape.d[0];
    uint32_t omega = (uint32_t)c->attrs->count;
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem),
                             CG_KU32((uint32_t)c->in[0].shape.d[1] / omega), CG_KU32(omega),
                             CG_KU32(n)};
    return cg__kernel_run1d(c->ctx, PROGRAM, "cool_confidence", n, 0, args, 5);
}

/* The numbers per sample of a value (everything after the batch dimension). */
static size_t per_sample(const cg_shape *s) {
    return s->d[0] ? cg_shape_numel(s) / (size_t)s->d[0] : 0;
}

/* x (N, ...), xp (K N, ...), r (N, ...), rp (K N, ...): as many numbers per sample in each. */
static cg_status trace_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t, int n,
                             cg_op_shapes *out) {
    (void)a;
    (void)t;
    (void)n;
    size_t d = per_sample(&in[0]);
    int N = in[0].d[0];
    bool ok = N > 0 && in[1].d[0] % N == 0 && in[2].d[0] == N && in[3].d[0] == in[1].d[0] &&
              per_sample(&in[1]) == d && per_sample(&in[2]) == d && per_sample(&in[3]) == d;
    if (!ok) {
        char s[4][64];
        for (int i = 0; i < 4; i++)
            cg_shape_str(&in[i], s[i], sizeof s[i]);
        return cg__shape_error("jacobian_trace",
                               "inputs x %s, probed x %s, r %s, probed r %s; it takes x and r "
                               "with as many numbers per sample and the probed copies of both "
                               "(from probe: K times the batch)",
                               s[0], s[1], s[2], s[3]);
    }
    out->out = cg_shape_make(1, N, 0, 0, 0);
    return CG_OK;
}

static cg_status trace_fwd(const cg_op_call *c) {
    uint32_t N = (uint32_t)c->in[0].shape.d[0];
    const cg__karg args[] = {CG_KMEM(c->out->mem),
                             CG_KMEM(c->in[0].mem),
                             CG_KMEM(c->in[1].mem),
                             CG_KMEM(c->in[2].mem),
                             CG_KMEM(c->in[3].mem),
                             CG_KU32(per_sample(&c->in[0].shape)),
                             CG_KU32((uint32_t)c->in[1].shape.d[0] / N),
                             CG_KU32(N)};
    return cg__kernel_run1d(c->ctx, PROGRAM, "jacobian_trace", N, 0, args, 8);
}

/* x (N, ...), r (N, ...) with as many numbers per sample, trace (N). */
static cg_status dae_conf_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t,
                                int n, cg_op_shapes *out) {
    (void)t;
    (void)n;
    int N = in[0].d[0];
    if (N <= 0 || in[1].d[0] != N || per_sample(&in[1]) != per_sample(&in[0]) ||
        cg_shape_numel(&in[2]) != (size_t)N) {
        char s[3][64];
        for (int i = 0; i < 3; i++)
            cg_shape_str(&in[i], s[i], sizeof s[i]);
        return cg__shape_error("dae_confidence",
                               "inputs x %s, r %s, trace %s; it takes x and its reconstruction "
                               "with as many numbers per sample, and one trace per sample",
                               s[0], s[1], s[2]);
    }
    if (!(a->alpha >= 0.0f) || !(a->beta >= 0.0f))
        return cg__shape_error("dae_confidence", "alpha %g and beta %g; both must be >= 0",
                               (double)a->alpha, (double)a->beta);
    out->out = cg_shape_make(1, N, 0, 0, 0);
    return CG_OK;
}

static cg_status dae_conf_fwd(const cg_op_call *c) {
    uint32_t N = (uint32_t)c->in[0].shape.d[0];
    const cg__karg args[] = {CG_KMEM(c->out->mem),    CG_KMEM(c->in[0].mem),
                             CG_KMEM(c->in[1].mem),   CG_KMEM(c->in[2].mem),
                             CG_KF32(c->attrs->alpha), CG_KF32(c->attrs->beta),
                             CG_KU32(per_sample(&c->in[0].shape)), CG_KU32(N)};
    return cg__kernel_run1d(c->ctx, PROGRAM, "dae_confidence", N, 0, args, 8);
}

/* pick: x (N, K) and integer indices (N) give x[n, index[n]] (N): a target class's score. */
static cg_status pick_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t, int n,
                            cg_op_shapes *out) {
    (void)a;
    (void)n;
    return scores_and_ints_infer("pick", "an integer index per sample (batch)", in, t, out);
}

static cg_status pick_fwd(const cg_op_call *c) {
    size_t n = (size_t)c->in[0].shape.d[0];
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem), CG_KMEM(c->in[1].mem),
                             CG_KU32(c->in[0].shape.d[1]), CG_KU32(n)};
    return cg__kernel_run1d(c->ctx, PROGRAM, "pick", n, 0, args, 5);
}

/* max: x (N, K) gives the largest of each row (N): the top score of a classifier. */
static cg_status max_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t, int n,
                           cg_op_shapes *out) {
    (void)a;
    (void)t;
    (void)n;
    if (in[0].ndim != 2 || in[0].d[1] < 1) {
        char s[64];
        cg_shape_str(&in[0], s, sizeof s);
        return cg__shape_error("max", "input %s; max takes scores (batch, classes)", s);
    }
    out->out = cg_shape_make(1, in[0].d[0], 0, 0, 0);
    return CG_OK;
}

static cg_status max_fwd(const cg_op_call *c) {
    size_t n = (size_t)c->in[0].shape.d[0];
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem),
                             CG_KU32(c->in[0].shape.d[1]), CG_KU32(n)};
    return cg__kernel_run1d(c->ctx, PROGRAM, "row_max", n, 0, args, 4);
}

/* sum_into with a second slot where `both`. */
static cg_status sum_into(cg_context *ctx, cl_mem acc, uint32_t slot, float scale, bool both,
                          uint32_t slot2, float scale2, cl_mem x, size_t n) {
    size_t local = cg__reduce_local(ctx);
    const cg__karg args[] = {CG_KMEM(acc),    CG_KU32(slot),   CG_KMEM(x),
                             CG_KU32(n),      CG_KF32(scale),  CG_KU32(both),
                             CG_KU32(slot2),  CG_KF32(scale2), CG_KLOCAL(local * sizeof(float))};
    return cg__kernel_run(ctx, PROGRAM, "sum_into", 1, &local, &local, args, 9);
}

cg_status cg__sum_into(cg_context *ctx, cl_mem acc, uint32_t slot, cl_mem x, size_t n,
                       float scale) {
    return sum_into(ctx, acc, slot, scale, false, 0, 0.0f, x, n);
}

cg_status cg__sum_into2(cg_context *ctx, cl_mem acc, uint32_t slot, float scale, uint32_t slot2,
                        float scale2, cl_mem x, size_t n) {
    return sum_into(ctx, acc, slot, scale, true, slot2, scale2, x, n);
}

cg_status cg__sum_masked_into(cg_context *ctx, cl_mem acc, uint32_t slot, uint32_t count_slot,
                              cl_mem x, cl_mem mask, bool mask_int, size_t rows, size_t row_len) {
    size_t local = cg__reduce_local(ctx);
    const cg__karg args[] = {CG_KMEM(acc),        CG_KU32(slot),    CG_KU32(count_slot),
                             CG_KMEM(x),          CG_KMEM(mask),    CG_KU32(mask_int),
                             CG_KU32(rows),       CG_KU32(row_len), CG_KLOCAL(local * sizeof(float))};
    return cg__kernel_run(ctx, PROGRAM, "sum_masked_into", 1, &local, &local, args, 9);
}

cg_status cg__mark_first(cg_context *ctx, cl_mem hit, cl_mem cond, float threshold, int32_t step,
                         size_t n) {
    const cg__karg args[] = {CG_KMEM(hit), CG_KMEM(cond), CG_KF32(threshold), CG_KI32(step),
                             CG_KU32(n)};
    return cg__kernel_run1d(ctx, PROGRAM, "mark_first", n, 0, args, 5);
}

cg_status cg__fill_i32(cg_context *ctx, cl_mem buf, int32_t value, size_t n) {
    int32_t *h = malloc((n ? n : 1) * sizeof *h);
    if (!h)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %zu values", n);
    for (size_t i = 0; i < n; i++)
        h[i] = value;
    cg_status st = cg__buffer_write(ctx, buf, h, n * sizeof *h);
    free(h);
    return st;
}

int cg__classes_of_width(const cg_op_attrs *a, const cg_shape *in) {
    (void)a;
    return in[0].ndim >= 2 ? in[0].d[1] : 0;
}

const cg_op_def cg__op_accuracy = {.name = "accuracy", .program = PROGRAM, .min_inputs = 2,
                                   .max_inputs = 2, .infer = accuracy_infer,
                                   .forward = accuracy_fwd, .label_input = 2,
                                   .classes = cg__classes_of_width};
const cg_op_def cg__op_jacobian_trace = {.name = "jacobian_trace", .program = PROGRAM,
                                         .min_inputs = 4, .max_inputs = 4,
                                         .infer = trace_infer, .forward = trace_fwd};
const cg_op_def cg__op_dae_confidence = {.name = "dae_confidence", .program = PROGRAM,
                                         .min_inputs = 3, .max_inputs = 3,
                                         .infer = dae_conf_infer, .forward = dae_conf_fwd};
const cg_op_def cg__op_pick = {.name = "pick", .program = PROGRAM, .min_inputs = 2,
                               .max_inputs = 2, .infer = pick_infer, .forward = pick_fwd,
                               .label_input = 2, .classes = cg__classes_of_width};
const cg_op_def cg__op_max = {.name = "max", .program = PROGRAM, .min_inputs = 1,
                              .max_inputs = 1, .infer = max_infer, .forward = max_fwd};
const cg_op_def cg__op_cool_confidence = {.name = "cool_confidence", .program = PROGRAM,
                                          .min_inputs = 1, .max_inputs = 1,
                                          .infer = confidence_infer, .forward = confidence_fwd};
