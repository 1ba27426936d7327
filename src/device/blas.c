/* GEMM through CLBlast on the context's queue. CLBlast compiles and tunes its own kernels per
 * device; its status codes are OpenCL's where they overlap, and named here otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clblast_c.h>

#include "device/device_internal.h"

static const char *blas_status_name(CLBlastStatusCode s) {
    switch (s) {
    case CLBlastNotImplemented:
        return "CLBlastNotImplemented";
    case CLBlastInvalidDimension:
        return "CLBlastInvalidDimension";
    case CLBlastInvalidLeadDimA:
        return "CLBlastInvalidLeadDimA";
    case CLBlastInvalidLeadDimB:
        return "CLBlastInvalidLeadDimB";
    case CLBlastInvalidLeadDimC:
        return "CLBlastInvalidLeadDimC";
    case CLBlastInsufficientMemoryA:
        return "CLBlastInsufficientMemoryA";
    case CLBlastInsufficientMemoryB:
        return "CLBlastInsufficientMemoryB";
    case CLBlastInsufficientMemoryC:
        return "CLBlastInsufficientMemoryC";
    case CLBlastInvalidLocalMemUsage:
        return "CLBlastInvalidLocalMemUsage";
    case CLBlastDatabaseError:
        return "CLBlastDatabaseError";
    case CLBlastUnknownError:
        return "CLBlastUnknownError";
    case CLBlastUnexpectedError:
        return "CLBlastUnexpectedError";
    default:
        return cg__cl_error_name((int)s);
    }
}

const char *const cg__gemm_param_names[CG__GEMM_PARAMS] = {
    "KWID", "MDIMAD", "MDIMCD", "NDIMBD", "NDIMCD", "PADA", "PADB", "VWMD", "VWND", "WGD"};

static cg_status override(cg_context *ctx, const char *kernel, size_t n,
                          const char *const *names, const size_t *values) {
    CLBlastStatusCode s = CLBlastOverrideParameters(ctx->device, kernel, CLBlastPrecisionSingle, n,
                                                    (const char **)names, values);
    if (s != CLBlastSuccess)
        return cg__error(CG_ERR_BLAS, "CLBlastOverrideParameters(%s) failed with %s (%d)", kernel,
                         blas_status_name(s), (int)s);
    return CG_OK;
}

/* Gives CLBlast these direct-GEMM parameters when they are not the ones it has already. CLBlast
 * keeps a compiled kernel per parameter set, so switching between shapes costs a table lookup,
 * not a compile. Overrides are CLBlast's, per device and process: they cannot be taken back, only
 * replaced. */
static cg_status apply(cg_context *ctx, const size_t *want) {
    if (want == ctx->tuning.gemm_applied)
        return CG_OK;
    /* Tuned parameters are for the direct kernel: every GEMM runs it, whatever its size (on
     * PoCL the tuned direct kernel ran the seed models' largest GEMMs 2-3.6x faster than
     * CLBlast's indirect path). Said once, with the context's first parameters. */
    static const char *const routine[] = {"XGEMM_MIN_INDIRECT_SIZE"};
    const size_t never[] = {(size_t)1 << 20}; /* CLBlast compares m * n * k with its cube */
    cg_status st = ctx->tuning.gemm_applied
                       ? CG_OK
                       : override(ctx, "GemmRoutine", 1, routine, never);
    if (st == CG_OK)
        st = override(ctx, "XgemmDirect", CG__GEMM_PARAMS, cg__gemm_param_names, want);
    if (st == CG_OK)
        ctx->tuning.gemm_applied = want;
    return st;
}

/* CLBlast's generic direct-GEMM parameters: what a tuned choice that fails or runs far slower
 * gives way to. */
static const size_t generic[CG__GEMM_PARAMS] = {2, 8, 8, 8, 8, 1, 1, 1, 1, 32};

/* A tuned choice stands when it runs the shape no more than this many times slower than the
 * generic parameters (the tuner picked it as faster; 2x is beyond timing noise). */
#define FAR_SLOWER 2.0
/* Shapes above this many multiply-adds are not tried (the seed models' largest has 2^23). */
#define TRY_MAX_MACS ((double)(1u << 30))

/* The fastest of four runs of the shape with these parameters on zeroed scratch buffers, in
 * milliseconds, after one that also compiles; a negative CLBlast status when it fails. */
static double time_params(cg_context *ctx, const size_t *params, const uint32_t key[5],
                          cl_mem *buf, int *status) {
    size_t m = key[2], n = key[3], k = key[4];
    *status = CLBlastSuccess;
    cg_status st = cg__replay_interrupt(ctx);
    if (st == CG_OK)
        st = apply(ctx, params);
    if (st != CG_OK) {
        *status = CLBlastInvalidLocalMemUsage; /* an override CLBlast refused */
        return 0;
    }
    double best = 0;
    for (int run = 0; run < 5; run++) {
        double t0 = cg__now_ms();
        CLBlastStatusCode s = CLBlastSgemm(
            CLBlastLayoutRowMajor, key[0] ? CLBlastTransposeYes : CLBlastTransposeNo,
            key[1] ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, 1.0f, buf[0], 0,
            key[0] ? m : k, buf[1], 0, key[1] ? k : n, 0.0f, buf[2], 0, n, &ctx->queue, NULL);
        if (s == CLBlastSuccess)
            s = (CLBlastStatusCode)clFinish(ctx->queue);
        if (s != CLBlastSuccess) {
            *status = (int)s;
            return 0;
        }
        double ms = cg__now_ms() - t0;
        if (run == 1 || (run > 1 && ms < best))
            best = ms;
    }
    return best;
}

/* Tries a tuned choice once, on the first GEMM of a shape that uses it, against CLBlast's generic
 * parameters; sets *verdict (1: it stands, -1: set aside) and says why in the tuning note. */
static cg_status try_choice(cg_context *ctx, const size_t *params, const uint32_t key[5],
                            bool is_default, signed char *verdict) {
    size_t m = key[2], n = key[3], k = key[4];
    *verdict = 1;
    if ((double)m * n * k > TRY_MAX_MACS)
        return CG_OK;
    size_t sizes[3] = {sizeof(float) * m * k, sizeof(float) * k * n, sizeof(float) * m * n};
    size_t most = sizes[0] > sizes[1] ? sizes[0] : sizes[1];
    most = most > sizes[2] ? most : sizes[2];
    float *zeros = calloc(1, most);
    cl_mem buf[3] = {NULL, NULL, NULL};
    cg_status st = zeros ? CG_OK : cg__error(CG_ERR_OUT_OF_MEMORY, "no memory to try a GEMM");
    for (int i = 0; i < 3 && st == CG_OK; i++) {
        st = cg__buffer_create(ctx, sizes[i], &buf[i]);
        if (st == CG_OK)
            st = cg__buffer_write(ctx, buf[i], zeros, sizes[i]);
    }
    int tuned_status = 0, generic_status = 0;
    double tuned = 0, plain = 0;
    /* A choice that looks far slower is timed again, both ways, before it is set aside, each
     * taking its faster time: other work on the machine only ever adds time, and one burst of it
     * (two test programs on two cores) once made the generic parameters look 2.2x slower than
     * themselves. */
    for (int round = 0; round < 2 && st == CG_OK; round++) {
        double t = time_params(ctx, params, key, buf, &tuned_status);
        double p = time_params(ctx, generic, key, buf, &generic_status);
        tuned = round == 0 || t < tuned ? t : tuned;
        plain = round == 0 || p < plain ? p : plain;
        if (tuned_status != CLBlastSuccess || generic_status != CLBlastSuccess ||
            tuned <= FAR_SLOWER * plain)
            break;
    }
    char what[200] = "";
    if (st == CG_OK && tuned_status != CLBlastSuccess && generic_status == CLBlastSuccess)
        snprintf(what, sizeof what, "failed with %s (%d)", blas_status_name(tuned_status),
                 tuned_status);
    else if (st == CG_OK && tuned_status == CLBlastSuccess && generic_status == CLBlastSuccess &&
             tuned > FAR_SLOWER * plain)
        snprintf(what, sizeof what, "ran %.3f ms against %.3f ms", tuned, plain);
    if (what[0]) {
        *verdict = -1;
        ctx->tuning.n_fallbacks++;
        size_t used = strlen(ctx->tuning.note);
        if (used + 1 < sizeof ctx->tuning.note)
            snprintf(ctx->tuning.note + used, sizeof ctx->tuning.note - used,
                     "; the tuned %sGEMM parameters %s %s%s %zux%zux%zu %s: CLBlast's generic "
                     "ones are used instead", is_default ? "default " : "",
                     is_default ? "tried on" : "of", key[0] ? "T" : "N", key[1] ? "T" : "N", m,
                     n, k, what);
    }
    for (int i = 0; i < 3; i++)
        if (buf[i])
            clReleaseMemObject(buf[i]);
    free(zeros);
    return st;
}

/* Gives CLBlast the tuned direct-GEMM parameters of this shape (or the forced ones while
 * tuning), the first time a choice is used only once it has been tried. */
static cg_status apply_tuning(cg_context *ctx, const uint32_t key[5]) {
    cg__tuning *t = &ctx->tuning;
    if (t->force_gemm)
        return apply(ctx, t->force_gemm);
    const size_t *want = NULL;
    signed char *verdict = NULL;
    for (int i = 0; !want && i < t->n_gemm; i++)
        if (memcmp(t->gemm[i].key, key, sizeof t->gemm[i].key) == 0) {
            want = t->gemm[i].params;
            verdict = &t->gemm[i].verdict;
        }
    if (!want && t->has_gemm_default) {
        want = t->gemm_default;
        verdict = &t->default_verdict;
    }
    if (!want)
        return CG_OK;
    if (*verdict == 0) {
        cg_status st = try_choice(ctx, want, key, verdict == &t->default_verdict, verdict);
        if (st != CG_OK)
            return st;
    }
    return apply(ctx, *verdict > 0 ? want : generic);
}

/* Whether the context's GEMM scratch holds `bytes`, growing it when it can (a buffer that cannot
 * be had leaves the product to gemm_dots). */
static bool gemm_scratch(cg_context *ctx, size_t bytes) {
    if (ctx->gemm_tmp_bytes >= bytes)
        return true;
    cg__buffer_release(ctx->gemm_tmp);
    ctx->gemm_tmp = NULL;
    ctx->gemm_tmp_bytes = 0;
    if (cg__buffer_create(ctx, bytes, &ctx->gemm_tmp) != CG_OK)
        return false;
    ctx->gemm_tmp_bytes = bytes;
    return true;
}

/* Our own GEMM (gemm.cl) for CPUs: rows of 8 x VW entries per work-item when B is not
 * transposed (91-94% of the FMA peak on PoCL for the seed models' backward GEMMs), or is and
 * fits the transpose scratch (below); 4 x 6 dot products otherwise (about 60%). */
static cg_status own_sgemm(cg_context *ctx, bool trans_a, bool trans_b, size_t m, size_t n,
                           size_t k, float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b,
                           size_t b_off, size_t ldb, float beta, cl_mem c, size_t c_off,
                           size_t ldc, const cg__gemm_batch *batch) {
    /* A B^T with B up to gemm_transpose_max bytes: B transposed into the context's GEMM scratch
     * (grown as needed), then gemm_rows. Measured on PoCL: the linear layers' forward GEMMs
     * 25-30% faster with the transpose (vae at batch 64: 1.07 -> 0.78 ms for enc.1's), the
     * steps of compare and vae 5-10% faster, the other seed models level. */
    const size_t bytes = n * k * sizeof(float);
    if (trans_b && !trans_a && bytes > 0 && bytes <= ctx->gemm_transpose_max &&
        gemm_scratch(ctx, bytes)) {
        const cg__karg targs[] = {CG_KMEM(ctx->gemm_tmp), CG_KMEM(b), CG_KU32(b_off),
                                  CG_KU32(ldb), CG_KU32(n), CG_KU32(k)};
        size_t tg[2] = {(k + 15) / 16, (n + 15) / 16}, tl[2] = {1, 1};
        cg__profile_bytes(ctx, 8.0 * (double)n * (double)k);
        cg_status st = cg__kernel_run(ctx, "gemm.cl", "gemm_transpose", 2, tg, tl, targs, 6);
        if (st != CG_OK)
            return st;
        return own_sgemm(ctx, false, false, m, n, k, alpha, a, a_off, lda, ctx->gemm_tmp, 0, n,
                         beta, c, c_off, ldc, NULL);
    }
    const size_t count = batch ? batch->count : 1;
    if (ctx->prof) {
        cg__profile_flops(ctx, 2.0 * (double)count * (double)m * (double)n * (double)k);
        cg__profile_bytes(ctx, 4.0 * ((double)m * k + (double)count * ((double)k * n +
                                      (double)m * n * (beta != 0.0f ? 2 : 1))));
    }
    char defs[64];
    if (!trans_b) {
        /* RT = 8 rows (fewer where m is less: the last row block is shifted back inside C) by
         * two vectors of columns where n has them, each value of A feeding two multiply-adds:
         * measured on PoCL at batch 256 against one vector, with A's layout compiled in (TA)
         * for both, vae's step 14.8 -> 12.8 ms, siamese's 56 -> 52, dae's 101 -> 95 (against
         * 21.5, 60 and 107 before TA and the row pointers) */
        uint32_t vw = cg__vector_width(n), rt = m < 8 ? (m ? (uint32_t)m : 1) : 8, cw = 2;
        if (n < cw * vw)
            cw = 1;
        /* Which way the work-items walk C (PoCL runs them dimension 0 first): down a column
         * block, so that its slice of B stays in the L1 cache while the rows of A stream past,
         * where A is no larger than B or fits the L2 cache; else along a row block, B streaming
         * past. Down the columns, measured on PoCL (three interleaved rounds, all seed models):
         * dae's largest GEMM (800 x 36,864 x 64, its B 9.4 MB) at batch 256 42-50 -> 29-31 ms,
         * compare's steps 45 -> 36-39 ms and vae's 29-31 -> 27-29 ms at batch 256, none slower. */
        const bool rows_first = m <= n || sizeof(float) * m * k <= ctx->gemm_rows_first_max;
        snprintf(defs, sizeof defs, "-DRT=%u -DVW=%u -DCW=%u -DTA=%d -DROWS_FIRST=%d", rt, vw,
                 cw, trans_a, rows_first);
        const cg__karg args[] = {CG_KMEM(c),       CG_KU32(c_off),  CG_KU32(ldc),
                                 CG_KMEM(a),       CG_KU32(a_off),  CG_KU32(lda),
                                 CG_KMEM(b),       CG_KU32(b_off),  CG_KU32(ldb),
                                 CG_KU32(m),       CG_KU32(n),
                                 CG_KU32(k),       CG_KF32(alpha),  CG_KF32(beta),
                                 CG_KU32(batch ? batch->stride_b : 0),
                                 CG_KU32(batch ? batch->stride_c : 0)};
        size_t global[3] = {(n + cw * vw - 1) / (cw * vw), (m + rt - 1) / rt, count};
        size_t local[3] = {1, 1, 1};
        if (rows_first) {
            size_t t = global[0];
            global[0] = global[1];
            global[1] = t;
        }
        return cg__kernel_run_defs(ctx, "gemm.cl", defs, "gemm_rows", 3, global, local, args,
                                   CG__ARRAY_LEN(args));
    }
    uint32_t rt = 4, ct = 6; /* measured on PoCL: 4 x 6 beat 4 x 4, 2 x 8 and 8 x 2 by 20-40% */
    snprintf(defs, sizeof defs, "-DRT=%u -DCT=%u", rt, ct);
    const cg__karg args[] = {CG_KMEM(c),     CG_KU32(c_off), CG_KU32(ldc), CG_KMEM(a),
                             CG_KU32(a_off), CG_KU32(lda),   CG_KMEM(b),   CG_KU32(b_off),
                             CG_KU32(ldb),   CG_KU32(m),     CG_KU32(n),   CG_KU32(k),
                             CG_KF32(alpha), CG_KF32(beta)};
    size_t global[2] = {(n + ct - 1) / ct, (m + rt - 1) / rt}, local[2] = {1, 1};
    return cg__kernel_run_defs(ctx, "gemm.cl", defs, "gemm_dots", 2, global, local, args,
                               CG__ARRAY_LEN(args));
}

cg_status cg__sgemm(cg_context *ctx, bool trans_a, bool trans_b, size_t m, size_t n, size_t k,
                    float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off,
                    size_t ldb, float beta, cl_mem c, size_t c_off, size_t ldc) {
    /* while `clgraph tune` measures CLBlast's parameters (force_gemm), CLBlast runs */
    if (ctx->gemm_own && !(trans_a && trans_b) && !ctx->tuning.force_gemm)
        return own_sgemm(ctx, trans_a, trans_b, m, n, k, alpha, a, a_off, lda, b, b_off, ldb,
                         beta, c, c_off, ldc, NULL);
    const uint32_t key[5] = {trans_a, trans_b, (uint32_t)m, (uint32_t)n, (uint32_t)k};
    if (ctx->tuning.n_gemm || ctx->tuning.has_gemm_default || ctx->tuning.force_gemm) {
        cg_status st = apply_tuning(ctx, key);
        if (st != CG_OK)
            return st;
    }
    cg_status rst = cg__replay_interrupt(ctx); /* CLBlast's launches cannot be recorded */
    if (rst != CG_OK)
        return rst;
    cl_event *ev = NULL;
    if (ctx->prof) {
        double bytes = 4.0 * ((double)m * k + (double)k * n + (beta != 0 ? 2.0 : 1.0) * m * n);
        cg__profile_flops(ctx, 2.0 * (double)m * (double)n * (double)k);
        cg__launch_record *r = cg__profile_record(ctx, "clblast_sgemm", m * n, bytes, NULL, 0);
        if (r) {
            r->is_gemm = true;
            memcpy(r->gemm, key, sizeof r->gemm);
            ev = &r->event;
        }
    }
    CLBlastStatusCode s = CLBlastSgemm(
        CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
        trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha, a, a_off, lda, b,
        b_off, ldb, beta, c, c_off, ldc, &ctx->queue, ev);
    if (s != CLBlastSuccess)
        return cg__error(CG_ERR_BLAS,
                         "CLBlastSgemm(m=%zu, n=%zu, k=%zu, trans_a=%d, trans_b=%d) failed with %s "
                         "(%d)",
                         m, n, k, trans_a, trans_b, blas_status_name(s), (int)s);
    return CG_OK;
}

cg_status cg__sgemm_batched(cg_context *ctx, bool trans_a, size_t m, size_t n, size_t k,
                            float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b,
                            size_t b_off, size_t ldb, float beta, cl_mem c, size_t c_off,
                            size_t ldc, const cg__gemm_batch *batch) {
    if (ctx->gemm_own && !ctx->tuning.force_gemm && batch->stride_b <= UINT32_MAX &&
        batch->stride_c <= UINT32_MAX)
        return own_sgemm(ctx, trans_a, false, m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta,
                         c, c_off, ldc, batch);
    cg_status st = CG_OK;
    for (size_t z = 0; st == CG_OK && z < batch->count; z++)
        st = cg__sgemm(ctx, trans_a, false, m, n, k, alpha, a, a_off, lda, b,
                       b_off + z * batch->stride_b, ldb, beta, c, c_off + z * batch->stride_c,
                       ldc);
    return st;
}
