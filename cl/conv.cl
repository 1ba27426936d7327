/* Convolution kernels: im2col / col2im and layout changes for the GEMM path (conv2d and
 * conv_transpose2d), and direct kernels for conv2d.
 *
 * Layouts: images NCHW; weights OIHW; the column matrix col is (C*KH*KW, N*HO*WO), row
 * r = (c*KH + kh)*KW + kw, column j = (n*HO + ho)*WO + wo. "CNHW" is an image with the batch
 * moved inside the channels: element (c, n, k) at (c*N + n)*HW + k, which is what a GEMM over
 * the whole batch produces and consumes.
 * Work-items: for the GEMM path's kernels and the strided data gradient, one per element of
 * the tensor each kernel writes (1-D, index checked against the total), so every output element
 * is written by exactly one work-item and no atomics are needed: col2im and the direct backward
 * kernels gather rather than scatter. The vector kernels (conv2d_direct_fwd and the weight
 * gradients) say their own below.
 * Offsets (`*_off`, in elements) address parts of one scratch buffer.
 * Defines: none for the GEMM path; OT, VW and KWD for the vector kernels (see each).
 * The loops over a register tile (OT channels, KWD taps) carry `#pragma unroll`: a loop left
 * rolled keeps the tile's accumulators in memory, a load and a store around each multiply-add
 * (PoCL did so; with the pragma the direct forward ran 1.7-1.9x faster). Only the store loop
 * that stops at the last channel has none: PoCL cannot unroll it, and warns.
 */

/* Columns wo0 .. wo1 - 1 of a col row at tap kw: input row xr at wo * SW + kw - PW, 0 outside it
 * (and everywhere when the window row is not `inside` the input). */
static void im2col_run(__global float *out, __global const float *xr, const bool inside,
                       const uint wo0, const uint wo1, const uint kw, const uint SW,
                       const uint PW, const uint W) {
    for (uint wo = wo0; wo < wo1; wo++) {
        const int w = (int)(wo * SW + kw) - (int)PW;
        out[wo] = inside && w >= 0 && w < (int)W ? xr[w] : 0.0f;
    }
}

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
    im2col_run(out, xr, inside, q * chunk, min(WO, (q + 1) * chunk), kw, SW, PW, W);
}

/* The same columns for a whole-row chunk (CPUs): one work-item per (ho, n, c, kh) writes the KW
 * rows (c, kh, 0 .. KW-1) at (n, ho), every column: a 3-D range (HO, N, C * KH), so that a
 * work-item divides once where the 1-D one divided ten times (on PoCL that took most of its
 * time: compare's second convolution ran at 8% of the copy bandwidth). */
__kernel void im2col_rows(__global float *col, const uint col_off, __global const float *x,
                          const uint N, const uint C, const uint H, const uint W, const uint KH,
                          const uint KW, const uint SH, const uint SW, const uint PH,
                          const uint PW, const uint HO, const uint WO) {
    const uint ho = get_global_id(0), n = get_global_id(1), ck = get_global_id(2);
    if (ho >= HO || n >= N || ck >= C * KH)
        return;
    const uint c = ck / KH, kh = ck - c * KH;
    const size_t plane = (size_t)N * HO * WO; /* one row of col */
    const int h = (int)(ho * SH + kh) - (int)PH;
    const bool inside = h >= 0 && h < (int)H;
    __global const float *xr = x + ((size_t)(n * C + c) * H + (uint)(inside ? h : 0)) * W;
    __global float *out = col + col_off + (size_t)ck * KW * plane + (size_t)(n * HO + ho) * WO;
    for (uint kw = 0; kw < KW; kw++, out += plane)
        im2col_run(out, xr, inside, 0, WO, kw, SW, PW, W);
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

/* The sum of the col entries that im2col took from input position (h, w), cc at its channel's
 * first col row and its sample's first column, np columns a row. */
static float col_sum(__global const float *cc, const size_t np, const uint h, const uint w,
                     const uint KH, const uint KW, const uint SH, const uint SW, const uint PH,
                     const uint PW, const uint HO, const uint WO) {
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
    return sum;
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
    x[i] = (acc ? x[i] : 0.0f) + col_sum(cc, np, h, w, KH, KW, SH, SW, PH, PW, HO, WO);
}

/* col2im for CPUs: one work-item per row (n, c, h) of x, over a 3-D range (H, N, C), so that no
 * work-item divides (the 1-D one divided six times per element) and a work-group's samples read
 * neighbouring columns of the same KH * KW col rows (with channels in the second dimension, it
 * read a few columns of each of 4 * KH * KW rows, one page apart: 4.7 GB/s for dae's decoder). */
__kernel void col2im_rows(__global float *x, __global const float *col, const uint col_off,
                          const uint N, const uint C, const uint H, const uint W, const uint KH,
                          const uint KW, const uint SH, const uint SW, const uint PH,
                          const uint PW, const uint HO, const uint WO, const uint acc) {
    const uint h = get_global_id(0), n = get_global_id(1), c = get_global_id(2);
    if (h >= H || c >= C || n >= N)
        return;
    const size_t np = (size_t)N * HO * WO;
    __global const float *cc = col + col_off + (size_t)c * KH * KW * np + (size_t)n * HO * WO;
    __global float *xr = x + ((size_t)(n * C + c) * H + h) * W;
    if (SW == 1) { /* each tap adds a shifted run of its col row: no test per element */
        for (uint w = 0; w < W; w++)
            xr[w] = acc ? xr[w] : 0.0f;
        for (uint kh = 0; kh < KH; kh++) {
            uint ho;
            if (!window_origin(h, PH, kh, SH, HO, &ho))
                continue;
            for (uint kw = 0; kw < KW; kw++) {
                /* x column w takes col column w + PW - kw where that is in [0, WO) */
                const int shift = (int)PW - (int)kw;
                const int lo = max(0, -shift), hi = min((int)W, (int)WO - shift);
                __global const float *src = cc + (kh * KW + kw) * np + ho * WO + shift;
                for (int w = lo; w < hi; w++)
                    xr[w] += src[w];
            }
        }
        return;
    }
    for (uint w = 0; w < W; w++)
        xr[w] = (acc ? xr[w] : 0.0f) + col_sum(cc, np, h, w, KH, KW, SH, SW, PH, PW, HO, WO);
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

/* y (N, O, HO, WO): a 3-D range (column blocks, ho, n * tiles + t), each work-item computing VW
 * neighbouring output columns (one float vector) of OT output channels o0 = t * OT .. o0 + OT - 1.
 * The vector is written out so that CPU compilers need not find it: one load of VW inputs feeds
 * OT vector multiply-adds, each with one weight. The last block of a row starts at WO - VW (its
 * overlap is computed twice but stored by the block before only); windows that cross the
 * padding or stride take the per-column path. x holds x_len floats. Weight (o, c, kh, kw) is
 * w[w_base + o * w_o + c * w_c + kh * w_kh + kw * w_kw], so that the same kernel computes the
 * data gradient of a stride-1 convolution: a convolution of dy with the weights flipped and
 * transposed, padded by K - 1 - P. With `accumulate` the result is added to y.
 * Defines: OT (output channels per work-item, default 4), VW (4, 8 or 16 columns, default 8). */
#ifndef OT
#define OT 4
#endif
#ifndef VW
#define VW 8
#endif
#define CG_CAT_(a, b) a##b
#define CG_CAT(a, b) CG_CAT_(a, b)
#define floatv CG_CAT(float, VW)
#define vloadv CG_CAT(vload, VW)
#define vstorev CG_CAT(vstore, VW)
#define intv CG_CAT(int, VW)
/* The VW values of row xr at columns w0, w0 + SW, ...: one vector load when `whole` (stride 1,
 * all inside the row), else one by one with 0 outside [0, W). */
static floatv row_vector(__global const float *xr, const int w0, const uint SW, const uint W,
                         const bool whole) {
    if (whole)
        return vloadv(0, xr + w0);
    float v[VW];
    for (int l = 0; l < VW; l++) {
        const int ww = w0 + l * (int)SW;
        v[l] = ww >= 0 && ww < (int)W ? xr[ww] : 0.0f;
    }
    return vloadv(0, v);
}

__kernel void conv2d_direct_fwd(__global float *y, __global const float *x,
                                __global const float *w, __global const float *b,
                                const uint has_bias, const uint accumulate, const uint N,
                                const uint C, const uint H, const uint W, const uint O,
                                const uint KH, const uint KW, const uint SH, const uint SW,
                                const uint PH, const uint PW, const uint HO, const uint WO,
                                const int w_base, const int w_o, const int w_c, const int w_kh,
                                const int w_kw, const uint x_len) {
    const uint tiles = (O + OT - 1) / OT, blocks = (WO + VW - 1) / VW;
    const uint z = get_global_id(2), ho = get_global_id(1);
    if (get_global_id(0) >= blocks || ho >= HO || z >= N * tiles)
        return;
    const uint o0 = (z % tiles) * OT, n = z / tiles;
    uint wo0 = get_global_id(0) * VW;
    if (wo0 + VW > WO)
        wo0 = WO > VW ? WO - VW : 0;
    floatv acc[OT];
    int wrow[OT]; /* each channel's weights, clamped to a real channel past O */
    #pragma unroll
    for (uint q = 0; q < OT; q++) {
        const uint o = min(o0 + q, O - 1);
        acc[q] = (floatv)(has_bias ? b[o] : 0.0f);
        wrow[q] = w_base + (int)o * w_o;
    }
    const int h0 = (int)(ho * SH) - (int)PH, w0 = (int)(wo0 * SW) - (int)PW;
    /* Whole vector loads where the windows of the columns stored stay inside the row; in a row
     * narrower than VW the lanes past it read on into the next row (computed, never stored),
     * which only the last rows of x cannot do. */
    const int valid = (int)min((uint)VW, WO - wo0);
    const bool inside = SW == 1 && w0 >= 0 && w0 + valid - 1 + (int)KW <= (int)W;
    for (uint c = 0; c < C; c++)
        for (uint kh = 0; kh < KH; kh++) {
            const int h = h0 + (int)kh;
            if (h < 0 || h >= (int)H)
                continue;
            const uint row = ((n * C + c) * H + (uint)h) * W;
            __global const float *xr = x + row;
            const bool whole = inside && row + (uint)w0 + VW - 1 + KW <= x_len;
            const int k0 = (int)c * w_c + (int)kh * w_kh;
            for (uint kw = 0; kw < KW; kw++) {
                const floatv xv = row_vector(xr, w0 + (int)kw, SW, W, whole);
                #pragma unroll
                for (uint q = 0; q < OT; q++)
                    acc[q] = CG_MAD(xv, (floatv)(w[wrow[q] + k0 + (int)kw * w_kw]), acc[q]);
            }
        }
    const uint skip = (uint)get_global_id(0) * VW - wo0; /* columns the block before stores */
    #pragma unroll
    for (uint q = 0; q < OT; q++) {
        if (o0 + q >= O)
            break;
        __global float *yr = y + ((n * O + o0 + q) * HO + ho) * WO + wo0;
        if (skip == 0 && WO >= VW) {
            vstorev(accumulate ? acc[q] + vloadv(0, yr) : acc[q], 0, yr);
        } else {
            float v[VW];
            vstorev(acc[q], 0, v);
            for (uint l = skip; l < min((uint)VW, WO); l++)
                yr[l] = (accumulate ? yr[l] : 0.0f) + v[l];
        }
    }
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

/* The weight gradient in two steps. conv2d_direct_bwd_weight: part (chunks, O, C, KH, KW), the
 * sums over the samples of each chunk of `per_chunk` samples; one work-item per (chunk, c, kh,
 * tile of OT output channels), holding OT x KWD vector sums over VW output columns: each step
 * loads OT rows of dy and KWD shifted rows of x and does OT * KWD vector multiply-adds. As in the
 * forward kernel the last block of a row starts at WO - VW, so that its loads of x stay whole
 * vectors; the columns it shares with the block before are masked to 0 in dy (and columns past
 * WO when a row is narrower than VW). add_chunk_sums (core.cl) then adds the chunks into dw.
 * Defines: OT, VW as above; KWD = KW (the register tile needs it at compile time). */
#ifndef KWD
#define KWD 1
#endif
/* Work-item i of a weight gradient: its first output channel o0 (a tile of OT), kernel row kh,
 * input channel c and chunk of samples, the tile varying fastest. */
static void wgrad_item(const uint i, const uint O, const uint C, const uint KH, uint *o0,
                       uint *kh, uint *c, uint *chunk) {
    const uint tiles = (O + OT - 1) / OT;
    *o0 = (i % tiles) * OT;
    *kh = (i / tiles) % KH;
    *c = (i / (tiles * KH)) % C;
    *chunk = i / (tiles * KH * C);
}

/* part[chunk, o0 + q, c, kh, k] = the lanes of acc[q][k] summed, for the output channels that
 * exist. */
static void wgrad_store(__global float *part, floatv acc[OT][KWD], const uint chunk,
                        const uint O, const uint C, const uint KH, const uint o0, const uint c,
                        const uint kh) {
    for (uint q = 0; q < OT && o0 + q < O; q++)
        #pragma unroll
        for (uint k = 0; k < KWD; k++) {
            float v[VW];
            vstorev(acc[q][k], 0, v);
            float sum = 0.0f;
            for (uint l = 0; l < VW; l++)
                sum += v[l];
            part[(((chunk * O + o0 + q) * C + c) * KH + kh) * KWD + k] = sum;
        }
}

__kernel void conv2d_direct_bwd_weight(__global float *part, __global const float *dy,
                                       __global const float *x, const uint N, const uint C,
                                       const uint H, const uint W, const uint O,
                                       const uint KH, const uint SH, const uint SW,
                                       const uint PH, const uint PW, const uint HO,
                                       const uint WO, const uint per_chunk,
                                       const uint items) {
    const uint i = get_global_id(0);
    if (i >= items)
        return;
    uint o0, kh, c, chunk;
    wgrad_item(i, O, C, KH, &o0, &kh, &c, &chunk);
    floatv acc[OT][KWD];
    #pragma unroll
    for (uint q = 0; q < OT; q++)
        #pragma unroll
        for (uint k = 0; k < KWD; k++)
            acc[q][k] = (floatv)0.0f;
    const uint n_end = min(N, (chunk + 1) * per_chunk);
    for (uint n = chunk * per_chunk; n < n_end; n++)
        for (uint ho = 0; ho < HO; ho++) {
            const int h = (int)(ho * SH + kh) - (int)PH;
            if (h < 0 || h >= (int)H)
                continue;
            __global const float *xr = x + ((n * C + c) * H + (uint)h) * W;
            for (uint b = 0; b < WO; b += VW) {
                /* the last block of a row at least VW wide starts at WO - VW, its columns that
                 * the block before took masked out of dy; narrower rows mask past WO */
                const uint wo0 = b + VW <= WO || WO < VW ? b : WO - VW, skip = b - wo0;
                const bool full = wo0 + VW <= WO; /* always where skip > 0 */
                floatv d[OT];
                #pragma unroll
                for (uint q = 0; q < OT; q++) {
                    __global const float *dr = dy + ((n * O + min(o0 + q, O - 1)) * HO + ho) * WO;
                    if (full) {
                        d[q] = vloadv(0, dr + wo0);
                    } else {
                        float v[VW];
                        for (uint l = 0; l < VW; l++)
                            v[l] = wo0 + l < WO ? dr[wo0 + l] : 0.0f;
                        d[q] = vloadv(0, v);
                    }
                }
                if (skip) { /* only the shifted last block: keep the lanes it owns */
                    int m[VW];
                    for (uint l = 0; l < VW; l++)
                        m[l] = l >= skip ? -1 : 0;
                    const intv keep = vloadv(0, m);
                    #pragma unroll
                    for (uint q = 0; q < OT; q++)
                        d[q] = select((floatv)(0.0f), d[q], keep);
                }
                const int w0 = (int)(wo0 * SW) - (int)PW;
                const bool whole = full && SW == 1 && w0 >= 0 && w0 + VW - 1 + KWD <= (int)W;
                #pragma unroll
                for (uint k = 0; k < KWD; k++) {
                    const floatv xv = row_vector(xr, w0 + (int)k, SW, W, whole);
                    #pragma unroll
                    for (uint q = 0; q < OT; q++)
                        acc[q][k] = CG_MAD(d[q], xv, acc[q][k]);
                }
            }
        }
    wgrad_store(part, acc, chunk, O, C, KH, o0, c, kh);
}

/* The weight gradient of a stride-1, unpadded convolution over rows laid end to end: with dy
 * padded to the input's width W (dyp, row ho of channel o at ((n * O + o) * HO + ho) * W, its
 * last W - WO columns 0), output position p = ho * W + wo reads input x[p + kh * W + kw] of its
 * channel plane: one contiguous range of HO * W - (W - WO) positions per plane instead of HO
 * rows of WO, so a vector spans row ends and no lanes idle at the end of each short row. The
 * work-items and partial sums are those of conv2d_direct_bwd_weight. */
__kernel void conv2d_flat_bwd_weight(__global float *part, __global const float *dyp,
                                     const uint dyp_off, __global const float *x, const uint N,
                                     const uint C, const uint H, const uint W, const uint O,
                                     const uint KH, const uint HO, const uint WO,
                                     const uint per_chunk, const uint items) {
    const uint i = get_global_id(0);
    if (i >= items)
        return;
    uint o0, kh, c, chunk;
    wgrad_item(i, O, C, KH, &o0, &kh, &c, &chunk);
    const uint P = HO * W - (W - WO);
    floatv acc[OT][KWD];
    #pragma unroll
    for (uint q = 0; q < OT; q++)
        #pragma unroll
        for (uint k = 0; k < KWD; k++)
            acc[q][k] = (floatv)0.0f;
    const uint n_end = min(N, (chunk + 1) * per_chunk);
    for (uint n = chunk * per_chunk; n < n_end; n++) {
        __global const float *xp = x + ((size_t)(n * C + c) * H + kh) * W;
        __global const float *dp[OT];
        #pragma unroll
        for (uint q = 0; q < OT; q++)
            dp[q] = dyp + dyp_off + (size_t)(n * O + min(o0 + q, O - 1)) * HO * W;
        uint p0 = 0;
        for (; p0 + VW <= P; p0 += VW) {
            floatv d[OT];
            #pragma unroll
            for (uint q = 0; q < OT; q++)
                d[q] = vloadv(0, dp[q] + p0);
            #pragma unroll
            for (uint k = 0; k < KWD; k++) {
                const floatv xv = vloadv(0, xp + p0 + k);
                #pragma unroll
                for (uint q = 0; q < OT; q++)
                    acc[q][k] = CG_MAD(d[q], xv, acc[q][k]);
            }
        }
        /* The tail: whole vectors with the lanes past P masked to 0 where the loads stay inside
         * both buffers (past P they read the next planes), else lane by lane. */
        const size_t dy_last = (size_t)(n * O + min(o0 + OT - 1, O - 1)) * HO * W + p0 + VW;
        const size_t x_last = ((size_t)(n * C + c) * H + kh) * W + p0 + VW + KWD - 1;
        if (p0 < P && dy_last <= (size_t)N * O * HO * W && x_last <= (size_t)N * C * H * W) {
            int m[VW];
            for (uint l = 0; l < VW; l++)
                m[l] = p0 + l < P ? -1 : 0;
            const intv keep = vloadv(0, m);
            floatv d[OT];
            #pragma unroll
            for (uint q = 0; q < OT; q++)
                d[q] = select((floatv)(0.0f), vloadv(0, dp[q] + p0), keep);
            #pragma unroll
            for (uint k = 0; k < KWD; k++) {
                const floatv xv = select((floatv)(0.0f), vloadv(0, xp + p0 + k), keep);
                #pragma unroll
                for (uint q = 0; q < OT; q++)
                    acc[q][k] = CG_MAD(d[q], xv, acc[q][k]);
            }
        } else if (p0 < P) { /* the last planes: lanes past P hold 0 and read nothing */
            floatv d[OT];
            #pragma unroll
            for (uint q = 0; q < OT; q++) {
                float v[VW];
                for (uint l = 0; l < VW; l++)
                    v[l] = p0 + l < P ? dp[q][p0 + l] : 0.0f;
                d[q] = vloadv(0, v);
            }
            #pragma unroll
            for (uint k = 0; k < KWD; k++) {
                float v[VW];
                for (uint l = 0; l < VW; l++)
                    v[l] = p0 + l < P ? xp[p0 + l + k] : 0.0f;
                const floatv xv = vloadv(0, v);
                #pragma unroll
                for (uint q = 0; q < OT; q++)
                    acc[q][k] = CG_MAD(d[q], xv, acc[q][k]);
            }
        }
    }
    wgrad_store(part, acc, chunk, O, C, KH, o0, c, kh);
}

/* dst (rows, W) at dst_off from src (rows, WO): each row copied to columns left .. left + WO - 1,
 * the other columns zero. Pads dy to the input's width for the flat weight gradient (left 0) and
 * the rows of a stride-1 direct convolution by its padding, so that every window reads whole
 * vectors. */
__kernel void pad_rows(__global float *dst, const uint dst_off, __global const float *src,
                       const uint rows, const uint WO, const uint W, const uint left) {
    const uint w = get_global_id(0), r = get_global_id(1); /* a 2-D range: no division */
    if (w >= W || r >= rows)
        return;
    dst[dst_off + r * W + w] = w >= left && w - left < WO ? src[r * WO + w - left] : 0.0f;
}
