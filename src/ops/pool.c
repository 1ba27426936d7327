/* maxpool2d, avgpool2d and nearest upsample. Kernels in cl/pool.cl. */
#include "ops/ops_internal.h"

#define PROGRAM "pool.cl"

typedef struct pool_geom {
    uint32_t N, C, H, W, KH, KW, SH, SW, HO, WO;
} pool_geom;

static pool_geom geom_of(const cg_op_attrs *a, const cg_shape *x) {
    pool_geom g = {(uint32_t)x->d[0], (uint32_t)x->d[1], (uint32_t)x->d[2], (uint32_t)x->d[3],
                   (uint32_t)a->kernel[0], (uint32_t)a->kernel[1],
                   (uint32_t)(a->stride[0] ? a->stride[0] : a->kernel[0]),
                   (uint32_t)(a->stride[1] ? a->stride[1] : a->kernel[1]), 0, 0};
    if (g.KH >= 1 && g.KW >= 1 && g.SH >= 1 && g.SW >= 1 && g.H >= g.KH && g.W >= g.KW) {
        g.HO = (g.H - g.KH) / g.SH + 1;
        g.WO = (g.W - g.KW) / g.SW + 1;
    }
    return g;
}

static cg_status pool_infer_named(const char *op, const cg_op_attrs *a, const cg_shape *x,
                                  cg_op_shapes *out) {
    if (x->ndim != 4) {
        char s[64];
        cg_shape_str(x, s, sizeof s);
        return cg__shape_error(op, "input of shape %s; pooling takes (batch, channels, height, "
                                   "width)",
                               s);
    }
    pool_geom g = geom_of(a, x);
    if (g.HO == 0)
        return cg__shape_error(op,
                               "a %dx%d window with stride %dx%d%s does not fit a %dx%d input "
                               "(window and stride must be at least 1)",
                               a->kernel[0], a->kernel[1], (int)g.SH, (int)g.SW,
                               a->stride[0] || a->stride[1] ? "" : " (the window's)", x->d[2],
                               x->d[3]);
    out->out = cg_shape_make(4, x->d[0], x->d[1], (int)g.HO, (int)g.WO);
    return CG_OK;
}

static cg_status max_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t, int n,
                           cg_op_shapes *out) {
    (void)t;
    (void)n;
    return pool_infer_named("maxpool2d", a, &in[0], out);
}

static cg_status avg_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t, int n,
                           cg_op_shapes *out) {
    (void)t;
    (void)n;
    return pool_infer_named("avgpool2d", a, &in[0], out);
}

#define GEOM_ARGS(g)                                                                               \
    CG_KU32((g).N), CG_KU32((g).C), CG_KU32((g).H), CG_KU32((g).W), CG_KU32((g).KH),            \
        CG_KU32((g).KW), CG_KU32((g).SH), CG_KU32((g).SW), CG_KU32((g).HO), CG_KU32((g).WO)

/* A pooling kernel (of the program built with `defines`, NULL for none) over the 3-D range
 * (cols, rows, planes): work-groups of up to 16 columns by as many rows and planes as make
 * about 256 items. */
static cg_status run3d_defs(const cg_op_call *c, const char *kernel, const char *defines,
                            size_t cols, size_t rows, size_t planes, const cg__karg *args,
                            size_t nargs) {
    size_t global[3] = {cols, rows, planes}, local[3];
    cg__local_within(3, global, (const size_t[]){16, 256, 256}, local);
    return cg__kernel_run_defs(c->ctx, PROGRAM, defines, kernel, 3, global, local, args, nargs);
}

static cg_status run3d(const cg_op_call *c, const char *kernel, size_t cols, size_t rows,
                       size_t planes, const cg__karg *args, size_t nargs) {
    return run3d_defs(c, kernel, NULL, cols, rows, planes, args, nargs);
}

static cg_status pool_fwd(const cg_op_call *c, const char *kernel) {
    pool_geom g = geom_of(c->attrs, &c->in[0].shape);
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem), GEOM_ARGS(g)};
    return run3d(c, kernel, g.WO, g.HO, (size_t)g.N * g.C, args, CG__ARRAY_LEN(args));
}

/* 2x2 windows with stride 2 over an even input with at least 2 output columns: the vector
 * kernels (maxpool2x2_*), 4 windows a work-item (2 for 2 or 3 columns); at batch 256 on PoCL
 * about 3x faster than the general ones. */
static bool two_by_two(const pool_geom *g) {
    return g->KH == 2 && g->KW == 2 && g->SH == 2 && g->SW == 2 && g->H % 2 == 0 &&
           g->W % 2 == 0 && g->WO >= 2;
}

/* maxpool2x2_fwd or _bwd over (blocks of a row, HO, N * C), built for its windows a block. */
static cg_status run_2x2(const cg_op_call *c, const pool_geom *g, const char *kernel,
                         const cg__karg *args, size_t nargs) {
    const uint32_t per = g->WO >= 4 ? 4 : 2;
    return run3d_defs(c, kernel, per == 4 ? NULL : "-DMPB=2", (g->WO + per - 1) / per, g->HO,
                      (size_t)g->N * g->C, args, nargs);
}

static cg_status max_fwd(const cg_op_call *c) {
    pool_geom g = geom_of(c->attrs, &c->in[0].shape);
    if (two_by_two(&g)) {
        const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem),
                                 CG_KU32(g.N * g.C), CG_KU32(g.H), CG_KU32(g.W)};
        return run_2x2(c, &g, "maxpool2x2_fwd", args, CG__ARRAY_LEN(args));
    }
    return pool_fwd(c, "maxpool2d_fwd");
}

static cg_status avg_fwd(const cg_op_call *c) {
    return pool_fwd(c, "avgpool2d_fwd");
}

static cg_status max_bwd(const cg_op_call *c) {
    if (!c->din[0].mem)
        return CG_OK;
    pool_geom g = geom_of(c->attrs, &c->in[0].shape);
    if (two_by_two(&g)) {
        const cg__karg args[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->dout->mem),
                                 CG_KMEM(c->in[0].mem),  CG_KU32(g.N * g.C),
                                 CG_KU32(g.H),           CG_KU32(g.W),
                                 CG_KU32(cg_op_din_acc(c, 0))};
        return run_2x2(c, &g, "maxpool2x2_bwd", args, CG__ARRAY_LEN(args));
    }
    /* Windows that tile the input: a work-item per tile instead of per element. */
    bool tiled = g.SH == g.KH && g.SW == g.KW;
    const cg__karg args[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->dout->mem), CG_KMEM(c->in[0].mem),
                             GEOM_ARGS(g), CG_KU32(cg_op_din_acc(c, 0)), CG_KU32(tiled)};
    return run3d(c, "maxpool2d_bwd", tiled ? (g.W + g.KW - 1) / g.KW : g.W,
                 tiled ? (g.H + g.KH - 1) / g.KH : g.H, (size_t)g.N * g.C, args,
                 CG__ARRAY_LEN(args));
}

static cg_status avg_bwd(const cg_op_call *c) {
    if (!c->din[0].mem)
        return CG_OK;
    pool_geom g = geom_of(c->attrs, &c->in[0].shape);
    const cg__karg args[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->dout->mem), GEOM_ARGS(g),
                             CG_KU32(cg_op_din_acc(c, 0))};
    return run3d(c, "avgpool2d_bwd", g.W, g.H, (size_t)g.N * g.C, args, CG__ARRAY_LEN(args));
}

static cg_status up_infer(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *t, int n,
                          cg_op_shapes *out) {
    (void)t;
    (void)n;
    if (in[0].ndim != 4 || a->factor < 1) {
        char s[64];
        cg_shape_str(&in[0], s, sizeof s);
        return cg__shape_error("upsample",
                               "input %s, factor %d; upsample takes images (batch, channels, "
                               "height, width) and a whole factor of at least 1",
                               s, a->factor);
    }
    out->out = cg_shape_make(4, in[0].d[0], in[0].d[1], in[0].d[2] * a->factor,
                             in[0].d[3] * a->factor);
    return CG_OK;
}

/* The upsample kernels, built for the op's factor and the input's width (UPF, UPW): the
 * forward over a 1-D range of the output's elements; the backward over a 2-D range (W, N * C *
 * H) of the input's, in work-groups of a whole row where it has at most 64 columns (on PoCL
 * 1.7-2x faster than a 1-D range, or rows rounded up to 16 columns). */
static const char *up_defines(const cg_op_call *c, char *buf, size_t cap) {
    snprintf(buf, cap, "-DUPF=%d -DUPW=%d", c->attrs->factor, (int)c->in[0].shape.d[3]);
    return buf;
}

static cg_status up_fwd(const cg_op_call *c) {
    const size_t n = cg_shape_numel(&c->out->shape);
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem), CG_KU32(n)};
    size_t global[1] = {n}, local[1];
    cg__local_within(1, global, (const size_t[]){256}, local);
    char defines[48];
    return cg__kernel_run_defs(c->ctx, PROGRAM, up_defines(c, defines, sizeof defines),
                               "upsample_fwd", 1, global, local, args, CG__ARRAY_LEN(args));
}

static cg_status up_bwd(const cg_op_call *c) {
    if (!c->din[0].mem)
        return CG_OK;
    const cg_shape *x = &c->in[0].shape;
    if (c->attrs->factor == 2 && x->d[3] >= 2) { /* dy's 2x2 blocks summed, as 2x2 pooling */
        const pool_geom g = {.N = (uint32_t)x->d[0], .C = (uint32_t)x->d[1],
                             .H = 2 * (uint32_t)x->d[2], .W = 2 * (uint32_t)x->d[3],
                             .HO = (uint32_t)x->d[2], .WO = (uint32_t)x->d[3]};
        const cg__karg args[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->dout->mem),
                                 CG_KU32(g.N * g.C),     CG_KU32(g.H),
                                 CG_KU32(g.W),           CG_KU32(cg_op_din_acc(c, 0))};
        return run_2x2(c, &g, "upsample2x_bwd", args, CG__ARRAY_LEN(args));
    }
    const size_t W = (size_t)x->d[3], rows = (size_t)x->d[0] * x->d[1] * x->d[2];
    const cg__karg args[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->dout->mem),
                             CG_KU32(cg_op_din_acc(c, 0)), CG_KU32(rows)};
    size_t global[2] = {W, rows}, local[2] = {W <= 64 ? W : 64, 1};
    local[1] = 256 / local[0] < rows ? 256 / local[0] : rows;
    char defines[48];
    return cg__kernel_run_defs(c->ctx, PROGRAM, up_defines(c, defines, sizeof defines),
                               "upsample_bwd", 2, global, local, args, CG__ARRAY_LEN(args));
}

const cg_op_def cg__op_maxpool2d = {
    .name = "maxpool2d",
    .program = PROGRAM,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = max_infer,
    .forward = max_fwd,
    .backward = max_bwd,
};
const cg_op_def cg__op_avgpool2d = {
    .name = "avgpool2d",
    .program = PROGRAM,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = avg_infer,
    .forward = avg_fwd,
    .backward = avg_bwd,
};
const cg_op_def cg__op_upsample = {
    .name = "upsample",
    .program = PROGRAM,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = up_infer,
    .forward = up_fwd,
    .backward = up_bwd,
};
