/* Known answers for cl/optim.cl and cl/metrics.cl, worked out by hand:
 *  SGD (lr 0.1, momentum 0.9, weight decay 0.1), first step on p = [1, 2], g = [0.5, -1]:
 *  d = g + 0.1 p = [0.6, -0.8], p = [0.94, 2.08];
 *  Adam (lr 0.1) first step: bias correction makes the update lr * g / |g|: [1, -2] with
 *  g = [0.5, -3] goes to [0.9, -1.9];
 *  argmax of [1, 3, 2] is 1 (label 1: correct), of [5, 0, 5] is 0 (label 2: wrong);
 *  COOL (omega 2) of [ln 3, ln 3, 0, 0]: probabilities 3/8, 3/8, 1/8, 1/8, confidences
 *  4 * 9/64 and 4 * 1/64; twice the sum of 1..5 added into slot 1 of [0, 10] gives [0, 40]. */
#include <stdio.h>
#include <math.h>

#include "ops/ops.h"
#include "selftest/selftest_internal.h"

/* Uploads p and g, runs one step of cfg over all of them, compares p with want. */
static cg_status one_step(cg_context *ctx, const cg_optim_config *cfg, const float *p0,
                          const float *g0, const double *want, bool *passed, char *detail,
                          size_t cap) {
    enum { N = 2 };
    float p[N], zeros[2 * N] = {0};
    cl_mem bp = NULL, bg = NULL, bs = NULL;
    cg_status st = cg__buffer_create(ctx, sizeof p, &bp);
    if (st == CG_OK)
        st = cg__buffer_create(ctx, sizeof p, &bg);
    if (st == CG_OK)
        st = cg__buffer_create(ctx, sizeof zeros, &bs);
    if (st == CG_OK)
        st = cg__buffer_write(ctx, bp, p0, sizeof p);
    if (st == CG_OK)
        st = cg__buffer_write(ctx, bg, g0, sizeof p);
    if (st == CG_OK)
        st = cg__buffer_write(ctx, bs, zeros, sizeof zeros);
    const cg_param_range all = {0, N, 1.0f};
    if (st == CG_OK)
        st = cg_optim_step(ctx, cfg, bp, bg, bs, N, &all, 1, 1);
    if (st == CG_OK)
        st = cg__buffer_read(ctx, bp, p, sizeof p);
    if (st == CG_OK)
        *passed = cg__selftest_compare(p, want, N, 1e-6, 1e-6, detail, cap);
    cl_mem all_bufs[] = {bp, bg, bs};
    for (size_t i = 0; i < 3; i++)
        if (all_bufs[i])
            clReleaseMemObject(all_bufs[i]);
    return st;
}

static cg_status check_optim(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    static const float p[2] = {1, 2}, g[2] = {0.5f, -1};
    static const double want[2] = {0.94, 2.08};
    cg_optim_config sgd = {CG_OPTIM_SGD, 0.1f, 0.9f, 0.1f, 0, 0, 0};
    cg_status st = one_step(ctx, &sgd, p, g, want, passed, detail, cap);
    if (st != CG_OK || !*passed)
        return st;
    static const float ap[2] = {1, -2}, ag[2] = {0.5f, -3};
    static const double awant[2] = {0.9, -1.9};
    cg_optim_config adam = cg_optim_defaults(CG_OPTIM_ADAM);
    adam.lr = 0.1f;
    return one_step(ctx, &adam, ap, ag, awant, passed, detail, cap);
}

/* A buffer holding a copy of host data. */
static cg_status upload(cg_context *ctx, const void *data, size_t bytes, cl_mem *out) {
    cg_status st = cg__buffer_create(ctx, bytes, out);
    return st == CG_OK ? cg__buffer_write(ctx, *out, data, bytes) : st;
}

static cg_status check_metrics(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    static const float x[6] = {1, 3, 2, 5, 0, 5};
    static const int label[2] = {1, 2};
    float out[2] = {7, 7};
    static const double want[2] = {1, 0};
    const cg__check_arg args[] = {CG__F32_BUF(out, 2), CG__F32_BUF(x, 6), CG__I32_BUF(label, 2),
                                  CG__F32(2.5f), CG__U32(3), CG__U32(2)};
    cg_status st = cg__selftest_kernel(ctx, "metrics.cl", "argmax_correct", args, 6, 2, 0, want,
                                       0, passed, detail, cap);
    if (st != CG_OK || !*passed)
        return st;
    const float l3 = (float)log(3.0);
    const float cx[4] = {l3, l3, 0, 0};
    float conf[2] = {0, 0};
    static const double cwant[2] = {0.5625, 0.0625};
    const cg__check_arg cargs[] = {CG__F32_BUF(conf, 2), CG__F32_BUF(cx, 4), CG__U32(2),
                                   CG__U32(2), CG__U32(1)};
    st = cg__selftest_kernel(ctx, "metrics.cl", "cool_confidence", cargs, 5, 1, 0, cwant, 1e-5,
                             passed, detail, cap);
    if (st != CG_OK || !*passed)
        return st;
    static const float acc0[2] = {0, 10}, vals[5] = {1, 2, 3, 4, 5};
    static const double swant[2] = {0, 40}; /* 10 + 2 * 15 */
    float acc[2];
    cl_mem ba = NULL, bx = NULL;
    st = upload(ctx, acc0, sizeof acc0, &ba);
    if (st == CG_OK)
        st = upload(ctx, vals, sizeof vals, &bx);
    if (st == CG_OK)
        st = cg__sum_into(ctx, ba, 1, bx, 5, 2.0f);
    if (st == CG_OK)
        st = cg__buffer_read(ctx, ba, acc, sizeof acc);
    if (st == CG_OK)
        *passed = cg__selftest_compare(acc, swant, 2, 0, 0, detail, cap);
    cg__buffer_release(ba);
    cg__buffer_release(bx);
    return st;
}

/* sum_masked_into: rows 0 and 2 of three (int mask 1, 0, 5), two values a row; row 1 holds a
 * NaN that must not count. mark_first: samples whose condition reaches 0.5 get step 4, unless
 * they already have a step. */
static cg_status check_masked(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    static const float acc0[3] = {1, 0, 2}, x[6] = {1, 2, NAN, 4, 5, 6};
    static const int32_t mask[3] = {1, 0, 5};
    static const double want[3] = {1, 14, 4}; /* 0 + 1+2+5+6, 2 + two rows */
    float acc[3];
    cl_mem ba = NULL, bx = NULL, bm = NULL;
    cg_status st = upload(ctx, acc0, sizeof acc0, &ba);
    if (st == CG_OK)
        st = upload(ctx, x, sizeof x, &bx);
    if (st == CG_OK)
        st = upload(ctx, mask, sizeof mask, &bm);
    if (st == CG_OK)
        st = cg__sum_masked_into(ctx, ba, 1, 2, bx, bm, true, 3, 2);
    if (st == CG_OK)
        st = cg__buffer_read(ctx, ba, acc, sizeof acc);
    if (st == CG_OK)
        *passed = cg__selftest_compare(acc, want, 3, 0, 0, detail, cap);
    cg__buffer_release(ba);
    cg__buffer_release(bx);
    cg__buffer_release(bm);
    if (st != CG_OK || !*passed)
        return st;
    static const int32_t hit0[4] = {-1, 2, -1, -1};
    static const float cond[4] = {0.7f, 0.9f, 0.2f, 0.5f};
    static const double hwant[4] = {4, 2, -1, 4};
    int32_t hit[4];
    cl_mem bh = NULL, bc = NULL;
    st = upload(ctx, hit0, sizeof hit0, &bh);
    if (st == CG_OK)
        st = upload(ctx, cond, sizeof cond, &bc);
    if (st == CG_OK)
        st = cg__mark_first(ctx, bh, bc, 0.5f, 4, 4);
    if (st == CG_OK)
        st = cg__buffer_read(ctx, bh, hit, sizeof hit);
    float got[4];
    for (int i = 0; i < 4; i++)
        got[i] = (float)hit[i];
    if (st == CG_OK)
        *passed = cg__selftest_compare(got, hwant, 4, 0, 0, detail, cap);
    cg__buffer_release(bh);
    cg__buffer_release(bc);
    return st;
}

/* jacobian_trace on one sample of D = 2, x = {1, 2}, r = {0.5, 0.5}, two probes: d = {1, 0}
 * moving r by {3, 1} (2 * 3 / 1 = 6) and d = {1, 1} moving r by {1, 2} (2 * 3 / 2 = 3): the
 * trace is their mean, 4.5. Then dae_confidence of x = {1, 2}, r = {1, 0} (||r - x|| = 2), alpha
 * 1, beta 2, on traces 1 (gamma = -0.5: exp(-1)) and 3 (gamma = 0.5: exp(-1) exp(-1)). */
/* pick of [[1, 2, 3], [4, 5, 6]] at [2, 0]: [3, 4]; row_max of [[1, 5, 3], [-4, -6, -2]]:
 * [5, -2]. */
static cg_status check_pick(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    static const float x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {1, 5, 3, -4, -6, -2};
    static const int idx[2] = {2, 0};
    float out[2] = {0, 0};
    static const double want[2] = {3, 4}, want_max[2] = {5, -2};
    const cg__check_arg args[] = {CG__F32_BUF(out, 2), CG__F32_BUF(x, 6), CG__I32_BUF(idx, 2),
                                  CG__U32(3), CG__U32(2)};
    cg_status st = cg__selftest_kernel(ctx, "metrics.cl", "pick", args, 5, 2, 0, want, 0, passed,
                                       detail, cap);
    if (st != CG_OK || !*passed)
        return st;
    const cg__check_arg margs[] = {CG__F32_BUF(out, 2), CG__F32_BUF(y, 6), CG__U32(3),
                                   CG__U32(2)};
    return cg__selftest_kernel(ctx, "metrics.cl", "row_max", margs, 4, 2, 0, want_max, 0, passed,
                               detail, cap);
}

static cg_status check_dae(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    static const float x2[2] = {1, 2}, xp[4] = {2, 2, 2, 3}, r2[2] = {0.5f, 0.5f};
    static const float rp[4] = {3.5f, 1.5f, 1.5f, 2.5f};
    static const double tw[1] = {4.5};
    cg_op_host_io io = {.op = cg_op_find("jacobian_trace"), .n_in = 4};
    cg_op_attrs none = {0};
    io.attrs = &none;
    const float *ins[4] = {x2, xp, r2, rp};
    const int rows[4] = {1, 2, 1, 2};
    for (int i = 0; i < 4; i++) {
        io.in_shape[i] = cg_shape_make(2, rows[i], 2, 0, 0);
        io.in_type[i] = CG_F32;
        io.in[i] = ins[i];
    }
    cg__op_expect want = {tw, {NULL}, {NULL}};
    cg_status st = cg__selftest_op(ctx, &io, &want, 1e-6, passed, detail, cap);
    if (st != CG_OK || !*passed)
        return st;
    static const float xc[4] = {1, 2, 1, 2}, rc[4] = {1, 0, 1, 0}, tr[2] = {1, 3};
    const double cw[2] = {exp(-1.0), exp(-2.0)};
    cg_op_attrs a = {.alpha = 1.0f, .beta = 2.0f};
    cg_op_host_io io2 = {.op = cg_op_find("dae_confidence"), .attrs = &a, .n_in = 3};
    const float *ins2[3] = {xc, rc, tr};
    for (int i = 0; i < 3; i++) {
        io2.in_shape[i] = i < 2 ? cg_shape_make(2, 2, 2, 0, 0) : cg_shape_make(1, 2, 0, 0, 0);
        io2.in_type[i] = CG_F32;
        io2.in[i] = ins2[i];
    }
    cg__op_expect want2 = {cw, {NULL}, {NULL}};
    return cg__selftest_op(ctx, &io2, &want2, 1e-6, passed, detail, cap);
}

const cg__selftest_case cg__optim_checks[] = {
    {"metrics.cl", "sum_masked_into mark_first", check_masked},
    {"optim.cl", "sgd_step adam_step", check_optim},
    {"metrics.cl", "argmax_correct cool_confidence sum_into", check_metrics},
    {"metrics.cl", "jacobian_trace dae_confidence", check_dae},
    {"metrics.cl", "pick row_max", check_pick},
};
const size_t cg__optim_check_count = CG__ARRAY_LEN(cg__optim_checks);
