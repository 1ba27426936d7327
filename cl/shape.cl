/* Copies that move a block of channels: concat along dim 1 writes each input into its place in
 * the output; slice reads a block out. With x viewed as (N, inner_x) and y as (N, inner_y), the
 * block sits at `offset` inside each row of y.
 *
 * Work-items: one per element of the tensor written (1-D, index checked against the total).
 * Defines: none required.
 */

/* y[n, offset + k] = x[n, k] for k < inner_x */
__kernel void block_put(__global float *y, __global const float *x, const uint inner_x,
                        const uint inner_y, const uint offset, const uint n) {
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    const uint r = i / inner_x, k = i - r * inner_x;
    y[r * inner_y + offset + k] = x[i];
}

/* x[n, k] = (acc ? x : 0) + y[n, offset + k] for k < inner_x */
__kernel void block_get(__global float *x, __global const float *y, const uint inner_x,
                        const uint inner_y, const uint offset, const uint acc, const uint n) {
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    const uint r = i / inner_x, k = i - r * inner_x;
    x[i] = (acc ? x[i] : 0.0f) + y[r * inner_y + offset + k];
}

/* The gradient of a slice: dx (N, inner_y) gets dy inside the block and 0 outside it. */
__kernel void block_scatter_zero(__global float *dx, __global const float *dy,
                                 const uint inner_x, const uint inner_y, const uint offset,
                                 const uint acc, const uint n) {
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    const uint r = i / inner_y, k = i - r * inner_y;
    const float g = k >= offset && k < offset + inner_x ? dy[r * inner_x + k - offset] : 0.0f;
    dx[i] = (acc ? dx[i] : 0.0f) + g;
}
