/* Losses: each writes one value per sample (loss[n]) and, in backward, input gradients scaled
 * by the per-sample upstream gradient dloss[n] (weight / count for a mean, set by the executor).
 *
 * Work-items: one per sample (1-D over N) for per-sample values and for row-wise gradients of
 * short rows; one per element for element-wise gradients; the similarity loss's class sums use
 * one work-item per (class, feature), each looping over the batch. No atomics anywhere.
 * Labels are int32 class indices; contrastive targets are floats (1 similar, 0 dissimilar).
 * Distances use sqrt(sum of squares + 1e-9), as the reference PyTorch models do, so the
 * gradient stays finite at zero distance.
 * Defines: none required.
 */

#define DIST_EPS 1e-9f

/* -log softmax(x)[label], from logits: log-sum-exp with the maximum subtracted. */
__kernel void cross_entropy_fwd(__global float *loss, __global const float *x,
                                __global const int *label, const uint K, const uint N) {
    const uint n = get_global_id(0);
    if (n >= N)
        return;
    __global const float *r = x + (size_t)n * K;
    float m;
    /* A label outside [0, K) is never read through: its loss is NaN, so it shows. */
    const int y = label[n];
    loss[n] = y >= 0 && y < (int)K ? row_log_sum_exp(r, K, &m) - r[y] : NAN;
}

/* dx = dloss * (softmax(x) - onehot(label)) */
__kernel void cross_entropy_bwd(__global float *dx, __global const float *dloss,
                                __global const float *x, __global const int *label,
                                const uint K, const uint acc, const uint N) {
    const uint n = get_global_id(0);
    if (n >= N)
        return;
    const size_t o = (size_t)n * K;
    float m;
    const int y = label[n];
    const float lse = row_log_sum_exp(x + o, K, &m), g = y >= 0 && y < (int)K ? dloss[n] : 0.0f;
    for (uint k = 0; k < K; k++) {
        const float v = g * (exp(x[o + k] - lse) - (y == (int)k ? 1.0f : 0.0f));
        dx[o + k] = (acc ? dx[o + k] : 0.0f) + v;
    }
}

/* COOL (Kardan & Stanley 2017): K*omega units in one softmax, target 1/omega on each of the
 * omega units of the true class: loss = -(1/omega) * sum of their log probabilities. */
__kernel void cool_fwd(__global float *loss, __global const float *x, __global const int *label,
                       const uint K, const uint omega, const uint N) {
    const uint n = get_global_id(0);
    if (n >= N)
        return;
    __global const float *r = x + (size_t)n * K;
    float m;
    const float lse = row_log_sum_exp(r, K, &m);
    float sum = 0.0f;
    const int y = label[n];
    if (y < 0 || (uint)y >= K / omega) {
        loss[n] = NAN;
        return;
    }
    for (uint j = 0; j < omega; j++)
        sum += r[(uint)y * omega + j] - lse;
    loss[n] = -sum / (float)omega;
}

__kernel void cool_bwd(__global float *dx, __global const float *dloss, __global const float *x,
                       __global const int *label, const uint K, const uint omega,
                       const uint acc, const uint N) {
    const uint n = get_global_id(0);
    if (n >= N)
        return;
    const size_t o = (size_t)n * K;
    float m;
    const int y = label[n];
    const bool valid = y >= 0 && (uint)y < K / omega;
    const float lse = row_log_sum_exp(x + o, K, &m), g = valid ? dloss[n] : 0.0f;
    const uint first = valid ? (uint)y * omega : K;
    for (uint k = 0; k < K; k++) {
        const float t = k >= first && k < first + omega ? 1.0f / (float)omega : 0.0f;
        dx[o + k] = (acc ? dx[o + k] : 0.0f) + g * (exp(x[o + k] - lse) - t);
    }
}

/* Binary cross-entropy from logits, summed over the sample's F values:
 * max(x, 0) - x t + log(1 + exp(-|x|)). */
__kernel void bce_logits_fwd(__global float *loss, __global const float *x,
                             __global const float *t, const uint F, const uint N) {
    const uint n = get_global_id(0);
    if (n >= N)
        return;
    float s = 0.0f;
    for (uint f = 0; f < F; f++) {
        const float v = x[(size_t)n * F + f];
        s += fmax(v, 0.0f) - v * t[(size_t)n * F + f] + log1p(exp(-fabs(v)));
    }
    loss[n] = s;
}

/* dx = dloss * (sigmoid(x) - t), per element */
__kernel void bce_logits_bwd(__global float *dx, __global const float *dloss,
                             __global const float *x, __global const float *t, const uint F,
                             const uint acc, const uint total) {
    const uint i = get_global_id(0);
    if (i >= total)
        return;
    const float v = x[i], e = exp(-fabs(v));
    const float sig = v >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
    dx[i] = (acc ? dx[i] : 0.0f) + dloss[i / F] * (sig - t[i]);
}

/* loss = scale * sum (p - t)^2 + offset per sample: the squared error (scale 1, offset 0), or
 * a Gaussian negative log-likelihood of variance v (scale 1 / (2 v), offset F/2 log(2 pi v)). */
__kernel void mse_fwd(__global float *loss, __global const float *p, __global const float *t,
                      const float scale, const float offset, const uint F, const uint N) {
    const uint n = get_global_id(0);
    if (n >= N)
        return;
    loss[n] = scale * row_squared_distance(p, t, n, F) + offset;
}

/* dx = sign * 2 * dloss * (p - t): sign 1 for the prediction, -1 for the target, times the
 * forward's scale. */
__kernel void mse_bwd(__global float *dx, __global const float *dloss, __global const float *p,
                      __global const float *t, const float sign, const uint F, const uint acc,
                      const uint total) {
    const uint i = get_global_id(0);
    if (i >= total)
        return;
    dx[i] = (acc ? dx[i] : 0.0f) + sign * 2.0f * dloss[i / F] * (p[i] - t[i]);
}

static float distance(__global const float *a, __global const float *b, const uint D) {
    float s = 0.0f;
    for (uint k = 0; k < D; k++) {
        const float d = a[k] - b[k];
        s += d * d;
    }
    return sqrt(s + DIST_EPS);
}

/* Contrastive: 1/2 y d^2 + 1/2 (1 - y) max(0, m - d)^2, d = |z1 - z2|. */
/* With weighted, each pair's loss is multiplied by w[n] (w is not read otherwise). */
__kernel void contrastive_fwd(__global float *loss, __global const float *z1,
                              __global const float *z2, __global const float *y,
                              __global const float *w, const uint weighted, const float margin,
                              const uint D, const uint N) {
    const uint n = get_global_id(0);
    if (n >= N)
        return;
    const float d = distance(z1 + (size_t)n * D, z2 + (size_t)n * D, D);
    const float h = fmax(margin - d, 0.0f);
    const float l = 0.5f * y[n] * d * d + 0.5f * (1.0f - y[n]) * h * h;
    loss[n] = weighted ? w[n] * l : l;
}

/* dz1 = dloss * w * (y - (1 - y) max(0, m - d) / d) * (z1 - z2); dz2 = -dz1. Per element. */
__kernel void contrastive_bwd(__global float *dz1, __global float *dz2,
                              __global const float *dloss, __global const float *z1,
                              __global const float *z2, __global const float *y,
                              __global const float *w, const uint weighted, const float margin,
                              const uint D, const uint want1, const uint want2, const uint acc1,
                              const uint acc2, const uint total) {
    const uint i = get_global_id(0);
    if (i >= total)
        return;
    const uint n = i / D;
    const float d = distance(z1 + (size_t)n * D, z2 + (size_t)n * D, D);
    const float h = fmax(margin - d, 0.0f);
    const float s = weighted ? dloss[n] * w[n] : dloss[n];
    const float g = s * (y[n] - (1.0f - y[n]) * h / d) * (z1[i] - z2[i]);
    if (want1)
        dz1[i] = (acc1 ? dz1[i] : 0.0f) + g;
    if (want2)
        dz2[i] = (acc2 ? dz2[i] : 0.0f) - g;
}

/* Triplet: max(0, |a - p| - |a - n| + m). */
__kernel void triplet_fwd(__global float *loss, __global const float *a, __global const float *p,
                          __global const float *q, const float margin, const uint D,
                          const uint N) {
    const uint n = get_global_id(0);
    if (n >= N)
        return;
    const size_t o = (size_t)n * D;
    loss[n] = fmax(distance(a + o, p + o, D) - distance(a + o, q + o, D) + margin, 0.0f);
}

/* Per element; `which` selects the gradient written: 0 anchor, 1 positive, 2 negative. */
__kernel void triplet_bwd(__global float *dx, __global const float *dloss, __global const float *a,
                          __global const float *p, __global const float *q, const float margin,
                          const uint D, const uint which, const uint acc, const uint total) {
    const uint i = get_global_id(0);
    if (i >= total)
        return;
    const uint n = i / D;
    const size_t o = (size_t)n * D;
    const float dp = distance(a + o, p + o, D), dn = distance(a + o, q + o, D);
    float g = 0.0f;
    if (dp - dn + margin > 0.0f) {
        const float gp = (a[i] - p[i]) / dp, gn = (a[i] - q[i]) / dn;
        g = dloss[n] * (which == 0 ? gp - gn : which == 1 ? -gp : gn);
    }
    dx[i] = (acc ? dx[i] : 0.0f) + g;
}

/* 1/2 sum(mu^2 + exp(2 ls) - 2 ls - 1) over the sample's D values. */
__kernel void kl_normal_fwd(__global float *loss, __global const float *mu,
                            __global const float *ls, const uint D, const uint N) {
    const uint n = get_global_id(0);
    if (n >= N)
        return;
    float s = 0.0f;
    for (uint k = 0; k < D; k++) {
        const float m = mu[(size_t)n * D + k], l = ls[(size_t)n * D + k];
        s += m * m + exp(2.0f * l) - 2.0f * l - 1.0f;
    }
    loss[n] = 0.5f * s;
}

/* dmu = dloss * mu; dls = dloss * (exp(2 ls) - 1). Per element. */
__kernel void kl_normal_bwd(__global float *dmu, __global float *dls, __global const float *dloss,
                            __global const float *mu, __global const float *ls, const uint D,
                            const uint want_mu, const uint want_ls, const uint acc_mu,
                            const uint acc_ls, const uint total) {
    const uint i = get_global_id(0);
    if (i >= total)
        return;
    const float g = dloss[i / D];
    if (want_mu)
        dmu[i] = (acc_mu ? dmu[i] : 0.0f) + g * mu[i];
    if (want_ls)
        dls[i] = (acc_ls ? dls[i] : 0.0f) + g * (exp(2.0f * ls[i]) - 1.0f);
}

/* log q(z) - log p(z) of one draw z from q = N(mu, sigma^2) under the prior p = N(0, 1), summed
 * per sample: sum of -e^2/2 - ls + z^2/2 with e = (z - mu) / sigma (the constants cancel). Its
 * mean over draws is the KL; one work-item per sample. */
__kernel void kl_sample_fwd(__global float *loss, __global const float *z,
                            __global const float *mu, __global const float *ls, const uint D,
                            const uint N) {
    const uint n = get_global_id(0);
    if (n >= N)
        return;
    float s = 0.0f;
    for (uint k = 0; k < D; k++) {
        const size_t i = (size_t)n * D + k;
        const float e = (z[i] - mu[i]) * exp(-ls[i]);
        s += -0.5f * e * e - ls[i] + 0.5f * z[i] * z[i];
    }
    loss[n] = s;
}

/* dz = g (z - e / sigma), dmu = g e / sigma, dls = g (e^2 - 1). Per element; want/acc bits 0, 1,
 * 2 for z, mu, ls. */
__kernel void kl_sample_bwd(__global float *dz, __global float *dmu, __global float *dls,
                            __global const float *dloss, __global const float *z,
                            __global const float *mu, __global const float *ls, const uint D,
                            const uint want, const uint acc, const uint total) {
    const uint i = get_global_id(0);
    if (i >= total)
        return;
    const float g = dloss[i / D], is = exp(-ls[i]), e = (z[i] - mu[i]) * is;
    if (want & 1u)
        dz[i] = ((acc & 1u) ? dz[i] : 0.0f) + g * (z[i] - e * is);
    if (want & 2u)
        dmu[i] = ((acc & 2u) ? dmu[i] : 0.0f) + g * e * is;
    if (want & 4u)
        dls[i] = ((acc & 4u) ? dls[i] : 0.0f) + g * (e * e - 1.0f);
}

/* Similarity loss. The scratch `stats` holds, for K classes of D features: the class means
 * mu (K, D), the class sizes count (K), and the weighted sums s (K, D) used by backward. */
#define STATS_MU(stats) (stats)
#define STATS_COUNT(stats, K, D) ((stats) + (size_t)(K) * (D))
#define STATS_S(stats, K, D) ((stats) + (size_t)(K) * (D) + (K))

/* Step 1: per class q and feature d, mu[q, d], and when use_w the weighted sum
 * s[q, d] = sum over the class of w[i] (z[i, d] - mu[q, d]); count[q] the class size.
 * One work-item per (q, d). Labels must lie in [0, K). */
__kernel void class_stats(__global float *stats, __global const float *z,
                          __global const int *label, __global const float *w, const uint use_w,
                          const uint K, const uint D, const uint N) {
    const uint i = get_global_id(0);
    if (i >= K * D)
        return;
    const uint q = i / D, d = i - q * D;
    float sum = 0.0f, n = 0.0f;
    for (uint j = 0; j < N; j++)
        if (label[j] == (int)q) {
            sum += z[(size_t)j * D + d];
            n += 1.0f;
        }
    const float m = n > 0.0f ? sum / n : 0.0f;
    STATS_MU(stats)[i] = m;
    if (d == 0)
        STATS_COUNT(stats, K, D)[q] = n;
    if (use_w) {
        float ws = 0.0f;
        for (uint j = 0; j < N; j++)
            if (label[j] == (int)q)
                ws += w[j] * (z[(size_t)j * D + d] - m);
        STATS_S(stats, K, D)[i] = ws;
    }
}

/* Step 2 (forward): loss[n] = |z[n] - mu[label[n]]|^2 */
__kernel void similarity_fwd(__global float *loss, __global const float *z,
                             __global const int *label, __global const float *stats,
                             const uint K, const uint D, const uint N) {
    const uint n = get_global_id(0);
    if (n >= N)
        return;
    __global const float *mu = STATS_MU(stats);
    float s = 0.0f;
    if (label[n] < 0 || label[n] >= (int)K) {
        loss[n] = NAN; /* a label outside the classes is never read through */
        return;
    }
    for (uint d = 0; d < D; d++) {
        const float v = z[(size_t)n * D + d] - mu[(size_t)label[n] * D + d];
        s += v * v;
    }
    loss[n] = s;
}

/* Step 2 (backward): dz[j] = 2 dloss[j] (z[j] - mu_q) - 2 s[q] / n_q, q = label[j]. The second
 * term is the path through the class mean, which depends on every z of the class. */
__kernel void similarity_bwd(__global float *dz, __global const float *dloss,
                             __global const float *z, __global const int *label,
                             __global const float *stats, const uint K, const uint D,
                             const uint acc, const uint total) {
    const uint i = get_global_id(0);
    if (i >= total)
        return;
    const uint j = i / D, d = i - j * D;
    if (label[j] < 0 || label[j] >= (int)K) {
        dz[i] = acc ? dz[i] : 0.0f;
        return;
    }
    const uint q = (uint)label[j];
    __global const float *mu = STATS_MU(stats), *count = STATS_COUNT(stats, K, D);
    __global const float *s = STATS_S(stats, K, D);
    const float g = 2.0f * dloss[j] * (z[i] - mu[q * D + d]) - 2.0f * s[q * D + d] / count[q];
    dz[i] = (acc ? dz[i] : 0.0f) + g;
}

/* The similarity loss restricted to pairs of one class whose groups (backgrounds) differ:
 * loss[i] = 1 / (2 n_q) * sum over j with label j = label i and group j != group i of
 * |z_i - z_j|^2, n_q the size of the class in the batch. When every group differs, the sum over
 * i equals the class-mean form above. One work-item per sample; O(N^2 D), small for a batch. */
__kernel void similarity_pairs_fwd(__global float *loss, __global const float *z,
                                   __global const int *label, __global const int *group,
                                   const uint D, const uint N) {
    const uint i = get_global_id(0);
    if (i >= N)
        return;
    float s = 0.0f, nq = 0.0f;
    for (uint j = 0; j < N; j++) {
        if (label[j] != label[i])
            continue;
        nq += 1.0f;
        if (group[j] == group[i])
            continue;
        for (uint d = 0; d < D; d++) {
            const float v = z[(size_t)i * D + d] - z[(size_t)j * D + d];
            s += v * v;
        }
    }
    loss[i] = s / (2.0f * nq);
}

/* dz_i = sum over the same pairs of (dloss_i + dloss_j) / n_q * (z_i - z_j). One work-item per
 * element of z. */
__kernel void similarity_pairs_bwd(__global float *dz, __global const float *dloss,
                                   __global const float *z, __global const int *label,
                                   __global const int *group, const uint D, const uint acc,
                                   const uint total) {
    const uint e = get_global_id(0);
    if (e >= total)
        return;
    const uint i = e / D, d = e - i * D, N = total / D;
    float s = 0.0f, nq = 0.0f;
    for (uint j = 0; j < N; j++) {
        if (label[j] != label[i])
            continue;
        nq += 1.0f;
        if (group[j] != group[i])
            s += (dloss[i] + dloss[j]) * (z[e] - z[(size_t)j * D + d]);
    }
    dz[e] = (acc ? dz[e] : 0.0f) + s / nq;
}
