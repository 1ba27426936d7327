/* Metrics computed on the device: per-sample correctness of an argmax, COOL confidences, and a
 * sum reduced into an accumulator slot, so a training loop reads metrics back at most once per
 * logging interval.
 *
 * Work-items: one per sample (argmax, COOL); sum_into runs one work-group that strides over the
 * input and reduces in local memory, then adds into acc[slot] (one work-group: no atomics).
 * Defines: none required.
 */

/* correct[n] = 1 when the first maximum of row n is at label[n] and above threshold (-inf for
 * none), else 0. */
__kernel void argmax_correct(__global float *correct, __global const float *x,
                             __global const int *label, const float threshold, const uint K,
                             const uint N) {
    const uint n = get_global_id(0);
    if (n >= N)
        return;
    __global const float *r = x + (size_t)n * K;
    uint best = 0;
    for (uint k = 1; k < K; k++)
        if (r[k] > r[best])
            best = k;
    correct[n] = best == (uint)label[n] && r[best] > threshold ? 1.0f : 0.0f;
}

/* COOL confidence of class k (Kardan & Stanley 2017): omega^omega times the product of the
 * softmax outputs of its omega units; 1 when they share the probability mass equally. */
__kernel void cool_confidence(__global float *conf, __global const float *x, const uint classes,
                              const uint omega, const uint N) {
    const uint n = get_global_id(0);
    if (n >= N)
        return;
    const uint K = classes * omega;
    __global const float *r = x + (size_t)n * K;
    float m;
    const float lse = row_log_sum_exp(r, K, &m);
    for (uint c = 0; c < classes; c++) {
        float lp = (float)omega * log((float)omega);
        for (uint j = 0; j < omega; j++)
            lp += r[c * omega + j] - lse;
        conf[(size_t)n * classes + c] = exp(lp);
    }
}

/* acc[slot] += scale * sum of x[0..n), and acc[slot2] += scale2 * the same sum where `both`
 * (a loss's total and its own slot, in one launch). */
__kernel void sum_into(__global float *acc, const uint slot, __global const float *x,
                       const uint n, const float scale, const uint both, const uint slot2,
                       const float scale2, __local float *part) {
    const uint lid = get_local_id(0), lsize = get_local_size(0);
    float s = 0.0f;
    for (uint i = lid; i < n; i += lsize)
        s += x[i];
    s = group_sum(s, part);
    if (lid == 0) {
        acc[slot] += scale * s;
        if (both)
            acc[slot2] += scale2 * s;
    }
}

/* acc[slot] += sum of x over the rows whose mask is not zero (NaN in a masked-out row does not
 * count), acc[count_slot] += the number of such rows: one work-group, as sum_into. The mask
 * holds int32 (mask_int = 1) or float words. */
__kernel void sum_masked_into(__global float *acc, const uint slot, const uint count_slot,
                              __global const float *x, __global const uint *mask,
                              const uint mask_int, const uint rows, const uint row_len,
                              __local float *part) {
    const uint lid = get_local_id(0), lsize = get_local_size(0);
    float s = 0.0f, count = 0.0f;
    for (uint i = lid; i < rows * row_len; i += lsize) {
        const uint r = i / row_len, m = mask[r];
        const bool on = mask_int ? m != 0u : as_float(m) != 0.0f;
        if (on) {
            s += x[i];
            count += i - r * row_len == 0 ? 1.0f : 0.0f;
        }
    }
    s = group_sum(s, part);
    barrier(CLK_LOCAL_MEM_FENCE);
    count = group_sum(count, part);
    if (lid == 0) {
        acc[slot] += s;
        acc[count_slot] += count;
    }
}

/* hit[i] = step for each sample whose condition holds (cond[i] >= threshold) for the first
 * time: a training loop reads hit every few steps to stop when every sample is done. */
__kernel void mark_first(__global int *hit, __global const float *cond, const float threshold,
                         const int step, const uint N) {
    const uint i = get_global_id(0);
    if (i < N && hit[i] < 0 && cond[i] >= threshold)
        hit[i] = step;
}

/* The trace of the Jacobian of r (N samples of D numbers) with respect to x, per sample, from
 * K probes by forward differences: xp and rp hold K copies of the batch, copy k at rows
 * k * N ..., xp = x + d for a probe d and rp what the network made of it. Each probe gives
 * D * (d . (rp - r)) / (d . d), which is d^T J d / eps^2 * D / D for d = eps * v, v = +-1 (an
 * unbiased estimate of the trace: Hutchinson), and D * J_ii for d = eps * e_i (basis probes:
 * their mean over i is the trace). trace = the mean over the K probes. */
__kernel void jacobian_trace(__global float *trace, __global const float *x,
                             __global const float *xp, __global const float *r,
                             __global const float *rp, const uint D, const uint K, const uint N) {
    const uint n = get_global_id(0);
    if (n >= N)
        return;
    float total = 0.0f;
    for (uint k = 0; k < K; k++) {
        const size_t o = ((size_t)k * N + n) * D;
        float num = 0.0f, den = 0.0f;
        for (uint i = 0; i < D; i++) {
            const float d = xp[o + i] - x[(size_t)n * D + i];
            num += d * (rp[o + i] - r[(size_t)n * D + i]);
            den += d * d;
        }
        total += den > 0.0f ? (float)D * num / den : 0.0f;
    }
    trace[n] = total / (float)K;
}

/* The dAE confidence (Spigler 2019): c = exp(-alpha / D * ||r - x||_2) * G, gamma = (trace -
 * D) / D (the mean of dr_i/dx_i - 1), G = 1 when gamma <= 0, else exp(-beta * gamma). */
__kernel void dae_confidence(__global float *c, __global const float *x, __global const float *r,
                             __global const float *trace, const float alpha, const float beta,
                             const uint D, const uint N) {
    const uint n = get_global_id(0);
    if (n >= N)
        return;
    const float e = row_squared_distance(r, x, n, D);
    const float gamma = (trace[n] - (float)D) / (float)D;
    c[n] = exp(-alpha / (float)D * sqrt(e)) * (gamma <= 0.0f ? 1.0f : exp(-beta * gamma));
}

/* picked[n] = x[n, index[n]] (NAN for an index outside 0..K-1). */
__kernel void pick(__global float *picked, __global const float *x, __global const int *index,
                   const uint K, const uint N) {
    const uint n = get_global_id(0);
    if (n >= N)
        return;
    const int k = index[n];
    picked[n] = k >= 0 && k < (int)K ? x[(size_t)n * K + k] : NAN;
}

/* largest[n] = the largest of row n (K numbers): a classifier's top score. */
__kernel void row_max(__global float *largest, __global const float *x, const uint K,
                      const uint N) {
    const uint n = get_global_id(0);
    if (n >= N)
        return;
    largest[n] = row_largest(x + (size_t)n * K, K);
}
