/* conv2d (im2col + one GEMM over the whole batch, or direct kernels) and conv_transpose2d
 * (GEMM + col2im; its backward on CPUs through conv2d's direct kernels). Kernels in cl/conv.cl;
 * bias kernels from cl/linear.cl.
 *
 * The GEMM path works on the batch at once: col is (C*KH*KW, N*HO*WO), so one GEMM computes
 * every sample, and a layout kernel moves the (O, N*HO*WO) product back to NCHW, adding the
 * bias on the way. The scratch buffer holds col and that product. The direct path computes
 * vectors of output columns (forward, and the stride-1 data gradient as a convolution of dy with
 * the flipped weights), and the weight gradient as partial sums per chunk of samples in the
 * scratch buffer (after them, dy padded to the input's width where the rows are laid end to
 * end). */
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

/* 144 or more input taps (C * KH * KW): the layers whose direct kernels run channels last
 * (conv2d_cl_fwd, conv2d_cl_bwd_weight). On the first layers (1 or 3 channels: 9 to 75 taps)
 * the work a result takes is too small to pay for the scattered stores of channels-last results
 * or for turning dy channels last: measured on PoCL at batch 256, dae's and siamese's first
 * convolutions ran 15-30% slower that way, lenet's first backward 55% slower. */
static bool many_taps(const geom *g) {
    return (uint64_t)g->C * g->KH * g->KW >= 144;
}

/* The fraction of a 16-lane register that n columns or channels fill, split into vectors as
 * cg__vector_width says. */
static double lanes_used(uint32_t n) {
    uint32_t vw = cg__vector_width(n);
    return (double)n / ((n + vw - 1) / vw * 16.0);
}

/* Whether a direct forward pass (a forward, or a data gradient as a convolution) runs channels
 * last (conv2d_cl_fwd): with many input taps, where the output channels fill as many lanes as
 * the columns would. On PoCL at batch 256 (Sapphire Rapids, AVX-512): dae's second convolution
 * 17.9 -> 4.9 ms, siamese's 9.5 -> 2.6-3.0 ms, lenet's 1.3 -> 0.55-0.6 ms, compare's 3.0 ms
 * (through im2col) -> 0.65 ms. */
static bool cl_forward(const geom *g) {
    return many_taps(g) && lanes_used(g->O) >= lanes_used(g->WO);
}

/* The register tiles of the direct kernels (see cl/conv.cl): column blocks as wide as
 * cg__vector_width says, and output channels split into the fewest tiles of at most `most`
 * channels, as even as possible. */
static uint32_t channel_tile(uint32_t channels, uint32_t most) {
    uint32_t tiles = (channels + most - 1) / most;
    return (channels + tiles - 1) / tiles;
}

/* The tile of conv2d_cl_fwd: vw channels a vector and ct vectors (2 where there are two or
 * more: each broadcast input then feeds two multiply-adds), rt columns (the fewest blocks of at
 * most 16 / ct that cover a row, as even as possible) by rr rows, about 16 accumulators.
 * Measured on PoCL at batch 256 against 1 vector and against 20, 24 and 28 accumulators: 2 and
 * 16 ran dae's second convolution 5.7-5.9 -> 4.9 ms and its data gradient 9-10.5 -> 7.7 ms, the
 * others within 10%. op: the channels rounded up to whole tiles. */
typedef struct cl_tile {
    uint32_t vw, ct, rt, rr, op;
} cl_tile;

static cl_tile cl_fwd_tile(const geom *g) {
    cl_tile t;
    t.vw = cg__vector_width(g->O);
    t.ct = (g->O + t.vw - 1) / t.vw >= 2 ? 2 : 1;
    t.rt = channel_tile(g->WO, 16 / t.ct);
    t.rr = 16 / (t.rt * t.ct);
    if (t.rr > g->HO)
        t.rr = g->HO;
    if (t.rr == 0)
        t.rr = 1;
    t.op = (g->O + t.vw * t.ct - 1) / (t.vw * t.ct) * t.vw * t.ct;
    return t;
}

/* The zero row that the channels-last kernels read for rows of padding: as wide as a padded
 * row. */
static uint32_t zero_row(const geom *g) {
    return g->W + 2 * g->PW;
}

/* x with its column padding written out, where it has some (any stride). */
static size_t columns_padded_floats(const geom *g) {
    return g->PW ? (size_t)g->N * g->C * g->H * (g->W + 2 * g->PW) : 0;
}

/* The weight gradient's plan. Channels last (`last`, many taps): vw channels a vector and kht
 * (c, kh) rows a work-item, the rows split evenly into as many blocks as blocks of 28 taps would
 * take (so a block may hold a few more: dae's second convolution 6 rows of 5, 30 accumulators of
 * AVX-512's 32 registers); samples split into chunks whose dy (channels last) fits in 256 KiB,
 * and into at least 256 work-items (measured on PoCL at batch 256 against one chunk for 2,048
 * items: dae's second convolution 9.8 -> 5.7-6.2 ms). Row blocks otherwise: ot channels by vw
 * columns, at least about 2,048 work-items. The partial sums live in scratch. */
typedef struct wgrad_plan {
    bool last;
    uint32_t ot, vw, kht, per_chunk, chunks, items;
} wgrad_plan;

/* Samples per chunk and chunks, so that a launch has at least `least` work-items where the
 * batch allows, `per` work-items a chunk. */
static void wgrad_chunks(const geom *g, wgrad_plan *p, uint32_t per, uint32_t least) {
    uint32_t want = (least + per - 1) / per;
    if (want > g->N)
        want = g->N ? g->N : 1;
    p->per_chunk = (g->N + want - 1) / want;
    if (p->per_chunk == 0)
        p->per_chunk = 1;
    p->chunks = (g->N + p->per_chunk - 1) / p->per_chunk;
    p->items = p->chunks * per;
}

/* dy channels last: its channels rounded up to the vector. */
static uint32_t channels_last_width(const geom *g, const wgrad_plan *p) {
    return (g->O + p->vw - 1) / p->vw * p->vw;
}

static wgrad_plan wgrad_split(const geom *g) {
    wgrad_plan p = {0};
    if (many_taps(g) && g->KW <= 28) {
        uint32_t rows = g->C * g->KH, blocks = (rows * g->KW + 27) / 28;
        p.last = true;
        p.vw = cg__vector_width(g->O);
        p.kht = (rows + blocks - 1) / blocks;
        blocks = (rows + p.kht - 1) / p.kht;
        uint32_t per = (g->O + p.vw - 1) / p.vw * blocks;
        size_t sample = (size_t)g->HO * g->WO * channels_last_width(g, &p) * sizeof(float);
        size_t fit = 256 * 1024 / sample ? 256 * 1024 / sample : 1;
        uint64_t least = (uint64_t)per * ((g->N + fit - 1) / fit);
        wgrad_chunks(g, &p, per, least > 256 ? (uint32_t)least : 256);
        return p;
    }
    /* OT x KW vector accumulators, at most 3 channels and 18 accumulators: with the OT rows of
     * dy and the KW shifted rows of x that feed them, more left PoCL spilling accumulators to the
     * stack in the loop (seen in its code). Measured on PoCL at batch 256, 2 or 3 channels
     * against the 4 of up to 28 accumulators before: dae's first layer 3.9 -> 2.5-2.6 ms,
     * siamese's 2.1 -> 1.2-1.3 ms; compare's (3 taps: 7 channels before) 0.70 -> 0.34 ms. */
    p.ot = channel_tile(g->O, g->KW <= 6 ? 3 : g->KW <= 9 ? 2 : 1);
    p.vw = cg__vector_width(g->WO);
    while (p.vw > 4 && p.vw > g->WO) /* a block wider than the row: columns that are not there */
        p.vw /= 2;
    wgrad_chunks(g, &p, ((g->O + p.ot - 1) / p.ot) * g->C * g->KH, 2048);
    return p;
}

/* The partial sums of the weight gradient (chunks, O, C, KH, KW), at the start of scratch. */
static size_t wgrad_part_floats(const geom *g, const wgrad_plan *p) {
    return (size_t)p->chunks * g->O * g->C * g->KH * g->KW;
}

/* The bias gradient's partial sums of the channels-last weight gradient: one per channel and
 * sample. */
static size_t bias_sum_floats(const geom *g) {
    return (size_t)g->N * g->O;
}

/* Channels last, after the partial sums: dy (N, HO, WO, channels_last_width) and the zero row,
 * then x with its column padding written out, then the bias gradient's partial sums. */
static size_t wgrad_floats(const geom *g) {
    wgrad_plan p = wgrad_split(g);
    size_t n = wgrad_part_floats(g, &p);
    if (p.last)
        n += (size_t)g->N * g->HO * g->WO * channels_last_width(g, &p) + zero_row(g) +
             columns_padded_floats(g) + bias_sum_floats(g);
    return n;
}

/* The row-block forward reads whole vectors only where a block's windows stay inside the row,
 * which a padded row never allows at its ends: a stride-1 convolution with column padding reads
 * its input from a copy with the padding written out (pad_rows), at the start of scratch. Its
 * size in floats, 0 where the input is read as it is. */
static size_t padded_input_floats(const geom *g) {
    if (g->SW != 1 || g->PW == 0)
        return 0;
    return (size_t)g->N * g->C * g->H * (g->W + 2 * g->PW);
}

/* Whether conv2d_cl_fwd skips the column padding (ICOL: input columns outer, those of padding
 * skipped, x read unpadded) rather than multiplying a padded copy's zeros: at stride 1 wherever
 * there is column padding. Measured on PoCL at batch 256, against the padded copy: the data
 * gradients of dae's second convolution (8 columns padded by 4 on each side, 5 taps: a third of
 * them padding) 8.2 -> 6.5-7.0 ms each and of compare's second (4 padded by 2, 3 taps) 0.90-1.0
 * -> 0.78-0.85 ms, without their copies' 0.4-0.6 and 0.15 ms; that of siamese's second (10
 * padded by 2, 3 taps: a sixth) 2.2-2.4 ms -> 2.3-2.7 without its copy's 0.5-0.6 ms. Unpadded
 * convolutions keep the taps outer (ICOL ran them 0-15% slower). */
static bool skip_padding_columns(const geom *g) {
    return g->SW == 1 && g->PW > 0;
}

/* The channels-last forward's padded copy of x in scratch: none where it skips the padding. */
static size_t cl_fwd_copy_floats(const geom *g) {
    return skip_padding_columns(g) ? 0 : columns_padded_floats(g);
}

/* The scratch floats of a direct forward pass: channels last, x with its column padding written
 * out where it reads a copy, the packed weights and the zero row; else padded_input_floats. */
static size_t fwd_floats(const geom *g) {
    if (!cl_forward(g)) {
        uint32_t ot = channel_tile(g->O, 16);
        return padded_input_floats(g) + (size_t)g->C * g->KH * g->KW * ((g->O + ot - 1) / ot * ot);
    }
    cl_tile t = cl_fwd_tile(g);
    return cl_fwd_copy_floats(g) + (size_t)g->C * g->KH * g->KW * t.op + zero_row(g);
}

/* The geometry of the data gradient of a stride-1 convolution as a convolution of dy with the
 * flipped, transposed weights: dy is the image and x's size the output, padded by K - 1 - P. */
static bool dgrad_as_conv(const geom *g, geom *t) {
    if (g->SH != 1 || g->SW != 1 || g->PH >= g->KH || g->PW >= g->KW)
        return false;
    *t = (geom){g->N, g->O, g->HO, g->WO, g->C, g->KH, g->KW, 1, 1, g->KH - 1 - g->PH,
                g->KW - 1 - g->PW, g->H, g->W};
    return true;
}

/* The scratch floats of the direct kernels on geometry g: the weight gradient's, the forward's
 * or, at stride 1, that of the convolution of dy with the flipped weights (conv2d's data
 * gradient, conv_transpose2d's forward), whichever is most (they run one after the other). */
static size_t direct_floats(const geom *g) {
    size_t n = wgrad_floats(g), f = fwd_floats(g);
    geom t;
    if (dgrad_as_conv(g, &t) && fwd_floats(&t) > f)
        f = fwd_floats(&t);
    return f > n ? f : n;
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
    out->scratch_bytes = direct_floats(&g) * sizeof(float);
    size_t gemm_bytes = ((size_t)g.C * g.KH * g.KW + g.O) * np * sizeof(float);
    if (a->conv_algo != CG_CONV_DIRECT && gemm_bytes > out->scratch_bytes)
        out->scratch_bytes = gemm_bytes;
    return CG_OK;
}

/* The 12 geometry arguments that im2col and col2im share, for an "image" of (C, H, W) seen
 * through windows at (HO, WO). */
#define WINDOW_ARGS(g, C_, H_, W_, HO_, WO_)                                                      \
    CG_KU32((g).N), CG_KU32(C_), CG_KU32(H_), CG_KU32(W_), CG_KU32((g).KH), CG_KU32((g).KW),    \
        CG_KU32((g).SH), CG_KU32((g).SW), CG_KU32((g).PH), CG_KU32((g).PW), CG_KU32(HO_),       \
        CG_KU32(WO_)

static void layout_local(uint32_t HW, uint32_t C, size_t *local);

/* Whole rows per work-item (the tuned im2col chunk, by default on CPUs): im2col_rows and
 * col2im_rows over 3-D ranges, else a column per work-item. */
static bool by_rows(cg_context *ctx, uint32_t WO) {
    return cg__tuned_im2col_chunk(ctx, WO) >= WO;
}

static cg_status im2col(cg_context *ctx, cl_mem col, uint32_t off, cl_mem x, const geom *g,
                        uint32_t C, uint32_t H, uint32_t W, uint32_t HO, uint32_t WO) {
    cg__profile_bytes(ctx, 4.0 * g->N * C * ((double)H * W + (double)g->KH * g->KW * HO * WO));
    if (by_rows(ctx, WO)) {
        const cg__karg args[] = {CG_KMEM(col), CG_KU32(off), CG_KMEM(x),
                                 WINDOW_ARGS(*g, C, H, W, HO, WO)};
        size_t global[3] = {HO, g->N, (size_t)C * g->KH}, local[3];
        layout_local(HO, g->N, local);
        return cg__kernel_run(ctx, PROGRAM, "im2col_rows", 3, global, local, args,
                              CG__ARRAY_LEN(args));
    }
    uint32_t chunk = cg__tuned_im2col_chunk(ctx, WO);
    const cg__karg args[] = {CG_KMEM(col), CG_KU32(off), CG_KMEM(x),
                             WINDOW_ARGS(*g, C, H, W, HO, WO), CG_KU32(chunk)};
    size_t n = (size_t)C * g->KH * g->KW * g->N * HO * ((WO + chunk - 1) / chunk);
    return cg__kernel_run1d(ctx, PROGRAM, "im2col", n, 0, args, CG__ARRAY_LEN(args));
}

/* x [+]= col2im(col at off): col laid out as im2col writes it (C * KH * KW, N * HO * WO), or
 * where per_sample, as a batch of products (N, C * KH * KW, HO * WO). */
static cg_status col2im(cg_context *ctx, cl_mem x, cl_mem col, uint32_t off, const geom *g,
                        uint32_t C, uint32_t H, uint32_t W, uint32_t HO, uint32_t WO, bool acc,
                        bool per_sample) {
    const uint32_t hw = HO * WO, np = per_sample ? hw : g->N * hw;
    const uint32_t ns = per_sample ? C * g->KH * g->KW * hw : hw;
    const cg__karg args[] = {CG_KMEM(x),   CG_KMEM(col),
                             CG_KU32(off), WINDOW_ARGS(*g, C, H, W, HO, WO),
                             CG_KU32(acc), CG_KU32(np),
                             CG_KU32(ns)};
    cg__profile_bytes(ctx, 4.0 * g->N * C *
                               ((double)g->KH * g->KW * HO * WO + (double)H * W * (acc ? 2 : 1)));
    if (by_rows(ctx, WO)) {
        /* work-groups of 16 items: the rows of one sample, or of a few where they are short
         * (measured on PoCL against up to 64 items: dae's last layer 0.83-0.94 against
         * 1.26-1.63 ms at batch 256, compare's second convolution 0-7% slower) */
        size_t global[3] = {H, g->N, C}, local[3];
        cg__local_within(3, global, (const size_t[]){16, 16, 1}, local);
        return cg__kernel_run(ctx, PROGRAM, "col2im_rows", 3, global, local, args,
                              CG__ARRAY_LEN(args));
    }
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
    cg__profile_bytes(ctx, 8.0 * N * C * HW);
    return cg__kernel_run(ctx, PROGRAM, "nchw_to_cnhw", 3, global, local, args, 6);
}

static cg_status from_cnhw(cg_context *ctx, cl_mem dst, cl_mem src, uint32_t off, cl_mem bias,
                           uint32_t N, uint32_t C, uint32_t HW, bool acc) {
    const cg__karg args[] = {CG_KMEM(dst),  CG_KMEM(src), CG_KU32(off), CG_KMEM(bias),
                             CG_KU32(bias != NULL), CG_KU32(N), CG_KU32(C), CG_KU32(HW),
                             CG_KU32(acc)};
    size_t global[3] = {HW, C, N}, local[3];
    layout_local(HW, C, local);
    cg__profile_bytes(ctx, 4.0 * N * C * HW * (acc ? 3 : 2));
    return cg__kernel_run(ctx, PROGRAM, "cnhw_to_nchw", 3, global, local, args, 9);
}

/* The untuned algorithm of a pass (0 forward, 1 backward) where nothing was measured: on CPUs
 * the direct kernels, whose explicit vectors PoCL turns into AVX (at batch 256 on PoCL they beat
 * im2col + CLBlast 4-9x on every seed model's convolutions), but see below; on GPUs im2col +
 * CLBlast's tiled GEMM. */
static bool default_direct(const cg_context *ctx, const geom *g, int pass) {
    if (ctx->info.type != CG_DEVICE_CPU)
        return false;
    /* Layers with many input taps run channels last (cl_forward, wgrad_split), except a
     * forward whose columns fill more lanes than its channels: measured by `bench --ops` on
     * PoCL (AVX-512, 16 lanes) at batch 64 and 256, compare's second convolution (4 columns, 64
     * channels) forward 0.27-0.45 and 0.65-0.82 ms against 0.40-0.75 and 2.4-3.0 ms through
     * im2col and our GEMM, backward 1.0-1.1 and 2.6-3.2 ms against 1.1-1.4 and 4.9-5.5 ms. A
     * forward by row blocks of fewer than 8 columns stays with the GEMM (8-10% faster there
     * before). */
    if (!many_taps(g) || pass == 1 || cl_forward(g))
        return true;
    return g->WO >= 8;
}

static cg_status conv_fwd_with(const cg_op_call *c, const geom *g, bool direct);
static cg_status conv_bwd_with(const cg_op_call *c, const geom *g, bool direct);

/* A scratch copy of t for a measurement: a zeroed buffer of its size; false when there is none
 * (then nothing is measured). */
static bool scratch_like(cg_context *ctx, const cg_tensor *t, cg_tensor *copy, cl_mem *made) {
    *copy = *t;
    if (!t->mem)
        return true;
    size_t n = cg_shape_numel(&t->shape);
    if (cg__buffer_create(ctx, n * sizeof(float), made) != CG_OK)
        return false;
    copy->mem = *made;
    return cg__fill(ctx, *made, 0.0f, n) == CG_OK;
}

/* Autotune (cg_context_options): times both algorithms of this pass on the call's inputs with
 * scratch outputs (so the call's own results, and gradients it accumulates into, are not
 * touched), the first round of each not counted (it builds the programs), the rest keeping each
 * one's fastest; remembers the faster in the tuning file, the default unless the other is 5%
 * faster. CG_CONV_AUTO when neither ran. */
static int autotune(const cg_op_call *c, const geom *g, int pass, const uint32_t key[11]) {
    enum { ROUNDS = 3 };
    cg_context *ctx = c->ctx;
    cg_op_call t = *c;
    cg_tensor out, din, dparams[CG_MAX_PARAMS];
    cl_mem made[2 + CG_MAX_PARAMS] = {0};
    bool ok = true;
    if (pass == 0) {
        ok = scratch_like(ctx, c->out, &out, &made[0]);
        t.out = &out;
    } else {
        ok = scratch_like(ctx, &c->din[0], &din, &made[0]);
        for (int i = 0; ok && i < c->n_params; i++)
            ok = scratch_like(ctx, &c->dparams[i], &dparams[i], &made[1 + i]);
        t.din = &din;
        t.dparams = dparams;
    }
    double best[2] = {-1, -1}; /* [direct] in ms */
    cg__profiler *prof = ctx->prof;
    ctx->prof = NULL; /* these launches are not the step's */
    for (int r = 0; ok && r < ROUNDS; r++)
        for (int direct = 0; direct < 2; direct++) {
            if (r > 0 && best[direct] < 0)
                continue; /* it failed in the first round */
            double t0 = cg__now_ms();
            bool ran = cg_context_finish(ctx) == CG_OK &&
                       (pass == 0 ? conv_fwd_with(&t, g, direct) : conv_bwd_with(&t, g, direct)) ==
                           CG_OK &&
                       cg_context_finish(ctx) == CG_OK;
            double ms = cg__now_ms() - t0;
            if (r == 0)
                best[direct] = ran ? 1e300 : -1;
            else if (ran && ms < best[direct])
                best[direct] = ms;
        }
    ctx->prof = prof;
    for (size_t i = 0; i < CG__ARRAY_LEN(made); i++)
        cg__buffer_release(made[i]);
    if (!ok || (best[0] < 0 && best[1] < 0))
        return CG_CONV_AUTO;
    /* The default stands unless the other is 5% faster (timings vary by a few per cent). */
    const int fallback = default_direct(ctx, g, pass);
    double mine = best[fallback], other = best[!fallback];
    bool direct = other >= 0 && (mine < 0 || other < 0.95 * mine) ? !fallback : fallback;
    int algo = direct ? CG_CONV_DIRECT : CG_CONV_IM2COL;
    /* A file that cannot be written costs only the measurement, again in the next run. */
    cg__tuning_remember_conv(ctx, key, pass, algo);
    return algo;
}

int cg__conv_default_algo(const cg_context *ctx, const uint32_t key[11], int pass) {
    geom g = {key[0], key[1], key[2], key[3], key[4], key[5], key[6],
              key[7], key[8], key[9], key[10], 0,      0};
    if (g.SH && g.SW && g.H + 2 * g.PH >= g.KH && g.W + 2 * g.PW >= g.KW) {
        g.HO = (g.H + 2 * g.PH - g.KH) / g.SH + 1;
        g.WO = (g.W + 2 * g.PW - g.KW) / g.SW + 1;
    }
    return default_direct(ctx, &g, pass) ? CG_CONV_DIRECT : CG_CONV_IM2COL;
}

/* The algorithm of a pass (0 forward, 1 backward): as the layer asks, else as `clgraph tune` or
 * an earlier run measured for this shape and pass on this device, else measured now (autotune),
 * else by default_direct. */
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
    if (tuned == CG_CONV_AUTO && c->ctx->autotune)
        tuned = autotune(c, g, pass, key);
    if (tuned != CG_CONV_AUTO)
        return tuned == CG_CONV_DIRECT;
    return default_direct(c->ctx, g, pass);
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

/* dst (rows, width) at dst_off: the rows of src (rows, cols) at columns left .. left + cols - 1,
 * zeros around them (pad_rows). */
static cg_status pad_rows(cg_context *ctx, cl_mem dst, uint32_t dst_off, cl_mem src, uint32_t rows,
                          uint32_t cols, uint32_t width, uint32_t left) {
    const cg__karg args[] = {CG_KMEM(dst),  CG_KU32(dst_off), CG_KMEM(src),
                             CG_KU32(rows), CG_KU32(cols),    CG_KU32(width), CG_KU32(left)};
    /* work-groups of about 256 items: a row (up to 64 columns) by as many rows */
    size_t global[2] = {width, rows}, local[2];
    cg__local_within(2, global, (const size_t[]){64, 256}, local);
    cg__profile_bytes(ctx, 4.0 * rows * ((double)cols + width));
    return cg__kernel_run(ctx, PROGRAM, "pad_rows", 2, global, local, args, CG__ARRAY_LEN(args));
}

/* The weights (o, c, kh, kw) at w[w_base + o * w_o + c * w_c + kh * w_kh + kw * w_kw] packed
 * in groups of `group` output channels into scratch at wp_off (pack_weights), op channels in all,
 * and `zeros` zeros after them. */
static cg_status pack(cg_context *ctx, cl_mem scratch, uint32_t wp_off, cl_mem w, int w_base,
                      int w_o, int w_c, int w_kh, int w_kw, const geom *g, uint32_t op,
                      uint32_t group, uint32_t zeros) {
    const uint32_t taps = g->C * g->KH * g->KW;
    size_t pg[2] = {taps, op / group}, pl[2];
    cg__local_within(2, pg, (const size_t[]){64, 64}, pl);
    const cg__karg pargs[] = {CG_KMEM(scratch), CG_KU32(wp_off), CG_KMEM(w),
                              CG_KI32(w_base),  CG_KI32(w_o),    CG_KI32(w_c),
                              CG_KI32(w_kh),    CG_KI32(w_kw),   CG_KU32(g->O),
                              CG_KU32(g->C),    CG_KU32(g->KH),  CG_KU32(g->KW),
                              CG_KU32(op),      CG_KU32(group),  CG_KU32(zeros)};
    cg__profile_bytes(ctx, 4.0 * taps * ((double)g->O + op));
    return cg__kernel_run(ctx, PROGRAM, "pack_weights", 2, pg, pl, pargs, CG__ARRAY_LEN(pargs));
}

/* direct_conv through conv2d_cl_fwd. */
static cg_status cl_conv(cg_context *ctx, cl_mem y, cl_mem x, cl_mem w, cl_mem bias,
                         bool accumulate, const geom *g, int w_base, int w_o, int w_c, int w_kh,
                         int w_kw, cl_mem scratch, double flops) {
    const cl_tile t = cl_fwd_tile(g);
    const uint32_t wp_off = (uint32_t)cl_fwd_copy_floats(g), taps = g->C * g->KH * g->KW;
    /* skipping the padding, the kernel reads x's real columns where they are, with no padded
     * copy (on PoCL at batch 256, the convolution's time unchanged and pad_rows gone: 0.39-0.57
     * ms for each of dae's two such layers, 0.15-0.17 ms for each of compare's) */
    const bool icol = skip_padding_columns(g);
    const uint32_t zero_off = wp_off + taps * t.op, width = icol ? g->W : g->W + 2 * g->PW;
    cg_status st = CG_OK;
    if (g->PW && !icol) {
        st = pad_rows(ctx, scratch, 0, x, g->N * g->C * g->H, g->W, width, g->PW);
        x = scratch;
    }
    if (st == CG_OK)
        st = pack(ctx, scratch, wp_off, w, w_base, w_o, w_c, w_kh, w_kw, g, t.op, t.vw * t.ct,
                  zero_row(g));
    char defs[80];
    snprintf(defs, sizeof defs, "-DVW=%u -DCT=%u -DRT=%u -DRR=%u -DSWD=%u -DKWD=%u%s", t.vw, t.ct,
             t.rt, t.rr, g->SW, g->KW, icol ? " -DICOL" : "");
    const cg__karg args[] = {CG_KMEM(y),          CG_KMEM(x),       CG_KU32(0),
                             CG_KMEM(scratch),    CG_KU32(wp_off),  CG_KMEM(scratch),
                             CG_KU32(zero_off),   CG_KMEM(bias),    CG_KU32(bias != NULL),
                             CG_KU32(accumulate), CG_KU32(g->N),    CG_KU32(g->C),
                             CG_KU32(g->H),       CG_KU32(width),   CG_KU32(g->O),
                             CG_KU32(g->KH),      CG_KU32(g->KW),   CG_KU32(g->SH),
                             CG_KU32(g->PH),      CG_KU32(g->HO),   CG_KU32(g->WO),
                             CG_KU32(g->PW),      CG_KU32(g->W)};
    size_t blocks = (g->WO + t.rt - 1) / t.rt, tiles = t.op / (t.vw * t.ct);
    size_t global[3] = {tiles * blocks, (g->HO + t.rr - 1) / t.rr, g->N}, local[3];
    cg__local_within(3, global, (const size_t[]){tiles * blocks, 4, 1}, local);
    cg__profile_flops(ctx, flops);
    cg__profile_bytes(ctx, 4.0 * ((double)g->N * g->C * g->H * width + (double)taps * t.op +
                                  (double)g->N * g->O * g->HO * g->WO * (accumulate ? 2 : 1)));
    if (st == CG_OK)
        st = cg__kernel_run_defs(ctx, PROGRAM, defs, "conv2d_cl_fwd", 3, global, local, args,
                                 CG__ARRAY_LEN(args));
    return st;
}

/* y (N, O, HO, WO) [+]= the convolution of x (N, C, H, W) of geometry g, weight (o, c, kh, kw)
 * at w[w_base + o * w_o + c * w_c + kh * w_kh + kw * w_kw] (so that the same code computes the
 * data gradient of a stride-1 convolution: a convolution of dy with the weights flipped and
 * transposed, padded by K - 1 - P): channels last where cl_forward says so, else by row blocks
 * (conv2d_direct_fwd), x read from a padded copy in scratch where padded_input_floats says so
 * and the packed weights after it; `flops` are the pass's multiply-adds that the benchmark
 * counts. */
static cg_status direct_conv(cg_context *ctx, cl_mem y, cl_mem x, cl_mem w, cl_mem bias,
                             bool accumulate, const geom *g_in, int w_base, int w_o, int w_c,
                             int w_kh, int w_kw, cl_mem scratch, double flops) {
    if (cl_forward(g_in))
        return cl_conv(ctx, y, x, w, bias, accumulate, g_in, w_base, w_o, w_c, w_kh, w_kw,
                       scratch, flops);
    geom padded = *g_in;
    const geom *g = g_in;
    const uint32_t ot = channel_tile(g->O, 16), vw = cg__vector_width(g->WO);
    const uint32_t taps = g->C * g->KH * g->KW, op = (g->O + ot - 1) / ot * ot;
    const uint32_t wp_off = (uint32_t)padded_input_floats(g_in); /* after the padded copy */
    cg_status st = pack(ctx, scratch, wp_off, w, w_base, w_o, w_c, w_kh, w_kw, g, op, ot, 0);
    if (st != CG_OK)
        return st;
    if (wp_off) {
        padded.W += 2 * padded.PW;
        padded.PW = 0;
        st = pad_rows(ctx, scratch, 0, x, g_in->N * g_in->C * g_in->H, g_in->W, padded.W,
                      g_in->PW);
        if (st != CG_OK)
            return st;
        x = scratch, g = &padded;
    }
    const cg__karg args[] = {CG_KMEM(y),          CG_KMEM(x),          CG_KMEM(scratch),
                             CG_KU32(wp_off),     CG_KMEM(bias),       CG_KU32(bias != NULL),
                             CG_KU32(accumulate), DIRECT_ARGS(*g),
                             CG_KU32(g->N * g->C * g->H * g->W)};
    char defs[32];
    snprintf(defs, sizeof defs, "-DOT=%u -DVW=%u", ot, vw);
    size_t blocks = (g->WO + vw - 1) / vw, rows = g->HO < 4 ? g->HO : 4;
    size_t global[3] = {blocks, g->HO, (size_t)g->N * ((g->O + ot - 1) / ot)};
    size_t local[3] = {blocks, rows, 1};
    cg__profile_flops(ctx, flops); /* on the convolution's launch, not the padding's */
    cg__profile_bytes(ctx, 4.0 * ((double)g->N * g->C * g->H * g->W + (double)taps * op +
                                  (double)g->N * g->O * g->HO * g->WO * (accumulate ? 2 : 1)));
    return cg__kernel_run_defs(ctx, PROGRAM, defs, "conv2d_direct_fwd", 3, global, local, args,
                               CG__ARRAY_LEN(args));
}

/* y [+]= the convolution of dy (the image of t, from dgrad_as_conv(g, t)) with conv2d's weights
 * w (O, C, KH, KW) of geometry g flipped and transposed: conv2d's data gradient at stride 1,
 * and conv_transpose2d's forward; `flops` those of g. */
static cg_status flipped_conv(cg_context *ctx, cl_mem y, cl_mem dy, cl_mem w, cl_mem bias,
                              bool accumulate, const geom *g, const geom *t, cl_mem scratch) {
    return direct_conv(ctx, y, dy, w, bias, accumulate, t, (int)(g->KH * g->KW - 1),
                       (int)(g->KH * g->KW), (int)(g->C * g->KH * g->KW), -(int)g->KW, -1,
                       scratch, conv_flops(g));
}

/* The channels-last weight gradient's launches (see direct_wgrad): dy channels last after the
 * partial sums, the zero row after it, x with its column padding written out after that; with
 * `bias`, the bias gradient too, from sums that the copy of dy makes on the way (after x). */
static cg_status cl_wgrad(const cg_op_call *c, const geom *g, const wgrad_plan *p, bool bias) {
    const uint32_t parts = (uint32_t)wgrad_part_floats(g, p), op = channels_last_width(g, p);
    const uint32_t hw = g->HO * g->WO, zero_off = parts + g->N * hw * op;
    const uint32_t x_off = zero_off + zero_row(g), width = g->W + 2 * g->PW;
    const uint32_t sums_off = x_off + (uint32_t)columns_padded_floats(g);
    cl_mem x = c->in[0].mem;
    cg_status st = CG_OK;
    if (g->PW) { /* the kernel reads whole rows, with no test per column */
        st = pad_rows(c->ctx, c->scratch, x_off, x, g->N * g->C * g->H, g->W, width, g->PW);
        x = c->scratch;
    }
    size_t tg[2] = {(op + 15) / 16, g->N}, tl[2];
    cg__local_within(2, tg, (const size_t[]){4, 4}, tl);
    const cg__karg targs[] = {CG_KMEM(c->scratch), CG_KU32(parts),       CG_KMEM(c->dout->mem),
                              CG_KU32(g->N),       CG_KU32(g->O),        CG_KU32(hw),
                              CG_KU32(op),         CG_KU32(zero_row(g)), CG_KMEM(c->scratch),
                              CG_KU32(sums_off)};
    cg__profile_bytes(c->ctx, 4.0 * g->N * hw * ((double)g->O + op));
    if (st == CG_OK)
        st = cg__kernel_run_defs(c->ctx, PROGRAM, bias ? "-DSUMS=1" : "", "to_channels_last", 2,
                                 tg, tl, targs, CG__ARRAY_LEN(targs));
    if (st == CG_OK && bias)
        st = cg__add_chunk_sums(c->ctx, c->dparams[1].mem, c->scratch, sums_off, g->N, g->O);
    char defs[48];
    snprintf(defs, sizeof defs, "-DVW=%u -DKWD=%u -DKHT=%u", p->vw, g->KW, p->kht);
    const cg__karg args[] = {CG_KMEM(c->scratch), CG_KMEM(c->scratch), CG_KU32(parts),
                             CG_KMEM(x),          CG_KU32(g->PW ? x_off : 0),
                             CG_KMEM(c->scratch), CG_KU32(zero_off), CG_KU32(g->N),
                             CG_KU32(g->C),       CG_KU32(g->H),     CG_KU32(width),
                             CG_KU32(g->O),       CG_KU32(g->KH),    CG_KU32(g->SH),
                             CG_KU32(g->SW),      CG_KU32(g->PH),    CG_KU32(g->HO),
                             CG_KU32(g->WO),      CG_KU32(p->per_chunk), CG_KU32(p->items)};
    /* work-groups of 16: a chunk of a weight gradient has as few as 64 work-items (measured
     * against 4 and 64 on PoCL: the same within 5%) */
    size_t local = 16, global = (p->items + local - 1) / local * local;
    cg__profile_flops(c->ctx, conv_flops(g));
    cg__profile_bytes(c->ctx, 4.0 * ((double)g->N * op * hw + (double)g->N * g->C * g->H * width +
                                     parts));
    if (st == CG_OK)
        st = cg__kernel_run_defs(c->ctx, PROGRAM, defs, "conv2d_cl_bwd_weight", 1, &global,
                                 &local, args, CG__ARRAY_LEN(args));
    return st;
}

/* dw (O, C, KH, KW) += the weight gradient from dy and x, through partial sums per chunk of
 * samples in scratch: channels last (conv2d_cl_bwd_weight) where wgrad_split says so, else by
 * row blocks (conv2d_direct_bwd_weight). */
static cg_status direct_wgrad(const cg_op_call *c, const geom *g, bool bias) {
    wgrad_plan p = wgrad_split(g);
    cg_status st;
    if (p.last) {
        st = cl_wgrad(c, g, &p, bias);
    } else {
        const cg__karg args[] = {CG_KMEM(c->scratch), CG_KMEM(c->dout->mem), CG_KMEM(c->in[0].mem),
                                 CG_KU32(g->N),       CG_KU32(g->C),         CG_KU32(g->H),
                                 CG_KU32(g->W),       CG_KU32(g->O),         CG_KU32(g->KH),
                                 CG_KU32(g->SH),      CG_KU32(g->SW),        CG_KU32(g->PH),
                                 CG_KU32(g->PW),      CG_KU32(g->HO),        CG_KU32(g->WO),
                                 CG_KU32(p.per_chunk), CG_KU32(p.items)};
        char defs[64];
        snprintf(defs, sizeof defs, "-DOT=%u -DVW=%u -DKWD=%u -DWGRAD_PLAIN=%d", p.ot, p.vw,
                 g->KW, g->SW == 1 && g->PW == 0 && g->WO >= p.vw);
        size_t local = 64, global = (p.items + local - 1) / local * local;
        cg__profile_flops(c->ctx, conv_flops(g));
        cg__profile_bytes(c->ctx, 4.0 * ((double)g->N * g->O * g->HO * g->WO +
                                         (double)g->N * g->C * g->H * g->W +
                                         wgrad_part_floats(g, &p)));
        st = cg__kernel_run_defs(c->ctx, PROGRAM, defs, "conv2d_direct_bwd_weight", 1, &global,
                                 &local, args, CG__ARRAY_LEN(args));
    }
    if (st == CG_OK)
        st = cg__add_chunk_sums(c->ctx, c->dparams[0].mem, c->scratch, 0, p.chunks,
                                g->O * g->C * g->KH * g->KW);
    return st;
}

static cg_status conv_fwd_with(const cg_op_call *c, const geom *gp, bool direct) {
    const geom g = *gp;
    cl_mem bias = c->attrs->bias ? c->params[1].mem : NULL;
    if (direct) {
        return direct_conv(c->ctx, c->out->mem, c->in[0].mem, c->params[0].mem, bias, false, &g,
                           0, (int)(g.C * g.KH * g.KW), (int)(g.KH * g.KW), (int)g.KW, 1,
                           c->scratch, conv_flops(&g));
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

static cg_status conv_bwd_with(const cg_op_call *c, const geom *gp, bool direct) {
    const geom g = *gp;
    cg_status st = CG_OK;
    /* the channels-last weight gradient sums dy for the bias as it copies it: on PoCL at batch
     * 256, siamese's two second layers' bias_bwd took 0.27-0.41 ms each */
    const bool fused_bias = c->attrs->bias && direct && wgrad_split(&g).last;
    if (c->attrs->bias && !fused_bias)
        st = cg__bias_bwd(c->ctx, c->dparams[1].mem, c->dout->mem, g.O, g.HO * g.WO, g.N);
    if (st != CG_OK)
        return st;
    if (direct) {
        st = direct_wgrad(c, &g, fused_bias);
        if (st != CG_OK || !c->din[0].mem)
            return st;
        geom t;
        if (dgrad_as_conv(&g, &t)) /* scratch is free again: the queue is in order */
            return flipped_conv(c->ctx, c->din[0].mem, c->dout->mem, c->params[0].mem, NULL,
                                cg_op_din_acc(c, 0), &g, &t, c->scratch);
        cg__profile_flops(c->ctx, conv_flops(&g));
        const cg__karg dargs[] = {CG_KMEM(c->din[0].mem), CG_KMEM(c->dout->mem),
                                  CG_KMEM(c->params[0].mem), DIRECT_ARGS(g),
                                  CG_KU32(cg_op_din_acc(c, 0))};
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
                    cg_op_din_acc(c, 0), false);
    return st;
}

static cg_status conv_fwd(const cg_op_call *c) {
    geom g = conv_geom(c->attrs, &c->in[0].shape);
    return conv_fwd_with(c, &g, use_direct(c, &g, 0));
}

static cg_status conv_bwd(const cg_op_call *c) {
    geom g = conv_geom(c->attrs, &c->in[0].shape);
    return conv_bwd_with(c, &g, use_direct(c, &g, 1));
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
    size_t floats = (cokk + 2 * (size_t)g.O) * np, direct = direct_floats(&g);
    out->scratch_bytes = (direct > floats ? direct : floats) * sizeof(float); /* or tconv_bwd's */
    return CG_OK;
}

/* Whether a transposed convolution's forward runs as a direct convolution (of x padded by
 * K - 1 - P, with the weights flipped: the data gradient of conv2d with geometry g, which is
 * then t): on CPUs, at stride 1, where that runs channels last. Measured on PoCL at batch 256:
 * dae's decoder (64 -> 32 channels, 5x5, 8x8 -> 12x12) 28 ms (our GEMM 22, col2im 6) -> 8 ms.
 * Elsewhere GEMM + col2im: a direct convolution by row blocks multiplies the K - 1 rows and
 * columns of padding too. */
static bool tconv_direct(const cg_op_call *c, const geom *g, geom *t) {
    return c->ctx->info.type == CG_DEVICE_CPU && c->ctx->tuning.force_conv != CG_CONV_IM2COL &&
           dgrad_as_conv(g, t) && cl_forward(t);
}

static cg_status tconv_fwd(const cg_op_call *c) {
    geom g = tconv_geom(c->attrs, &c->in[0].shape), t;
    if (tconv_direct(c, &g, &t))
        return flipped_conv(c->ctx, c->out->mem, c->in[0].mem, c->params[0].mem,
                            c->attrs->bias ? c->params[1].mem : NULL, false, &g, &t, c->scratch);
    size_t cokk = (size_t)g.C * g.KH * g.KW, hw = g.HO * g.WO;
    cg_status st = CG_OK;
    if (c->ctx->gemm_own) {
        /* On CPUs, col_n (Cout*KK, H*W) = W^T x_n for each sample in one launch, x read where it
         * is: measured on PoCL at batch 256, dae's last layer (32 -> 1 channels) 5.2-5.3 ms (x
         * to (Cin, N*H*W) 2.7-2.9 of them) -> 3.3-3.5 ms, though its GEMM (1.7 -> 2.3 ms) and
         * col2im (0.65 -> 0.95-1.2 ms) are slower on the per-sample blocks. */
        const cg__gemm_batch batch = {g.N, (size_t)g.O * hw, cokk * hw};
        st = cg__sgemm_batched(c->ctx, true, cokk, hw, g.O, 1.0f, c->params[0].mem, 0, cokk,
                               c->in[0].mem, 0, hw, 0.0f, c->scratch, 0, hw, &batch);
        if (st == CG_OK)
            st = col2im(c->ctx, c->out->mem, c->scratch, 0, &g, g.C, g.H, g.W, g.HO, g.WO, false,
                        true);
    } else {
        /* col (Cout*KK, NP) = W^T (Cout*KK, Cin) x' (Cin, NP); y = col2im(col) + b */
        size_t np = g.N * hw;
        uint32_t xt = (uint32_t)(cokk * np); /* x as (Cin, N*H*W) after col */
        st = to_cnhw(c->ctx, c->scratch, xt, c->in[0].mem, g.N, g.O, (uint32_t)hw);
        if (st == CG_OK)
            st = cg__sgemm(c->ctx, true, false, cokk, np, g.O, 1.0f, c->params[0].mem, 0, cokk,
                           c->scratch, xt, np, 0.0f, c->scratch, 0, np);
        if (st == CG_OK)
            st = col2im(c->ctx, c->out->mem, c->scratch, 0, &g, g.C, g.H, g.W, g.HO, g.WO, false,
                        false);
    }
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
    /* On CPUs, the direct kernels: in conv2d's terms (g: the output y is the image, x the
     * windows' results) the weight gradient is conv2d's with dy as the image and x as the
     * gradient of its output, and dx is conv2d's forward of dy. On PoCL they ran dae's decoder
     * at batch 256 in about half the time of im2col + GEMM (whose GEMMs there are thin: 64 or 32
     * rows by 800 or 25). (The forward, see tconv_direct.) */
    if (st == CG_OK && c->ctx->info.type == CG_DEVICE_CPU &&
        c->ctx->tuning.force_conv != CG_CONV_IM2COL) {
        cg_op_call t = *c;
        const cg_tensor image = *c->dout, grad = c->in[0];
        t.in = &image;
        t.dout = &grad;
        st = direct_wgrad(&t, &g, false);
        if (st != CG_OK || !c->din[0].mem)
            return st;
        return direct_conv(c->ctx, c->din[0].mem, c->dout->mem, c->params[0].mem, NULL,
                           cg_op_din_acc(c, 0), &g, 0, (int)(g.C * g.KH * g.KW),
                           (int)(g.KH * g.KW), (int)g.KW, 1, c->scratch, conv_flops(&g));
    }
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
