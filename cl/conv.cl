/* Convolution kernels: im2col / col2im and layout changes for the GEMM path (conv2d and
 * conv_transpose2d), and direct kernels for conv2d.
 *
 * Layouts: images NCHW; weights OIHW; the column matrix col is (C*KH*KW, N*HO*WO), row
 * r = (c*KH + kh)*KW + kw, column j = (n*HO + ho)*WO + wo. "CNHW" is an image with the batch
 * moved inside the channels: element (c, n, k) at (c*N + n)*HW + k, which is what a GEMM over
 * the whole batch produces and consumes.
 * Work-items: one per element of the tensor each kernel writes (1-D, index checked against the
 * total), so every output element is written by exactly one work-item and no atomics are
 * needed: col2im and the direct backward kernels gather rather than scatter.
 * Offsets (`*_off`, in elements) address parts of one scratch buffer.
 * Defines: none required.
 */

/* One work-item per run of `chunk` consecutive columns wo of one row (c, kh, kw) and one (n, ho):
 * chunk 1 is one element per work-item (coalesced, for GPUs); a whole row (chunk = WO) divides
 * once per row instead of once per element (for CPUs). */
__kernel void im2col(__global float *col, const uint col_off, __global const float *x,
                     const uint N, const uint C, const uint H, const uint W, const uint KH,
                     const uint KW, const uint SH, const uint SW, const uint PH, const uint PW,
                     const uint HO, const uint WO, const uint chunk) {
    const uint chunks = (WO + chunk - 1) / chunk, rows = N * HO;
    const uint i = get_global_id(0);
    if (i >= C * KH * KW * rows * chunks)
        return;
    const uint q = i % chunks, t = i / chunks, row = t % rows, r = t / rows;
    const uint kw = r % KW, kh = (r / KW) % KH, c = r / (KW * KH);
    const uint ho = row % HO, n = row / HO;
    const int h = (int)(ho * SH + kh) - (int)PH;
    const bool inside = h >= 0 && h < (int)H;
    __global const float *xr = x + ((n * C + c) * H + (uint)(inside ? h : 0)) * W;
    __global float *out = col + col_off + (size_t)r * rows * WO + (size_t)row * WO;
    const uint end = min(WO, (q + 1) * chunk);
    for (uint wo = q * chunk; wo < end; wo++) {
        const int w = (int)(wo * SW + kw) - (int)PW;
        out[wo] = inside && w >= 0 && w < (int)W ? xr[w] : 0.0f;
    }
}

/* The window origin that tap k of a window reads input position `pos` from: the output position
 * o with o * S - P + k == pos, when there is one inside [0, O). Gather-style backward kernels
 * (col2im, the direct data gradient) use it for rows and for columns. */
static bool window_origin(const uint pos, const uint P, const uint k, const uint S,
                          const uint O, uint *o) {
    const int t = (int)(pos + P) - (int)k;
    if (S == 1) { /* no division: on CPUs it costs more than the rest of a tap */
        if (t < 0 || t >= (int)O)
            return false;
        *o = (uint)t;
        return true;
    }
    if (t < 0 || t % (int)S != 0 || t / (int)S >= (int)O)
        return false;
    *o = (uint)t / S;
    return true;
}

/* x (N, C, H, W) = (acc ? x : 0) + the sum of the col entries that im2col took from it. */
__kernel void col2im(__global float *x, __global const float *col, const uint col_off,
                     const uint N, const uint C, const uint H, const uint W, const uint KH,
                     const uint KW, const uint SH, const uint SW, const uint PH, const uint PW,
                     const uint HO, const uint WO, const uint acc) {
    const uint i = get_global_id(0);
    if (i >= N * C * H * W)
        return;
    const uint w = i % W, h = (i / W) % H, c = (i / (W * H)) % C, n = i / (W * H * C);
    const uint np = N * HO * WO;
    __global const float *cc = col + col_off + c * KH * KW * np + n * HO * WO;
    float sum = 0.0f;
    for (uint kh = 0; kh < KH; kh++) {
        uint ho, wo;
        if (!window_origin(h, PH, kh, SH, HO, &ho))
            continue;
        for (uint kw = 0; kw < KW; kw++) {
            if (!window_origin(w, PW, kw, SW, WO, &wo))
                continue;
            sum += cc[(kh * KW + kw) * np + ho * WO + wo];
        }
    }
    x[i] = (acc ? x[i] : 0.0f) + sum;
}

/* dst (C, N, HW) from src (N, C, HW); a 3-D range (HW, C, N), so that no work-item divides. */
__kernel void nchw_to_cnhw(__global float *dst, const uint dst_off, __global const float *src,
                           const uint N, const uint C, const uint HW) {
    const uint k = get_global_id(0), c = get_global_id(1), n = get_global_id(2);
    if (k >= HW || c >= C || n >= N)
        return;
    dst[dst_off + (c * N + n) * HW + k] = src[(n * C + c) * HW + k];
}

/* dst (N, C, HW) = (acc ? dst : 0) + src (C, N, HW) [+ b[c] when has_bias]; range (HW, C, N). */
__kernel void cnhw_to_nchw(__global float *dst, __global const float *src, const uint src_off,
                           __global const float *b, const uint has_bias, const uint N,
                           const uint C, const uint HW, const uint acc) {
    const uint k = get_global_id(0), c = get_global_id(1), n = get_global_id(2);
    if (k >= HW || c >= C || n >= N)
        return;
    const uint i = (n * C + c) * HW + k;
    float v = src[src_off + (c * N + n) * HW + k];
    if (has_bias)
        v += b[c];
    dst[i] = (acc ? dst[i] : 0.0f) + v;
}

/* y (N, O, HO, WO): one work-item per output position (n, ho, wo) and group of OT output
 * channels. Neighbouring work-items read neighbouring inputs, and every input value read feeds
 * OT multiply-adds, with the weights the same for the whole work-group. */
#define OT 4
__kernel void conv2d_direct_fwd(__global float *y, __global const float *x,
                                __global const float *w, __global const float *b,
                                const uint has_bias, const uint N, const uint C, const uint H,
                                const uint W, const uint O, const uint KH, const uint KW,
                                const uint SH, const uint SW, const uint PH, const uint PW,
                                const uint HO, const uint WO) {
    const uint P = HO * WO, tiles = (O + OT - 1) / OT;
    const uint i = get_global_id(0);
    if (i >= N * tiles * P)
        return;
    const uint p = i % P, t = i / P, o0 = (t % tiles) * OT, n = t / tiles;
    const uint wo = p % WO, ho = p / WO;
    float acc[OT];
    uint wrow[OT]; /* each channel's weights, clamped to a real channel past O */
    for (uint q = 0; q < OT; q++) {
        const uint o = min(o0 + q, O - 1);
        acc[q] = has_bias ? b[o] : 0.0f;
        wrow[q] = o * C * KH * KW;
    }
    const int h0 = (int)(ho * SH) - (int)PH, w0 = (int)(wo * SW) - (int)PW;
    for (uint c = 0; c < C; c++) {
        __global const float *xc = x + (n * C + c) * H * W;
        const uint wc = c * KH * KW;
        for (uint kh = 0; kh < KH; kh++) {
            const int h = h0 + (int)kh;
            if (h < 0 || h >= (int)H)
                continue;
            for (uint kw = 0; kw < KW; kw++) {
                const int ww = w0 + (int)kw;
                if (ww < 0 || ww >= (int)W)
                    continue;
                const float xv = xc[(uint)h * W + (uint)ww];
                const uint k = wc + kh * KW + kw;
                for (uint q = 0; q < OT; q++)
                    acc[q] = mad(xv, w[wrow[q] + k], acc[q]);
            }
        }
    }
    for (uint q = 0; q < OT; q++)
        if (o0 + q < O)
            y[((n * O + o0 + q) * HO + ho) * WO + wo] = acc[q];
}

/* dx (N, C, H, W): one work-item per input element, gathering over O and the kernel window. */
__kernel void conv2d_direct_bwd_data(__global float *dx, __global const float *dy,
                                     __global const float *w, const uint N, const uint C,
                                     const uint H, const uint W, const uint O, const uint KH,
                                     const uint KW, const uint SH, const uint SW, const uint PH,
                                     const uint PW, const uint HO, const uint WO,
                                     const uint acc) {
    const uint i = get_global_id(0);
    if (i >= N * C * H * W)
        return;
    const uint ww = i % W, h = (i / W) % H, c = (i / (W * H)) % C, n = i / (W * H * C);
    float sum = 0.0f;
    for (uint kh = 0; kh < KH; kh++) {
        uint ho, wo;
        if (!window_origin(h, PH, kh, SH, HO, &ho))
            continue;
        for (uint kw = 0; kw < KW; kw++) {
            if (!window_origin(ww, PW, kw, SW, WO, &wo))
                continue;
            for (uint o = 0; o < O; o++)
                sum += dy[((n * O + o) * HO + ho) * WO + wo] * w[((o * C + c) * KH + kh) * KW + kw];
        }
    }
    dx[i] = (acc ? dx[i] : 0.0f) + sum;
}

/* dw (O, C, KH, KW) += one work-item per weight, summing over the batch and output positions. */
__kernel void conv2d_direct_bwd_weight(__global float *dw, __global const float *dy,
                                       __global const float *x, const uint N, const uint C,
                                       const uint H, const uint W, const uint O, const uint KH,
                                       const uint KW, const uint SH, const uint SW,
                                       const uint PH, const uint PW, const uint HO,
                                       const uint WO) {
    const uint i = get_global_id(0);
    if (i >= O * C * KH * KW)
        return;
    const uint kw = i % KW, kh = (i / KW) % KH, c = (i / (KW * KH)) % C, o = i / (KW * KH * C);
    float sum = 0.0f;
    for (uint n = 0; n < N; n++)
        for (uint ho = 0; ho < HO; ho++) {
            const int h = (int)(ho * SH + kh) - (int)PH;
            if (h < 0 || h >= (int)H)
                continue;
            for (uint wo = 0; wo < WO; wo++) {
                const int ww = (int)(wo * SW + kw) - (int)PW;
                if (ww >= 0 && ww < (int)W)
                    sum += dy[((n * O + o) * HO + ho) * WO + wo] *
                           x[((n * C + c) * H + (uint)h) * W + (uint)ww];
            }
        }
    dw[i] += sum;
}
