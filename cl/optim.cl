/* Optimizer steps over the flat parameter buffer, with PyTorch's semantics (torch.optim.SGD
 * with momentum and weight decay, dampening 0; torch.optim.Adam with L2 weight decay and bias
 * correction). One launch covers one contiguous range of parameters [off, off + count) that
 * shares a learning rate; frozen ranges are never launched.
 *
 * Work-items: SGD one per parameter of the range, Adam one per 8 (1-D, checked against
 * count).
 * State: SGD keeps its momentum buffer at state[j]; Adam keeps m at state[j] and v at
 * state[n_total + j], for parameter j of the whole buffer.
 * Numbers that change with the step t come from a device buffer `w` of four words (so that
 * the launches of every step are the same): w[1] = 1 / (1 - beta1^t), w[2] = sqrt(1 - beta2^t),
 * w[3] = 1 on SGD's first step, else 0 (cg__optim_words).
 * Defines: none required.
 */

__kernel void sgd_step(__global float *p, __global const float *g, __global float *state,
                       const float lr, const float momentum, const float weight_decay,
                       __constant float *w, const uint off, const uint count) {
    const uint i = get_global_id(0);
    if (i >= count)
        return;
    const uint j = off + i;
    const bool first = w[3] != 0.0f;
    float d = g[j] + weight_decay * p[j];
    if (momentum != 0.0f) {
        const float b = first ? d : momentum * state[j] + d;
        state[j] = b;
        d = b;
    }
    p[j] -= lr * d;
}

/* One work-item per 8 parameters (a vector each; the last item of a range element by element):
 * with one per parameter, the two step numbers' loads from w cost 15-20% on PoCL, where they
 * had been arguments (its work-group vectoriser does not load them once). */
__kernel void adam_step(__global float *p, __global const float *g, __global float *state,
                        const float lr, const float beta1, const float beta2, const float eps,
                        const float weight_decay, __constant float *w, const uint n_total,
                        const uint off, const uint count) {
    const uint i0 = 8 * get_global_id(0);
    if (i0 >= count)
        return;
    const float step_size = lr * w[1], root_bc2 = w[2];
    const uint j = off + i0;
    if (i0 + 8 <= count) {
        const float8 d = vload8(0, g + j) + weight_decay * vload8(0, p + j);
        const float8 m = beta1 * vload8(0, state + j) + (1.0f - beta1) * d;
        const float8 v = beta2 * vload8(0, state + n_total + j) + (1.0f - beta2) * d * d;
        vstore8(m, 0, state + j);
        vstore8(v, 0, state + n_total + j);
        vstore8(vload8(0, p + j) - step_size * m / (sqrt(v) / root_bc2 + eps), 0, p + j);
        return;
    }
    for (uint k = j; k < off + count; k++) {
        const float d = g[k] + weight_decay * p[k];
        const float m = beta1 * state[k] + (1.0f - beta1) * d;
        const float v = beta2 * state[n_total + k] + (1.0f - beta2) * d * d;
        state[k] = m;
        state[n_total + k] = v;
        p[k] -= step_size * m / (sqrt(v) / root_bc2 + eps);
    }
}
