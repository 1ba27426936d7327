/* Counter-based randomness (Philox4x32-10, Salmon et al. 2011) and the ops built on it:
 * dropout, gaussian_noise and reparameterize.
 *
 * Every value depends only on (seed, launch counter, index): results are the same on every
 * device and work-group size, and a backward pass regenerates the forward's mask or noise
 * instead of storing it. Uniforms (rand_uniform, dropout) take the four words of one block for
 * four elements: element i uses word i % 4 of philox(counter = {i / 4, launch, 0, 0},
 * key = {seed0, seed1}), from its top 24 bits: u = (r >> 8) * 2^-24 in [0, 1). Normal element i
 * uses Box-Muller on the first two words of philox({i, launch, 0, 0}, key):
 * sqrt(-2 ln u1) cos(2 pi u2), u1 in (0, 1].
 * Work-items: one per element (rand_normal), one per four elements for the uniform kernels,
 * 16 for gaussian_noise and reparameterize, 64 for dropout (1-D, index checked against n).
 * Defines: none required.
 */

/* The ops' launch counter: an offset of the launch's own plus a base the executor keeps in a
 * device buffer (the graph's step numbers, advanced between forwards), so that a training
 * step's launches repeat with the same arguments and can be recorded once and replayed. */
#define LAUNCH_ARGS const uint launch_off, __global const uint *launch_base
#define LAUNCH (launch_off + launch_base[0])

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static uint4 philox4x32_10(uint4 c, uint2 k) {
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            k.x += PHILOX_W0;
            k.y += PHILOX_W1;
        }
        /* One 32 x 32 -> 64-bit product gives both halves (cheaper than mul_hi on CPUs). */
        const ulong p0 = (ulong)PHILOX_M0 * c.x, p1 = (ulong)PHILOX_M1 * c.z;
        const uint lo0 = (uint)p0, hi0 = (uint)(p0 >> 32);
        const uint lo1 = (uint)p1, hi1 = (uint)(p1 >> 32);
        c = (uint4)(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    }
    return c;
}

static uint4 draw(const uint i, const uint launch, const uint seed0, const uint seed1) {
    return philox4x32_10((uint4)(i, launch, 0u, 0u), (uint2)(seed0, seed1));
}

static float to_unit(const uint r) {
    return (float)(r >> 8) * 0x1.0p-24f;
}

static float to_normal(const uint4 r) {
    const float u1 = (float)((r.x >> 8) + 1u) * 0x1.0p-24f;
    const float u2 = (float)(r.y >> 8) * 0x1.0p-24f;
    return sqrt(-2.0f * log(u1)) * cos(6.2831853071795864f * u2);
}

/* The raw generator, for known-answer checks: out[4i .. 4i+3] = philox(c + (i, 0, 0, 0), k). */
__kernel void philox_raw(__global uint *out, const uint c0, const uint c1, const uint c2,
                         const uint c3, const uint k0, const uint k1, const uint n) {
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    const uint4 r = philox4x32_10((uint4)(c0 + i, c1, c2, c3), (uint2)(k0, k1));
    vstore4(r, i, out);
}

/* The uniform of element i alone: word i % 4 of block i / 4. */
static float uniform_at(const uint i, const uint launch, const uint seed0, const uint seed1) {
    const uint4 r = draw(i / 4, launch, seed0, seed1);
    const uint word[4] = {r.x, r.y, r.z, r.w};
    return to_unit(word[i % 4]);
}

/* The four uniforms of block g: elements 4g .. 4g + 3. */
static float4 uniforms4(const uint g, const uint launch, const uint seed0, const uint seed1) {
    const uint4 r = draw(g, launch, seed0, seed1);
    return (float4)(to_unit(r.x), to_unit(r.y), to_unit(r.z), to_unit(r.w));
}

/* One work-item per four elements. */
__kernel void rand_uniform(__global float *out, const uint seed0, const uint seed1,
                           const uint launch, const uint n) {
    const uint g = get_global_id(0), i = 4 * g;
    if (i >= n)
        return;
    const float4 u = uniforms4(g, launch, seed0, seed1);
    const float v[4] = {u.x, u.y, u.z, u.w};
    for (uint k = 0; k < 4 && i + k < n; k++)
        out[i + k] = v[k];
}

__kernel void rand_normal(__global float *out, const uint seed0, const uint seed1,
                          const uint launch, const uint n) {
    const uint i = get_global_id(0);
    if (i < n)
        out[i] = to_normal(draw(i, launch, seed0, seed1));
}

/* Philox over 16 blocks at once, lane b of each word the block's: the same values as
 * philox4x32_10 per block, in vectors that CPU compilers need not find (PoCL does not vectorise
 * the per-block function across work-items). */
static void philox16(uint16 *c0, uint16 *c1, uint16 *c2, uint16 *c3, uint2 k) {
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            k.x += PHILOX_W0;
            k.y += PHILOX_W1;
        }
        /* 32 x 32 -> 64-bit products, as philox4x32_10: mul_hi(uint16) became 16-bit partial
         * products on AVX-512 (four vpmulld a vector), the 64-bit product two vpmuludq. */
        const ulong16 p0 = convert_ulong16(*c0) * (ulong)PHILOX_M0;
        const ulong16 p1 = convert_ulong16(*c2) * (ulong)PHILOX_M1;
        const uint16 hi0 = convert_uint16(p0 >> 32), lo0 = convert_uint16(p0);
        const uint16 hi1 = convert_uint16(p1 >> 32), lo1 = convert_uint16(p1);
        *c0 = hi1 ^ *c1 ^ (uint16)k.x;
        *c1 = lo1;
        *c2 = hi0 ^ *c3 ^ (uint16)k.y;
        *c3 = lo0;
    }
}

/* Which of the 64 elements 64 h .. 64 h + 63 dropout keeps (all bits set) and drops (0), in
 * element order: q[v] holds elements 16 v .. 16 v + 15, i.e. blocks 4 v .. 4 v + 3, each block's
 * four words in turn. */
static void keep64(const uint h, const uint launch, const uint seed0, const uint seed1,
                   const float p, int16 q[4]) {
    uint16 c0 = (uint16)(16 * h) + (uint16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    uint16 c1 = (uint16)launch, c2 = (uint16)0u, c3 = (uint16)0u;
    philox16(&c0, &c1, &c2, &c3, (uint2)(seed0, seed1));
#define PAIRS(o) o, 16 + o, 1 + o, 17 + o, 2 + o, 18 + o, 3 + o, 19 + o, 4 + o, 20 + o, 5 + o, \
        21 + o, 6 + o, 22 + o, 7 + o, 23 + o
#define QUADS(o) o, 1 + o, 16 + o, 17 + o, 2 + o, 3 + o, 18 + o, 19 + o, 4 + o, 5 + o, 20 + o, \
        21 + o, 6 + o, 7 + o, 22 + o, 23 + o
    const uint16 a_lo = CG_SHUFFLE2(c0, c1, uint16, PAIRS(0)),
                 a_hi = CG_SHUFFLE2(c0, c1, uint16, PAIRS(8));
    const uint16 b_lo = CG_SHUFFLE2(c2, c3, uint16, PAIRS(0)),
                 b_hi = CG_SHUFFLE2(c2, c3, uint16, PAIRS(8));
    const uint16 w[4] = {
        CG_SHUFFLE2(a_lo, b_lo, uint16, QUADS(0)), CG_SHUFFLE2(a_lo, b_lo, uint16, QUADS(8)),
        CG_SHUFFLE2(a_hi, b_hi, uint16, QUADS(0)), CG_SHUFFLE2(a_hi, b_hi, uint16, QUADS(8))};
#undef PAIRS
#undef QUADS
    for (int v = 0; v < 4; v++)
        q[v] = convert_float16(w[v] >> 8u) * 0x1.0p-24f >= (float16)p;
}

/* Keeps x[i] * scale where u >= p, else 0 (scale = 1 / (1 - p)). One work-item per 64
 * elements: 16 blocks through philox16 where all are inside n, else block by block. */
__kernel void dropout_fwd(__global float *y, __global const float *x, const float p,
                          const float scale, const uint seed0, const uint seed1,
                          LAUNCH_ARGS, const uint n) {
    const uint launch = LAUNCH;
    const uint h = get_global_id(0), i0 = 64 * h;
    if (i0 >= n)
        return;
    if (i0 + 64 <= n) {
        int16 q[4];
        keep64(h, launch, seed0, seed1, p, q);
        for (uint v = 0; v < 4; v++)
            vstore16(select((float16)0.0f, vload16(4 * h + v, x) * scale, q[v]), 4 * h + v, y);
        return;
    }
    for (uint i = i0; i < n; i++)
        y[i] = uniform_at(i, launch, seed0, seed1) >= p ? x[i] * scale : 0.0f;
}

__kernel void dropout_bwd(__global float *dx, __global const float *dy, const float p,
                          const float scale, const uint seed0, const uint seed1,
                          LAUNCH_ARGS, const uint acc, const uint n) {
    const uint launch = LAUNCH;
    const uint h = get_global_id(0), i0 = 64 * h;
    if (i0 >= n)
        return;
    if (i0 + 64 <= n) {
        int16 q[4];
        keep64(h, launch, seed0, seed1, p, q);
        for (uint v = 0; v < 4; v++) {
            const float16 d = select((float16)0.0f, vload16(4 * h + v, dy) * scale, q[v]);
            vstore16(acc ? vload16(4 * h + v, dx) + d : d, 4 * h + v, dx);
        }
        return;
    }
    for (uint i = i0; i < n; i++) {
        const float d = uniform_at(i, launch, seed0, seed1) >= p ? dy[i] * scale : 0.0f;
        dx[i] = (acc ? dx[i] : 0.0f) + d;
    }
}

/* Normal elements i0 .. i0 + 15: 16 blocks through philox16, Box-Muller on words x and y of
 * each (the values to_normal(draw(i, ...)) gives, in vectors). */
static float16 normal16(const uint i0, const uint launch, const uint seed0, const uint seed1) {
    uint16 c0 = (uint16)i0 + (uint16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    uint16 c1 = (uint16)launch, c2 = (uint16)0u, c3 = (uint16)0u;
    philox16(&c0, &c1, &c2, &c3, (uint2)(seed0, seed1));
    const float16 u1 = convert_float16((c0 >> 8u) + 1u) * 0x1.0p-24f;
    const float16 u2 = convert_float16(c1 >> 8u) * 0x1.0p-24f;
    return sqrt(-2.0f * log(u1)) * cos(6.2831853071795864f * u2);
}

/* y = x + std * N(0, 1), clamped to [0, 1] when clamp01. One work-item per 16 elements, 16
 * blocks at once (PoCL ran the per-element generator at 36 ns an element). */
__kernel void gaussian_noise_fwd(__global float *y, __global const float *x, const float std,
                                 const uint clamp01, const uint seed0, const uint seed1,
                                 LAUNCH_ARGS, const uint n) {
    const uint launch = LAUNCH;
    const uint i0 = 16 * get_global_id(0);
    if (i0 >= n)
        return;
    const float16 v = load16_part(x, i0, n) + std * normal16(i0, launch, seed0, seed1);
    store16_part(clamp01 ? clamp(v, 0.0f, 1.0f) : v, y, i0, n);
}

/* The gradient passes where the clamp did not bite (0 <= v <= 1, as PyTorch's clamp). */
__kernel void gaussian_noise_bwd(__global float *dx, __global const float *dy,
                                 __global const float *x, const float std, const uint clamp01,
                                 const uint seed0, const uint seed1, LAUNCH_ARGS,
                                 const uint acc, const uint n) {
    const uint launch = LAUNCH;
    const uint i0 = 16 * get_global_id(0);
    if (i0 >= n)
        return;
    const float16 v = load16_part(x, i0, n) + std * normal16(i0, launch, seed0, seed1);
    const int16 pass = (int16)(clamp01 ? 0 : -1) | (v >= 0.0f && v <= 1.0f);
    const float16 g = select((float16)0.0f, load16_part(dy, i0, n), pass);
    store16_part(acc ? load16_part(dx, i0, n) + g : g, dx, i0, n);
}

/* The normals of elements i0 .. i0 + 15 where `sample`, else 0. */
static float16 eps16(const uint i0, const uint sample, const uint launch, const uint seed0,
                     const uint seed1) {
    return sample ? normal16(i0, launch, seed0, seed1) : (float16)0.0f;
}

/* z = mu + exp(log_sigma) * eps, eps ~ N(0, 1); sample = 0 gives z = mu (evaluation). One
 * work-item per 16 elements (per element, PoCL moved 0.2 GB/s). */
__kernel void reparameterize_fwd(__global float *z, __global const float *mu,
                                 __global const float *log_sigma, const uint sample,
                                 const uint seed0, const uint seed1, LAUNCH_ARGS,
                                 const uint n) {
    const uint launch = LAUNCH;
    const uint i0 = 16 * get_global_id(0);
    if (i0 >= n)
        return;
    const float16 eps = eps16(i0, sample, launch, seed0, seed1);
    store16_part(load16_part(mu, i0, n) + exp(load16_part(log_sigma, i0, n)) * eps, z, i0, n);
}

/* dmu = dz; dlog_sigma = dz * exp(log_sigma) * eps. Either output may be skipped. */
__kernel void reparameterize_bwd(__global float *dmu, __global float *dls,
                                 __global const float *dz, __global const float *log_sigma,
                                 const uint want_mu, const uint want_ls, const uint acc_mu,
                                 const uint acc_ls, const uint sample, const uint seed0,
                                 const uint seed1, LAUNCH_ARGS, const uint n) {
    const uint launch = LAUNCH;
    const uint i0 = 16 * get_global_id(0);
    if (i0 >= n)
        return;
    const float16 d = load16_part(dz, i0, n);
    if (want_mu)
        store16_part((acc_mu ? load16_part(dmu, i0, n) : 0.0f) + d, dmu, i0, n);
    if (want_ls) {
        const float16 eps = eps16(i0, sample, launch, seed0, seed1);
        const float16 g = d * exp(load16_part(log_sigma, i0, n)) * eps;
        store16_part((acc_ls ? load16_part(dls, i0, n) : 0.0f) + g, dls, i0, n);
    }
}

/* The sign of a draw: -1 or +1 with equal probability (a Rademacher probe). */
static float to_sign(const uint4 r) {
    return (r.x & 1u) ? 1.0f : -1.0f;
}

/* K copies of x (each of n numbers), each moved by eps times a probe: y[k * n + i] = x[i] +
 * eps * v, v = +-1 drawn per element (basis = 0), or in the basis: copy k moves only element
 * k % D of each sample (D numbers per sample, K = D), by eps. */
__kernel void probe_fwd(__global float *y, __global const float *x, const float eps,
                        const uint basis, const uint D, const uint seed0, const uint seed1,
                        LAUNCH_ARGS, const uint n, const uint total) {
    const uint launch = LAUNCH;
    const uint g = get_global_id(0);
    if (g >= total)
        return;
    const uint i = g % n, k = g / n;
    const float v = basis ? (i % D == k ? 1.0f : 0.0f) : to_sign(draw(g, launch, seed0, seed1));
    y[g] = x[i] + eps * v;
}

/* dx[i] = sum over the K copies of dy[k * n + i] (+ dx). */
__kernel void probe_bwd(__global float *dx, __global const float *dy, const uint K,
                        const uint acc, const uint n) {
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    float t = 0.0f;
    for (uint k = 0; k < K; k++)
        t += dy[(size_t)k * n + i];
    dx[i] = (acc ? dx[i] : 0.0f) + t;
}
