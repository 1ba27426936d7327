/* Helpers shared by every kernel file: the program loader puts this file in front of each
 * program's source (it has no kernels of its own).
 *
 * Work-items: as each caller documents.
 * Defines: none required (CG_HAS_FMA comes with the device's base options).
 */

/* a * b + c for the kernels' inner products: fma(), one instruction with one rounding, where
 * the device has fused multiply-add in hardware (CL_FP_FMA, CG_HAS_FMA); else mad(), which may
 * round twice. PoCL compiles mad() to a multiply and an add even on CPUs with FMA units, which
 * halves the multiply-add rate (a Sapphire Rapids Xeon: 205-214 against 380 GFLOP/s). */
#if CG_HAS_FMA
#define CG_MAD(a, b, c) fma(a, b, c)
#else
#define CG_MAD(a, b, c) mad(a, b, c)
#endif

/* Token pasting after expansion, for vector types of a compile-time width:
 * CG_CAT(float, VW) is float16 where VW is 16. */
#define CG_CAT_(a, b) a##b
#define CG_CAT(a, b) CG_CAT_(a, b)

/* shuffle2(a, b, (MT)(indices)) with the indices written out as constants. Clang-based compilers
 * (PoCL, ROCm, Intel's) take them as one shufflevector, a permute or two; PoCL's shuffle2
 * library function, inlined, became 20-40 element moves for each 16-lane shuffle (dropout's
 * transpose of its random words: 123 permutes where 8 do). Other compilers get shuffle2. */
#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define CG_SHUFFLE2(a, b, MT, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#endif
#endif
#ifndef CG_SHUFFLE2
#define CG_SHUFFLE2(a, b, MT, ...) shuffle2(a, b, (MT)(__VA_ARGS__))
#endif

/* r[0..15], an array of float16, transposed in place (r[i].sj <-> r[j].si) in registers, in
 * four stages of shuffles: at stage B (8, 4, 2, 1), rows i and i + B (i & B == 0) swap blocks of
 * B lanes, row i keeping the even blocks of both and row i + B the odd ones. */
#define CG_T_LO8 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define CG_T_HI8 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31
#define CG_T_LO4 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27
#define CG_T_HI4 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31
#define CG_T_LO2 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29
#define CG_T_HI2 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define CG_T_LO1 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30
#define CG_T_HI1 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31
#define CG_T_STAGE(r, B, LO, HI)                                                                   \
    _Pragma("unroll") for (uint t_i = 0; t_i < 16; t_i++) if (!(t_i & B)) {                        \
        const float16 t_a = r[t_i], t_b = r[t_i + B];                                              \
        r[t_i] = CG_SHUFFLE2(t_a, t_b, uint16, LO);                                                \
        r[t_i + B] = CG_SHUFFLE2(t_a, t_b, uint16, HI);                                            \
    }
#define CG_TRANSPOSE16(r)                                                                          \
    do {                                                                                           \
        CG_T_STAGE(r, 8, CG_T_LO8, CG_T_HI8)                                                       \
        CG_T_STAGE(r, 4, CG_T_LO4, CG_T_HI4)                                                       \
        CG_T_STAGE(r, 2, CG_T_LO2, CG_T_HI2)                                                       \
        CG_T_STAGE(r, 1, CG_T_LO1, CG_T_HI1)                                                       \
    } while (0)

/* Kernels that take 16 elements a work-item (the map kernels, the random ones): elements
 * i0 .. i0 + 15 of p, those at n or past it read as 0 (a last, partial block), and the store of
 * those below n. */
static float16 load16_part(__global const float *p, const uint i0, const uint n) {
    if (i0 + 16 <= n)
        return vload16(0, p + i0);
    float t[16];
    for (uint l = 0; l < 16; l++)
        t[l] = i0 + l < n ? p[i0 + l] : 0.0f;
    return vload16(0, t);
}

static void store16_part(const float16 v, __global float *p, const uint i0, const uint n) {
    if (i0 + 16 <= n) {
        vstore16(v, 0, p + i0);
        return;
    }
    float t[16];
    vstore16(v, 0, t);
    for (uint l = 0; i0 + l < n; l++)
        p[i0 + l] = t[l];
}

/* The largest of r[0..K). */
static float row_largest(__global const float *r, const uint K) {
    float m = r[0];
    for (uint k = 1; k < K; k++)
        m = fmax(m, r[k]);
    return m;
}

/* log(sum(exp(r[0..K)))) with the maximum subtracted first, so large values do not overflow;
 * *max_out receives the maximum. */
static float row_log_sum_exp(__global const float *r, const uint K, float *max_out) {
    const float m = row_largest(r, K);
    float s = 0.0f;
    for (uint k = 0; k < K; k++)
        s += exp(r[k] - m);
    *max_out = m;
    return m + log(s);
}

/* The squared distance between row n of a and row n of b, D numbers each. */
static float row_squared_distance(__global const float *a, __global const float *b, const uint n,
                                  const uint D) {
    float s = 0.0f;
    for (uint i = 0; i < D; i++) {
        const float d = a[(size_t)n * D + i] - b[(size_t)n * D + i];
        s += d * d;
    }
    return s;
}

/* Sums `value` over the work-group (whose size is a power of two) through local memory `part`;
 * every work-item must call it, and work-item 0 receives the total. */
static float group_sum(float value, __local float *part) {
    const uint lid = get_local_id(0), lsize = get_local_size(0);
    part[lid] = value;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = lsize / 2; s > 0; s /= 2) {
        if (lid < s)
            part[lid] += part[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return part[0];
}
