/* Known answers for cl/pool.cl, cl/shape.cl and cl/softmax.cl, worked out by hand:
 *  x = [[1,5,2,0],[3,4,8,1]] pooled 2x2: max [5,8] (gradient to the maxima), mean [3.25,2.75];
 *  with a third row [9,9,9,9] that no window covers (the general kernel, for an odd height),
 *  the same maxima and a gradient of 0 on that row;
 *  [1,2] upsampled x2 is [[1,1,2,2],[1,1,2,2]], whose gradient sums each 2x2 block of 1..8
 *  (the 2x2 kernel);
 *  concat of [[1],[2]] and [[3,4],[5,6]] is [[1,3,4],[2,5,6]]; channel 1 of [[1,2,3],[4,5,6]]
 *  is [2,5]; softmax of [0, ln 3] is [1/4, 3/4]. */
#include <math.h>

#include "ops/ops.h"
#include "selftest/selftest_internal.h"

static const float pool_x[8] = {1, 5, 2, 0, 3, 4, 8, 1};

static cg_op_host_io one_input(const char *op, const cg_op_attrs *a, cg_shape shape,
                               const float *x, const float *dy) {
    cg_op_host_io io = {.op = cg_op_find(op), .attrs = a, .n_in = 1, .dout = dy};
    io.in_shape[0] = shape;
    io.in[0] = x;
    io.want_din[0] = true;
    return io;
}

static cg_status check_maxpool(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    static const float x[12] = {1, 5, 2, 0, 3, 4, 8, 1, 9, 9, 9, 9}, dy[2] = {1, 2};
    static const double y[2] = {5, 8}, dx[12] = {0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0};
    cg_op_attrs a = {.kernel = {2, 2}};
    cg_op_host_io io = one_input("maxpool2d", &a, cg_shape_make(4, 1, 1, 3, 4), x, dy);
    cg__op_expect want = {y, {dx}, {NULL}};
    return cg__selftest_op(ctx, &io, &want, 1e-6, passed, detail, cap);
}

/* The 2x2 vector kernels on a 2x8 input with ties: each window's gradient goes to its first
 * maximum in scan order (top-left, top-right, bottom-left, bottom-right). */
static cg_status check_maxpool2x2(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    static const float x[16] = {1, 1, 3, 0, 2, 5, 4, 4, 1, 0, 3, 7, 2, 5, 4, 4};
    static const float dy[4] = {1, 2, 3, 4};
    static const double y[4] = {1, 7, 5, 4};
    static const double dx[16] = {1, 0, 0, 0, 0, 3, 4, 0, 0, 0, 0, 2, 0, 0, 0, 0};
    cg_op_attrs a = {.kernel = {2, 2}};
    cg_op_host_io io = one_input("maxpool2d", &a, cg_shape_make(4, 1, 1, 2, 8), x, dy);
    cg__op_expect want = {y, {dx}, {NULL}};
    return cg__selftest_op(ctx, &io, &want, 1e-6, passed, detail, cap);
}

static cg_status check_avgpool(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    static const float dy[2] = {1, 2};
    static const double y[2] = {3.25, 2.75}, dx[8] = {.25, .25, .5, .5, .25, .25, .5, .5};
    cg_op_attrs a = {.kernel = {2, 2}};
    cg_op_host_io io = one_input("avgpool2d", &a, cg_shape_make(4, 1, 1, 2, 4), pool_x, dy);
    cg__op_expect want = {y, {dx}, {NULL}};
    return cg__selftest_op(ctx, &io, &want, 1e-6, passed, detail, cap);
}

/* Then [3] (one column: the general backward) upsampled x2 is [[3,3],[3,3]], its gradient the
 * sum of 1..4. */
static cg_status check_upsample(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    static const float x[2] = {1, 2}, dy[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const double y[8] = {1, 1, 2, 2, 1, 1, 2, 2}, dx[2] = {14, 22};
    cg_op_attrs a = {.factor = 2};
    cg_op_host_io io = one_input("upsample", &a, cg_shape_make(4, 1, 1, 1, 2), x, dy);
    cg__op_expect want = {y, {dx}, {NULL}};
    cg_status st = cg__selftest_op(ctx, &io, &want, 1e-6, passed, detail, cap);
    if (st != CG_OK || !*passed)
        return st;
    static const float x1[1] = {3};
    static const double y1[4] = {3, 3, 3, 3}, dx1[1] = {10};
    cg_op_host_io io1 = one_input("upsample", &a, cg_shape_make(4, 1, 1, 1, 1), x1, dy);
    cg__op_expect want1 = {y1, {dx1}, {NULL}};
    return cg__selftest_op(ctx, &io1, &want1, 1e-6, passed, detail, cap);
}

static cg_status check_concat_slice(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    static const float x0[2] = {1, 2}, x1[4] = {3, 4, 5, 6}, dy[6] = {10, 20, 30, 40, 50, 60};
    static const double y[6] = {1, 3, 4, 2, 5, 6}, dx0[2] = {10, 40}, dx1[4] = {20, 30, 50, 60};
    cg_op_attrs a = {0};
    cg_op_host_io io = one_input("concat", &a, cg_shape_make(2, 2, 1, 0, 0), x0, dy);
    io.n_in = 2;
    io.in_shape[1] = cg_shape_make(2, 2, 2, 0, 0);
    io.in[1] = x1;
    io.want_din[1] = true;
    cg__op_expect want = {y, {dx0, dx1}, {NULL}};
    cg_status st = cg__selftest_op(ctx, &io, &want, 1e-6, passed, detail, cap);
    if (st != CG_OK || !*passed)
        return st;
    static const float x[6] = {1, 2, 3, 4, 5, 6}, g[2] = {7, 8};
    static const double sy[2] = {2, 5}, sdx[6] = {0, 7, 0, 0, 8, 0};
    cg_op_attrs s = {.slice = {1, 1}};
    cg_op_host_io io2 = one_input("slice", &s, cg_shape_make(2, 2, 3, 0, 0), x, g);
    cg__op_expect want2 = {sy, {sdx}, {NULL}};
    return cg__selftest_op(ctx, &io2, &want2, 1e-6, passed, detail, cap);
}

static cg_status check_softmax(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    const float x[2] = {0, (float)log(3.0)};
    static const float dy[2] = {1, 0};
    static const double y[2] = {0.25, 0.75}, dx[2] = {0.1875, -0.1875};
    cg_op_attrs a = {0};
    cg_op_host_io io = one_input("softmax", &a, cg_shape_make(2, 1, 2, 0, 0), x, dy);
    cg__op_expect want = {y, {dx}, {NULL}};
    cg_status st = cg__selftest_op(ctx, &io, &want, 1e-6, passed, detail, cap);
    if (st != CG_OK || !*passed)
        return st;
    const double ly[2] = {log(0.25), log(0.75)};
    static const double ldx[2] = {0.75, -0.75};
    cg_op_host_io io2 = one_input("log_softmax", &a, cg_shape_make(2, 1, 2, 0, 0), x, dy);
    cg__op_expect want2 = {ly, {ldx}, {NULL}};
    return cg__selftest_op(ctx, &io2, &want2, 1e-6, passed, detail, cap);
}

const cg__selftest_case cg__pool_checks[] = {
    {"pool.cl", "maxpool2d_fwd maxpool2d_bwd", check_maxpool},
    {"pool.cl", "maxpool2x2_fwd maxpool2x2_bwd", check_maxpool2x2},
    {"pool.cl", "avgpool2d_fwd avgpool2d_bwd", check_avgpool},
    {"pool.cl", "upsample_fwd upsample_bwd upsample2x_bwd", check_upsample},
    {"shape.cl", "block_put block_get block_scatter_zero", check_concat_slice},
    {"softmax.cl", "softmax_fwd softmax_bwd log_softmax_fwd log_softmax_bwd", check_softmax},
};
const size_t cg__pool_check_count = CG__ARRAY_LEN(cg__pool_checks);
