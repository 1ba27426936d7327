/* Ops that draw random numbers on the device: dropout, gaussian_noise, reparameterize (kernels
 * in cl/random.cl). Each launch uses the call's Philox key (seed) and counter; the backward
 * pass, given the same seed and counter, regenerates the forward's draws. In evaluation mode
 * dropout and noise are the identity and reparameterize returns mu (unless told to draw
 * always). */
#include "ops/ops_internal.h"

#define PROGRAM "random.cl"

static size_t numel(const cg_tensor *t) {
    return cg_shape_numel(&t->shape);
}

/* Work-items of the kernels that take CG__BLOCK16 elements each, over the op's output. */
static size_t blocks16(const cg_op_call *c) {
    return (numel(c->out) + CG__BLOCK16 - 1) / CG__BLOCK16;
}

static cg_status same_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t, int n,
                            cg_op_shapes *out) {
    (void)t;
    (void)n;
    (void)a;
    out->out = in[0];
    return CG_OK;
}

static cg_status dropout_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t,
                               int n, cg_op_shapes *out) {
    if (!(a->alpha >= 0.0f && a->alpha < 1.0f))
        return cg__shape_error("dropout", "probability %g; it must be at least 0 and below 1",
                               (double)a->alpha);
    return same_infer(a, in, t, n, out);
}

/* The device word that the call's counter is an offset from (see LAUNCH in random.cl). */
static cl_mem counter_base(const cg_op_call *c) {
    return c->counter_base ? c->counter_base : cg__zero_words(c->ctx);
}

/* The identity, for evaluation mode. */
static cg_status identity_fwd(const cg_op_call *c) {
    return cg__scale_acc(c->ctx, c->out->mem, c->in[0].mem, 1.0f, false, numel(c->out));
}

static cg_status identity_bwd(const cg_op_call *c) {
    if (!c->din[0].mem)
        return CG_OK;
    return cg__scale_acc(c->ctx, c->din[0].mem, c->dout->mem, 1.0f, cg_op_din_acc(c, 0),
                         numel(c->out));
}

static cg_status dropout_fwd(const cg_op_call *c) {
    if (!c->training || c->attrs->alpha == 0.0f)
        return identity_fwd(c);
    float p = c->attrs->alpha;
    cl_mem base = counter_base(c);
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem), CG_KF32(p),
                             CG_KF32(1.0f / (1.0f - p)), CG_KU32(c->seed[0]), CG_KU32(c->seed[1]),
                             CG_KU32(c->counter), CG_KMEM(base), CG_KU32(numel(c->out))};
    return cg__kernel_run1d(c->ctx, PROGRAM, "dropout_fwd", (numel(c->out) + 63) / 64, 0, args,
                            CG__ARRAY_LEN(args));
}

static cg_status dropout_bwd(const cg_op_call *c) {
    if (!c->training || c->attrs->alpha == 0.0f)
        return identity_bwd(c);
    if (!c->din[0].mem)
        return CG_OK;
    float p = c->attrs->alpha;
    cl_mem base = counter_base(c);
    const cg__karg args[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->dout->mem), CG_KF32(p),
                             CG_KF32(1.0f / (1.0f - p)), CG_KU32(c->seed[0]), CG_KU32(c->seed[1]),
                             CG_KU32(c->counter), CG_KMEM(base), CG_KU32(cg_op_din_acc(c, 0)),
                             CG_KU32(numel(c->out))};
    return cg__kernel_run1d(c->ctx, PROGRAM, "dropout_bwd", (numel(c->out) + 63) / 64, 0, args,
                            CG__ARRAY_LEN(args));
}

static cg_status noise_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t, int n,
                             cg_op_shapes *out) {
    if (!(a->alpha >= 0.0f))
        return cg__shape_error("gaussian_noise", "standard deviation %g; it must not be negative",
                               (double)a->alpha);
    return same_infer(a, in, t, n, out);
}

static cg_status noise_fwd(const cg_op_call *c) {
    if (!c->training)
        return identity_fwd(c);
    cl_mem base = counter_base(c);
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem),
                             CG_KF32(c->attrs->alpha), CG_KU32(c->attrs->clamp),
                             CG_KU32(c->seed[0]), CG_KU32(c->seed[1]), CG_KU32(c->counter),
                             CG_KMEM(base),           CG_KU32(numel(c->out))};
    return cg__kernel_run1d(c->ctx, PROGRAM, "gaussian_noise_fwd", blocks16(c), 0, args,
                            CG__ARRAY_LEN(args));
}

static cg_status noise_bwd(const cg_op_call *c) {
    if (!c->training)
        return identity_bwd(c);
    if (!c->din[0].mem)
        return CG_OK;
    cl_mem base = counter_base(c);
    const cg__karg args[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->dout->mem),
                             CG_KMEM(c->in[0].mem),  CG_KF32(c->attrs->alpha),
                             CG_KU32(c->attrs->clamp), CG_KU32(c->seed[0]),
                             CG_KU32(c->seed[1]),    CG_KU32(c->counter), CG_KMEM(base),
                             CG_KU32(cg_op_din_acc(c, 0)), CG_KU32(numel(c->out))};
    return cg__kernel_run1d(c->ctx, PROGRAM, "gaussian_noise_bwd", blocks16(c), 0, args,
                            CG__ARRAY_LEN(args));
}

static cg_status reparam_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t,
                               int n, cg_op_shapes *out) {
    if (!cg_shape_equal(&in[0], &in[1])) {
        char s0[64], s1[64];
        cg_shape_str(&in[0], s0, sizeof s0);
        cg_shape_str(&in[1], s1, sizeof s1);
        return cg__shape_error("reparameterize",
                               "mu has shape %s and log_sigma %s; they must be equal", s0, s1);
    }
    return same_infer(a, in, t, n, out);
}

/* Whether this launch draws eps. */
static bool reparam_draws(const cg_op_call *c) {
    return c->attrs->sample == CG_SAMPLE_ALWAYS ||
           (c->attrs->sample == CG_SAMPLE_TRAINING && c->training);
}

static cg_status reparam_fwd(const cg_op_call *c) {
    cl_mem base = counter_base(c);
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem), CG_KMEM(c->in[1].mem),
                             CG_KU32(reparam_draws(c)), CG_KU32(c->seed[0]), CG_KU32(c->seed[1]),
                             CG_KU32(c->counter), CG_KMEM(base), CG_KU32(numel(c->out))};
    return cg__kernel_run1d(c->ctx, PROGRAM, "reparameterize_fwd", blocks16(c), 0, args,
                            CG__ARRAY_LEN(args));
}

static cg_status reparam_bwd(const cg_op_call *c) {
    if (!c->din[0].mem && !c->din[1].mem)
        return CG_OK;
    cl_mem base = counter_base(c);
    const cg__karg args[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->din[1].mem), CG_KMEM(c->dout->mem),
                             CG_KMEM(c->in[1].mem),  CG_KU32(c->din[0].mem != NULL),
                             CG_KU32(c->din[1].mem != NULL), CG_KU32(cg_op_din_acc(c, 0)),
                             CG_KU32(cg_op_din_acc(c, 1)), CG_KU32(reparam_draws(c)),
                             CG_KU32(c->seed[0]), CG_KU32(c->seed[1]), CG_KU32(c->counter),
                             CG_KMEM(base),           CG_KU32(numel(c->out))};
    return cg__kernel_run1d(c->ctx, PROGRAM, "reparameterize_bwd", blocks16(c), 0, args,
                            CG__ARRAY_LEN(args));
}

/* probe: K copies of x (K = count, or one per number of a sample with basis), each moved by
 * eps times a probe, stacked along the batch: (K N, ...). Drawn in evaluation as in training. */
static cg_status probe_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t, int n,
                             cg_op_shapes *out) {
    (void)t;
    (void)n;
    size_t d = in[0].d[0] ? cg_shape_numel(&in[0]) / (size_t)in[0].d[0] : 0;
    size_t k = a->basis ? d : (size_t)a->count;
    if (!(a->alpha > 0.0f) || k < 1 || k * (size_t)in[0].d[0] > (1u << 24))
        return cg__shape_error("probe",
                               "eps %g and %zu copies of a batch of %d; eps must be > 0 and the "
                               "copies at most 2^24 samples in all",
                               (double)a->alpha, k, in[0].d[0]);
    out->out = in[0];
    out->out.d[0] = (int)(k * (size_t)in[0].d[0]);
    return CG_OK;
}

static cg_status probe_fwd(const cg_op_call *c) {
    size_t n = numel(&c->in[0]), total = numel(c->out);
    uint32_t D = (uint32_t)(n / (size_t)c->in[0].shape.d[0]);
    cl_mem base = counter_base(c);
    const cg__karg args[] = {CG_KMEM(c->out->mem),  CG_KMEM(c->in[0].mem),
                             CG_KF32(c->attrs->alpha), CG_KU32(c->attrs->basis),
                             CG_KU32(D),            CG_KU32(c->seed[0]),
                             CG_KU32(c->seed[1]),   CG_KU32(c->counter), CG_KMEM(base),
                             CG_KU32(n),            CG_KU32(total)};
    return cg__kernel_run1d(c->ctx, PROGRAM, "probe_fwd", total, 0, args,
                            CG__ARRAY_LEN(args));
}

static cg_status probe_bwd(const cg_op_call *c) {
    if (!c->din[0].mem)
        return CG_OK;
    size_t n = numel(&c->in[0]);
    const cg__karg args[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->dout->mem),
                             CG_KU32(numel(c->out) / n), CG_KU32(cg_op_din_acc(c, 0)),
                             CG_KU32(n)};
    return cg__kernel_run1d(c->ctx, PROGRAM, "probe_bwd", n, 0, args, 5);
}

cg_status cg__philox_raw(cg_context *ctx, cl_mem out, const uint32_t ctr[4], const uint32_t key[2],
                         size_t n) {
    const cg__karg args[] = {CG_KMEM(out),    CG_KU32(ctr[0]), CG_KU32(ctr[1]), CG_KU32(ctr[2]),
                             CG_KU32(ctr[3]), CG_KU32(key[0]), CG_KU32(key[1]), CG_KU32(n)};
    return cg__kernel_run1d(ctx, PROGRAM, "philox_raw", n, 0, args, 8);
}

cg_status cg__rand_fill(cg_context *ctx, cl_mem out, bool normal, const uint32_t seed[2],
                        uint32_t counter, size_t n) {
    const cg__karg args[] = {CG_KMEM(out), CG_KU32(seed[0]), CG_KU32(seed[1]), CG_KU32(counter),
                             CG_KU32(n)};
    return cg__kernel_run1d(ctx, PROGRAM, normal ? "rand_normal" : "rand_uniform",
                            normal ? n : (n + 3) / 4, 0, args, 5); /* uniforms: 4 per item */
}

const cg_op_def cg__op_dropout = {.name = "dropout", .program = PROGRAM, .min_inputs = 1,
                                  .max_inputs = 1, .infer = dropout_infer,
                                  .forward = dropout_fwd, .backward = dropout_bwd};
const cg_op_def cg__op_gaussian_noise = {.name = "gaussian_noise", .program = PROGRAM,
                                         .min_inputs = 1, .max_inputs = 1,
                                         .infer = noise_infer, .forward = noise_fwd,
                                         .backward = noise_bwd};
const cg_op_def cg__op_reparameterize = {.name = "reparameterize", .program = PROGRAM,
                                         .min_inputs = 2, .max_inputs = 2,
                                         .infer = reparam_infer, .forward = reparam_fwd,
                                         .backward = reparam_bwd};
const cg_op_def cg__op_probe = {.name = "probe",
                                .program = PROGRAM,
                                .min_inputs = 1,
                                .max_inputs = 1,
                                .infer = probe_infer,
                                .forward = probe_fwd,
                                .backward = probe_bwd};
