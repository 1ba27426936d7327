/* Known answers for cl/elementwise.cl, worked out by hand (tanh and sigmoid from their
 * definitions). Each check runs an op's forward and backward through the op table. */
#include <math.h>

#include "ops/ops.h"
#include "selftest/selftest_internal.h"

#define N5 5
static const float x5[N5] = {-2.0f, -0.5f, 0.0f, 1.5f, 3.0f};
static const float dy5[N5] = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f};

/* An io record for a one-input op on x5 with gradient dy5. */
static cg_op_host_io unary_io(const char *op, const cg_op_attrs *a) {
    cg_op_host_io io = {.op = cg_op_find(op), .attrs = a, .n_in = 1, .dout = dy5};
    io.in_shape[0] = cg_shape_make(2, 1, N5, 0, 0);
    io.in_type[0] = CG_F32;
    io.in[0] = x5;
    io.want_din[0] = true;
    return io;
}

static cg_status check_relu(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    static const double out[N5] = {0, 0, 0, 1.5, 3}, din[N5] = {0, 0, 0, 4, 5};
    cg_op_attrs a = {0};
    cg_op_host_io io = unary_io("relu", &a);
    cg__op_expect want = {out, {din}, {NULL}};
    return cg__selftest_op(ctx, &io, &want, 1e-6, passed, detail, cap);
}

static cg_status check_leaky(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    static const double out[N5] = {-0.2, -0.05, 0, 1.5, 3}, din[N5] = {0.1, 0.2, 0.3, 4, 5};
    cg_op_attrs a = {.alpha = 0.1f};
    cg_op_host_io io = unary_io("leaky_relu", &a);
    cg__op_expect want = {out, {din}, {NULL}};
    return cg__selftest_op(ctx, &io, &want, 1e-6, passed, detail, cap);
}

static cg_status check_tanh(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    double out[N5], din[N5];
    for (int i = 0; i < N5; i++) {
        out[i] = tanh((double)x5[i]);
        din[i] = dy5[i] * (1 - out[i] * out[i]);
    }
    cg_op_attrs a = {0};
    cg_op_host_io io = unary_io("tanh", &a);
    cg__op_expect want = {out, {din}, {NULL}};
    return cg__selftest_op(ctx, &io, &want, 1e-5, passed, detail, cap);
}

static cg_status check_sigmoid(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    double out[N5], din[N5];
    for (int i = 0; i < N5; i++) {
        out[i] = 1 / (1 + exp(-(double)x5[i]));
        din[i] = dy5[i] * out[i] * (1 - out[i]);
    }
    cg_op_attrs a = {0};
    cg_op_host_io io = unary_io("sigmoid", &a);
    cg__op_expect want = {out, {din}, {NULL}};
    return cg__selftest_op(ctx, &io, &want, 1e-5, passed, detail, cap);
}

/* Shared slope 0.25 on x5, then one slope per channel on a (2, 2) input. */
static cg_status check_prelu(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    static const float w1[1] = {0.25f};
    static const double out1[N5] = {-0.5, -0.125, 0, 1.5, 3}, din1[N5] = {0.25, 0.5, 0.75, 4, 5};
    static const double dw1[1] = {-3}; /* 1 * -2 + 2 * -0.5 + 3 * 0 */
    cg_op_attrs a = {.count = 1};
    cg_op_host_io io = unary_io("prelu", &a);
    io.params[0] = w1;
    cg__op_expect want = {out1, {din1}, {dw1}};
    cg_status st = cg__selftest_op(ctx, &io, &want, 1e-6, passed, detail, cap);
    if (st != CG_OK || !*passed)
        return st;
    static const float x[4] = {-1, 2, -3, -4}, dy[4] = {1, 1, 2, 3}, w2[2] = {0.1f, 0.5f};
    static const double out2[4] = {-0.1, 2, -0.3, -2}, din2[4] = {0.1, 1, 0.2, 1.5};
    static const double dw2[2] = {-7, -12};
    cg_op_attrs a2 = {.count = 2};
    cg_op_host_io io2 = unary_io("prelu", &a2);
    io2.in_shape[0] = cg_shape_make(2, 2, 2, 0, 0);
    io2.in[0] = x;
    io2.dout = dy;
    io2.params[0] = w2;
    cg__op_expect want2 = {out2, {din2}, {dw2}};
    return cg__selftest_op(ctx, &io2, &want2, 1e-6, passed, detail, cap);
}

/* dx alone where the slopes are frozen (prelu_bwd_data): one slope per channel on a (2, 2, 2)
 * input (inner 2), added onto dx = 1. */
static cg_status check_prelu_bwd_data(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    float dx[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    static const float dy[8] = {1, 2, 3, 4, 5, 6, 7, 8}, x[8] = {-1, 2, 0, -3, 4, -5, -6, 1};
    static const float w[2] = {0.5f, -2.0f};
    /* channel c = (i / 2) % 2: slopes 0.5, 0.5, -2, -2, 0.5, 0.5, -2, -2 where x <= 0 */
    static const double want[8] = {1.5, 3, -5, -7, 6, 4, -13, 9};
    const cg__check_arg args[] = {CG__F32_BUF(dx, 8), CG__F32_BUF(dy, 8), CG__F32_BUF(x, 8),
                                  CG__F32_BUF(w, 2),  CG__U32(2),         CG__U32(2),
                                  CG__U32(0),         CG__U32(1),         CG__U32(8)};
    return cg__selftest_kernel(ctx, "elementwise.cl", "prelu_bwd_data", args, 9, 8, 0, want,
                               1e-6, passed, detail, cap);
}

/* add: out = x5 + dy5; both gradients equal dout. scale(-1.5): out = -1.5 x5, din = -1.5 dout.
 * Together they cover add_fwd and scale_acc (scale's forward and every backward here). */
static cg_status check_add_scale(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    static const float g[N5] = {1, -1, 2, -2, 0.5f};
    static const double sum[N5] = {-1, 1.5, 3, 5.5, 8}, dg[N5] = {1, -1, 2, -2, 0.5};
    cg_op_attrs a = {0};
    cg_op_host_io io = unary_io("add", &a);
    io.n_in = 2;
    io.in_shape[1] = io.in_shape[0];
    io.in_type[1] = CG_F32;
    io.in[1] = dy5;
    io.want_din[1] = true;
    io.dout = g;
    cg__op_expect want = {sum, {dg, dg}, {NULL}};
    cg_status st = cg__selftest_op(ctx, &io, &want, 1e-6, passed, detail, cap);
    if (st != CG_OK || !*passed)
        return st;
    static const double out[N5] = {3, 0.75, 0, -2.25, -4.5}, din[N5] = {-1.5, 1.5, -3, 3, -0.75};
    cg_op_attrs s = {.alpha = -1.5f};
    cg_op_host_io io2 = unary_io("scale", &s);
    io2.dout = g;
    cg__op_expect want2 = {out, {din}, {NULL}};
    return cg__selftest_op(ctx, &io2, &want2, 1e-6, passed, detail, cap);
}

/* mul: a (2, 3) batch of rows {1, 2, 3} and {-1, 0, 4} scaled by {2, -0.5}; with dout all
 * {1, -1, 2}: dx = s * dout, ds = sum of x * dout per row: {1 - 2 + 6, -1 + 0 + 8}. */
static cg_status check_mul(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    static const float xs[6] = {1, 2, 3, -1, 0, 4}, s[2] = {2, -0.5f};
    static const float dy[6] = {1, -1, 2, 1, -1, 2};
    static const double out[6] = {2, 4, 6, 0.5, 0, -2}, dx[6] = {2, -2, 4, -0.5, 0.5, -1};
    static const double ds[2] = {5, 7};
    cg_op_attrs a = {0};
    cg_op_host_io io = unary_io("mul", &a);
    io.in_shape[0] = cg_shape_make(2, 2, 3, 0, 0);
    io.in[0] = xs;
    io.n_in = 2;
    io.in_shape[1] = cg_shape_make(1, 2, 0, 0, 0);
    io.in_type[1] = CG_F32;
    io.in[1] = s;
    io.want_din[1] = true;
    io.dout = dy;
    cg__op_expect want = {out, {dx, ds}, {NULL}};
    return cg__selftest_op(ctx, &io, &want, 1e-6, passed, detail, cap);
}

const cg__selftest_case cg__elementwise_checks[] = {
    {"elementwise.cl", "mul_rows_fwd mul_rows_bwd_x mul_rows_bwd_s", check_mul},
    {"elementwise.cl", "relu_fwd relu_bwd", check_relu},
    {"elementwise.cl", "leaky_relu_fwd leaky_relu_bwd", check_leaky},
    {"elementwise.cl", "prelu_fwd prelu_bwd", check_prelu},
    {"elementwise.cl", "prelu_bwd_data", check_prelu_bwd_data},
    {"elementwise.cl", "tanh_fwd tanh_bwd", check_tanh},
    {"elementwise.cl", "sigmoid_fwd sigmoid_bwd", check_sigmoid},
    {"elementwise.cl", "add_fwd scale_acc", check_add_scale},
};
const size_t cg__elementwise_check_count = CG__ARRAY_LEN(cg__elementwise_checks);
