/* The roofline micro-benchmark that `clgraph bench` prints first: the device's arithmetic
 * throughput (multiply-adds) and its copy bandwidth, the two ceilings every other kernel's
 * figures are set against.
 *
 * Work-items: one per output element, 1-D, index checked against n.
 * Defines: none required.
 */

/* 4 independent chains of float8 x = x * a + b, `iters` times: 64 floating-point operations per
 * iteration and work-item, in vectors (so CPUs use their SIMD units) and with enough independent
 * work to keep the pipelines full. mad() lets the compiler use the device's fused multiply-add.
 * out[i] = the sum of every lane of every chain. */
__kernel void peak_fma(__global float *out, const float a, const float b, const uint iters,
                       const uint n) {
    const uint i = get_global_id(0);
    const float s = (float)(i & 7u) * 0.125f;
    const float8 lane = (float8)(0.0f, 0.01f, 0.02f, 0.03f, 0.04f, 0.05f, 0.06f, 0.07f);
    float8 x0 = s + lane, x1 = s + 0.1f + lane, x2 = s + 0.2f + lane, x3 = s + 0.3f + lane;
    for (uint k = 0; k < iters; k++) {
        x0 = mad(x0, a, b);
        x1 = mad(x1, a, b);
        x2 = mad(x2, a, b);
        x3 = mad(x3, a, b);
    }
    const float8 t = (x0 + x1) + (x2 + x3);
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
