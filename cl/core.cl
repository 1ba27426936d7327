/* Core buffer kernels used by every layer: fill (zeroing gradients in one launch), copy, axpy
 * and the row gather that assembles a batch on the device from an index buffer.
 *
 * Work-items: one work-item per output element, 1-D range rounded up to the work-group size,
 * so every kernel checks its index against n.
 * Defines: none required. The device layer always passes CG_VENDOR_<name> and CG_DEVICE_<type>.
 */

/* out[i] = value, i < n */
__kernel void fill_f32(__global float *out, const float value, const uint n) {
    const uint i = get_global_id(0);
    if (i < n)
        out[i] = value;
}

/* out[i] = in[i], i < n */
__kernel void copy_f32(__global float *out, __global const float *in, const uint n) {
    const uint i = get_global_id(0);
    if (i < n)
        out[i] = in[i];
}

/* y[i] += the sum over the chunks of part[part_off + k * n + i], i < n: the second step of
 * reductions that write one partial sum per chunk of their work (the direct convolution's weight
 * and bias gradients, the prelu slopes' gradient), and a linear layer's bias gradient (the rows
 * of dy as the chunks). */
__kernel void add_chunk_sums(__global float *y, __global const float *part, const uint part_off,
                             const uint chunks, const uint n) {
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    part += part_off;
    float sum = 0.0f;
    for (uint k = 0; k < chunks; k++)
        sum += part[k * n + i];
    y[i] += sum;
}

/* y[i] += alpha * x[i], i < n */
__kernel void axpy_f32(__global float *y, __global const float *x, const float alpha,
                       const uint n) {
    const uint i = get_global_id(0);
    if (i < n)
        y[i] += alpha * x[i];
}

/* out (rows, row_len) = src[index[off + r], :] for each row r: one work-item per output element.
 * 32-bit words are copied as they are, so float images and int32 labels share the kernel.
 * Consecutive work-items read consecutive words of one source row, so the reads coalesce. */
__kernel void gather_rows(__global uint *out, __global const uint *src,
                          __global const int *index, const uint off, const uint row_len,
                          const uint rows) {
    const uint i = get_global_id(0);
    if (i >= row_len * rows)
        return;
    const uint r = i / row_len;
    const uint j = i - r * row_len;
    out[i] = src[(size_t)index[off + r] * row_len + j];
}
