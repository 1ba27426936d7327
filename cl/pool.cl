/* Pooling and upsampling: maxpool2d, avgpool2d (windows without padding, floor mode, as
 * PyTorch's defaults) and nearest upsampling by an integer factor.
 *
 * Work-items: one per element of the tensor written (or per block of windows, or per tile, where
 * a kernel says so), over 3-D ranges (columns, rows, N * C) so that none divides; upsampling: one
 * per input element over (W, N * C * H).
 * Backward kernels gather over the windows that cover an input element (or, for maxpool with
 * windows that tile the input, write each tile once), so no atomics are needed. maxpool's
 * backward recomputes each window's argmax (the first maximum in scan order, as PyTorch)
 * instead of storing indices.
 * Defines: none required.
 */

#define POOL_ARGS                                                                                \
    const uint N, const uint C, const uint H, const uint W, const uint KH, const uint KW,        \
        const uint SH, const uint SW, const uint HO, const uint WO

/* The output element of a forward work-item of the 3-D range (WO, HO, N * C); false past it. */
#define OUT_ITEM(wo, ho, nc, i)                                                                  \
    const uint wo = get_global_id(0), ho = get_global_id(1), nc = get_global_id(2);              \
    if (wo >= WO || ho >= HO || nc >= N * C)                                                     \
        return;                                                                                  \
    const size_t i = ((size_t)nc * HO + ho) * WO + wo

/* The input element of a backward work-item of the 3-D range (W, H, N * C). */
#define IN_ITEM(w, h, nc, i)                                                                     \
    const uint w = get_global_id(0), h = get_global_id(1), nc = get_global_id(2);                \
    if (w >= W || h >= H || nc >= N * C)                                                         \
        return;                                                                                  \
    const size_t i = ((size_t)nc * H + h) * W + w

__kernel void maxpool2d_fwd(__global float *y, __global const float *x, POOL_ARGS) {
    OUT_ITEM(wo, ho, nc, i);
    __global const float *xp = x + (size_t)nc * H * W + ho * SH * W + wo * SW;
    float m = xp[0];
    for (uint kh = 0; kh < KH; kh++)
        for (uint kw = 0; kw < KW; kw++)
            m = fmax(m, xp[kh * W + kw]);
    y[i] = m;
}

/* The flat offset inside the window at (ho, wo) of its first maximum. */
static uint window_argmax(__global const float *xc, const uint W, const uint KH, const uint KW,
                          const uint start) {
    uint best = start;
    float m = xc[start];
    for (uint kh = 0; kh < KH; kh++)
        for (uint kw = 0; kw < KW; kw++) {
            const uint at = start + kh * W + kw;
            if (xc[at] > m) {
                m = xc[at];
                best = at;
            }
        }
    return best;
}

/* dx from dy. When the windows tile the input (stride = kernel, tiled = 1), one work-item per
 * tile of the input (KH x KW, the last ones cut by the edge) finds its window's argmax once and
 * writes the whole tile: dy at the argmax, 0 elsewhere and outside every window. Otherwise one
 * work-item per input element gathers over the windows that cover it. */
__kernel void maxpool2d_bwd(__global float *dx, __global const float *dy,
                            __global const float *x, POOL_ARGS, const uint acc,
                            const uint tiled) {
    if (tiled) { /* the range is (TW, TH, N * C) */
        const uint TH = (H + KH - 1) / KH, TW = (W + KW - 1) / KW;
        const uint tw = get_global_id(0), th = get_global_id(1), nc = get_global_id(2);
        if (tw >= TW || th >= TH || nc >= N * C)
            return;
        __global const float *xc = x + (size_t)nc * H * W;
        __global float *dc = dx + (size_t)nc * H * W;
        const bool window = th < HO && tw < WO;
        const uint start = th * KH * W + tw * KW;
        const uint best = window ? window_argmax(xc, W, KH, KW, start) : 0;
        const float g = window ? dy[((size_t)nc * HO + th) * WO + tw] : 0.0f;
        for (uint kh = 0; kh < KH && th * KH + kh < H; kh++)
            for (uint kw = 0; kw < KW && tw * KW + kw < W; kw++) {
                const uint at = start + kh * W + kw;
                const float v = window && at == best ? g : 0.0f;
                dc[at] = (acc ? dc[at] : 0.0f) + v;
            }
        return;
    }
    IN_ITEM(w, h, nc, i);
    __global const float *xc = x + (size_t)nc * H * W;
    const uint me = h * W + w;
    /* Output rows whose window covers h: ho*SH <= h < ho*SH + KH. */
    const uint ho_lo = h + 1 > KH ? (h + 1 - KH + SH - 1) / SH : 0;
    const uint wo_lo = w + 1 > KW ? (w + 1 - KW + SW - 1) / SW : 0;
    float sum = 0.0f;
    for (uint ho = ho_lo; ho < HO && ho * SH <= h; ho++)
        for (uint wo = wo_lo; wo < WO && wo * SW <= w; wo++)
            if (window_argmax(xc, W, KH, KW, ho * SH * W + wo * SW) == me)
                sum += dy[((size_t)nc * HO + ho) * WO + wo];
    dx[i] = (acc ? dx[i] : 0.0f) + sum;
}

/* maxpool 2x2 with stride 2 on an input of even height and width whose output has at least 4
 * columns (every seed model's pooling): one work-item per 4 neighbouring windows of a row
 * (nc, ho), two float8 loads of input. The last block of a row starts at WO - 4, overlapping the
 * block before, whose columns it leaves alone. */
__kernel void maxpool2x2_fwd(__global float *y, __global const float *x, const uint NC,
                             const uint H, const uint W) {
    const uint HO = H / 2, WO = W / 2, blocks = (WO + 3) / 4;
    const uint bj = get_global_id(0), ho = get_global_id(1), nc = get_global_id(2);
    if (bj >= blocks || ho >= HO || nc >= NC)
        return;
    const uint wo0 = min(bj * 4, WO - 4);
    __global const float *r0 = x + ((size_t)nc * H + 2 * ho) * W + 2 * wo0;
    const float8 a = vload8(0, r0), b = vload8(0, r0 + W);
    vstore4(fmax(fmax(a.even, a.odd), fmax(b.even, b.odd)), 0,
            y + ((size_t)nc * HO + ho) * WO + wo0);
}

/* Its gradient: dy to each window's first maximum in scan order (as maxpool2d_bwd), 0 to the
 * other three, written as two float8 rows (added to dx with acc). */
__kernel void maxpool2x2_bwd(__global float *dx, __global const float *dy,
                             __global const float *x, const uint NC, const uint H, const uint W,
                             const uint acc) {
    const uint HO = H / 2, WO = W / 2, blocks = (WO + 3) / 4;
    const uint bj = get_global_id(0), ho = get_global_id(1), nc = get_global_id(2);
    if (bj >= blocks || ho >= HO || nc >= NC)
        return;
    const uint wo0 = min(bj * 4, WO - 4), skip = bj * 4 - wo0;
    const size_t at = ((size_t)nc * H + 2 * ho) * W + 2 * wo0;
    const float8 top = vload8(0, x + at), bottom = vload8(0, x + at + W);
    const float4 a = top.even, b = top.odd, c = bottom.even, d = bottom.odd;
    const int4 is_b = isgreater(b, a);
    const float4 m1 = select(a, b, is_b);
    const int4 is_c = isgreater(c, m1);
    const float4 m2 = select(m1, c, is_c);
    const int4 is_d = isgreater(d, m2);
    const float4 g = vload4(0, dy + ((size_t)nc * HO + ho) * WO + wo0), zero = (float4)(0.0f);
    const float4 gd = select(zero, g, is_d), rest = select(g, zero, is_d);
    const float4 gc = select(zero, rest, is_c), rest2 = select(rest, zero, is_c);
    const float4 gb = select(zero, rest2, is_b), ga = select(rest2, zero, is_b);
    float8 row0 = (float8)(ga.s0, gb.s0, ga.s1, gb.s1, ga.s2, gb.s2, ga.s3, gb.s3);
    float8 row1 = (float8)(gc.s0, gd.s0, gc.s1, gd.s1, gc.s2, gd.s2, gc.s3, gd.s3);
    if (skip == 0) {
        if (acc) {
            row0 += vload8(0, dx + at);
            row1 += vload8(0, dx + at + W);
        }
        vstore8(row0, 0, dx + at);
        vstore8(row1, 0, dx + at + W);
        return;
    }
    float v0[8], v1[8];
    vstore8(row0, 0, v0);
    vstore8(row1, 0, v1);
    for (uint l = 2 * skip; l < 8; l++) {
        dx[at + l] = (acc ? dx[at + l] : 0.0f) + v0[l];
        dx[at + W + l] = (acc ? dx[at + W + l] : 0.0f) + v1[l];
    }
}

__kernel void avgpool2d_fwd(__global float *y, __global const float *x, POOL_ARGS) {
    OUT_ITEM(wo, ho, nc, i);
    __global const float *xp = x + (size_t)nc * H * W + ho * SH * W + wo * SW;
    float s = 0.0f;
    for (uint kh = 0; kh < KH; kh++)
        for (uint kw = 0; kw < KW; kw++)
            s += xp[kh * W + kw];
    y[i] = s / (float)(KH * KW);
}

__kernel void avgpool2d_bwd(__global float *dx, __global const float *dy, POOL_ARGS,
                            const uint acc) {
    IN_ITEM(w, h, nc, i);
    const uint ho_lo = h + 1 > KH ? (h + 1 - KH + SH - 1) / SH : 0;
    const uint wo_lo = w + 1 > KW ? (w + 1 - KW + SW - 1) / SW : 0;
    float sum = 0.0f;
    for (uint ho = ho_lo; ho < HO && ho * SH <= h; ho++)
        for (uint wo = wo_lo; wo < WO && wo * SW <= w; wo++)
            sum += dy[((size_t)nc * HO + ho) * WO + wo];
    dx[i] = (acc ? dx[i] : 0.0f) + sum / (float)(KH * KW);
}

/* Upsampling: one work-item per input element over a 2-D range (W, rows = N * C * H), so that
 * none divides (per output element, the 1-D kernel divided six times: on PoCL it moved 1.4 GB/s).
 * y (N, C, H*F, W*F) from x (N, C, H, W): the element's F x F block. */
__kernel void upsample_fwd(__global float *y, __global const float *x, const uint rows,
                           const uint W, const uint F) {
    const uint w = get_global_id(0), r = get_global_id(1);
    if (w >= W || r >= rows)
        return;
    const float v = x[(size_t)r * W + w];
    __global float *out = y + (size_t)r * F * W * F + w * F;
    for (uint a = 0; a < F; a++, out += W * F)
        for (uint b = 0; b < F; b++)
            out[b] = v;
}

/* dx = the sum of dy over the element's F x F block. */
__kernel void upsample_bwd(__global float *dx, __global const float *dy, const uint rows,
                           const uint W, const uint F, const uint acc) {
    const uint w = get_global_id(0), r = get_global_id(1);
    if (w >= W || r >= rows)
        return;
    __global const float *d = dy + (size_t)r * F * W * F + w * F;
    float s = 0.0f;
    for (uint a = 0; a < F; a++)
        for (uint b = 0; b < F; b++)
            s += d[a * W * F + b];
    const size_t i = (size_t)r * W + w;
    dx[i] = (acc ? dx[i] : 0.0f) + s;
}
