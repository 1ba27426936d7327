/* Our own single-precision GEMM for CPUs, row-major: C = alpha * op(A) * op(B) + beta * C with
 * op(A) (m, k) and op(B) (k, n), written with explicit vectors so that PoCL needs no
 * work-group vectoriser (CLBlast's kernels, tuned for GPUs, run at a quarter of the FMA peak
 * there untuned). Two forms:
 *  - gemm_rows (B not transposed): each work-item computes RT rows x CW vectors of VW columns
 *    of C; for each p it loads CW vectors of row p of B and RT values of op(A), each broadcast
 *    to feed CW vector multiply-adds, at fixed offsets from RT row pointers (TA = 0) or from
 *    one (TA = 1: A transposed, its rows' values side by side).
 *  - gemm_dots (B transposed, A not): C[i, j] is the dot product of row i of A and row j of B,
 *    both contiguous; each work-item computes RT x CT entries, loading RT + CT vectors of 8
 *    along p for RT * CT vector multiply-adds.
 * Work-items: a 2-D range (column blocks, row blocks), indices checked; gemm_rows takes a third
 * dimension, the products of a batch (one A; B and C b_batch and c_batch elements apart). Edge
 * blocks are clamped inside C (they overlap the block before and store only the columns, and
 * for gemm_rows the rows, it did not), so loads are whole vectors wherever n >= CW * VW;
 * gemm_rows needs m >= RT.
 * gemm_rows with ROWS_FIRST=1 swaps the range's dimensions: (row blocks, column blocks).
 * Defines: RT (rows per work-item), VW (4, 8 or 16, gemm_rows), CW (1 or 2 vectors, gemm_rows),
 * TA (op(A) is A transposed: 0 or 1, gemm_rows), CT (columns, gemm_dots), ROWS_FIRST (0 or 1,
 * gemm_rows). The loops over the tile are unrolled by pragma, which keeps the accumulators in
 * registers (PoCL left them in memory: 1.5-1.7x), all but gemm_dots' store loops, which stop at
 * the matrix edge (PoCL cannot unroll them, and warns); gemm_rows' test each element instead. */
#ifndef RT
#define RT 4
#endif
#ifndef VW
#define VW 8
#endif
#ifndef CT
#define CT 4
#endif
#ifndef ROWS_FIRST
#define ROWS_FIRST 0
#endif
#ifndef CW
#define CW 1
#endif
#ifndef TA
#define TA 0
#endif
#define floatv CG_CAT(float, VW)
#define vloadv CG_CAT(vload, VW)
#define vstorev CG_CAT(vstore, VW)

__kernel void gemm_rows(__global float *c, const uint c_off, const uint ldc,
                        __global const float *a, const uint a_off, const uint lda,
                        __global const float *b, const uint b_off, const uint ldb,
                        const uint m, const uint n, const uint k, const float alpha,
                        const float beta, const uint b_batch, const uint c_batch) {
    const uint width = CW * VW, blocks = (n + width - 1) / width, row_blocks = (m + RT - 1) / RT;
#if ROWS_FIRST
    const uint bj = get_global_id(1), bi = get_global_id(0);
#else
    const uint bj = get_global_id(0), bi = get_global_id(1);
#endif
    if (bj >= blocks || bi >= row_blocks)
        return;
    /* the last blocks shifted back inside C (m >= RT always; n >= width where `whole`) */
    const bool whole = n >= width;
    const uint j0 = bj * width + width <= n || !whole ? bj * width : n - width;
    const uint skip = bj * width - j0, i0 = min(bi * RT, m - RT), rskip = bi * RT - i0;
    b += (size_t)get_global_id(2) * b_batch; /* the batch's product z: B and C at z * stride */
    c += (size_t)get_global_id(2) * c_batch;
    floatv acc[RT][CW];
    #pragma unroll
    for (uint r = 0; r < RT; r++)
        #pragma unroll
        for (uint u = 0; u < CW; u++)
            acc[r][u] = (floatv)(0.0f);
    __global const float *bp = b + b_off + j0;
#if TA
    __global const float *ap = a + a_off + i0; /* op(A) (i, p) at ap[p * lda + i - i0] */
#else
    __global const float *ar[RT]; /* op(A) row i0 + r */
    #pragma unroll
    for (uint r = 0; r < RT; r++)
        ar[r] = a + a_off + (size_t)(i0 + r) * lda;
#endif
    for (uint p = 0; p < k; p++, bp += ldb) {
        floatv bv[CW];
        #pragma unroll
        for (uint u = 0; u < CW; u++) {
            if (whole) {
                bv[u] = vloadv(0, bp + u * VW);
            } else {
                float v[VW];
                for (uint l = 0; l < VW; l++)
                    v[l] = j0 + u * VW + l < n ? bp[u * VW + l] : 0.0f;
                bv[u] = vloadv(0, v);
            }
        }
        #pragma unroll
        for (uint r = 0; r < RT; r++) {
#if TA
            const floatv av = (floatv)(ap[(size_t)p * lda + r]);
#else
            const floatv av = (floatv)(ar[r][p]);
#endif
            #pragma unroll
            for (uint u = 0; u < CW; u++)
                acc[r][u] = CG_MAD(av, bv[u], acc[r][u]);
        }
    }
    #pragma unroll
    for (uint r = 0; r < RT; r++) {
        #pragma unroll
        for (uint u = 0; u < CW; u++) {
            if (r < rskip)
                continue;
            __global float *cr = c + c_off + (size_t)(i0 + r) * ldc + j0 + u * VW;
            const floatv out = alpha * acc[r][u];
            if (whole && skip == 0) {
                vstorev(beta != 0.0f ? out + beta * vloadv(0, cr) : out, 0, cr);
            } else {
                float v[VW];
                vstorev(out, 0, v);
                for (uint l = 0; l < VW; l++)
                    if (u * VW + l >= skip && j0 + u * VW + l < n)
                        cr[l] = v[l] + (beta != 0.0f ? beta * cr[l] : 0.0f);
            }
        }
    }
}

__kernel void gemm_dots(__global float *c, const uint c_off, const uint ldc,
                        __global const float *a, const uint a_off, const uint lda,
                        __global const float *b, const uint b_off, const uint ldb,
                        const uint m, const uint n, const uint k, const float alpha,
                        const float beta) {
    const uint col_blocks = (n + CT - 1) / CT, row_blocks = (m + RT - 1) / RT;
    const uint bj = get_global_id(0), bi = get_global_id(1);
    if (bj >= col_blocks || bi >= row_blocks)
        return;
    __global const float *ar[RT], *br[CT];
    #pragma unroll
    for (uint r = 0; r < RT; r++)
        ar[r] = a + a_off + (size_t)min(bi * RT + r, m - 1) * lda;
    #pragma unroll
    for (uint q = 0; q < CT; q++)
        br[q] = b + b_off + (size_t)min(bj * CT + q, n - 1) * ldb;
    float8 acc[RT][CT];
    #pragma unroll
    for (uint r = 0; r < RT; r++)
        #pragma unroll
        for (uint q = 0; q < CT; q++)
            acc[r][q] = (float8)(0.0f);
    uint p = 0;
    for (; p + 8 <= k; p += 8) {
        float8 av[RT], bv[CT];
        #pragma unroll
        for (uint r = 0; r < RT; r++)
            av[r] = vload8(0, ar[r] + p);
        #pragma unroll
        for (uint q = 0; q < CT; q++)
            bv[q] = vload8(0, br[q] + p);
        #pragma unroll
        for (uint r = 0; r < RT; r++)
            #pragma unroll
            for (uint q = 0; q < CT; q++)
                acc[r][q] = CG_MAD(av[r], bv[q], acc[r][q]);
    }
    for (uint r = 0; r < RT && bi * RT + r < m; r++)
        for (uint q = 0; q < CT && bj * CT + q < n; q++) {
            const float8 s8 = acc[r][q];
            float s = s8.s0 + s8.s1 + s8.s2 + s8.s3 + s8.s4 + s8.s5 + s8.s6 + s8.s7;
            for (uint t = p; t < k; t++)
                s += ar[r][t] * br[q][t];
            __global float *cij = c + c_off + (size_t)(bi * RT + r) * ldc + bj * CT + q;
            *cij = alpha * s + (beta != 0.0f ? beta * *cij : 0.0f);
        }
}

/* dst (k, n) = the transpose of src (n, k) at s_off with row stride lds, so that an A B^T
 * product runs as gemm_rows: each work-item moves a 16 x 16 block, whole cache lines of 16
 * floats in and out, transposed in registers (at the edges element by element): on PoCL, the
 * seed models' weight matrices at 10-28 GB/s through a private array, against 7-22 with blocks
 * of 8 x 8 (half lines), and the largest (vae's 1024 x 400) 0.18-0.21 -> 0.16-0.17 ms in
 * registers. A 2-D range (blocks along k, blocks along n). */
__kernel void gemm_transpose(__global float *dst, __global const float *src, const uint s_off,
                             const uint lds, const uint n, const uint k) {
    const uint p0 = get_global_id(0) * 16, j0 = get_global_id(1) * 16;
    if (p0 >= k || j0 >= n)
        return;
    if (p0 + 16 <= k && j0 + 16 <= n) {
        float16 r[16];
        #pragma unroll
        for (uint j = 0; j < 16; j++)
            r[j] = vload16(0, src + s_off + (size_t)(j0 + j) * lds + p0);
        CG_TRANSPOSE16(r);
        #pragma unroll
        for (uint p = 0; p < 16; p++)
            vstore16(r[p], 0, dst + (size_t)(p0 + p) * n + j0);
        return;
    }
    for (uint p = p0; p < min(p0 + 16, k); p++)
        for (uint j = j0; j < min(j0 + 16, n); j++)
            dst[(size_t)p * n + j] = src[s_off + (size_t)j * lds + p];
}
