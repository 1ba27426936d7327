/* CPU references in double precision (see ref_ops.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_ops.h"

size_t ref_numel(const cg_shape *s) {
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++)
        n *= (size_t)s->d[i];
    return n;
}

/* ---- element-wise ---- */

static size_t nout(const ref_io *io) {
    return ref_numel(&io->out_shape);
}

static void relu_f(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++)
        io->out[i] = io->in[0][i] > 0 ? io->in[0][i] : 0;
}
static void relu_b(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++)
        io->din[0][i] = io->in[0][i] > 0 ? io->dout[i] : 0;
}
static void leaky_f(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++) {
        double x = io->in[0][i];
        io->out[i] = x > 0 ? x : io->a->alpha * x;
    }
}
static void leaky_b(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++)
        io->din[0][i] = io->in[0][i] > 0 ? io->dout[i] : io->a->alpha * io->dout[i];
}

static size_t prelu_slope(const ref_io *io, size_t i) {
    if (io->a->count == 1)
        return 0;
    size_t inner = 1;
    for (int d = 2; d < io->out_shape.ndim; d++)
        inner *= (size_t)io->out_shape.d[d];
    return (i / inner) % (size_t)io->out_shape.d[1];
}
static void prelu_f(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++) {
        double x = io->in[0][i];
        io->out[i] = x > 0 ? x : io->params[0][prelu_slope(io, i)] * x;
    }
}
static void prelu_b(ref_io *io) {
    memset(io->dparams[0], 0, (size_t)io->a->count * sizeof(double));
    for (size_t i = 0; i < nout(io); i++) {
        double x = io->in[0][i];
        size_t s = prelu_slope(io, i);
        if (io->din[0])
            io->din[0][i] = x > 0 ? io->dout[i] : io->params[0][s] * io->dout[i];
        if (x <= 0)
            io->dparams[0][s] += io->dout[i] * x;
    }
}
static void tanh_f(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++)
        io->out[i] = tanh(io->in[0][i]);
}
static void tanh_b(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++) {
        double y = tanh(io->in[0][i]);
        io->din[0][i] = io->dout[i] * (1 - y * y);
    }
}
static void sigmoid_f(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++)
        io->out[i] = 1 / (1 + exp(-io->in[0][i]));
}
static void sigmoid_b(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++) {
        double y = 1 / (1 + exp(-io->in[0][i]));
        io->din[0][i] = io->dout[i] * y * (1 - y);
    }
}
static void add_f(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++)
        io->out[i] = io->in[0][i] + io->in[1][i];
}
static void add_b(ref_io *io) {
    for (int k = 0; k < 2; k++)
        if (io->din[k])
            memcpy(io->din[k], io->dout, nout(io) * sizeof(double));
}
static void scale_f(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++)
        io->out[i] = io->a->alpha * io->in[0][i];
}
static void scale_b(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++)
        io->din[0][i] = io->a->alpha * io->dout[i];
}

/* mul: each sample's row of in[0] scaled by in[1]'s number for it. */
static void mul_f(ref_io *io) {
    size_t K = nout(io) / (size_t)io->out_shape.d[0];
    for (size_t i = 0; i < nout(io); i++)
        io->out[i] = io->in[0][i] * io->in[1][i / K];
}
static void mul_b(ref_io *io) {
    size_t K = nout(io) / (size_t)io->out_shape.d[0];
    if (io->din[1])
        for (int n = 0; n < io->out_shape.d[0]; n++)
            io->din[1][n] = 0;
    for (size_t i = 0; i < nout(io); i++) {
        if (io->din[0])
            io->din[0][i] = io->dout[i] * io->in[1][i / K];
        if (io->din[1])
            io->din[1][i / K] += io->dout[i] * io->in[0][i];
    }
}

/* ---- linear and convolutions ---- */

/* Each sample n through its own W[n] (O x I) and b[n]. */
static void psl_f(ref_io *io) {
    int N = io->in_shape[0].d[0], I = io->in_shape[0].d[1], O = io->out_shape.d[1];
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++) {
            double s = io->n_params > 1 ? io->params[1][n * O + o] : 0;
            for (int i = 0; i < I; i++)
                s += io->params[0][((size_t)n * O + o) * I + i] * io->in[0][n * I + i];
            io->out[n * O + o] = s;
        }
}
static void psl_b(ref_io *io) {
    int N = io->in_shape[0].d[0], I = io->in_shape[0].d[1], O = io->out_shape.d[1];
    for (int n = 0; n < N; n++) {
        for (int i = 0; i < I && io->din[0]; i++) {
            double s = 0;
            for (int o = 0; o < O; o++)
                s += io->params[0][((size_t)n * O + o) * I + i] * io->dout[n * O + o];
            io->din[0][n * I + i] = s;
        }
        for (int o = 0; o < O; o++) {
            for (int i = 0; i < I; i++)
                io->dparams[0][((size_t)n * O + o) * I + i] =
                    io->dout[n * O + o] * io->in[0][n * I + i];
            if (io->n_params > 1)
                io->dparams[1][n * O + o] = io->dout[n * O + o];
        }
    }
}

static void linear_f(ref_io *io) {
    int n = io->in_shape[0].d[0], k = io->in_shape[0].d[1], m = io->a->features;
    for (int i = 0; i < n; i++)
        for (int o = 0; o < m; o++) {
            double s = io->a->bias ? io->params[1][o] : 0;
            for (int j = 0; j < k; j++)
                s += io->in[0][i * k + j] * io->params[0][o * k + j];
            io->out[i * m + o] = s;
        }
}
static void linear_b(ref_io *io) {
    int n = io->in_shape[0].d[0], k = io->in_shape[0].d[1], m = io->a->features;
    memset(io->dparams[0], 0, (size_t)m * k * sizeof(double));
    if (io->a->bias)
        memset(io->dparams[1], 0, (size_t)m * sizeof(double));
    if (io->din[0])
        memset(io->din[0], 0, (size_t)n * k * sizeof(double));
    for (int i = 0; i < n; i++)
        for (int o = 0; o < m; o++) {
            double g = io->dout[i * m + o];
            if (io->a->bias)
                io->dparams[1][o] += g;
            for (int j = 0; j < k; j++) {
                io->dparams[0][o * k + j] += g * io->in[0][i * k + j];
                if (io->din[0])
                    io->din[0][i * k + j] += g * io->params[0][o * k + j];
            }
        }
}

/* A convolution visits every (sample, out channel, in channel, output position, kernel tap)
 * whose input position lies inside the image; forward and backward reuse the one visit. */
typedef struct conv_visit {
    int n, o, c, y, x, h, w, kh, kw;
} conv_visit;

typedef void (*conv_fn)(ref_io *io, const conv_visit *v);

static int stride_of(int s) {
    return s ? s : 1;
}

/* Visits every (sample, out channel o, in channel c, position (y, x) on the small side, tap
 * (kh, kw)) whose large-side position (h, w) = (y, x) * stride - padding + (kh, kw) lies inside.
 * For conv2d the small side is the output and the large side the input; for conv_transpose2d
 * the other way round. */
static void window_each(ref_io *io, const cg_shape *small, const cg_shape *large, int O, int C,
                        conv_fn fn) {
    int N = small->d[0], YS = small->d[2], XS = small->d[3], H = large->d[2], W = large->d[3];
    int KH = io->a->kernel[0], KW = io->a->kernel[1];
    int SH = stride_of(io->a->stride[0]), SW = stride_of(io->a->stride[1]);
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++)
            for (int c = 0; c < C; c++)
                for (int y = 0; y < YS; y++)
                    for (int x = 0; x < XS; x++)
                        for (int kh = 0; kh < KH; kh++)
                            for (int kw = 0; kw < KW; kw++) {
                                int h = y * SH - io->a->pad[0] + kh, w = x * SW - io->a->pad[1] + kw;
                                if (h < 0 || h >= H || w < 0 || w >= W)
                                    continue;
                                conv_visit v = {n, o, c, y, x, h, w, kh, kw};
                                fn(io, &v);
                            }
}

/* conv2d: x (N, C, H, W), weight (O, C, KH, KW), output (N, O, HO, WO). */
static void conv_each(ref_io *io, conv_fn fn) {
    window_each(io, &io->out_shape, &io->in_shape[0], io->out_shape.d[1], io->in_shape[0].d[1],
                fn);
}

static size_t x_at(const ref_io *io, const conv_visit *v) {
    const cg_shape *s = &io->in_shape[0];
    return (((size_t)v->n * s->d[1] + v->c) * s->d[2] + v->h) * s->d[3] + v->w;
}
static size_t y_at(const ref_io *io, const conv_visit *v) {
    const cg_shape *s = &io->out_shape;
    return (((size_t)v->n * s->d[1] + v->o) * s->d[2] + v->y) * s->d[3] + v->x;
}
static size_t w_at(const ref_io *io, const conv_visit *v) {
    return (((size_t)v->o * io->in_shape[0].d[1] + v->c) * io->a->kernel[0] + v->kh) *
               io->a->kernel[1] + v->kw;
}

static void conv_fwd_visit(ref_io *io, const conv_visit *v) {
    io->out[y_at(io, v)] += io->in[0][x_at(io, v)] * io->params[0][w_at(io, v)];
}
static void conv_bwd_visit(ref_io *io, const conv_visit *v) {
    double g = io->dout[y_at(io, v)];
    io->dparams[0][w_at(io, v)] += g * io->in[0][x_at(io, v)];
    if (io->din[0])
        io->din[0][x_at(io, v)] += g * io->params[0][w_at(io, v)];
}

/* The bias of channel dim 1 of the output: added in forward, summed in backward. */
static void channel_bias(ref_io *io, bool forward) {
    const cg_shape *s = &io->out_shape;
    size_t inner = (size_t)s->d[2] * s->d[3];
    if (!forward)
        memset(io->dparams[1], 0, (size_t)s->d[1] * sizeof(double));
    for (size_t i = 0; i < ref_numel(s); i++) {
        size_t c = (i / inner) % (size_t)s->d[1];
        if (forward)
            io->out[i] += io->params[1][c];
        else
            io->dparams[1][c] += io->dout[i];
    }
}

static void clear_grads(ref_io *io) {
    memset(io->dparams[0], 0, ref_numel(&io->param_shape[0]) * sizeof(double));
    if (io->din[0])
        memset(io->din[0], 0, ref_numel(&io->in_shape[0]) * sizeof(double));
}

static void conv_f(ref_io *io) {
    memset(io->out, 0, nout(io) * sizeof(double));
    conv_each(io, conv_fwd_visit);
    if (io->a->bias)
        channel_bias(io, true);
}
static void conv_b(ref_io *io) {
    clear_grads(io);
    conv_each(io, conv_bwd_visit);
    if (io->a->bias)
        channel_bias(io, false);
}

/* conv_transpose2d: x (N, Cin, H, W), weight (Cin, Cout, KH, KW); input position (y, x) and tap
 * (kh, kw) write output position (y*S - P + kh, x*S - P + kw). In the visit, c is the input
 * channel, o the output channel, (y, x) the input position and (h, w) the output position. */
static void tconv_each(ref_io *io, conv_fn fn) {
    window_each(io, &io->in_shape[0], &io->out_shape, io->out_shape.d[1], io->in_shape[0].d[1],
                fn);
}

static size_t tx_at(const ref_io *io, const conv_visit *v) {
    const cg_shape *s = &io->in_shape[0];
    return (((size_t)v->n * s->d[1] + v->c) * s->d[2] + v->y) * s->d[3] + v->x;
}
static size_t ty_at(const ref_io *io, const conv_visit *v) {
    const cg_shape *s = &io->out_shape;
    return (((size_t)v->n * s->d[1] + v->o) * s->d[2] + v->h) * s->d[3] + v->w;
}
static size_t tw_at(const ref_io *io, const conv_visit *v) {
    return (((size_t)v->c * io->out_shape.d[1] + v->o) * io->a->kernel[0] + v->kh) *
               io->a->kernel[1] + v->kw;
}
static void tconv_fwd_visit(ref_io *io, const conv_visit *v) {
    io->out[ty_at(io, v)] += io->in[0][tx_at(io, v)] * io->params[0][tw_at(io, v)];
}
static void tconv_bwd_visit(ref_io *io, const conv_visit *v) {
    double g = io->dout[ty_at(io, v)];
    io->dparams[0][tw_at(io, v)] += g * io->in[0][tx_at(io, v)];
    if (io->din[0])
        io->din[0][tx_at(io, v)] += g * io->params[0][tw_at(io, v)];
}
static void tconv_f(ref_io *io) {
    memset(io->out, 0, nout(io) * sizeof(double));
    tconv_each(io, tconv_fwd_visit);
    if (io->a->bias)
        channel_bias(io, true);
}
static void tconv_b(ref_io *io) {
    clear_grads(io);
    tconv_each(io, tconv_bwd_visit);
    if (io->a->bias)
        channel_bias(io, false);
}

/* ---- pooling and upsampling ---- */

/* Visits each (output element, window element) pair; for max pooling only the window's first
 * maximum. */
static void pool_each(ref_io *io, bool max, void (*fn)(ref_io *, size_t y, size_t x, double w)) {
    const cg_shape *xs = &io->in_shape[0], *ys = &io->out_shape;
    int NC = xs->d[0] * xs->d[1], H = xs->d[2], W = xs->d[3], HO = ys->d[2], WO = ys->d[3];
    int KH = io->a->kernel[0], KW = io->a->kernel[1];
    int SH = io->a->stride[0] ? io->a->stride[0] : KH, SW = io->a->stride[1] ? io->a->stride[1] : KW;
    for (int nc = 0; nc < NC; nc++)
        for (int y = 0; y < HO; y++)
            for (int x = 0; x < WO; x++) {
                size_t yi = ((size_t)nc * HO + y) * WO + x, best = 0;
                double m = -INFINITY;
                for (int kh = 0; kh < KH; kh++)
                    for (int kw = 0; kw < KW; kw++) {
                        size_t xi = ((size_t)nc * H + y * SH + kh) * W + x * SW + kw;
                        if (!max)
                            fn(io, yi, xi, 1.0 / (KH * KW));
                        else if (io->in[0][xi] > m) {
                            m = io->in[0][xi];
                            best = xi;
                        }
                    }
                if (max)
                    fn(io, yi, best, 1.0);
            }
}
static void pool_fwd_visit(ref_io *io, size_t y, size_t x, double w) {
    io->out[y] += w * io->in[0][x];
}
static void pool_bwd_visit(ref_io *io, size_t y, size_t x, double w) {
    io->din[0][x] += w * io->dout[y];
}
static void maxpool_f(ref_io *io) {
    memset(io->out, 0, nout(io) * sizeof(double));
    pool_each(io, true, pool_fwd_visit);
}
static void maxpool_b(ref_io *io) {
    memset(io->din[0], 0, ref_numel(&io->in_shape[0]) * sizeof(double));
    pool_each(io, true, pool_bwd_visit);
}
static void avgpool_f(ref_io *io) {
    memset(io->out, 0, nout(io) * sizeof(double));
    pool_each(io, false, pool_fwd_visit);
}
static void avgpool_b(ref_io *io) {
    memset(io->din[0], 0, ref_numel(&io->in_shape[0]) * sizeof(double));
    pool_each(io, false, pool_bwd_visit);
}

static size_t upsample_src(const ref_io *io, size_t i) {
    const cg_shape *ys = &io->out_shape;
    size_t W = (size_t)ys->d[3], H = (size_t)ys->d[2], f = (size_t)io->a->factor;
    size_t w = i % W, h = (i / W) % H, nc = i / (W * H);
    return (nc * (H / f) + h / f) * (W / f) + w / f;
}
static void upsample_f(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++)
        io->out[i] = io->in[0][upsample_src(io, i)];
}
static void upsample_b(ref_io *io) {
    memset(io->din[0], 0, ref_numel(&io->in_shape[0]) * sizeof(double));
    for (size_t i = 0; i < nout(io); i++)
        io->din[0][upsample_src(io, i)] += io->dout[i];
}

/* ---- shape ops ---- */

static void copy_f(ref_io *io) {
    memcpy(io->out, io->in[0], nout(io) * sizeof(double));
}
static void copy_b(ref_io *io) {
    memcpy(io->din[0], io->dout, nout(io) * sizeof(double));
}

/* Per-sample size of a block of `channels` channels of shape s. */
static size_t block_of(const cg_shape *s, int channels) {
    size_t inner = (size_t)channels;
    for (int d = 2; d < s->ndim; d++)
        inner *= (size_t)s->d[d];
    return inner;
}
static void concat_f(ref_io *io) {
    size_t N = (size_t)io->out_shape.d[0], row = block_of(&io->out_shape, io->out_shape.d[1]);
    size_t off = 0;
    for (int i = 0; i < io->n_in; i++) {
        size_t b = block_of(&io->in_shape[i], io->in_shape[i].d[1]);
        for (size_t n = 0; n < N; n++)
            memcpy(io->out + n * row + off, io->in[i] + n * b, b * sizeof(double));
        off += b;
    }
}
static void concat_b(ref_io *io) {
    size_t N = (size_t)io->out_shape.d[0], row = block_of(&io->out_shape, io->out_shape.d[1]);
    size_t off = 0;
    for (int i = 0; i < io->n_in; i++) {
        size_t b = block_of(&io->in_shape[i], io->in_shape[i].d[1]);
        for (size_t n = 0; n < N && io->din[i]; n++)
            memcpy(io->din[i] + n * b, io->dout + n * row + off, b * sizeof(double));
        off += b;
    }
}
static void slice_f(ref_io *io) {
    const cg_shape *x = &io->in_shape[0];
    size_t N = (size_t)x->d[0], row = block_of(x, x->d[1]), b = block_of(x, io->a->slice[1]);
    size_t off = block_of(x, io->a->slice[0]);
    for (size_t n = 0; n < N; n++)
        memcpy(io->out + n * b, io->in[0] + n * row + off, b * sizeof(double));
}
static void slice_b(ref_io *io) {
    const cg_shape *x = &io->in_shape[0];
    size_t N = (size_t)x->d[0], row = block_of(x, x->d[1]), b = block_of(x, io->a->slice[1]);
    size_t off = block_of(x, io->a->slice[0]);
    memset(io->din[0], 0, ref_numel(x) * sizeof(double));
    for (size_t n = 0; n < N; n++)
        memcpy(io->din[0] + n * row + off, io->dout + n * b, b * sizeof(double));
}

/* ---- softmax ---- */

static void softmax_rows(const ref_io *io, double *p, bool log_form) {
    int N = io->in_shape[0].d[0], K = io->in_shape[0].d[1];
    for (int n = 0; n < N; n++) {
        const double *x = io->in[0] + (size_t)n * K;
        double m = x[0], s = 0;
        for (int k = 1; k < K; k++)
            m = x[k] > m ? x[k] : m;
        for (int k = 0; k < K; k++)
            s += exp(x[k] - m);
        for (int k = 0; k < K; k++)
            p[(size_t)n * K + k] = log_form ? x[k] - m - log(s) : exp(x[k] - m) / s;
    }
}
static void softmax_f(ref_io *io) {
    softmax_rows(io, io->out, false);
}
static void log_softmax_f(ref_io *io) {
    softmax_rows(io, io->out, true);
}
/* dx_k = sum_j dy_j dy_j/dx_k, with the Jacobian of softmax or log softmax. */
static void softmax_grad(ref_io *io, bool log_form) {
    int N = io->in_shape[0].d[0], K = io->in_shape[0].d[1];
    double *p = malloc(ref_numel(&io->in_shape[0]) * sizeof(double));
    softmax_rows(io, p, false);
    for (int n = 0; n < N; n++) {
        const double *pr = p + (size_t)n * K, *g = io->dout + (size_t)n * K;
        for (int k = 0; k < K; k++) {
            double s = 0;
            for (int j = 0; j < K; j++)
                s += log_form ? g[j] * ((j == k) - pr[k]) : g[j] * pr[j] * ((j == k) - pr[k]);
            io->din[0][(size_t)n * K + k] = s;
        }
    }
    free(p);
}
static void softmax_b(ref_io *io) {
    softmax_grad(io, false);
}
static void log_softmax_b(ref_io *io) {
    softmax_grad(io, true);
}

/* ---- randomness ---- */

void ref_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c[4] = {ctr[0], ctr[1], ctr[2], ctr[3]}, k[2] = {key[0], key[1]};
    for (int r = 0; r < 10; r++) {
        if (r) {
            k[0] += 0x9E3779B9u;
            k[1] += 0xBB67AE85u;
        }
        uint64_t p0 = (uint64_t)0xD2511F53u * c[0], p1 = (uint64_t)0xCD9E8D57u * c[2];
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c[1] ^ k[0], n2 = (uint32_t)(p0 >> 32) ^ c[3] ^ k[1];
        c[0] = n0;
        c[1] = (uint32_t)p1;
        c[2] = n2;
        c[3] = (uint32_t)p0;
    }
    memcpy(out, c, sizeof c);
}

static void draw(uint32_t i, uint32_t launch, const uint32_t seed[2], uint32_t r[4]) {
    const uint32_t ctr[4] = {i, launch, 0, 0};
    ref_philox(ctr, seed, r);
}

double ref_uniform(uint32_t i, uint32_t launch, const uint32_t seed[2]) {
    uint32_t r[4];
    draw(i / 4, launch, seed, r); /* four uniforms per block */
    return (double)(r[i % 4] >> 8) * 0x1.0p-24;
}

double ref_normal(uint32_t i, uint32_t launch, const uint32_t seed[2]) {
    uint32_t r[4];
    draw(i, launch, seed, r);
    double u1 = (double)((r[0] >> 8) + 1u) * 0x1.0p-24, u2 = (double)(r[1] >> 8) * 0x1.0p-24;
    return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}

static double keep_scale(const ref_io *io, size_t i) {
    float p = io->a->alpha;
    if (!io->training)
        return 1;
    return ref_uniform((uint32_t)i, io->counter, io->seed) >= p ? 1.0 / (1.0 - (double)p) : 0;
}
static void dropout_f(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++)
        io->out[i] = io->in[0][i] * keep_scale(io, i);
}
static void dropout_b(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++)
        io->din[0][i] = io->dout[i] * keep_scale(io, i);
}
static double noisy(const ref_io *io, size_t i) {
    return io->in[0][i] + (io->training ? io->a->alpha * ref_normal((uint32_t)i, io->counter, io->seed) : 0);
}
static void noise_f(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++) {
        double v = noisy(io, i);
        io->out[i] = io->a->clamp && io->training ? fmin(fmax(v, 0), 1) : v;
    }
}
static void noise_b(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++) {
        double v = noisy(io, i);
        bool pass = !io->a->clamp || !io->training || (v >= 0 && v <= 1);
        io->din[0][i] = pass ? io->dout[i] : 0;
    }
}
static bool reparam_draws(const ref_io *io) {
    return io->a->sample == CG_SAMPLE_ALWAYS ||
           (io->a->sample == CG_SAMPLE_TRAINING && io->training);
}
static void reparam_f(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++) {
        double eps = reparam_draws(io) ? ref_normal((uint32_t)i, io->counter, io->seed) : 0;
        io->out[i] = io->in[0][i] + exp(io->in[1][i]) * eps;
    }
}
static void reparam_b(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++) {
        double eps = reparam_draws(io) ? ref_normal((uint32_t)i, io->counter, io->seed) : 0;
        if (io->din[0])
            io->din[0][i] = io->dout[i];
        if (io->din[1])
            io->din[1][i] = io->dout[i] * exp(io->in[1][i]) * eps;
    }
}

/* ---- losses: one value per sample ---- */

static size_t rows_of(const ref_io *io) {
    return (size_t)io->in_shape[0].d[0];
}
static size_t cols_of(const ref_io *io) {
    return ref_numel(&io->in_shape[0]) / rows_of(io);
}
static double lse(const double *x, size_t k) {
    double m = x[0], s = 0;
    for (size_t j = 1; j < k; j++)
        m = x[j] > m ? x[j] : m;
    for (size_t j = 0; j < k; j++)
        s += exp(x[j] - m);
    return m + log(s);
}
/* Soft-target cross-entropy over one row: the target puts 1/omega on the omega units of the
 * label's group (omega = 1: plain cross-entropy). */
static double soft_target(size_t j, int label, int omega) {
    return (int)j / omega == label ? 1.0 / omega : 0;
}
static void soft_ce_f(ref_io *io, int omega) {
    size_t K = cols_of(io);
    for (size_t n = 0; n < rows_of(io); n++) {
        const double *x = io->in[0] + n * K;
        double l = lse(x, K), s = 0;
        for (size_t j = 0; j < K; j++)
            s += soft_target(j, (int)io->in[1][n], omega) * (x[j] - l);
        io->out[n] = -s;
    }
}
static void soft_ce_b(ref_io *io, int omega) {
    size_t K = cols_of(io);
    for (size_t n = 0; n < rows_of(io); n++) {
        const double *x = io->in[0] + n * K;
        double l = lse(x, K);
        for (size_t j = 0; j < K; j++)
            io->din[0][n * K + j] =
                io->dout[n] * (exp(x[j] - l) - soft_target(j, (int)io->in[1][n], omega));
    }
}
static void ce_f(ref_io *io) {
    soft_ce_f(io, 1);
}
static void ce_b(ref_io *io) {
    soft_ce_b(io, 1);
}
static void cool_f(ref_io *io) {
    soft_ce_f(io, io->a->count);
}
static void cool_b(ref_io *io) {
    soft_ce_b(io, io->a->count);
}
static void bce_f(ref_io *io) {
    size_t F = cols_of(io);
    for (size_t n = 0; n < rows_of(io); n++) {
        double s = 0;
        for (size_t f = 0; f < F; f++) {
            double x = io->in[0][n * F + f], t = io->in[1][n * F + f];
            s += -(t * log(1 / (1 + exp(-x))) + (1 - t) * log(1 - 1 / (1 + exp(-x))));
        }
        io->out[n] = s;
    }
}
static void bce_b(ref_io *io) {
    size_t F = cols_of(io);
    for (size_t i = 0; i < rows_of(io) * F; i++)
        io->din[0][i] = io->dout[i / F] * (1 / (1 + exp(-io->in[0][i])) - io->in[1][i]);
}
static void mse_f(ref_io *io) {
    size_t F = cols_of(io);
    for (size_t n = 0; n < rows_of(io); n++) {
        double s = 0;
        for (size_t f = 0; f < F; f++) {
            double d = io->in[0][n * F + f] - io->in[1][n * F + f];
            s += d * d;
        }
        io->out[n] = s;
    }
}
static void mse_b(ref_io *io) {
    size_t F = cols_of(io);
    for (size_t i = 0; i < rows_of(io) * F; i++) {
        double g = 2 * io->dout[i / F] * (io->in[0][i] - io->in[1][i]);
        if (io->din[0])
            io->din[0][i] = g;
        if (io->din[1])
            io->din[1][i] = -g;
    }
}
/* The negative log-likelihood of the target under a Gaussian of mean p and variance v per
 * element: the squared error / (2 v) + F/2 log(2 pi v). */
static void gaussian_nll_f(ref_io *io) {
    size_t F = cols_of(io);
    double v = io->a->alpha;
    mse_f(io);
    for (size_t n = 0; n < rows_of(io); n++)
        io->out[n] = io->out[n] / (2 * v) + 0.5 * (double)F * log(2 * 3.14159265358979323846 * v);
}
static void gaussian_nll_b(ref_io *io) {
    size_t F = cols_of(io);
    double v = io->a->alpha;
    for (size_t i = 0; i < rows_of(io) * F; i++) {
        double g = io->dout[i / F] * (io->in[0][i] - io->in[1][i]) / v;
        if (io->din[0])
            io->din[0][i] = g;
        if (io->din[1])
            io->din[1][i] = -g;
    }
}
static double dist(const double *a, const double *b, size_t D) {
    double s = 0;
    for (size_t k = 0; k < D; k++)
        s += (a[k] - b[k]) * (a[k] - b[k]);
    return sqrt(s + 1e-9);
}
static void contrastive_f(ref_io *io) {
    size_t D = cols_of(io);
    for (size_t n = 0; n < rows_of(io); n++) {
        double d = dist(io->in[0] + n * D, io->in[1] + n * D, D), y = io->in[2][n];
        double h = fmax(io->a->alpha - d, 0);
        double w = io->n_in > 3 ? io->in[3][n] : 1;
        io->out[n] = w * (0.5 * y * d * d + 0.5 * (1 - y) * h * h);
    }
}
static void contrastive_b(ref_io *io) {
    size_t D = cols_of(io);
    for (size_t n = 0; n < rows_of(io); n++) {
        double d = dist(io->in[0] + n * D, io->in[1] + n * D, D), y = io->in[2][n];
        double h = fmax(io->a->alpha - d, 0);
        for (size_t k = 0; k < D; k++) {
            double g = io->dout[n] * (io->n_in > 3 ? io->in[3][n] : 1) * (y - (1 - y) * h / d) *
                       (io->in[0][n * D + k] - io->in[1][n * D + k]);
            if (io->din[0])
                io->din[0][n * D + k] = g;
            if (io->din[1])
                io->din[1][n * D + k] = -g;
        }
    }
}
static void triplet_f(ref_io *io) {
    size_t D = cols_of(io);
    for (size_t n = 0; n < rows_of(io); n++) {
        const double *a = io->in[0] + n * D, *p = io->in[1] + n * D, *q = io->in[2] + n * D;
        io->out[n] = fmax(dist(a, p, D) - dist(a, q, D) + io->a->alpha, 0);
    }
}
static void triplet_b(ref_io *io) {
    size_t D = cols_of(io);
    for (size_t n = 0; n < rows_of(io); n++) {
        const double *a = io->in[0] + n * D, *p = io->in[1] + n * D, *q = io->in[2] + n * D;
        double dp = dist(a, p, D), dq = dist(a, q, D);
        bool on = dp - dq + io->a->alpha > 0;
        for (size_t k = 0; k < D; k++) {
            double gp = on ? io->dout[n] * (a[k] - p[k]) / dp : 0;
            double gq = on ? io->dout[n] * (a[k] - q[k]) / dq : 0;
            if (io->din[0])
                io->din[0][n * D + k] = gp - gq;
            if (io->din[1])
                io->din[1][n * D + k] = -gp;
            if (io->din[2])
                io->din[2][n * D + k] = gq;
        }
    }
}
/* Class means of z by label (K classes), into mu (K, D) and count (K). */
static void class_means(const ref_io *io, double *mu, double *count) {
    size_t D = cols_of(io), K = (size_t)io->a->count;
    memset(mu, 0, K * D * sizeof(double));
    memset(count, 0, K * sizeof(double));
    for (size_t n = 0; n < rows_of(io); n++) {
        size_t q = (size_t)io->in[1][n];
        count[q] += 1;
        for (size_t k = 0; k < D; k++)
            mu[q * D + k] += io->in[0][n * D + k];
    }
    for (size_t q = 0; q < K; q++)
        for (size_t k = 0; k < D && count[q] > 0; k++)
            mu[q * D + k] /= count[q];
}
/* The different-groups form: pairs of one class whose third-input groups differ. */
static double class_size(const ref_io *io, size_t i) {
    double n = 0;
    for (size_t j = 0; j < rows_of(io); j++)
        n += io->in[1][j] == io->in[1][i];
    return n;
}
static bool pair_counts(const ref_io *io, size_t i, size_t j) {
    return io->in[1][j] == io->in[1][i] && io->in[2][j] != io->in[2][i];
}
static void similarity_pairs_f(ref_io *io) {
    size_t D = cols_of(io), N = rows_of(io);
    for (size_t i = 0; i < N; i++) {
        double s = 0;
        for (size_t j = 0; j < N; j++)
            for (size_t k = 0; k < D && pair_counts(io, i, j); k++)
                s += (io->in[0][i * D + k] - io->in[0][j * D + k]) *
                     (io->in[0][i * D + k] - io->in[0][j * D + k]);
        io->out[i] = s / (2 * class_size(io, i));
    }
}
static void similarity_pairs_b(ref_io *io) {
    size_t D = cols_of(io), N = rows_of(io);
    for (size_t i = 0; i < N; i++)
        for (size_t k = 0; k < D; k++) {
            double s = 0;
            for (size_t j = 0; j < N; j++)
                if (pair_counts(io, i, j))
                    s += (io->dout[i] + io->dout[j]) * (io->in[0][i * D + k] - io->in[0][j * D + k]);
            io->din[0][i * D + k] = s / class_size(io, i);
        }
}

static void similarity_f(ref_io *io) {
    if (io->n_in == 3) {
        similarity_pairs_f(io);
        return;
    }
    size_t D = cols_of(io), K = (size_t)io->a->count;
    double *mu = malloc(K * D * sizeof(double)), *count = malloc(K * sizeof(double));
    class_means(io, mu, count);
    for (size_t n = 0; n < rows_of(io); n++) {
        size_t q = (size_t)io->in[1][n];
        double s = 0;
        for (size_t k = 0; k < D; k++)
            s += (io->in[0][n * D + k] - mu[q * D + k]) * (io->in[0][n * D + k] - mu[q * D + k]);
        io->out[n] = s;
    }
    free(mu);
    free(count);
}
/* dz_j = 2 dout_j (z_j - mu_q) - (2 / n_q) sum over i in q of dout_i (z_i - mu_q). */
static void similarity_b(ref_io *io) {
    if (io->n_in == 3) {
        similarity_pairs_b(io);
        return;
    }
    size_t D = cols_of(io), K = (size_t)io->a->count, N = rows_of(io);
    double *mu = malloc(K * D * sizeof(double)), *count = malloc(K * sizeof(double));
    double *s = calloc(K * D, sizeof(double));
    class_means(io, mu, count);
    for (size_t n = 0; n < N; n++) {
        size_t q = (size_t)io->in[1][n];
        for (size_t k = 0; k < D; k++)
            s[q * D + k] += io->dout[n] * (io->in[0][n * D + k] - mu[q * D + k]);
    }
    for (size_t n = 0; n < N; n++) {
        size_t q = (size_t)io->in[1][n];
        for (size_t k = 0; k < D; k++)
            io->din[0][n * D + k] = 2 * io->dout[n] * (io->in[0][n * D + k] - mu[q * D + k]) -
                                    2 * s[q * D + k] / count[q];
    }
    free(mu);
    free(count);
    free(s);
}
static void kl_f(ref_io *io) {
    size_t D = cols_of(io);
    for (size_t n = 0; n < rows_of(io); n++) {
        double s = 0;
        for (size_t k = 0; k < D; k++) {
            double m = io->in[0][n * D + k], l = io->in[1][n * D + k];
            s += m * m + exp(2 * l) - 2 * l - 1;
        }
        io->out[n] = 0.5 * s;
    }
}
static void kl_b(ref_io *io) {
    size_t D = cols_of(io);
    for (size_t i = 0; i < rows_of(io) * D; i++) {
        if (io->din[0])
            io->din[0][i] = io->dout[i / D] * io->in[0][i];
        if (io->din[1])
            io->din[1][i] = io->dout[i / D] * (exp(2 * io->in[1][i]) - 1);
    }
}

/* log q(z | mu, sigma) - log p(z) for q = N(mu, sigma^2), p = N(0, 1), summed per sample:
 * sum of -e^2/2 - ls + z^2/2 with e = (z - mu) / sigma. */
static void kl_sample_f(ref_io *io) {
    size_t D = cols_of(io);
    for (size_t n = 0; n < rows_of(io); n++) {
        double s = 0;
        for (size_t k = 0; k < D; k++) {
            size_t i = n * D + k;
            double z = io->in[0][i], e = (z - io->in[1][i]) * exp(-io->in[2][i]);
            s += -0.5 * e * e - io->in[2][i] + 0.5 * z * z;
        }
        io->out[n] = s;
    }
}
static void kl_sample_b(ref_io *io) {
    size_t D = cols_of(io);
    for (size_t i = 0; i < rows_of(io) * D; i++) {
        double z = io->in[0][i], is = exp(-io->in[2][i]), e = (z - io->in[1][i]) * is;
        double g = io->dout[i / D];
        if (io->din[0])
            io->din[0][i] = g * (z - e * is);
        if (io->din[1])
            io->din[1][i] = g * e * is;
        if (io->din[2])
            io->din[2][i] = g * (e * e - 1);
    }
}

/* probe: K copies of the batch, each element moved by eps times a sign drawn per output
 * element (or, with basis, copy k moves element k of each sample by eps). */
static void probe_f(ref_io *io) {
    size_t n = ref_numel(&io->in_shape[0]), D = n / (size_t)io->in_shape[0].d[0];
    for (size_t g = 0; g < nout(io); g++) {
        size_t i = g % n, k = g / n;
        uint32_t r[4];
        draw((uint32_t)g, io->counter, io->seed, r);
        double v = io->a->basis ? (i % D == k) : (r[0] & 1u) ? 1.0 : -1.0;
        io->out[g] = io->in[0][i] + io->a->alpha * v;
    }
}
static void probe_b(ref_io *io) {
    size_t n = ref_numel(&io->in_shape[0]);
    for (size_t i = 0; i < n; i++)
        io->din[0][i] = 0;
    for (size_t g = 0; g < nout(io); g++)
        io->din[0][g % n] += io->dout[g];
}

/* ---- metrics (no backward) ---- */

static void accuracy_f(ref_io *io) {
    size_t K = cols_of(io);
    for (size_t n = 0; n < rows_of(io); n++) {
        size_t best = 0;
        for (size_t k = 1; k < K; k++)
            if (io->in[0][n * K + k] > io->in[0][n * K + best])
                best = k;
        io->out[n] = best == (size_t)io->in[1][n] &&
                     (!io->a->thresholded || io->in[0][n * K + best] > io->a->threshold);
    }
}

static void pick_f(ref_io *io) {
    size_t K = cols_of(io);
    for (size_t n = 0; n < rows_of(io); n++)
        io->out[n] = io->in[0][n * K + (size_t)io->in[1][n]];
}

static void max_f(ref_io *io) {
    size_t K = cols_of(io);
    for (size_t n = 0; n < rows_of(io); n++) {
        double m = io->in[0][n * K];
        for (size_t k = 1; k < K; k++)
            m = io->in[0][n * K + k] > m ? io->in[0][n * K + k] : m;
        io->out[n] = m;
    }
}

/* The mean over the K probes of D (d . (rp - r)) / (d . d), d = xp - x. */
static void jacobian_trace_f(ref_io *io) {
    size_t N = rows_of(io), D = cols_of(io), K = (size_t)io->in_shape[1].d[0] / N;
    for (size_t n = 0; n < N; n++) {
        double total = 0;
        for (size_t k = 0; k < K; k++) {
            double num = 0, den = 0;
            for (size_t i = 0; i < D; i++) {
                double d = io->in[1][(k * N + n) * D + i] - io->in[0][n * D + i];
                num += d * (io->in[3][(k * N + n) * D + i] - io->in[2][n * D + i]);
                den += d * d;
            }
            total += den > 0 ? (double)D * num / den : 0;
        }
        io->out[n] = total / (double)K;
    }
}
/* c = exp(-alpha / D ||r - x||) * (gamma <= 0 ? 1 : exp(-beta gamma)), gamma = trace / D - 1. */
static void dae_confidence_f(ref_io *io) {
    size_t N = rows_of(io), D = cols_of(io);
    for (size_t n = 0; n < N; n++) {
        double e = 0;
        for (size_t i = 0; i < D; i++)
            e += pow(io->in[1][n * D + i] - io->in[0][n * D + i], 2);
        double gamma = io->in[2][n] / (double)D - 1;
        io->out[n] = exp(-io->a->alpha / (double)D * sqrt(e)) *
                     (gamma <= 0 ? 1 : exp(-io->a->beta * gamma));
    }
}
static void cool_confidence_f(ref_io *io) {
    size_t K = cols_of(io), omega = (size_t)io->a->count, C = K / omega;
    for (size_t n = 0; n < rows_of(io); n++) {
        const double *x = io->in[0] + n * K;
        double l = lse(x, K);
        for (size_t c = 0; c < C; c++) {
            double prod = pow((double)omega, (double)omega);
            for (size_t j = 0; j < omega; j++)
                prod *= exp(x[c * omega + j] - l);
            io->out[n * C + c] = prod;
        }
    }
}

static const ref_op table[] = {
    {"accuracy", accuracy_f, NULL},
    {"cool_confidence", cool_confidence_f, NULL},
    {"jacobian_trace", jacobian_trace_f, NULL},
    {"dae_confidence", dae_confidence_f, NULL},
    {"probe", probe_f, probe_b},
    {"mul", mul_f, mul_b},
    {"pick", pick_f, NULL},
    {"max", max_f, NULL},
    {"per_sample_linear", psl_f, psl_b},
    {"cross_entropy", ce_f, ce_b},
    {"cool", cool_f, cool_b},
    {"binary_cross_entropy", bce_f, bce_b},
    {"mse", mse_f, mse_b},
    {"contrastive", contrastive_f, contrastive_b},
    {"triplet", triplet_f, triplet_b},
    {"similarity", similarity_f, similarity_b},
    {"kl_normal", kl_f, kl_b},
    {"kl_sample", kl_sample_f, kl_sample_b},
    {"gaussian_nll", gaussian_nll_f, gaussian_nll_b},
    {"dropout", dropout_f, dropout_b},
    {"gaussian_noise", noise_f, noise_b},
    {"reparameterize", reparam_f, reparam_b},
    {"maxpool2d", maxpool_f, maxpool_b},
    {"avgpool2d", avgpool_f, avgpool_b},
    {"upsample", upsample_f, upsample_b},
    {"flatten", copy_f, copy_b},
    {"reshape", copy_f, copy_b},
    {"concat", concat_f, concat_b},
    {"slice", slice_f, slice_b},
    {"softmax", softmax_f, softmax_b},
    {"log_softmax", log_softmax_f, log_softmax_b},
    {"linear", linear_f, linear_b},
    {"conv2d", conv_f, conv_b},
    {"conv_transpose2d", tconv_f, tconv_b},
    {"relu", relu_f, relu_b},          {"leaky_relu", leaky_f, leaky_b},
    {"prelu", prelu_f, prelu_b},       {"tanh", tanh_f, tanh_b},
    {"sigmoid", sigmoid_f, sigmoid_b}, {"add", add_f, add_b},
    {"scale", scale_f, scale_b},
};

const ref_op *ref_find(const char *name) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}
