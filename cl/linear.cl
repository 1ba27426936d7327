/* Bias kernels shared by linear, conv2d and conv_transpose2d (the products themselves go
 * through cg__sgemm: our GEMM kernels or CLBlast).
 *
 * Work-items: bias_add, one per element of y (a 3-D range, see there); bias_bwd, one
 * work-group per channel, its items taking that channel's block in each sample in turn and
 * reducing in local memory, so no global atomics are needed (for images, where a channel has
 * many elements). A linear layer's bias gradient sums columns over the rows with
 * add_chunk_sums (core.cl).
 * Layout: y is (outer, channels, inner): inner = 1 for linear (N, F), H*W for images.
 * Defines: none required.
 */

/* y (outer, channels, inner) += b[c] at channel c, over a 3-D range (inner, channels, outer):
 * no division (per element, the 1-D kernel divided twice: on PoCL it moved 1.4-2.7 GB/s). */
__kernel void bias_add(__global float *y, __global const float *b, const uint channels,
                       const uint inner, const uint outer) {
    const uint k = get_global_id(0), c = get_global_id(1), o = get_global_id(2);
    if (k < inner && c < channels && o < outer)
        y[((size_t)o * channels + c) * inner + k] += b[c];
}

/* db[c] += sum over outer and inner of dy: work-group c, its items taking the (outer, c) blocks
 * of `inner` elements in turn and summing each with float8 loads. */
__kernel void bias_bwd(__global float *db, __global const float *dy, const uint channels,
                       const uint inner, const uint outer, __local float *part) {
    const uint c = get_group_id(0);
    const uint lid = get_local_id(0), lsize = get_local_size(0);
    float sum = 0.0f;
    float8 acc = (float8)(0.0f);
    for (uint o = lid; o < outer; o += lsize) {
        __global const float *blk = dy + (o * channels + c) * inner;
        uint k = 0;
        for (; k + 8 <= inner; k += 8)
            acc += vload8(0, blk + k);
        for (; k < inner; k++)
            sum += blk[k];
    }
    sum += acc.s0 + acc.s1 + acc.s2 + acc.s3 + acc.s4 + acc.s5 + acc.s6 + acc.s7;
    sum = group_sum(sum, part);
    if (lid == 0)
        db[c] += sum;
}

/* per_sample_linear: every sample n has its own W[n] (O x I) and b[n] (O):
 * y[n, o] = b[n, o] + sum over i of W[n, o, i] x[n, i]; one work-item per (n, o). */
__kernel void per_sample_linear_fwd(__global float *y, __global const float *x,
                                    __global const float *w, __global const float *b,
                                    const uint has_bias, const uint O, const uint I,
                                    const uint total) {
    const uint g = get_global_id(0);
    if (g >= total)
        return;
    const uint n = g / O;
    __global const float *row = w + (size_t)g * I, *xn = x + (size_t)n * I;
    float s = has_bias ? b[g] : 0.0f;
    for (uint i = 0; i < I; i++)
        s += row[i] * xn[i];
    y[g] = s;
}

/* dx[n, i] = sum over o of W[n, o, i] dy[n, o] (+ dx); one work-item per (n, i). */
__kernel void per_sample_linear_bwd_data(__global float *dx, __global const float *dy,
                                         __global const float *w, const uint O, const uint I,
                                         const uint acc, const uint total) {
    const uint g = get_global_id(0);
    if (g >= total)
        return;
    const uint n = g / I, i = g % I;
    float s = 0.0f;
    for (uint o = 0; o < O; o++)
        s += w[((size_t)n * O + o) * I + i] * dy[(size_t)n * O + o];
    dx[g] = (acc ? dx[g] : 0.0f) + s;
}

/* dW[n, o, i] += dy[n, o] x[n, i]; one work-item per weight. */
__kernel void per_sample_linear_bwd_weight(__global float *dw, __global const float *dy,
                                           __global const float *x, const uint O, const uint I,
                                           const uint total) {
    const size_t g = get_global_id(0);
    if (g >= total)
        return;
    const size_t row = g / I, n = row / O;
    dw[g] += dy[row] * x[n * I + g % I];
}
