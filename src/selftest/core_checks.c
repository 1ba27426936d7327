/* Known-answer checks for cl/core.cl, the roofline kernels of cl/bench.cl and CLBlast's SGEMM.
 * Sizes are odd on purpose, so the rounding of the global range up to the work-group size is
 * exercised. */
#include <stdlib.h>

#include "selftest/selftest_internal.h"

/* Small deterministic inputs: x_i = ((i * 37) % 101 - 50) / 25. */
static float sample(size_t i) {
    return (float)((long)((i * 37) % 101) - 50) / 25.0f;
}

static void samples(float *out, size_t n, size_t offset) {
    for (size_t i = 0; i < n; i++)
        out[i] = sample(i + offset);
}

static cg_status check_fill(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    enum { N = 1001 };
    float out[N];
    double want[N];
    samples(out, N, 0);
    for (size_t i = 0; i < N; i++)
        want[i] = 2.5;
    const cg__check_arg args[] = {CG__F32_BUF(out, N), CG__F32(2.5f), CG__U32(N)};
    return cg__selftest_kernel(ctx, "core.cl", "fill_f32", args, 3, N, 0, want, 1e-6, passed,
                               detail, cap);
}

static cg_status check_copy(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    enum { N = 777 };
    float in[N], out[N];
    double want[N];
    samples(in, N, 0);
    samples(out, N, 5);
    for (size_t i = 0; i < N; i++)
        want[i] = in[i];
    const cg__check_arg args[] = {CG__F32_BUF(out, N), CG__F32_BUF(in, N), CG__U32(N)};
    return cg__selftest_kernel(ctx, "core.cl", "copy_f32", args, 3, N, 0, want, 1e-6, passed,
                               detail, cap);
}

static cg_status check_axpy(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    enum { N = 513 };
    float x[N], y[N];
    double want[N];
    samples(x, N, 0);
    samples(y, N, 11);
    for (size_t i = 0; i < N; i++)
        want[i] = (double)y[i] - 0.75 * (double)x[i];
    const cg__check_arg args[] = {CG__F32_BUF(y, N), CG__F32_BUF(x, N), CG__F32(-0.75f),
                                  CG__U32(N)};
    return cg__selftest_kernel(ctx, "core.cl", "axpy_f32", args, 4, N, 0, want, 1e-6, passed,
                               detail, cap);
}

static cg_status check_gather_rows(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    enum { ROWS_IN = 5, LEN = 7, ROWS = 4 };
    static const int index[ROWS + 1] = {9, 3, 0, 4, 4}; /* read from offset 1 */
    float src[ROWS_IN * LEN], out[ROWS * LEN];
    double want[ROWS * LEN];
    samples(src, ROWS_IN * LEN, 0);
    samples(out, ROWS * LEN, 3);
    for (size_t r = 0; r < ROWS; r++)
        for (size_t j = 0; j < LEN; j++)
            want[r * LEN + j] = src[(size_t)index[r + 1] * LEN + j];
    const cg__check_arg args[] = {CG__F32_BUF(out, ROWS * LEN), CG__F32_BUF(src, ROWS_IN * LEN),
                                  CG__I32_BUF(index, ROWS + 1), CG__U32(1), CG__U32(LEN),
                                  CG__U32(ROWS)};
    return cg__selftest_kernel(ctx, "core.cl", "gather_rows", args, 6, ROWS * LEN, 0, want, 0,
                               passed, detail, cap);
}

/* Creates a buffer holding sample(i + offset) for i < n. */
static cg_status sample_buffer(cg_context *ctx, size_t n, size_t offset, cl_mem *out) {
    float *h = malloc(n * sizeof *h);
    if (!h)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %zu floats", n);
    samples(h, n, offset);
    cg_status st = cg__buffer_create(ctx, n * sizeof *h, out);
    if (st == CG_OK)
        st = cg__buffer_write(ctx, *out, h, n * sizeof *h);
    free(h);
    return st;
}

/* C (m x n) = 1.5 * op(A) op(B) + 0.5 * C against a double-precision loop, through CLBlast or
 * our own kernels (gemm.cl) as `own` says; B starts at an offset of 3 floats. */
static cg_status gemm_case(cg_context *ctx, bool own, bool ta, bool tb, size_t M, size_t N,
                           size_t K, bool *passed, char *detail, size_t cap) {
    cl_mem a = NULL, b = NULL, c = NULL;
    cg_status st;
    bool saved = ctx->gemm_own;
    ctx->gemm_own = own;
    size_t lda = ta ? M : K, ldb = tb ? K : N;
    float *got = malloc(M * N * sizeof *got);
    double *want = malloc(M * N * sizeof *want);
    if (!got || !want)
        st = cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for a %zux%zu GEMM", M, N);
    else if ((st = sample_buffer(ctx, M * K, 0, &a)) == CG_OK &&
             (st = sample_buffer(ctx, N * K + 3, 997, &b)) == CG_OK && /* B from offset 3 */
             (st = sample_buffer(ctx, M * N, 2000, &c)) == CG_OK &&
             (st = cg__sgemm(ctx, ta, tb, M, N, K, 1.5f, a, 0, lda, b, 3, ldb, 0.5f, c, 0, N)) ==
                 CG_OK) {
        for (size_t i = 0; i < M; i++)
            for (size_t j = 0; j < N; j++) {
                double s = 0;
                for (size_t p = 0; p < K; p++)
                    s += (double)sample(ta ? p * lda + i : i * lda + p) *
                         (double)sample(1000 + (tb ? j * ldb + p : p * ldb + j));
                want[i * N + j] = 1.5 * s + 0.5 * (double)sample(2000 + i * N + j);
            }
        st = cg__buffer_read(ctx, c, got, M * N * sizeof *got);
        if (st == CG_OK)
            *passed = cg__selftest_compare(got, want, M * N, 1e-5, 1e-5, detail, cap);
    }
    ctx->gemm_own = saved;
    free(got);
    free(want);
    if (a)
        clReleaseMemObject(a);
    if (b)
        clReleaseMemObject(b);
    if (c)
        clReleaseMemObject(c);
    return st;
}

/* CLBlast: C (5x3) = 1.5 * A (5x4) * B^T (B is 3x4) + 0.5 * C. */
static cg_status check_sgemm(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    return gemm_case(ctx, false, false, true, 5, 3, 4, passed, detail, cap);
}

/* Our own: 9 rows (two blocks of 8, the second clamped), 19 columns (two blocks of 16 that
 * overlap, or 4-wide ones), 13 terms (a vector of 8 and 5 more), in the three forms the ops
 * use (A B, A^T B, A B^T), a row narrower than a vector, and 19 rows by 9 columns, with gemm_rows
 * walking down C's columns and (A larger than B, past a limit of 0) along its rows. */
static cg_status check_own_gemm(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    static const bool forms[][2] = {{false, false}, {true, false}, {false, true}};
    static const size_t shapes[][3] = {{9, 19, 13}, {3, 5, 7}, {19, 9, 13}, {19, 9, 13}};
    const size_t was = ctx->gemm_rows_first_max;
    cg_status st = CG_OK;
    *passed = true;
    for (size_t s = 0; st == CG_OK && *passed && s < 4; s++) {
        ctx->gemm_rows_first_max = s == 3 ? 0 : was;
        for (size_t f = 0; st == CG_OK && *passed && f < 3; f++)
            st = gemm_case(ctx, true, forms[f][0], forms[f][1], shapes[s][0], shapes[s][1],
                           shapes[s][2], passed, detail, cap);
    }
    ctx->gemm_rows_first_max = was;
    return st;
}

/* A B^T through gemm_dots: B larger than the transpose scratch may hold (here none). */
static cg_status check_own_gemm_dots(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    const size_t was = ctx->gemm_transpose_max;
    ctx->gemm_transpose_max = 0;
    cg_status st = gemm_case(ctx, true, false, true, 9, 19, 13, passed, detail, cap);
    if (st == CG_OK && *passed)
        st = gemm_case(ctx, true, false, true, 3, 5, 7, passed, detail, cap);
    ctx->gemm_transpose_max = was;
    return st;
}

/* A peak kernel over 301 work-items, 37 iterations, against the same chains in double
 * precision: `chains` chains of `width` lanes, lane l of chain q starting at s + q / 10 +
 * l / 100 with s = (i mod 8) / 8, out[i] the sum of every lane. */
static cg_status peak_case(cg_context *ctx, const char *kernel, int chains, int width,
                           bool *passed, char *detail, size_t cap) {
    enum { N = 301, ITERS = 37 };
    const float a = 0.9990234375f, b = 0.0009765625f; /* exact in binary; x tends to 1 */
    float out[N];
    double want[N];
    samples(out, N, 0);
    for (size_t i = 0; i < N; i++) {
        float s = (float)(i & 7) * 0.125f;
        double sum = 0;
        for (int c = 0; c < chains * width; c++) {
            double x = (double)((s + 0.1f * (float)(c / width)) + 0.01f * (float)(c % width));
            for (int k = 0; k < ITERS; k++)
                x = x * a + b;
            sum += x;
        }
        want[i] = sum;
    }
    const cg__check_arg args[] = {CG__F32_BUF(out, N), CG__F32(a), CG__F32(b), CG__U32(ITERS),
                                  CG__U32(N)};
    return cg__selftest_kernel(ctx, "bench.cl", kernel, args, 5, N, 0, want, 1e-5, passed,
                               detail, cap);
}

static cg_status check_peak_fma(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    return peak_case(ctx, "peak_fma", 4, 8, passed, detail, cap);
}

static cg_status check_peak_fma_wide(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    return peak_case(ctx, "peak_fma_wide", 12, 16, passed, detail, cap);
}

static cg_status check_peak_copy4(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    enum { N = 4 * 129 };
    float in[N], out[N];
    double want[N];
    samples(in, N, 3);
    samples(out, N, 0);
    for (size_t i = 0; i < N; i++)
        want[i] = in[i];
    const cg__check_arg args[] = {CG__F32_BUF(out, N), CG__F32_BUF(in, N), CG__U32(N / 4)};
    return cg__selftest_kernel(ctx, "bench.cl", "peak_copy4", args, 3, N / 4, 0, want, 1e-6,
                               passed, detail, cap);
}

const cg__selftest_case cg__core_checks[] = {
    {"core.cl", "fill_f32", check_fill},
    {"core.cl", "copy_f32", check_copy},
    {"core.cl", "axpy_f32", check_axpy},
    {"core.cl", "gather_rows", check_gather_rows},
    {"clblast", "sgemm", check_sgemm},
    {"gemm.cl", "gemm_rows gemm_transpose", check_own_gemm},
    {"gemm.cl", "gemm_dots", check_own_gemm_dots},
    {"bench.cl", "peak_fma", check_peak_fma},
    {"bench.cl", "peak_fma_wide", check_peak_fma_wide},
    {"bench.cl", "peak_copy4", check_peak_copy4},
};
const size_t cg__core_check_count = CG__ARRAY_LEN(cg__core_checks);
