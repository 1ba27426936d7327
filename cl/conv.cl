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
 * Defines: none for the GEMM path; the vector kernels' tiles (see each).
 * The direct kernels come in two layouts of their vectors: along the output columns
 * (conv2d_direct_fwd, conv2d_direct_bwd_weight), and along the output channels ("channels
 * last": conv2d_cl_fwd, conv2d_cl_bwd_weight), which fills every lane whatever the width of
 * the rows, for the layers with many input taps (src/ops/conv.c says which runs where).
 * The loops over a register tile carry `#pragma unroll`: a loop left rolled keeps the tile's
 * accumulators in memory, a load and a store around each multiply-add (PoCL did so; with the
 * pragma the direct forward ran 1.7-1.9x faster). A loop that stops early cannot be unrolled
 * (PoCL warns on each build), so the store loops test each element instead.
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

/* x (N, C, H, W) = (acc ? x : 0) + the sum of the col entries that im2col took from it: col row
 * (c, kh, kw) of sample n at col_off + (c * KH * KW + kh * KW + kw) * np + n * ns (im2col's
 * layout (C * KH * KW, N * HO * WO): np = N * HO * WO, ns = HO * WO; a batch of per-sample
 * products (N, C * KH * KW, HO * WO): np = HO * WO, ns = C * KH * KW * HO * WO). */
__kernel void col2im(__global float *x, __global const float *col, const uint col_off,
                     const uint N, const uint C, const uint H, const uint W, const uint KH,
                     const uint KW, const uint SH, const uint SW, const uint PH, const uint PW,
                     const uint HO, const uint WO, const uint acc, const uint np,
                     const uint ns) {
    const uint i = get_global_id(0);
    if (i >= N * C * H * W)
        return;
    const uint w = i % W, h = (i / W) % H, c = (i / (W * H)) % C, n = i / (W * H * C);
    __global const float *cc = col + col_off + (size_t)c * KH * KW * np + (size_t)n * ns;
    x[i] = (acc ? x[i] : 0.0f) + col_sum(cc, np, h, w, KH, KW, SH, SW, PH, PW, HO, WO);
}

/* col2im for CPUs: one work-item per row (n, c, h) of x, over a 3-D range (H, N, C), so that no
 * work-item divides (the 1-D one divided six times per element) and a work-group's samples read
 * neighbouring columns of the same KH * KW col rows (with channels in the second dimension, it
 * read a few columns of each of 4 * KH * KW rows, one page apart: 4.7 GB/s for dae's decoder). */
__kernel void col2im_rows(__global float *x, __global const float *col, const uint col_off,
                          const uint N, const uint C, const uint H, const uint W, const uint KH,
                          const uint KW, const uint SH, const uint SW, const uint PH,
                          const uint PW, const uint HO, const uint WO, const uint acc,
                          const uint np, const uint ns) {
    const uint h = get_global_id(0), n = get_global_id(1), c = get_global_id(2);
    if (h >= H || c >= C || n >= N)
        return;
    __global const float *cc = col + col_off + (size_t)c * KH * KW * np + (size_t)n * ns;
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
 * padding or stride take the per-column path. x holds x_len floats. The weights come packed by
 * pack_weights (wp at wp_off) in groups of OT channels, so that a tap's OT weights lie side by
 * side at fixed offsets (read from a weight's own row, each cost a load, an address computation
 * and a sign extension besides its multiply-add: lenet's first convolution ran 2.7x faster
 * packed); packing reads them flipped and transposed for a data gradient as a convolution. With
 * `accumulate` the result is added to y.
 * Defines: OT (output channels per work-item, default 4), VW (4, 8 or 16 columns, default 8). */
#ifndef OT
#define OT 4
#endif
#ifndef VW
#define VW 8
#endif
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
                                __global const float *wp, const uint wp_off,
                                __global const float *b,
                                const uint has_bias, const uint accumulate, const uint N,
                                const uint C, const uint H, const uint W, const uint O,
                                const uint KH, const uint KW, const uint SH, const uint SW,
                                const uint PH, const uint PW, const uint HO, const uint WO,
                                const uint x_len) {
    const uint tiles = (O + OT - 1) / OT, blocks = (WO + VW - 1) / VW;
    const uint z = get_global_id(2), ho = get_global_id(1);
    if (get_global_id(0) >= blocks || ho >= HO || z >= N * tiles)
        return;
    const uint o0 = (z % tiles) * OT, n = z / tiles;
    uint wo0 = get_global_id(0) * VW;
    if (wo0 + VW > WO)
        wo0 = WO > VW ? WO - VW : 0;
    floatv acc[OT];
    #pragma unroll
    for (uint q = 0; q < OT; q++)
        acc[q] = (floatv)(has_bias ? b[min(o0 + q, O - 1)] : 0.0f);
    /* this tile's weights: OT a tap, the taps in turn */
    __global const float *wt = wp + wp_off + (size_t)(z % tiles) * C * KH * KW * OT;
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
            __global const float *wq = wt + (c * KH + kh) * KW * OT;
            for (uint kw = 0; kw < KW; kw++, wq += OT) {
                const floatv xv = row_vector(xr, w0 + (int)kw, SW, W, whole);
                #pragma unroll
                for (uint q = 0; q < OT; q++)
                    acc[q] = CG_MAD(xv, (floatv)(wq[q]), acc[q]);
            }
        }
    const uint skip = (uint)get_global_id(0) * VW - wo0; /* columns the block before stores */
    #pragma unroll
    for (uint q = 0; q < OT; q++) {
        if (o0 + q >= O)
            continue;
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
 * Defines: OT, VW as above; KWD = KW (the register tile needs it at compile time);
 * WGRAD_PLAIN = 1 where the rows are read plainly (below). */
#ifndef KWD
#define KWD 1
#endif
#ifndef WGRAD_PLAIN
#define WGRAD_PLAIN 0
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

/* One block of VW output columns: acc[q][k] += d[q] * the row's inputs under tap k, read from
 * xr at w0 + k (whole vectors where `whole`). */
static void wgrad_block(floatv acc[OT][KWD], const floatv d[OT], __global const float *xr,
                        const int w0, const uint SW, const uint W, const bool whole) {
    #pragma unroll
    for (uint k = 0; k < KWD; k++) {
        const floatv xv = row_vector(xr, w0 + (int)k, SW, W, whole);
        #pragma unroll
        for (uint q = 0; q < OT; q++)
            acc[q][k] = CG_MAD(d[q], xv, acc[q][k]);
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
    /* Rows read plainly (WGRAD_PLAIN: stride 1, no column padding, at least VW columns): the
     * blocks load whole vectors in a loop with no branch, which keeps the accumulators in
     * registers (with the tests inside the loop, PoCL kept them on the stack), and a row's last
     * VW columns, where VW does not divide it, come after the loop as one more block with the
     * columns the loop took masked out of dy (the mask made once). Other rows: block by block,
     * in a build of its own (compiled beside the plain path, the path for other rows left PoCL
     * keeping the accumulators in memory in the plain one's last block as well: lenet's first
     * layer ran 2.1 -> 1.3-1.4 ms at batch 256 without it). */
#if WGRAD_PLAIN
    const uint main_end = WO / VW * VW;
    const bool tail = main_end < WO;
    int m[VW];
    for (uint l = 0; l < VW; l++)
        m[l] = l >= VW - WO % VW ? -1 : 0;
    const intv keep = vloadv(0, m);
#endif
    const uint n_end = min(N, (chunk + 1) * per_chunk);
    for (uint n = chunk * per_chunk; n < n_end; n++)
        for (uint ho = 0; ho < HO; ho++) {
            const int h = (int)(ho * SH + kh) - (int)PH;
            if (h < 0 || h >= (int)H)
                continue;
            __global const float *xr = x + ((n * C + c) * H + (uint)h) * W;
            __global const float *dr[OT];
            #pragma unroll
            for (uint q = 0; q < OT; q++)
                dr[q] = dy + ((n * O + min(o0 + q, O - 1)) * HO + ho) * WO;
            floatv d[OT];
#if WGRAD_PLAIN
            for (uint b = 0; b < main_end; b += VW) {
                #pragma unroll
                for (uint q = 0; q < OT; q++)
                    d[q] = vloadv(0, dr[q] + b);
                wgrad_block(acc, d, xr, (int)b, 1, W, true);
            }
            if (tail) {
                #pragma unroll
                for (uint q = 0; q < OT; q++)
                    d[q] = select((floatv)(0.0f), vloadv(0, dr[q] + WO - VW), keep);
                wgrad_block(acc, d, xr, (int)(WO - VW), 1, W, true);
            }
#else
            for (uint b = 0; b < WO; b += VW) {
                /* the last block of a row at least VW wide starts at WO - VW, its columns that
                 * the block before took masked out of dy; narrower rows mask past WO */
                const uint wo0 = b + VW <= WO || WO < VW ? b : WO - VW, skip = b - wo0;
                const bool full = wo0 + VW <= WO; /* always where skip > 0 */
                #pragma unroll
                for (uint q = 0; q < OT; q++) {
                    if (full) {
                        d[q] = vloadv(0, dr[q] + wo0);
                    } else {
                        float v[VW];
                        for (uint l = 0; l < VW; l++)
                            v[l] = wo0 + l < WO ? dr[q][wo0 + l] : 0.0f;
                        d[q] = vloadv(0, v);
                    }
                }
                if (skip) { /* only the shifted last block: keep the lanes it owns */
                    int own[VW];
                    for (uint l = 0; l < VW; l++)
                        own[l] = l >= skip ? -1 : 0;
                    const intv owned = vloadv(0, own);
                    #pragma unroll
                    for (uint q = 0; q < OT; q++)
                        d[q] = select((floatv)(0.0f), d[q], owned);
                }
                const int w0 = (int)(wo0 * SW) - (int)PW;
                wgrad_block(acc, d, xr, w0, SW, W,
                            full && SW == 1 && w0 >= 0 && w0 + VW - 1 + KWD <= (int)W);
            }
#endif
        }
    wgrad_store(part, acc, chunk, O, C, KH, o0, c, kh);
}

/* The weight gradient with the output channels in the vector lanes, for CPUs: dy is read
 * channels last (dyt (N, HO, WO, OP) at dyt_off, OP = the channels rounded up to VW with zeros,
 * from to_channels_last), so that one aligned load gives VW channels of one output position,
 * and each of the work-item's KHT x KWD taps takes one multiply-add with an input value
 * broadcast to every lane. No lane idles on short rows (the row-vector kernels above use 8 or
 * 10 of 16 lanes on the seed models' 8- and 10-column rows) and the taps' inputs sit at fixed
 * offsets from KHT row pointers. The KHT rows are consecutive (c, kh) pairs: kernel rows of one
 * input channel and, for small kernels, of the next ones too.
 * One work-item per (tile of VW channels, block of KHT (c, kh) rows, chunk of samples), the
 * tile varying fastest, so that a work-group's items read the same rows of x; the partial sums
 * go to part (chunks, O, C, KH, KWD), as conv2d_direct_bwd_weight's. x (at x_off) holds no
 * column padding (the caller pads a copy); zb at zero_off is a row of W zeros, read in place of
 * rows of padding and of rows past the last (c, kh).
 * Defines: VW (channels per vector: 4, 8 or 16), KWD = KW, KHT (rows per work-item, KHT * KWD
 * accumulators). */
#ifndef KHT
#define KHT 1
#endif
__kernel void conv2d_cl_bwd_weight(__global float *part, __global const float *dyt,
                                   const uint dyt_off, __global const float *x, const uint x_off,
                                   __global const float *zb, const uint zero_off, const uint N,
                                   const uint C, const uint H, const uint W, const uint O,
                                   const uint KH, const uint SH, const uint SW, const uint PH,
                                   const uint HO, const uint WO, const uint per_chunk,
                                   const uint items) {
    const uint i = get_global_id(0);
    if (i >= items)
        return;
    const uint tiles = (O + VW - 1) / VW, blocks = (C * KH + KHT - 1) / KHT, OP = tiles * VW;
    const uint t = i % tiles, f0 = (i / tiles) % blocks * KHT, chunk = i / (tiles * blocks);
    __global const float *zero = zb + zero_off;
    uint rc[KHT], rk[KHT]; /* each row's input channel and kernel row */
    #pragma unroll
    for (uint r = 0; r < KHT; r++) {
        rc[r] = (f0 + r) / KH;
        rk[r] = (f0 + r) - rc[r] * KH;
    }
    floatv acc[KHT][KWD];
    #pragma unroll
    for (uint r = 0; r < KHT; r++)
        #pragma unroll
        for (uint k = 0; k < KWD; k++)
            acc[r][k] = (floatv)0.0f;
    const uint n_end = min(N, (chunk + 1) * per_chunk);
    for (uint n = chunk * per_chunk; n < n_end; n++) {
        __global const float *xn = x + x_off + (size_t)n * C * H * W;
        __global const float *dr = dyt + dyt_off + (size_t)n * HO * WO * OP + t * VW;
        for (uint ho = 0; ho < HO; ho++) {
            /* the rows of x that the kernel rows read, the zero row for padding and for rows
             * past the last (no test in the loop below: a branch there made the compiler copy
             * the accumulators through memory) */
            __global const float *xr[KHT];
            #pragma unroll
            for (uint r = 0; r < KHT; r++) {
                const int h = (int)(ho * SH + rk[r]) - (int)PH;
                xr[r] = rc[r] < C && h >= 0 && h < (int)H ? xn + (rc[r] * H + (uint)h) * W
                                                            : zero;
            }
            for (uint wo = 0; wo < WO; wo++, dr += OP) {
                const floatv d = vloadv(0, dr);
                #pragma unroll
                for (uint r = 0; r < KHT; r++) {
                    #pragma unroll
                    for (uint k = 0; k < KWD; k++)
                        acc[r][k] = CG_MAD(d, (floatv)(xr[r][k]), acc[r][k]);
                    xr[r] += SW;
                }
            }
        }
    }
    #pragma unroll
    for (uint r = 0; r < KHT; r++) {
        #pragma unroll
        for (uint k = 0; k < KWD; k++) {
            if (f0 + r >= C * KH)
                continue;
            float v[VW];
            vstorev(acc[r][k], 0, v);
            for (uint l = 0; l < VW && t * VW + l < O; l++)
                part[((chunk * O + t * VW + l) * C * KH + f0 + r) * KWD + k] = v[l];
        }
    }
}

/* dst (N, HW, OP) at dst_off = src (N, O, HW) with the channels last, the OP - O channels past
 * O zero, and then `zeros` zeros (conv2d_cl_bwd_weight's zero row). With SUMS defined 1, each
 * sample's sums over the positions too (a convolution's bias gradient from its dy, which
 * bias_bwd would read again): sums (N, O) at sums_off. One work-item per 16 channels of one
 * sample, a 2-D range (channel tiles, N), in tiles of 16 positions: it reads 16 runs of 16
 * positions and writes 16 runs of 16 channels, transposed in registers (CG_TRANSPOSE16); tiles
 * at the edges (fewer positions or channels) go through a private array. Measured on PoCL at
 * batch 256 against the private array for every tile: siamese's two 1.16-1.32 -> 0.73-0.83 ms,
 * dae's 0.72-0.91 -> 0.41-0.51 ms, lenet's 0.19 -> 0.13 ms. (One work-item per element, each
 * dividing its index, ran at a third of the copy bandwidth.) */
#ifndef SUMS
#define SUMS 0
#endif
__kernel void to_channels_last(__global float *dst, const uint dst_off, __global const float *src,
                               const uint N, const uint O, const uint HW, const uint OP,
                               const uint zeros, __global float *sums, const uint sums_off) {
    const uint o0 = get_global_id(0) * 16, n = get_global_id(1);
    if (o0 >= OP || n >= N)
        return;
    float16 total = (float16)(0.0f); /* with SUMS: the 16 channels' sums over the positions */
    for (uint k0 = 0; k0 < HW; k0 += 16) {
        if (k0 + 16 <= HW && o0 + 16 <= OP) {
            float16 r[16]; /* row q: channel o0 + q's 16 positions; after the transpose, row k:
                            * position k0 + k's 16 channels */
            #pragma unroll
            for (uint q = 0; q < 16; q++)
                r[q] = o0 + q < O ? vload16(0, src + ((size_t)n * O + o0 + q) * HW + k0)
                                  : (float16)(0.0f);
            CG_TRANSPOSE16(r);
            #pragma unroll
            for (uint k = 0; k < 16; k++) {
                vstore16(r[k], 0, dst + dst_off + ((size_t)n * HW + k0 + k) * OP + o0);
                if (SUMS)
                    total += r[k];
            }
        } else {
            float tile[16][16]; /* [position][channel] */
            for (uint q = 0; q < 16; q++) {
                const uint o = o0 + q;
                __global const float *s = src + ((size_t)n * O + o) * HW + k0;
                for (uint k = 0; k < 16; k++)
                    tile[k][q] = o < O && k0 + k < HW ? s[k] : 0.0f;
            }
            for (uint k = 0; k < 16 && k0 + k < HW; k++) {
                __global float *d = dst + dst_off + ((size_t)n * HW + k0 + k) * OP + o0;
                for (uint q = 0; o0 + q < OP && q < 16; q++)
                    d[q] = tile[k][q];
                if (SUMS)
                    total += vload16(0, tile[k]);
            }
        }
    }
    if (SUMS) {
        float v[16];
        vstore16(total, 0, v);
        for (uint q = 0; q < 16 && o0 + q < O; q++)
            sums[sums_off + (size_t)n * O + o0 + q] = v[q];
    }
    if (o0 == 0 && n == 0)
        for (uint z = 0; z < zeros; z++)
            dst[dst_off + (size_t)N * HW * OP + z] = 0.0f;
}

/* The convolution with the output channels in the vector lanes, for CPUs (the counterpart of
 * conv2d_cl_bwd_weight): y (N, O, HO, WO) [+]= the convolution of x (at x_off, its column
 * padding written out: PW = 0) with the weights packed by pack_weights (wp at wp_off) in groups
 * of CT * VW output channels, OP = the channels rounded up to whole groups. A work-item holds an
 * RR x RT tile of output positions (rows ho0 .., columns wo0 .. wo0 + RT - 1) for one group:
 * each tap loads CT vectors of weights, and each of the tile's inputs, broadcast to every lane,
 * feeds CT multiply-adds; the inputs sit at fixed offsets from RR row pointers (SWD and KWD are
 * compile-time). Rows of padding, and rows past HO, read the zero row (zb at zero_off, as wide
 * as a row of x), and a kernel row whose RR rows all read padding is skipped; the last column
 * block of a row starts at WO - RT (RT <= WO), its overlap with the block before computed twice
 * and stored once. A 3-D range (groups x column blocks, row blocks, N), the group varying
 * fastest, so that a work-group's items read the same rows of x. With ICOL (stride 1) the
 * tile's RT + KW - 1 input columns are the outer loop, each feeding the taps that fall inside
 * the tile, and the columns of padding (those before LP or from LP + WV on, of a row padded by
 * LP on the left) and rows of it are skipped instead of multiplied by zero (the data gradients'
 * K - 1 columns of padding on each side: a third of dae's taps); x is then unpadded (W = WV),
 * padded column p read at p - LP.
 * Defines: VW (4, 8 or 16), CT (vectors a group), RT (columns), RR (rows), SWD = SW, KWD = KW;
 * ICOL optional. */
#ifndef RT
#define RT 1
#endif
#ifndef RR
#define RR 1
#endif
#ifndef SWD
#define SWD 1
#endif
#ifndef CT
#define CT 1
#endif
__kernel void conv2d_cl_fwd(__global float *y, __global const float *x, const uint x_off,
                            __global const float *wp, const uint wp_off,
                            __global const float *zb, const uint zero_off,
                            __global const float *b, const uint has_bias,
                            const uint accumulate, const uint N, const uint C, const uint H,
                            const uint W, const uint O, const uint KH, const uint KW,
                            const uint SH, const uint PH, const uint HO, const uint WO,
                            const uint LP, const uint WV) {
    const uint tiles = (O + VW * CT - 1) / (VW * CT), OP = tiles * VW * CT;
    const uint blocks = (WO + RT - 1) / RT;
    const uint n = get_global_id(2), ho0 = get_global_id(1) * RR;
    if (get_global_id(0) >= tiles * blocks || ho0 >= HO || n >= N)
        return;
    const uint t = get_global_id(0) % tiles, block = get_global_id(0) / tiles;
    const uint wo0 = min(block * RT, WO - RT), skip = block * RT - wo0;
    __global const float *zero = zb + zero_off;
    float bias[CT][VW];
    for (uint u = 0; u < CT; u++)
        for (uint l = 0; l < VW; l++) {
            const uint o = (t * CT + u) * VW + l;
            bias[u][l] = has_bias && o < O ? b[o] : 0.0f;
        }
    floatv acc[RR][RT][CT];
    #pragma unroll
    for (uint r = 0; r < RR; r++)
        #pragma unroll
        for (uint j = 0; j < RT; j++)
            #pragma unroll
            for (uint u = 0; u < CT; u++)
                acc[r][j][u] = vloadv(0, bias[u]);
    __global const float *xn = x + x_off + (size_t)n * C * H * W + wo0 * SWD;
    __global const float *wq = wp + wp_off + (size_t)t * C * KH * KWD * CT * VW;
#ifdef ICOL
    /* the tile's input columns i that are not padding: lo <= i < hi */
    const int lo = (int)LP - (int)wo0, hi = (int)(LP + WV) - (int)wo0;
#endif
    for (uint c = 0; c < C; c++)
        for (uint kh = 0; kh < KH; kh++) {
            __global const float *xr[RR];
            bool in[RR], any = false;
            #pragma unroll
            for (uint r = 0; r < RR; r++) {
                const int h = (int)((ho0 + r) * SH + kh) - (int)PH;
                in[r] = ho0 + r < HO && h >= 0 && h < (int)H;
                xr[r] = in[r] ? xn + (c * H + (uint)h) * W : zero;
                any |= in[r];
            }
            if (!any) { /* every row reads padding (data gradients: K - 1 rows of it) */
                wq += KWD * CT * VW;
                continue;
            }
#ifdef ICOL
            floatv wv[KWD][CT];
            #pragma unroll
            for (uint kw = 0; kw < KWD; kw++)
                #pragma unroll
                for (uint u = 0; u < CT; u++)
                    wv[kw][u] = vloadv(0, wq + (kw * CT + u) * VW);
            wq += KWD * CT * VW;
            #pragma unroll
            for (int i = 0; i < RT + KWD - 1; i++) {
                if (i < lo || i >= hi)
                    continue; /* a column of padding */
                #pragma unroll
                for (uint r = 0; r < RR; r++) {
                    if (!in[r])
                        continue;
                    const floatv xb = (floatv)(xr[r][i - (int)LP]);
                    #pragma unroll
                    for (int kw = 0; kw < KWD; kw++) {
                        const int j = i - kw;
                        if (j < 0 || j >= RT)
                            continue;
                        #pragma unroll
                        for (uint u = 0; u < CT; u++)
                            acc[r][j][u] = CG_MAD(wv[kw][u], xb, acc[r][j][u]);
                    }
                }
            }
            continue;
#endif
            #pragma unroll
            for (uint kw = 0; kw < KWD; kw++, wq += CT * VW) {
                floatv wv[CT];
                #pragma unroll
                for (uint u = 0; u < CT; u++)
                    wv[u] = vloadv(0, wq + u * VW);
                #pragma unroll
                for (uint r = 0; r < RR; r++) {
                    #pragma unroll
                    for (uint j = 0; j < RT; j++) {
                        const floatv xb = (floatv)(xr[r][j * SWD]);
                        #pragma unroll
                        for (uint u = 0; u < CT; u++)
                            acc[r][j][u] = CG_MAD(wv[u], xb, acc[r][j][u]);
                    }
                    xr[r]++;
                }
            }
        }
    /* the tile through a private array, each channel's RT columns stored one after another
     * (stored lane by lane from the vectors, each store went to another row of y: measured on
     * PoCL at batch 256, lenet's second convolution 0.70 -> 0.54 ms, siamese's 3.4 -> 2.8-2.9,
     * compare's 0.69 -> 0.61, dae's and the data gradients 4-7% faster) */
    float v[RR][RT][CT * VW];
    #pragma unroll
    for (uint r = 0; r < RR; r++)
        #pragma unroll
        for (uint j = 0; j < RT; j++)
            #pragma unroll
            for (uint u = 0; u < CT; u++)
                vstorev(acc[r][j][u], 0, &v[r][j][u * VW]);
    for (uint r = 0; r < RR && ho0 + r < HO; r++) {
        __global float *yo = y + ((size_t)n * O + t * CT * VW) * HO * WO + (ho0 + r) * WO + wo0;
        for (uint q = 0; q < CT * VW && t * CT * VW + q < O; q++, yo += HO * WO) {
            #pragma unroll
            for (uint j = 0; j < RT; j++)
                if (j >= skip)
                    yo[j] = (accumulate ? yo[j] : 0.0f) + v[r][j][q];
        }
    }
}

/* wp at wp_off: the weights with the output channels last, in groups of G channels (OP / G
 * groups), each group's taps f = (c * KH + kh) * KW + kw in turn, G weights a tap: channel o at
 * ((o / G) * taps + f) * G + o % G, the OP - O channels past O zero; weight (o, c, kh, kw) read
 * from w[w_base + o * w_o + c * w_c + kh * w_kh + kw * w_kw] (as conv2d_direct_fwd reads it).
 * Then `zeros` zeros (conv2d_cl_fwd's zero row). A 2-D range (taps, OP / G): a work-item writes
 * one tap's G weights of a group, side by side (one per work-item, with four divisions each,
 * moved 1.1 GB/s on PoCL). */
__kernel void pack_weights(__global float *wp, const uint wp_off, __global const float *w,
                           const int w_base, const int w_o, const int w_c, const int w_kh,
                           const int w_kw, const uint O, const uint C, const uint KH,
                           const uint KW, const uint OP, const uint G, const uint zeros) {
    const uint f = get_global_id(0), t = get_global_id(1), taps = C * KH * KW;
    if (f >= taps || t >= OP / G)
        return;
    const uint kw = f % KW, kh = f / KW % KH, c = f / (KW * KH);
    __global const float *src =
        w + w_base + (int)(t * G) * w_o + (int)c * w_c + (int)kh * w_kh + (int)kw * w_kw;
    __global float *dst = wp + wp_off + (t * taps + f) * G;
    for (uint l = 0; l < G; l++)
        dst[l] = t * G + l < O ? src[(int)l * w_o] : 0.0f;
    if (f == 0 && t == 0)
        for (uint z = 0; z < zeros; z++)
            wp[wp_off + taps * OP + z] = 0.0f;
}

/* dst (rows, W) at dst_off from src (rows, WO): each row copied to columns left .. left + WO - 1,
 * the other columns zero. Writes out the column padding of the direct kernels' input, so that
 * their windows read whole rows with no test per column. */
__kernel void pad_rows(__global float *dst, const uint dst_off, __global const float *src,
                       const uint rows, const uint WO, const uint W, const uint left) {
    const uint w = get_global_id(0), r = get_global_id(1); /* a 2-D range: no division */
    if (w >= W || r >= rows)
        return;
    dst[dst_off + r * W + w] = w >= left && w - left < WO ? src[r * WO + w - left] : 0.0f;
}
