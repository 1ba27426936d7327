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

/* A pooling kernel over the 3-D range (cols, rows, planes): work-groups of up to 16 columns
 * by as many rows and planes as make about 256 items. */
static cg_status run3d(const cg_op_call *c, const char *kernel, size_t cols, size_t rows,
                       size_t planes, const cg__karg *args, size_t nargs) {
    size_t global[3] = {cols, rows, planes}, local[3];
    cg__local_within(3, global, (const size_t[]){16, 256, 256}, local);
    return cg__kernel_run(c->ctx, PROGRAM, kernel, 3, global, local, args, nargs);
}

static cg_status pool_fwd(const cg_op_call *c, const char *kernel) {
    pool_geom g = geom_of(c->attrs, &c->in[0].shape);
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem), GEOM_ARGS(g)};
    return run3d(c, kernel, g.WO, g.HO, (size_t)g.N * g.C, args, CG__ARRAY_LEN(args));
}

/* 2x2 windows with stride 2 over an even input with at least 4 output columns: the vector
 * kernels (maxpool2x2_*); at batch 256 on PoCL about 3x faster than the general ones. */
static bool two_by_two(const pool_geom *g) {
    return g->KH == 2 && g->KW == 2 && g->SH == 2 && g->SW == 2 && g->H % 2 == 0 &&
           g->W % 2 == 0 && g->WO >= 4;
}

static cg_status max_fwd(const cg_op_call *c) {
    pool_geom g = geom_of(c->attrs, &c->in[0].shape);
    if (two_by_two(&g)) {
        const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem),
                                 CG_KU32(g.N * g.C), CG_KU32(g.H), CG_KU32(g.W)};
        return run3d(c, "maxpool2x2_fwd", (g.WO + 3) / 4, g.HO, (size_t)g.N * g.C, args,
                     CG__ARRAY_LEN(args));
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
        return run3d(c, "maxpool2x2_bwd", (g.WO + 3) / 4, g.HO, (size_t)g.N * g.C, args,
                     CG__ARRAY_LEN(args));
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

/* The 2-D range of the upsample kernels: (W, N * C * H), work-groups of a row (up to 64
 * columns) by as many rows as make about 256 items. */
static cg_status up_run(const cg_op_call *c, const char *kernel, const cg__karg *args,
                        size_t nargs) {
    const cg_shape *x = &c->in[0].shape;
    size_t global[2] = {(size_t)x->d[3], (size_t)x->d[0] * x->d[1] * x->d[2]}, local[2];
    cg__local_within(2, global, (const size_t[]){64, 256}, local);
    return cg__kernel_run(c->ctx, PROGRAM, kernel, 2, global, local, args, nargs);
}

static cg_status up_fwd(const cg_op_call *c) {
    const cg_shape *x = &c->in[0].shape;
    const cg__karg args[] = {CG_KMEM(c->out->mem), CG_KMEM(c->in[0].mem),
                             CG_KU32(x->d[0] * x->d[1] * x->d[2]), CG_KU32(x->d[3]),
                             CG_KU32(c->attrs->factor)};
    return up_run(c, "upsample_fwd", args, CG__ARRAY_LEN(args));
}

static cg_status up_bwd(const cg_op_call *c) {
    if (!c->din[0].mem)
        return CG_OK;
    const cg_shape *x = &c->in[0].shape;
    const cg__karg args[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->dout->mem),
                             CG_KU32(x->d[0] * x->d[1] * x->d[2]), CG_KU32(x->d[3]),
                             CG_KU32(c->attrs->factor), CG_KU32(cg_op_din_acc(c, 0))};
    return up_run(c, "upsample_bwd", args, CG__ARRAY_LEN(args));
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
