/* Pooling and upsampling: maxpool2d, avgpool2d (windows without padding, floor mode, as
 * PyTorch's defaults) and nearest upsampling by an integer factor.
 *
 * Work-items: one per element of the tensor written (or per block of windows, or per tile, where
 * a kernel says so), over 3-D ranges (columns, rows, N * C) so that none divides; upsampling: one
 * per element written, the forward over a 1-D range, the backward over (W, N * C * H), their
 * divisions by compile-time constants; by 2, the backward as the 2x2 pooling kernels.
 * Backward kernels gather over the windows that cover an input element (or, for maxpool with
 * windows that tile the input, write each tile once), so no atomics are needed. maxpool's
 * backward recomputes each window's argmax (the first maximum in scan order, as PyTorch)
 * instead of storing indices.
 * Defines: none required (MPB for the 2x2 kernels, UPF and UPW for upsampling have defaults).
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

/* maxpool 2x2 with stride 2 on an input of even height and width whose output has at least
 * MPB columns (a define: 4, or 2 for outputs of 2 or 3 columns; every seed model's pooling):
 * one work-item per MPB neighbouring windows of a row (nc, ho), two vector loads of 2 * MPB
 * inputs. The last block of a row starts at WO - MPB, overlapping the block before, whose
 * columns it leaves alone. */
#ifndef MPB
#define MPB 4
#endif
#if MPB == 4
#define floatb float4
#define intb int4
#define floatbb float8
#define INTERLEAVE (uint8)(0, 4, 1, 5, 2, 6, 3, 7)
#define VLOADBB vload8
#define VSTOREBB vstore8
#else
#define floatb float2
#define intb int2
#define floatbb float4
#define INTERLEAVE (uint4)(0, 2, 1, 3)
#define VLOADBB vload4
#define VSTOREBB vstore4
#endif
#define vloadb CG_CAT(vload, MPB)
#define vstoreb CG_CAT(vstore, MPB)
__kernel void maxpool2x2_fwd(__global float *y, __global const float *x, const uint NC,
                             const uint H, const uint W) {
    const uint HO = H / 2, WO = W / 2, blocks = (WO + MPB - 1) / MPB;
    const uint bj = get_global_id(0), ho = get_global_id(1), nc = get_global_id(2);
    if (bj >= blocks || ho >= HO || nc >= NC)
        return;
    const uint wo0 = min(bj * MPB, WO - MPB);
    __global const float *r0 = x + ((size_t)nc * H + 2 * ho) * W + 2 * wo0;
    const floatbb a = VLOADBB(0, r0), b = VLOADBB(0, r0 + W);
    vstoreb(fmax(fmax(a.even, a.odd), fmax(b.even, b.odd)), 0,
            y + ((size_t)nc * HO + ho) * WO + wo0);
}

/* Upsampling by 2's gradient the same way (the sum of each 2x2 block of dy; added to dx with
 * acc): dy (NC, H, W), dx (NC, H / 2, W / 2). A shifted last block stores only the columns the
 * block before did not. On PoCL at batch 256, dae's two upsamplings' gradients took 1.1-1.4 ms
 * a step, against 2.8 through upsample_bwd. */
__kernel void upsample2x_bwd(__global float *dx, __global const float *dy, const uint NC,
                             const uint H, const uint W, const uint acc) {
    const uint HO = H / 2, WO = W / 2, blocks = (WO + MPB - 1) / MPB;
    const uint bj = get_global_id(0), ho = get_global_id(1), nc = get_global_id(2);
    if (bj >= blocks || ho >= HO || nc >= NC)
        return;
    const uint wo0 = min(bj * MPB, WO - MPB), skip = bj * MPB - wo0;
    __global const float *r0 = dy + ((size_t)nc * H + 2 * ho) * W + 2 * wo0;
    const floatbb a = VLOADBB(0, r0), b = VLOADBB(0, r0 + W);
    const floatb sum = (a.even + a.odd) + (b.even + b.odd);
    __global float *out = dx + ((size_t)nc * HO + ho) * WO + wo0;
    if (skip == 0) {
        vstoreb(acc ? vloadb(0, out) + sum : sum, 0, out);
        return;
    }
    float v[MPB];
    vstoreb(sum, 0, v);
    for (uint l = skip; l < MPB; l++)
        out[l] = (acc ? out[l] : 0.0f) + v[l];
}

/* Its gradient: dy to each window's first maximum in scan order (as maxpool2d_bwd), 0 to the
 * other three, written as two rows of 2 * MPB (added to dx with acc). */
__kernel void maxpool2x2_bwd(__global float *dx, __global const float *dy,
                             __global const float *x, const uint NC, const uint H, const uint W,
                             const uint acc) {
    const uint HO = H / 2, WO = W / 2, blocks = (WO + MPB - 1) / MPB;
    const uint bj = get_global_id(0), ho = get_global_id(1), nc = get_global_id(2);
    if (bj >= blocks || ho >= HO || nc >= NC)
        return;
    const uint wo0 = min(bj * MPB, WO - MPB), skip = bj * MPB - wo0;
    const size_t at = ((size_t)nc * H + 2 * ho) * W + 2 * wo0;
    const floatbb top = VLOADBB(0, x + at), bottom = VLOADBB(0, x + at + W);
    const floatb a = top.even, b = top.odd, c = bottom.even, d = bottom.odd;
    const intb is_b = isgreater(b, a);
    const floatb m1 = select(a, b, is_b);
    const intb is_c = isgreater(c, m1);
    const floatb m2 = select(m1, c, is_c);
    const intb is_d = isgreater(d, m2);
    const floatb g = vloadb(0, dy + ((size_t)nc * HO + ho) * WO + wo0), zero = (floatb)(0.0f);
    const floatb gd = select(zero, g, is_d), rest = select(g, zero, is_d);
    const floatb gc = select(zero, rest, is_c), rest2 = select(rest, zero, is_c);
    const floatb gb = select(zero, rest2, is_b), ga = select(rest2, zero, is_b);
    floatbb row0 = shuffle2(ga, gb, INTERLEAVE), row1 = shuffle2(gc, gd, INTERLEAVE);
    if (skip == 0) {
        if (acc) {
            row0 += VLOADBB(0, dx + at);
            row1 += VLOADBB(0, dx + at + W);
        }
        VSTOREBB(row0, 0, dx + at);
        VSTOREBB(row1, 0, dx + at + W);
        return;
    }
    float v0[2 * MPB], v1[2 * MPB];
    VSTOREBB(row0, 0, v0);
    VSTOREBB(row1, 0, v1);
    for (uint l = 2 * skip; l < 2 * MPB; l++) {
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

/* Upsampling by UPF of images UPW columns wide (defines: the divisions compiled in, as
 * multiplications). y (N, C, H*F, W*F) from x (N, C, H, W). The forward: one work-item per
 * output element over a 1-D range, its value the input element at (row / F, column / F). The
 * backward: one per input element over a 2-D range (W, rows = N * C * H), the sum of dy over its
 * F x F block (added to dx with acc). With the factor and width runtime arguments, PoCL moved
 * 3-7 GB/s. */
#ifndef UPF
#define UPF 2
#endif
#ifndef UPW
#define UPW 1
#endif
__kernel void upsample_fwd(__global float *y, __global const float *x, const uint n) {
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    const uint ro = i / (UPW * UPF), wo = i % (UPW * UPF);
    y[i] = x[ro / UPF * UPW + wo / UPF];
}

__kernel void upsample_bwd(__global float *dx, __global const float *dy, const uint acc,
                           const uint rows) {
    const uint w = get_global_id(0), r = get_global_id(1);
    if (w >= UPW || r >= rows)
        return;
    __global const float *d = dy + (size_t)r * UPF * UPW * UPF + w * UPF;
    float s = 0.0f;
    for (uint a = 0; a < UPF; a++)
        for (uint b = 0; b < UPF; b++)
            s += d[a * UPW * UPF + b];
    const size_t i = (size_t)r * UPW + w;
    dx[i] = (acc ? dx[i] : 0.0f) + s;
}
