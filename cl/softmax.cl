/* softmax and log_softmax over dim 1 of (N, K), and their gradients.
 *
 * Work-items: one per row (1-D over N, index checked). Rows are short in these models (2 to
 * 40 classes), so a row per work-item beats a work-group reduction. The maximum is subtracted
 * before exponentiating, so large logits do not overflow.
 * Defines: none required.
 */

__kernel void softmax_fwd(__global float *y, __global const float *x, const uint K,
                          const uint N) {
    const uint r = get_global_id(0);
    if (r >= N)
        return;
    __global const float *xr = x + (size_t)r * K;
    __global float *yr = y + (size_t)r * K;
    float m = xr[0];
    for (uint k = 1; k < K; k++)
        m = fmax(m, xr[k]);
    float s = 0.0f;
    for (uint k = 0; k < K; k++) {
        yr[k] = exp(xr[k] - m);
        s += yr[k];
    }
    const float inv = 1.0f / s;
    for (uint k = 0; k < K; k++)
        yr[k] *= inv;
}

__kernel void log_softmax_fwd(__global float *y, __global const float *x, const uint K,
                              const uint N) {
    const uint r = get_global_id(0);
    if (r >= N)
        return;
    __global const float *xr = x + (size_t)r * K;
    float m;
    const float lse = row_log_sum_exp(xr, K, &m);
    for (uint k = 0; k < K; k++)
        y[(size_t)r * K + k] = xr[k] - lse;
}

/* From the output y: dx = y * (dy - sum(dy * y)) */
__kernel void softmax_bwd(__global float *dx, __global const float *dy, __global const float *y,
                          const uint K, const uint acc, const uint N) {
    const uint r = get_global_id(0);
    if (r >= N)
        return;
    const size_t o = (size_t)r * K;
    float dot = 0.0f;
    for (uint k = 0; k < K; k++)
        dot += dy[o + k] * y[o + k];
    for (uint k = 0; k < K; k++)
        dx[o + k] = (acc ? dx[o + k] : 0.0f) + y[o + k] * (dy[o + k] - dot);
}

/* From the output y = log softmax: dx = dy - exp(y) * sum(dy) */
__kernel void log_softmax_bwd(__global float *dx, __global const float *dy,
                              __global const float *y, const uint K, const uint acc,
                              const uint N) {
    const uint r = get_global_id(0);
    if (r >= N)
        return;
    const size_t o = (size_t)r * K;
    float s = 0.0f;
    for (uint k = 0; k < K; k++)
        s += dy[o + k];
    for (uint k = 0; k < K; k++)
        dx[o + k] = (acc ? dx[o + k] : 0.0f) + dy[o + k] - exp(y[o + k]) * s;
}
