/* Pooling and upsampling: maxpool2d, avgpool2d (windows without padding, floor mode, as
 * PyTorch's defaults) and nearest upsampling by an integer factor.
 *
 * Work-items: one per element of the tensor written (1-D, index checked against the total).
 * Backward kernels gather over the windows that cover an input element (or, for maxpool with
 * windows that tile the input, write each tile once), so no atomics are needed. maxpool's
 * backward recomputes each window's argmax (the first maximum in scan order, as PyTorch)
 * instead of storing indices.
 * Defines: none required.
 */

#define POOL_ARGS                                                                                \
    const uint N, const uint C, const uint H, const uint W, const uint KH, const uint KW,        \
        const uint SH, const uint SW, const uint HO, const uint WO

__kernel void maxpool2d_fwd(__global float *y, __global const float *x, POOL_ARGS) {
    const uint i = get_global_id(0);
    if (i >= N * C * HO * WO)
        return;
    const uint wo = i % WO, ho = (i / WO) % HO, nc = i / (WO * HO);
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
    const uint i = get_global_id(0);
    if (tiled) {
        const uint TH = (H + KH - 1) / KH, TW = (W + KW - 1) / KW;
        if (i >= N * C * TH * TW)
            return;
        const uint tw = i % TW, th = (i / TW) % TH, nc = i / (TW * TH);
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
    if (i >= N * C * H * W)
        return;
    const uint w = i % W, h = (i / W) % H, nc = i / (W * H);
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

__kernel void avgpool2d_fwd(__global float *y, __global const float *x, POOL_ARGS) {
    const uint i = get_global_id(0);
    if (i >= N * C * HO * WO)
        return;
    const uint wo = i % WO, ho = (i / WO) % HO, nc = i / (WO * HO);
    __global const float *xp = x + (size_t)nc * H * W + ho * SH * W + wo * SW;
    float s = 0.0f;
    for (uint kh = 0; kh < KH; kh++)
        for (uint kw = 0; kw < KW; kw++)
            s += xp[kh * W + kw];
    y[i] = s / (float)(KH * KW);
}

__kernel void avgpool2d_bwd(__global float *dx, __global const float *dy, POOL_ARGS,
                            const uint acc) {
    const uint i = get_global_id(0);
    if (i >= N * C * H * W)
        return;
    const uint w = i % W, h = (i / W) % H, nc = i / (W * H);
    const uint ho_lo = h + 1 > KH ? (h + 1 - KH + SH - 1) / SH : 0;
    const uint wo_lo = w + 1 > KW ? (w + 1 - KW + SW - 1) / SW : 0;
    float sum = 0.0f;
    for (uint ho = ho_lo; ho < HO && ho * SH <= h; ho++)
        for (uint wo = wo_lo; wo < WO && wo * SW <= w; wo++)
            sum += dy[((size_t)nc * HO + ho) * WO + wo];
    dx[i] = (acc ? dx[i] : 0.0f) + sum / (float)(KH * KW);
}

/* y (N, C, H*F, W*F) from x (N, C, H, W) */
__kernel void upsample_fwd(__global float *y, __global const float *x, const uint NC,
                           const uint H, const uint W, const uint F) {
    const uint i = get_global_id(0);
    const uint WY = W * F, HY = H * F;
    if (i >= NC * HY * WY)
        return;
    const uint wy = i % WY, hy = (i / WY) % HY, nc = i / (WY * HY);
    y[i] = x[((size_t)nc * H + hy / F) * W + wy / F];
}

__kernel void upsample_bwd(__global float *dx, __global const float *dy, const uint NC,
                           const uint H, const uint W, const uint F, const uint acc) {
    const uint i = get_global_id(0);
    if (i >= NC * H * W)
        return;
    const uint w = i % W, h = (i / W) % H, nc = i / (W * H);
    __global const float *d = dy + ((size_t)nc * H * F + h * F) * W * F + w * F;
    float s = 0.0f;
    for (uint a = 0; a < F; a++)
        for (uint b = 0; b < F; b++)
            s += d[a * W * F + b];
    dx[i] = (acc ? dx[i] : 0.0f) + s;
}
