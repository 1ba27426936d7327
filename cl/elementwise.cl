/* Element-wise ops and their gradients: relu, leaky_relu, prelu, tanh, sigmoid, add, scale.
 *
 * Work-items: one per element, 1-D range rounded up to the work-group size (index checked
 * against n), except tanh_fwd and sigmoid_fwd: one per 16 elements (float16, the last block
 * partial), and prelu_bwd: one work-item per run of 512 elements of a slope, the runs' sums
 * reduced per work-group in local memory (no global atomics).
 * Gradient kernels take `acc`: 0 overwrites dx, 1 adds into it (a tensor used twice).
 * Defines: none required.
 */

#define ACC(dst, value) ((dst) = (acc ? (dst) : 0.0f) + (value))

__kernel void relu_fwd(__global float *y, __global const float *x, const uint n) {
    const uint i = get_global_id(0);
    if (i < n)
        y[i] = fmax(x[i], 0.0f);
}

/* The gradient at exactly 0 is taken as 0, as PyTorch does. */
__kernel void relu_bwd(__global float *dx, __global const float *dy, __global const float *x,
                       const uint acc, const uint n) {
    const uint i = get_global_id(0);
    if (i < n)
        ACC(dx[i], x[i] > 0.0f ? dy[i] : 0.0f);
}

__kernel void leaky_relu_fwd(__global float *y, __global const float *x, const float slope,
                             const uint n) {
    const uint i = get_global_id(0);
    if (i < n)
        y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
}

__kernel void leaky_relu_bwd(__global float *dx, __global const float *dy,
                             __global const float *x, const float slope, const uint acc,
                             const uint n) {
    const uint i = get_global_id(0);
    if (i < n)
        ACC(dx[i], x[i] > 0.0f ? dy[i] : slope * dy[i]);
}

/* prelu: slope w[c] for channel c = (i / inner) % channels, or w[0] when shared. */
__kernel void prelu_fwd(__global float *y, __global const float *x, __global const float *w,
                        const uint channels, const uint inner, const uint shared,
                        const uint n) {
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    const float a = w[shared ? 0 : (i / inner) % channels];
    y[i] = x[i] > 0.0f ? x[i] : a * x[i];
}

__kernel void prelu_bwd_data(__global float *dx, __global const float *dy,
                             __global const float *x, __global const float *w,
                             const uint channels, const uint inner, const uint shared,
                             const uint acc, const uint n) {
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    const float a = w[shared ? 0 : (i / inner) % channels];
    ACC(dx[i], x[i] > 0.0f ? dy[i] : a * dy[i]);
}

/* The whole gradient where the slopes have one: part[g * slopes + s] = the sum of dy * x over
 * the elements with x <= 0 that use slope s, for work-group g of a 2-D range (runs, slopes), and
 * where want_dx, dx = dy (x > 0) or w[s] * dy (else; added to dx with acc) on the same pass over
 * x and dy (as prelu_bwd_data and a kernel of its own for the slopes, it read both twice: on PoCL
 * siamese's eight PReLU gradients at batch 256 took 4.6 ms a step, now 2.3, in 8 launches fewer);
 * each work-item takes one run of up to PRELU_RUN consecutive elements with float8 loads (a
 * shared slope: runs of the whole tensor; one slope per channel: runs of channel s in each
 * sample), and the group reduces in local memory; add_chunk_sums (core.cl) then adds the groups
 * into dw. `inner` elements per (sample, channel) block, `batch` samples. */
#define PRELU_RUN 512
__kernel void prelu_bwd(__global float *part, __global float *dx, __global const float *dy,
                        __global const float *x, __global const float *w, const uint channels,
                        const uint inner, const uint shared, const uint batch, const uint acc,
                        const uint want_dx, __local float *scratch) {
    const uint r = get_global_id(0), s = get_global_id(1), slopes = get_global_size(1);
    const uint block = shared ? batch * channels * inner : inner;
    const uint per_block = (block + PRELU_RUN - 1) / PRELU_RUN;
    const uint runs = shared ? per_block : batch * per_block;
    float sum = 0.0f;
    if (r < runs) {
        const uint b = r / per_block, q = r - b * per_block;
        const uint base = (shared ? 0 : (b * channels + s) * inner) + q * PRELU_RUN;
        const uint len = min((uint)PRELU_RUN, block - q * PRELU_RUN);
        const float a = w[s];
        float8 part8 = (float8)(0.0f);
        uint k = 0;
        for (; k + 8 <= len; k += 8) {
            const float8 v = vload8(0, x + base + k), d = vload8(0, dy + base + k);
            const int8 pos = v > (float8)(0.0f);
            part8 += select(d * v, (float8)(0.0f), pos);
            if (want_dx) {
                const float8 g = select(a * d, d, pos);
                vstore8(acc ? vload8(0, dx + base + k) + g : g, 0, dx + base + k);
            }
        }
        for (; k < len; k++) {
            const float v = x[base + k], d = dy[base + k];
            sum += v > 0.0f ? 0.0f : d * v;
            if (want_dx)
                ACC(dx[base + k], v > 0.0f ? d : a * d);
        }
        sum += part8.s0 + part8.s1 + part8.s2 + part8.s3 + part8.s4 + part8.s5 + part8.s6 +
               part8.s7;
    }
    sum = group_sum(sum, scratch);
    if (get_local_id(0) == 0)
        part[get_group_id(0) * slopes + s] = sum;
}

/* The map kernels (tanh_fwd, sigmoid_fwd): one work-item per 16 elements, in float16 (CPU
 * drivers otherwise call the library's scalar exp once per element: PoCL's tanh_fwd moved 4-5
 * GB/s where relu_fwd moved 25). */
#define MAP_KERNEL(name, f)                                                                      \
    __kernel void name(__global float *y, __global const float *x, const uint n) {              \
        const uint i0 = 16 * get_global_id(0);                                                   \
        if (i0 < n)                                                                              \
            store16_part(f(load16_part(x, i0, n)), y, i0, n);                                    \
    }

/* tanh(v) = sign(v) (1 - e) / (1 + e) with e = exp(-2|v|); below |v| = 0.1, where 1 - e loses
 * digits, its odd series to v^9 (the next term is under 1e-12 of it). On CPU drivers the
 * library tanh is several times slower. */
static float16 tanh16(const float16 v) {
    const float16 a = fabs(v), e = exp(-2.0f * a), v2 = v * v;
    const float16 series =
        v * (1.0f + v2 * (-1.0f / 3 + v2 * (2.0f / 15 + v2 * (-17.0f / 315 + v2 * (62.0f / 2835)))));
    return select(copysign((1.0f - e) / (1.0f + e), v), series, a < 0.1f);
}
MAP_KERNEL(tanh_fwd, tanh16)

/* Uses the output: d tanh = 1 - y^2. */
__kernel void tanh_bwd(__global float *dx, __global const float *dy, __global const float *y,
                       const uint acc, const uint n) {
    const uint i = get_global_id(0);
    if (i < n)
        ACC(dx[i], dy[i] * (1.0f - y[i] * y[i]));
}

/* Written to stay finite for large |x|: exp of a non-positive number only. */
static float16 sigmoid16(const float16 v) {
    const float16 e = exp(-fabs(v));
    return select(e, (float16)1.0f, v >= 0.0f) / (1.0f + e);
}
MAP_KERNEL(sigmoid_fwd, sigmoid16)

__kernel void sigmoid_bwd(__global float *dx, __global const float *dy, __global const float *y,
                          const uint acc, const uint n) {
    const uint i = get_global_id(0);
    if (i < n)
        ACC(dx[i], dy[i] * y[i] * (1.0f - y[i]));
}

__kernel void add_fwd(__global float *y, __global const float *a, __global const float *b,
                      const uint n) {
    const uint i = get_global_id(0);
    if (i < n)
        y[i] = a[i] + b[i];
}

/* dx = alpha * dy (+ dx): the forward of scale, and the backward of add and scale. */
__kernel void scale_acc(__global float *dx, __global const float *dy, const float alpha,
                        const uint acc, const uint n) {
    const uint i = get_global_id(0);
    if (i < n)
        ACC(dx[i], alpha * dy[i]);
}

/* y[n, j] = s[n] * x[n, j]: each sample's row scaled by its own number (x: N rows of K). */
__kernel void mul_rows_fwd(__global float *y, __global const float *x, __global const float *s,
                           const uint K, const uint n) {
    const uint i = get_global_id(0);
    if (i < n)
        y[i] = s[i / K] * x[i];
}

/* dx[n, j] = s[n] * dy[n, j] (+ dx). */
__kernel void mul_rows_bwd_x(__global float *dx, __global const float *dy,
                             __global const float *s, const uint K, const uint acc, const uint n) {
    const uint i = get_global_id(0);
    if (i < n)
        ACC(dx[i], s[i / K] * dy[i]);
}

/* ds[n] = sum over j of x[n, j] * dy[n, j] (+ ds); one work-item per sample. */
__kernel void mul_rows_bwd_s(__global float *ds, __global const float *dy,
                             __global const float *x, const uint K, const uint acc,
                             const uint N) {
    const uint n = get_global_id(0);
    if (n >= N)
        return;
    float t = 0.0f;
    for (uint j = 0; j < K; j++)
        t += x[(size_t)n * K + j] * dy[(size_t)n * K + j];
    ACC(ds[n], t);
}
