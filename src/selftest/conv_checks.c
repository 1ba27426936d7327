/* Known answers for cl/linear.cl and cl/conv.cl, worked out by hand on tiny inputs:
 *  linear: x = [[1,2,3],[4,5,6]], W = [[1,0,-1],[.5,.5,.5]], b = [.5,-1], dy = identity.
 *  conv2d: x = 1..9 as 3x3, one 2x2 filter [[1,0],[0,-1]], bias .5, dy = 1..4: every output is
 *  x[i] - x[i+4] + .5 = -3.5; dW sums dy times the four shifted windows.
 *  The same conv with stride 2 has one output, 1 - 5 + .5; with dy = 2, dx holds 2 and -2 at
 *  x[0] and x[4], and dW is 2 times the window (1, 2, 4, 5).
 *  conv_transpose2d: the adjoint of that conv, so its output equals the conv's dx.
 *  The channels-last kernels (16 channels of 12x12 to 16, a 3x3 filter, padding 1) against
 *  double-precision loops. */
#include <stdlib.h>

#include "ops/ops.h"
#include "selftest/selftest_internal.h"

static cg_status check_linear(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    static const float x[6] = {1, 2, 3, 4, 5, 6}, w[6] = {1, 0, -1, 0.5f, 0.5f, 0.5f};
    static const float b[2] = {0.5f, -1}, dy[4] = {1, 0, 0, 1};
    static const double y[4] = {-1.5, 2, -1.5, 6.5}, dx[6] = {1, 0, -1, 0.5, 0.5, 0.5};
    static const double dw[6] = {1, 2, 3, 4, 5, 6}, db[2] = {1, 1};
    cg_op_attrs a = {.features = 2, .bias = true};
    cg_op_host_io io = {.op = cg_op_find("linear"), .attrs = &a, .n_in = 1, .dout = dy};
    io.in_shape[0] = cg_shape_make(2, 2, 3, 0, 0);
    io.in[0] = x;
    io.want_din[0] = true;
    io.params[0] = w;
    io.params[1] = b;
    cg__op_expect want = {y, {dx}, {dw, db}};
    return cg__selftest_op(ctx, &io, &want, 1e-5, passed, detail, cap);
}

/* per_sample_linear, two samples with a layer each: x = [[1, 2], [3, 4]], W[0] = [[1, -1]],
 * W[1] = [[2, 0.5]], b = [0.5, -1], dy = [2, -1]: y = [1 - 2 + 0.5, 6 + 2 - 1], dx[n] = W[n]^T
 * dy[n], dW[n] = dy[n] x[n], db = dy. */
static cg_status check_per_sample_linear(cg_context *ctx, bool *passed, char *detail,
                                         size_t cap) {
    static const float x[4] = {1, 2, 3, 4}, w[4] = {1, -1, 2, 0.5f}, b[2] = {0.5f, -1};
    static const float dy[2] = {2, -1};
    static const double y[2] = {-0.5, 7}, dx[4] = {2, -2, -2, -0.5}, dw[4] = {2, 4, -3, -4};
    static const double db[2] = {2, -1};
    cg_op_attrs a = {.features = 1, .bias = true};
    cg_op_host_io io = {.op = cg_op_find("per_sample_linear"), .attrs = &a, .n_in = 1,
                        .dout = dy};
    io.in_shape[0] = cg_shape_make(2, 2, 2, 0, 0);
    io.in[0] = x;
    io.want_din[0] = true;
    io.params[0] = w;
    io.params[1] = b;
    cg__op_expect want = {y, {dx}, {dw, db}};
    return cg__selftest_op(ctx, &io, &want, 1e-6, passed, detail, cap);
}

static const float img[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, filt[4] = {1, 0, 0, -1};
static const double shifted[9] = {1, 2, 0, 3, 3, -2, 0, -3, -4};
static const double window_sums[4] = {37, 47, 67, 77};

/* The 2x2 conv of img with stride 1 (four outputs, dy = 1..4) or 2 (one output, dy = 2). */
static cg_status check_conv(cg_context *ctx, int algo, int stride, bool *passed, char *detail,
                            size_t cap) {
    static const float bias[1] = {0.5f}, dy1[4] = {1, 2, 3, 4}, dy2[1] = {2};
    static const double y[4] = {-3.5, -3.5, -3.5, -3.5}, db1[1] = {10}, db2[1] = {2};
    static const double dx2[9] = {2, 0, 0, 0, -2, 0, 0, 0, 0}, dw2[4] = {2, 4, 8, 10};
    cg_op_attrs a = {.features = 1, .kernel = {2, 2}, .stride = {stride, stride}, .bias = true,
                     .conv_algo = algo};
    cg_op_host_io io = {.op = cg_op_find("conv2d"), .attrs = &a, .n_in = 1,
                        .dout = stride == 1 ? dy1 : dy2};
    io.in_shape[0] = cg_shape_make(4, 1, 1, 3, 3);
    io.in[0] = img;
    io.want_din[0] = true;
    io.params[0] = filt;
    io.params[1] = bias;
    cg__op_expect want = {y, {stride == 1 ? shifted : dx2},
                          {stride == 1 ? window_sums : dw2, stride == 1 ? db1 : db2}};
    return cg__selftest_op(ctx, &io, &want, 1e-5, passed, detail, cap);
}

/* conv_transpose2d's GEMM path over two samples (on CPUs a batch of per-sample products that
 * col2im reads sample by sample), 3 -> 2 channels, 3x3 windows, against double-precision loops
 * (forward only). */
static cg_status check_conv_transpose_batch(cg_context *ctx, bool *passed, char *detail,
                                            size_t cap) {
    enum { N = 2, CI = 3, CO = 2, H = 3, K = 3, HO = H + K - 1 };
    float x[N * CI * H * H], w[CI * CO * K * K];
    double y[N * CO * HO * HO] = {0};
    for (int i = 0; i < N * CI * H * H; i++)
        x[i] = (float)((i * 29) % 13) / 4.0f - 1.5f;
    for (int i = 0; i < CI * CO * K * K; i++)
        w[i] = (float)((i * 11) % 7) / 8.0f - 0.375f;
    for (int n = 0; n < N; n++)
        for (int ci = 0; ci < CI; ci++)
            for (int h = 0; h < H; h++)
                for (int v = 0; v < H; v++)
                    for (int co = 0; co < CO; co++)
                        for (int kh = 0; kh < K; kh++)
                            for (int kw = 0; kw < K; kw++)
                                y[((n * CO + co) * HO + h + kh) * HO + v + kw] +=
                                    (double)x[((n * CI + ci) * H + h) * H + v] *
                                    w[((ci * CO + co) * K + kh) * K + kw];
    float dy[N * CO * HO * HO] = {0};
    cg_op_attrs a = {.features = CO, .kernel = {K, K}};
    cg_op_host_io io = {.op = cg_op_find("conv_transpose2d"), .attrs = &a, .n_in = 1,
                        .dout = dy};
    io.in_shape[0] = cg_shape_make(4, N, CI, H, H);
    io.in[0] = x;
    io.params[0] = w;
    const cg__op_expect want = {y, {NULL}, {NULL}};
    return cg__selftest_op(ctx, &io, &want, 1e-5, passed, detail, cap);
}

/* The GEMM path with im2col and col2im in the layout given (a column or a whole row per
 * work-item: the tuned chunk, forced here so that both kernels of each run wherever the check
 * does), col2im also on a batch of per-sample products. */
static cg_status check_conv_im2col_as(cg_context *ctx, int chunk, bool *passed, char *detail,
                                      size_t cap) {
    const int was = ctx->tuning.force_chunk;
    ctx->tuning.force_chunk = chunk;
    cg_status st = check_conv(ctx, CG_CONV_IM2COL, 1, passed, detail, cap);
    if (st == CG_OK && *passed)
        st = check_conv_transpose_batch(ctx, passed, detail, cap);
    ctx->tuning.force_chunk = was;
    return st;
}

static cg_status check_conv_im2col(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    return check_conv_im2col_as(ctx, 1, passed, detail, cap);
}

static cg_status check_conv_im2col_rows(cg_context *ctx, bool *passed, char *detail,
                                        size_t cap) {
    return check_conv_im2col_as(ctx, -1, passed, detail, cap);
}

static cg_status check_conv_direct(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    return check_conv(ctx, CG_CONV_DIRECT, 1, passed, detail, cap);
}

/* The strided direct gradients (conv2d_direct_bwd_data and the weight gradient by row blocks;
 * stride 1 runs the data gradient as a convolution). */
static cg_status check_conv_direct_strided(cg_context *ctx, bool *passed, char *detail,
                                           size_t cap) {
    return check_conv(ctx, CG_CONV_DIRECT, 2, passed, detail, cap);
}

/* A 3x3 conv of a (1, 16, 12, 12) input to 16 channels with padding 1 against double-precision
 * loops: 144 input taps and 16 channels, so that the forward, the weight gradient and the data
 * gradient (a convolution of dy) all run channels last: the forward and the data gradient
 * skipping the columns of padding, the weight gradient reading them written out by pad_rows and
 * the rows of padding from the zero row. */
static cg_status check_conv_channels_last(cg_context *ctx, bool *passed, char *detail,
                                          size_t cap) {
    enum { C = 16, O = 16, H = 12, K = 3 };
    float *x = malloc(C * H * H * sizeof *x), *w = malloc(O * C * K * K * sizeof *w);
    float *dy = malloc(O * H * H * sizeof *dy);
    double *y = calloc(O * H * H, sizeof *y), *dx = calloc(C * H * H, sizeof *dx);
    double *dw = calloc(O * C * K * K, sizeof *dw);
    if (!x || !w || !dy || !y || !dx || !dw) {
        free(x), free(w), free(dy), free(y), free(dx), free(dw);
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for the channels-last check");
    }
    for (int i = 0; i < C * H * H; i++)
        x[i] = (float)((i * 37) % 17) / 8.0f - 1.0f;
    for (int i = 0; i < O * C * K * K; i++)
        w[i] = (float)((i * 11) % 9) / 4.0f - 1.0f;
    for (int i = 0; i < O * H * H; i++)
        dy[i] = 1.0f / (1.0f + (float)(i % 29));
    for (int o = 0; o < O; o++)
        for (int c = 0; c < C; c++)
            for (int kh = 0; kh < K; kh++)
                for (int kw = 0; kw < K; kw++)
                    for (int ho = 0; ho < H; ho++)
                        for (int wo = 0; wo < H; wo++) {
                            int h = ho + kh - 1, v = wo + kw - 1;
                            if (h < 0 || h >= H || v < 0 || v >= H)
                                continue;
                            int xi = (c * H + h) * H + v, yi = (o * H + ho) * H + wo;
                            int wi = ((o * C + c) * K + kh) * K + kw;
                            y[yi] += (double)w[wi] * x[xi];
                            dx[xi] += (double)w[wi] * dy[yi];
                            dw[wi] += (double)dy[yi] * x[xi];
                        }
    cg_op_attrs a = {.features = O, .kernel = {K, K}, .pad = {1, 1},
                     .conv_algo = CG_CONV_DIRECT};
    cg_op_host_io io = {.op = cg_op_find("conv2d"), .attrs = &a, .n_in = 1, .dout = dy};
    io.in_shape[0] = cg_shape_make(4, 1, C, H, H);
    io.in[0] = x;
    io.want_din[0] = true;
    io.params[0] = w;
    cg__op_expect want = {y, {dx}, {dw}};
    cg_status st = cg__selftest_op(ctx, &io, &want, 1e-4, passed, detail, cap);
    free(x), free(w), free(dy), free(y), free(dx), free(dw);
    return st;
}

/* bias_bwd (a work-group per channel) reduces the bias gradient of image layers: a conv2d's. */
static cg_status check_bias_bwd(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    return check_conv(ctx, CG_CONV_DIRECT, 1, passed, detail, cap);
}

static cg_status check_conv_transpose(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    static const float x[4] = {1, 2, 3, 4};
    static const double dx[4] = {-4, -4, -4, -4};
    cg_op_attrs a = {.features = 1, .kernel = {2, 2}};
    cg_op_host_io io = {.op = cg_op_find("conv_transpose2d"), .attrs = &a, .n_in = 1,
                        .dout = img};
    io.in_shape[0] = cg_shape_make(4, 1, 1, 2, 2);
    io.in[0] = x;
    io.want_din[0] = true;
    io.params[0] = filt;
    cg__op_expect want = {shifted, {dx}, {window_sums}};
    return cg__selftest_op(ctx, &io, &want, 1e-5, passed, detail, cap);
}

const cg__selftest_case cg__conv_checks[] = {
    {"linear.cl", "bias_add", check_linear},
    {"linear.cl", "bias_bwd", check_bias_bwd},
    {"linear.cl", "per_sample_linear_fwd per_sample_linear_bwd_data per_sample_linear_bwd_weight",
     check_per_sample_linear},
    {"conv.cl", "im2col col2im nchw_to_cnhw cnhw_to_nchw", check_conv_im2col},
    {"conv.cl", "im2col_rows col2im_rows", check_conv_im2col_rows},
    {"conv.cl", "conv2d_direct_fwd", check_conv_direct},
    {"conv.cl", "conv2d_cl_fwd pack_weights conv2d_cl_bwd_weight to_channels_last pad_rows",
     check_conv_channels_last},
    {"core.cl", "add_chunk_sums", check_conv_direct},
    {"conv.cl", "conv2d_direct_bwd_data conv2d_direct_bwd_weight", check_conv_direct_strided},
    {"clblast", "conv_transpose2d", check_conv_transpose},
};
const size_t cg__conv_check_count = CG__ARRAY_LEN(cg__conv_checks);
