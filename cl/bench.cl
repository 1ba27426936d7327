/* The roofline micro-benchmark that `clgraph bench` prints first: the device's arithmetic
 * throughput (multiply-adds) and its copy bandwidth, the two ceilings every other kernel's
 * figures are set against.
 *
 * Work-items: one per output element, 1-D, index checked against n.
 * Defines: none required.
 */

/* 4 independent chains of float8 x = x * a + b, `iters` times: 64 floating-point operations per
 * iteration and work-item, in vectors (so CPUs use their SIMD units) and with enough independent
 * work to keep the pipelines full. CG_MAD (common.cl) is the device's fused multiply-add where
 * it has one, as in the kernels measured against this peak.
 * out[i] = the sum of every lane of every chain. */
__kernel void peak_fma(__global float *out, const float a, const float b, const uint iters,
                       const uint n) {
    const uint i = get_global_id(0);
    const float s = (float)(i & 7u) * 0.125f;
    const float8 lane = (float8)(0.0f, 0.01f, 0.02f, 0.03f, 0.04f, 0.05f, 0.06f, 0.07f);
    const float8 av = (float8)(a), bv = (float8)(b);
    float8 x0 = s + lane, x1 = s + 0.1f + lane, x2 = s + 0.2f + lane, x3 = s + 0.3f + lane;
    for (uint k = 0; k < iters; k++) {
        x0 = CG_MAD(x0, av, bv);
        x1 = CG_MAD(x1, av, bv);
        x2 = CG_MAD(x2, av, bv);
        x3 = CG_MAD(x3, av, bv);
    }
    const float8 t = (x0 + x1) + (x2 + x3);
    const float4 u = t.lo + t.hi;
    if (i < n)
        out[i] = (u.x + u.y) + (u.z + u.w);
}

/* The same with 12 chains of float16 (384 operations per iteration): what a CPU needs. Its FMA
 * units (two per core) take a new vector every cycle but give a result only after four or so,
 * so 4 chains of float8 leave most of them idle: PoCL on a Sapphire Rapids Xeon measured 84
 * GFLOP/s with those and 208 with these (8 chains of float16: 175, 16: 205-220), all with mad()
 * as a multiply and an add; with fma() 380-480. Written out, not as an array: PoCL keeps a
 * private array in memory (107). Lane l of chain q starts at s + q / 10 + l / 100. */
__kernel void peak_fma_wide(__global float *out, const float a, const float b, const uint iters,
                            const uint n) {
    const uint i = get_global_id(0);
    const float s = (float)(i & 7u) * 0.125f;
    const float16 lane = (float16)(0.0f, 0.01f, 0.02f, 0.03f, 0.04f, 0.05f, 0.06f, 0.07f, 0.08f,
                                   0.09f, 0.1f, 0.11f, 0.12f, 0.13f, 0.14f, 0.15f);
    const float16 av = (float16)(a), bv = (float16)(b);
    float16 x0 = s + lane, x1 = s + 0.1f + lane, x2 = s + 0.2f + lane, x3 = s + 0.3f + lane;
    float16 x4 = s + 0.4f + lane, x5 = s + 0.5f + lane, x6 = s + 0.6f + lane;
    float16 x7 = s + 0.7f + lane, x8 = s + 0.8f + lane, x9 = s + 0.9f + lane;
    float16 x10 = s + 1.0f + lane, x11 = s + 1.1f + lane;
    for (uint k = 0; k < iters; k++) {
        x0 = CG_MAD(x0, av, bv), x1 = CG_MAD(x1, av, bv), x2 = CG_MAD(x2, av, bv);
        x3 = CG_MAD(x3, av, bv), x4 = CG_MAD(x4, av, bv), x5 = CG_MAD(x5, av, bv);
        x6 = CG_MAD(x6, av, bv), x7 = CG_MAD(x7, av, bv), x8 = CG_MAD(x8, av, bv);
        x9 = CG_MAD(x9, av, bv), x10 = CG_MAD(x10, av, bv), x11 = CG_MAD(x11, av, bv);
    }
    const float16 t16 = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7)) +
                        ((x8 + x9) + (x10 + x11));
    const float8 t = t16.lo + t16.hi;
    const float4 u = t.lo + t.hi;
    if (i < n)
        out[i] = (u.x + u.y) + (u.z + u.w);
}

/* out[i] = in[i] for n float4 vectors: the copy bandwidth. */
__kernel void peak_copy4(__global float4 *out, __global const float4 *in, const uint n) {
    const uint i = get_global_id(0);
    if (i < n)
        out[i] = in[i];
}
