/* Known-answer checks for cl/core.cl and for CLBlast's SGEMM. Sizes are odd on purpose, so the
 * rounding of the global range up to the work-group size is exercised. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "selftest/selftest_internal.h"

#define ARG(k, i, v) clSetKernelArg((k), (i), sizeof(v), &(v))

/* Small deterministic inputs: x_i = ((i * 37) % 101 - 50) / 25. */
static float sample(size_t i) {
    return (float)((long)((i * 37) % 101) - 50) / 25.0f;
}

/* Runs one kernel whose arguments have been set, reads n floats back and compares. */
static cg_status run_and_compare(cg_context *ctx, cl_kernel k, size_t items, cl_mem out,
                                 size_t n, const double *want, bool *passed, char *detail,
                                 size_t cap) {
    float *got = malloc(n * sizeof *got);
    if (!got)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %zu floats", n);
    cg_status st = cg__launch_1d(ctx, k, items, 0);
    if (st == CG_OK)
        st = cg__buffer_read(ctx, out, got, n * sizeof *got);
    if (st == CG_OK)
        *passed = cg__selftest_compare(got, want, n, 1e-6, 1e-6, detail, cap);
    free(got);
    return st;
}

/* Creates a buffer holding sample(i + offset) for i < n. */
static cg_status sample_buffer(cg_context *ctx, size_t n, size_t offset, cl_mem *out) {
    float *h = malloc(n * sizeof *h);
    if (!h)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %zu floats", n);
    for (size_t i = 0; i < n; i++)
        h[i] = sample(i + offset);
    cg_status st = cg__buffer_create(ctx, n * sizeof *h, out);
    if (st == CG_OK)
        st = cg__buffer_write(ctx, *out, h, n * sizeof *h);
    free(h);
    return st;
}

static cg_status check_fill(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    enum { N = 1001 };
    cl_kernel k;
    cl_mem out;
    cg_status st = cg__kernel_create(ctx, "core.cl", NULL, "fill_f32", &k);
    if (st != CG_OK)
        return st;
    if ((st = sample_buffer(ctx, N, 0, &out)) == CG_OK) {
        float value = 2.5f;
        cl_uint n = N;
        ARG(k, 0, out);
        ARG(k, 1, value);
        ARG(k, 2, n);
        double want[N];
        for (size_t i = 0; i < N; i++)
            want[i] = 2.5;
        st = run_and_compare(ctx, k, N, out, N, want, passed, detail, cap);
        clReleaseMemObject(out);
    }
    clReleaseKernel(k);
    return st;
}

static cg_status check_copy(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    enum { N = 777 };
    cl_kernel k;
    cl_mem in = NULL, out = NULL;
    cg_status st = cg__kernel_create(ctx, "core.cl", NULL, "copy_f32", &k);
    if (st != CG_OK)
        return st;
    if ((st = sample_buffer(ctx, N, 0, &in)) == CG_OK &&
        (st = sample_buffer(ctx, N, 5, &out)) == CG_OK) {
        cl_uint n = N;
        ARG(k, 0, out);
        ARG(k, 1, in);
        ARG(k, 2, n);
        double want[N];
        for (size_t i = 0; i < N; i++)
            want[i] = sample(i);
        st = run_and_compare(ctx, k, N, out, N, want, passed, detail, cap);
    }
    if (in)
        clReleaseMemObject(in);
    if (out)
        clReleaseMemObject(out);
    clReleaseKernel(k);
    return st;
}

static cg_status check_axpy(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    enum { N = 513 };
    cl_kernel k;
    cl_mem x = NULL, y = NULL;
    cg_status st = cg__kernel_create(ctx, "core.cl", NULL, "axpy_f32", &k);
    if (st != CG_OK)
        return st;
    if ((st = sample_buffer(ctx, N, 0, &x)) == CG_OK &&
        (st = sample_buffer(ctx, N, 11, &y)) == CG_OK) {
        float alpha = -0.75f;
        cl_uint n = N;
        ARG(k, 0, y);
        ARG(k, 1, x);
        ARG(k, 2, alpha);
        ARG(k, 3, n);
        double want[N];
        for (size_t i = 0; i < N; i++)
            want[i] = (double)sample(i + 11) - 0.75 * (double)sample(i);
        st = run_and_compare(ctx, k, N, y, N, want, passed, detail, cap);
    }
    if (x)
        clReleaseMemObject(x);
    if (y)
        clReleaseMemObject(y);
    clReleaseKernel(k);
    return st;
}

static cg_status check_gather_rows(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    enum { ROWS_IN = 5, LEN = 7, ROWS = 4 };
    static const cl_int index[ROWS] = {3, 0, 4, 4};
    cl_kernel k;
    cl_mem src = NULL, out = NULL, idx = NULL;
    cg_status st = cg__kernel_create(ctx, "core.cl", NULL, "gather_rows_f32", &k);
    if (st != CG_OK)
        return st;
    if ((st = sample_buffer(ctx, ROWS_IN * LEN, 0, &src)) == CG_OK &&
        (st = sample_buffer(ctx, ROWS * LEN, 3, &out)) == CG_OK &&
        (st = cg__buffer_create(ctx, sizeof index, &idx)) == CG_OK &&
        (st = cg__buffer_write(ctx, idx, index, sizeof index)) == CG_OK) {
        cl_uint len = LEN, rows = ROWS;
        ARG(k, 0, out);
        ARG(k, 1, src);
        ARG(k, 2, idx);
        ARG(k, 3, len);
        ARG(k, 4, rows);
        double want[ROWS * LEN];
        for (size_t r = 0; r < ROWS; r++)
            for (size_t j = 0; j < LEN; j++)
                want[r * LEN + j] = sample((size_t)index[r] * LEN + j);
        st = run_and_compare(ctx, k, ROWS * LEN, out, ROWS * LEN, want, passed, detail, cap);
    }
    if (src)
        clReleaseMemObject(src);
    if (out)
        clReleaseMemObject(out);
    if (idx)
        clReleaseMemObject(idx);
    clReleaseKernel(k);
    return st;
}

/* C (5x3) = 1.5 * A (5x4) * B^T (B is 3x4) + 0.5 * C, against a double-precision loop. */
static cg_status check_sgemm(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    enum { M = 5, N = 3, K = 4 };
    cl_mem a = NULL, b = NULL, c = NULL;
    cg_status st;
    if ((st = sample_buffer(ctx, M * K, 0, &a)) == CG_OK &&
        (st = sample_buffer(ctx, N * K, 20, &b)) == CG_OK &&
        (st = sample_buffer(ctx, M * N, 40, &c)) == CG_OK &&
        (st = cg__sgemm(ctx, false, true, M, N, K, 1.5f, a, 0, K, b, 0, K, 0.5f, c, 0, N)) ==
            CG_OK) {
        float got[M * N];
        double want[M * N];
        for (size_t i = 0; i < M; i++)
            for (size_t j = 0; j < N; j++) {
                double s = 0;
                for (size_t p = 0; p < K; p++)
                    s += (double)sample(i * K + p) * (double)sample(20 + j * K + p);
                want[i * N + j] = 1.5 * s + 0.5 * (double)sample(40 + i * N + j);
            }
        st = cg__buffer_read(ctx, c, got, sizeof got);
        if (st == CG_OK)
            *passed = cg__selftest_compare(got, want, M * N, 1e-5, 1e-5, detail, cap);
    }
    if (a)
        clReleaseMemObject(a);
    if (b)
        clReleaseMemObject(b);
    if (c)
        clReleaseMemObject(c);
    return st;
}

const cg__selftest_case cg__core_checks[] = {
    {"core.cl", "fill_f32", check_fill},
    {"core.cl", "copy_f32", check_copy},
    {"core.cl", "axpy_f32", check_axpy},
    {"core.cl", "gather_rows_f32", check_gather_rows},
    {"clblast", "sgemm", check_sgemm},
};
const size_t cg__core_check_count = CG__ARRAY_LEN(cg__core_checks);
