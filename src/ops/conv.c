/* conv2d (im2col + one GEMM over the whole batch, or a direct kernel) and conv_transpose2d
 * (GEMM + col2im). Kernels in cl/conv.cl; bias kernels from cl/linear.cl.
 *
 * The GEMM path works on the batch at once: col is (C*KH*KW, N*HO*WO), so one GEMM computes
 * every sample, and a layout kernel moves the (O, N*HO*WO) product back to NCHW, adding the
 * bias on the way. The scratch buffer holds col and that product. */
#include "ops/ops_internal.h"

#define PROGRAM "conv.cl"

typedef struct geom {
    uint32_t N, C, H, W, O, KH, KW, SH, SW, PH, PW, HO, WO;
} geom;

/* Geometry of a conv2d from its input shape and attributes (O = out channels). */
static geom conv_geom(const cg_op_attrs *a, const cg_shape *x) {
    geom g = {(uint32_t)x->d[0], (uint32_t)x->d[1], (uint32_t)x->d[2], (uint32_t)x->d[3],
              (uint32_t)a->features, (uint32_t)a->kernel[0], (uint32_t)a->kernel[1],
              (uint32_t)(a->stride[0] ? a->stride[0] : 1), (uint32_t)(a->stride[1] ? a->stride[1] : 1),
              (uint32_t)a->pad[0], (uint32_t)a->pad[1], 0, 0};
    int ho = ((int)g.H + 2 * (int)g.PH - (int)g.KH);
    int wo = ((int)g.W + 2 * (int)g.PW - (int)g.KW);
    g.HO = ho < 0 ? 0 : (uint32_t)(ho / (int)g.SH + 1);
    g.WO = wo < 0 ? 0 : (uint32_t)(wo / (int)g.SW + 1);
    return g;
}

static cg_status check_window(const char *op, const cg_op_attrs *a, const cg_shape *x) {
    if (x->ndim != 4) {
        char s[64];
        cg_shape_str(x, s, sizeof s);
        return cg__shape_error(op, "input of shape %s; %s takes images (batch, channels, "
                                   "height, width)",
                               s, op);
    }
    if (a->features < 1 || a->kernel[0] < 1 || a->kernel[1] < 1 || a->stride[0] < 0 ||
        a->stride[1] < 0 || a->pad[0] < 0 || a->pad[1] < 0)
        return cg__shape_error(op,
                               "out channels %d, kernel %dx%d, stride %dx%d, padding %dx%d: "
                               "channels and kernel must be at least 1, stride and padding not "
                               "negative",
                               a->features, a->kernel[0], a->kernel[1], a->stride[0],
                               a->stride[1], a->pad[0], a->pad[1]);
    return CG_OK;
}

static cg_status conv_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *types,
                            int n_in, cg_op_shapes *out) {
    (void)types;
    (void)n_in;
    cg_status st = check_window("conv2d", a, &in[0]);
    if (st != CG_OK)
        return st;
    geom g = conv_geom(a, &in[0]);
    if (g.HO == 0 || g.WO == 0)
        return cg__shape_error("conv2d",
                               "a %ux%u kernel does not fit a %ux%u input with padding %ux%u",
                               g.KH, g.KW, g.H, g.W, g.PH, g.PW);
    out->out = cg_shape_make(4, (int)g.N, (int)g.O, (int)g.HO, (int)g.WO);
    out->n_params = a->bias ? 2 : 1;
    out->params[0] = cg_shape_make(4, (int)g.O, (int)g.C, (int)g.KH, (int)g.KW);
    out->params[1] = cg_shape_make(1, (int)g.O, 0, 0, 0);
    size_t np = (size_t)g.N * g.HO * g.WO;
    if (a->conv_algo != CG_CONV_DIRECT)
        out->scratch_bytes = ((size_t)g.C * g.KH * g.KW + g.O) * np * sizeof(float);
    return CG_OK;
}

/* The 12 geometry arguments that im2col and col2im share, for an "image" of (C, H, W) seen
 * through windows at (HO, WO). */
#define WINDOW_ARGS(g, C_, H_, W_, HO_, WO_)                                                      \
    CG_KU32((g).N), CG_KU32(C_), CG_KU32(H_), CG_KU32(W_), CG_KU32((g).KH), CG_KU32((g).KW),    \
        CG_KU32((g).SH), CG_KU32((g).SW), CG_KU32((g).PH), CG_KU32((g).PW), CG_KU32(HO_),       \
        CG_KU32(WO_)

static cg_status im2col(cg_context *ctx, cl_mem col, uint32_t off, cl_mem x, const geom *g,
                        uint32_t C, uint32_t H, uint32_t W, uint32_t HO, uint32_t WO) {
    uint32_t chunk = cg__tuned_im2col_chunk(ctx, WO);
    const cg__karg args[] = {CG_KMEM(col), CG_KU32(off), CG_KMEM(x),
                             WINDOW_ARGS(*g, C, H, W, HO, WO), CG_KU32(chunk)};
    size_t n = (size_t)C * g->KH * g->KW * g->N * HO * ((WO + chunk - 1) / chunk);
    return cg__kernel_run1d(ctx, PROGRAM, "im2col", n, 0, args, CG__ARRAY_LEN(args));
}

static cg_status col2im(cg_context *ctx, cl_mem x, cl_mem col, uint32_t off, const geom *g,
                        uint32_t C, uint32_t H, uint32_t W, uint32_t HO, uint32_t WO, bool acc) {
    const cg__karg args[] = {CG_KMEM(x), CG_KMEM(col), CG_KU32(off),
                             WINDOW_ARGS(*g, C, H, W, HO, WO), CG_KU32(acc)};
    size_t n = (size_t)g->N * C * H * W;
    return cg__kernel_run1d(ctx, PROGRAM, "col2im", n, 0, args, CG__ARRAY_LEN(args));
}

/* The work-group of the layout kernels' (HW, C, N) range: up to 16 positions by up to 4
 * channels, no larger than the range needs. */
static void layout_local(uint32_t HW, uint32_t C, size_t *local) {
    size_t a = 1, b = 1;
    while (a < 16 && a < HW)
        a *= 2;
    while (b < 4 && b < C)
        b *= 2;
    local[0] = a, local[1] = b, local[2] = 1;
}

static cg_status to_cnhw(cg_context *ctx, cl_mem dst, uint32_t off, cl_mem src, uint32_t N,
                         uint32_t C, uint32_t HW) {
    const cg__karg args[] = {CG_KMEM(dst), CG_KU32(off), CG_KMEM(src),
                             CG_KU32(N),   CG_KU32(C),   CG_KU32(HW)};
    size_t global[3] = {HW, C, N}, local[3];
    layout_local(HW, C, local);
    return cg__kernel_run(ctx, PROGRAM, "nchw_to_cnhw", 3, global, local, args, 6);
}

static cg_status from_cnhw(cg_context *ctx, cl_mem dst, cl_mem src, uint32_t off, cl_mem bias,
                           uint32_t N, uint32_t C, uint32_t HW, bool acc) {
    const cg__karg args[] = {CG_KMEM(dst),  CG_KMEM(src), CG_KU32(off), CG_KMEM(bias),
                             CG_KU32(bias != NULL), CG_KU32(N), CG_KU32(C), CG_KU32(HW),
                             CG_KU32(acc)};
    size_t global[3] = {HW, C, N}, local[3];
    layout_local(HW, C, local);
    return cg__kernel_run(ctx, PROGRAM, "cnhw_to_nchw", 3, global, local, args, 9);
}

/* The algorithm of a pass (0 forward, 1 backward): as the layer asks, else as `clgraph tune`
 * measured for this shape and pass on this device, else im2col + GEMM (on PoCL, im2col with a row per work-item beat the direct kernels on
 * every seed model's shape, by 2x to 25x; on GPUs CLBlast's tiled GEMM is the stronger kernel). */
static bool use_direct(const cg_op_call *c, const geom *g, int pass) {
    const uint32_t key[11] = {g->N,  g->C,  g->H,  g->W,  g->O, g->KH,
                              g->KW, g->SH, g->SW, g->PH, g->PW};
    if (cg__profiling(c->ctx))
        cg__profile_note(c->ctx, key); /* the tuner groups this node's launches by shape */
    if (c->ctx->tuning.force_conv)
        return c->ctx->tuning.force_conv == CG_CONV_DIRECT;
    if (c->attrs->conv_algo != CG_CONV_AUTO)
        return c->attrs->conv_algo == CG_CONV_DIRECT;
    int tuned = cg__tuned_conv_algo(c->ctx, key, pass);
    if (tuned != CG_CONV_AUTO)
        return tuned == CG_CONV_DIRECT;
    return false;
}

/* Multiply-adds of a direct pass, as floating-point operations (for the benchmark). */
static double conv_flops(const geom *g) {
    return 2.0 * g->N * g->O * g->HO * g->WO * g->C * g->KH * g->KW;
}

/* The 15 arguments of the direct kernels after their tensors. */
#define DIRECT_ARGS(g)                                                                             \
    CG_KU32((g).N), CG_KU32((g).C), CG_KU32((g).H), CG_KU32((g).W), CG_KU32((g).O),             \
        CG_KU32((g).KH), CG_KU32((g).KW), CG_KU32((g).SH), CG_KU32((g).SW), CG_KU32((g).PH),    \
        CG_KU32((g).PW), CG_KU32((g).HO), CG_KU32((g).WO)

static cg_status conv_fwd(const cg_op_call *c) {
    geom g = conv_geom(c->attrs, &c->in[0].shape);
    cl_mem bias = c->attrs->bias ? c->params[1].mem : NULL;
    if (use_direct(c, &g, 0)) {
        const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem),
                                 CG_KMEM(c->params[0].mem), CG_KMEM(bias), CG_KU32(bias != NULL),
                                 DIRECT_ARGS(g)};
        cg__profile_flops(c->ctx, conv_flops(&g));
        size_t items = (size_t)g.N * ((g.O + 3) / 4) * g.HO * g.WO; /* OT = 4 in conv.cl */
        return cg__kernel_run1d(c->ctx, PROGRAM, "conv2d_direct_fwd", items, 0, args,
                                CG__ARRAY_LEN(args));
    }
    size_t ckk = (size_t)g.C * g.KH * g.KW, np = (size_t)g.N * g.HO * g.WO;
    uint32_t prod = (uint32_t)(ckk * np); /* where the (O, N*HO*WO) product starts */
    cg_status st = im2col(c->ctx, c->scratch, 0, c->in[0].mem, &g, g.C, g.H, g.W, g.HO, g.WO);
    if (st == CG_OK)
        st = cg__sgemm(c->ctx, false, false, g.O, np, ckk, 1.0f, c->params[0].mem, 0, ckk,
                       c->scratch, 0, np, 0.0f, c->scratch, prod, np);
    if (st == CG_OK)
        st = from_cnhw(c->ctx, c->out->mem, c->scratch, prod, bias, g.N, g.O, g.HO * g.WO,
                       false);
    return st;
}

static cg_status conv_bwd(const cg_op_call *c) {
    geom g = conv_geom(c->attrs, &c->in[0].shape);
    cg_status st = CG_OK;
    if (c->attrs->bias)
        st = cg__bias_bwd(c->ctx, c->dparams[1].mem, c->dout->mem, g.O, g.HO * g.WO, g.N);
    if (st != CG_OK)
        return st;
    if (use_direct(c, &g, 1)) {
        const cg__karg wargs[] = {CG_KMEM(c->dparams[0].mem), CG_KMEM(c->dout->mem),
                                  CG_KMEM(c->in[0].mem), DIRECT_ARGS(g)};
        cg__profile_flops(c->ctx, conv_flops(&g));
        st = cg__kernel_run1d(c->ctx, PROGRAM, "conv2d_direct_bwd_weight",
                              cg_shape_numel(&c->params[0].shape), 0, wargs,
                              CG__ARRAY_LEN(wargs));
        if (st != CG_OK || !c->din[0].mem)
            return st;
        const cg__karg dargs[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->dout->mem),
                                  CG_KMEM(c->params[0].mem), DIRECT_ARGS(g),
                                  CG_KU32(cg_op_din_acc(c, 0))};
        cg__profile_flops(c->ctx, conv_flops(&g));
        return cg__kernel_run1d(c->ctx, PROGRAM, "conv2d_direct_bwd_data",
                                cg_shape_numel(&c->in[0].shape), 0, dargs, CG__ARRAY_LEN(dargs));
    }
    size_t ckk = (size_t)g.C * g.KH * g.KW, np = (size_t)g.N * g.HO * g.WO;
    uint32_t prod = (uint32_t)(ckk * np);
    /* col = im2col(x); dy' = dy as (O, N*HO*WO); dW += dy' col^T; dcol = W^T dy' (over col). */
    st = im2col(c->ctx, c->scratch, 0, c->in[0].mem, &g, g.C, g.H, g.W, g.HO, g.WO);
    if (st == CG_OK)
        st = to_cnhw(c->ctx, c->scratch, prod, c->dout->mem, g.N, g.O, g.HO * g.WO);
    if (st == CG_OK)
        st = cg__sgemm(c->ctx, false, true, g.O, ckk, np, 1.0f, c->scratch, prod, np, c->scratch,
                       0, np, 1.0f, c->dparams[0].mem, 0, ckk);
    if (st != CG_OK || !c->din[0].mem)
        return st;
    st = cg__sgemm(c->ctx, true, false, ckk, np, g.O, 1.0f, c->params[0].mem, 0, ckk, c->scratch,
                   prod, np, 0.0f, c->scratch, 0, np);
    if (st == CG_OK)
        st = col2im(c->ctx, c->din[0].mem, c->scratch, 0, &g, g.C, g.H, g.W, g.HO, g.WO,
                    cg_op_din_acc(c, 0));
    return st;
}

/* conv_transpose2d: x (N, Cin, H, W), weight (Cin, Cout, KH, KW), output
 * (N, Cout, (H-1)*S - 2P + KH, ...). In geom terms the output is the "image" and the input the
 * window positions: C = Cout and (H, W) the output size, (HO, WO) the input size. */
static geom tconv_geom(const cg_op_attrs *a, const cg_shape *x) {
    geom g = conv_geom(a, x);
    uint32_t cin = g.C, hin = g.H, win = g.W;
    g.HO = hin;
    g.WO = win;
    int h = ((int)hin - 1) * (int)g.SH - 2 * (int)g.PH + (int)g.KH;
    int w = ((int)win - 1) * (int)g.SW - 2 * (int)g.PW + (int)g.KW;
    g.H = h < 0 ? 0 : (uint32_t)h;
    g.W = w < 0 ? 0 : (uint32_t)w;
    g.C = (uint32_t)a->features; /* Cout */
    g.O = cin;                   /* Cin, the GEMM's other side */
    return g;
}

static cg_status tconv_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *types,
                             int n_in, cg_op_shapes *out) {
    (void)types;
    (void)n_in;
    cg_status st = check_window("conv_transpose2d", a, &in[0]);
    if (st != CG_OK)
        return st;
    geom g = tconv_geom(a, &in[0]);
    if (g.H == 0 || g.W == 0)
        return cg__shape_error("conv_transpose2d", "padding %ux%u leaves no output", g.PH,
                               g.PW);
    out->out = cg_shape_make(4, (int)g.N, (int)g.C, (int)g.H, (int)g.W);
    out->n_params = a->bias ? 2 : 1;
    out->params[0] = cg_shape_make(4, (int)g.O, (int)g.C, (int)g.KH, (int)g.KW);
    out->params[1] = cg_shape_make(1, (int)g.C, 0, 0, 0);
    size_t np = (size_t)g.N * g.HO * g.WO, cokk = (size_t)g.C * g.KH * g.KW;
    out->scratch_bytes = (cokk + 2 * (size_t)g.O) * np * sizeof(float);
    return CG_OK;
}

static cg_status tconv_fwd(const cg_op_call *c) {
    geom g = tconv_geom(c->attrs, &c->in[0].shape);
    size_t np = (size_t)g.N * g.HO * g.WO, cokk = (size_t)g.C * g.KH * g.KW;
    uint32_t xt = (uint32_t)(cokk * np); /* x as (Cin, N*H*W) after col */
    /* col (Cout*KK, NP) = W^T (Cout*KK, Cin) x' (Cin, NP); y = col2im(col) + b */
    cg_status st = to_cnhw(c->ctx, c->scratch, xt, c->in[0].mem, g.N, g.O, g.HO * g.WO);
    if (st == CG_OK)
        st = cg__sgemm(c->ctx, true, false, cokk, np, g.O, 1.0f, c->params[0].mem, 0, cokk,
                       c->scratch, xt, np, 0.0f, c->scratch, 0, np);
    if (st == CG_OK)
        st = col2im(c->ctx, c->out->mem, c->scratch, 0, &g, g.C, g.H, g.W, g.HO, g.WO, false);
    if (st == CG_OK && c->attrs->bias)
        st = cg__bias_add(c->ctx, c->out->mem, c->params[1].mem, g.C, g.H * g.W,
                          cg_shape_numel(&c->out->shape));
    return st;
}

static cg_status tconv_bwd(const cg_op_call *c) {
    geom g = tconv_geom(c->attrs, &c->in[0].shape);
    size_t np = (size_t)g.N * g.HO * g.WO, cokk = (size_t)g.C * g.KH * g.KW;
    uint32_t xt = (uint32_t)(cokk * np), dxt = (uint32_t)(xt + (size_t)g.O * np);
    cg_status st = CG_OK;
    if (c->attrs->bias)
        st = cg__bias_bwd(c->ctx, c->dparams[1].mem, c->dout->mem, g.C, g.H * g.W, g.N);
    /* dcol = im2col(dy); dW (Cin, Cout*KK) += x' dcol^T; dx' = W dcol */
    if (st == CG_OK)
        st = im2col(c->ctx, c->scratch, 0, c->dout->mem, &g, g.C, g.H, g.W, g.HO, g.WO);
    if (st == CG_OK)
        st = to_cnhw(c->ctx, c->scratch, xt, c->in[0].mem, g.N, g.O, g.HO * g.WO);
    if (st == CG_OK)
        st = cg__sgemm(c->ctx, false, true, g.O, cokk, np, 1.0f, c->scratch, xt, np, c->scratch,
                       0, np, 1.0f, c->dparams[0].mem, 0, cokk);
    if (st != CG_OK || !c->din[0].mem)
        return st;
    st = cg__sgemm(c->ctx, false, false, g.O, np, cokk, 1.0f, c->params[0].mem, 0, cokk,
                   c->scratch, 0, np, 0.0f, c->scratch, dxt, np);
    if (st == CG_OK)
        st = from_cnhw(c->ctx, c->din[0].mem, c->scratch, dxt, NULL, g.N, g.O, g.HO * g.WO,
                       cg_op_din_acc(c, 0));
    return st;
}

const cg_op_def cg__op_conv2d = {
    .name = "conv2d",
    .program = PROGRAM,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = conv_infer,
    .forward = conv_fwd,
    .backward = conv_bwd,
};
const cg_op_def cg__op_conv_transpose2d = {
    .name = "conv_transpose2d",
    .program = PROGRAM,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = tconv_infer,
    .forward = tconv_fwd,
    .backward = tconv_bwd,
};
