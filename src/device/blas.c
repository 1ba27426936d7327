/* GEMM through CLBlast on the context's queue. CLBlast compiles and tunes its own kernels per
 * device; its status codes are OpenCL's where they overlap, and named here otherwise. */
#include <stdio.h>
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

/* Gives CLBlast the tuned direct-GEMM parameters of this shape (or the forced ones while
 * tuning), when they are not the ones it has already. CLBlast keeps a compiled kernel per
 * parameter set, so switching between shapes costs a table lookup, not a compile. Overrides
 * are CLBlast's, per device and process: they cannot be taken back, only replaced. */
static cg_status apply_tuning(cg_context *ctx, const uint32_t key[5]) {
    const size_t *want = ctx->tuning.force_gemm;
    for (int i = 0; !want && i < ctx->tuning.n_gemm; i++)
        if (memcmp(ctx->tuning.gemm[i].key, key, sizeof ctx->tuning.gemm[i].key) == 0)
            want = ctx->tuning.gemm[i].params;
    if (!want && ctx->tuning.has_gemm_default)
        want = ctx->tuning.gemm_default;
    if (!want || want == ctx->tuning.gemm_applied)
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
    return CG_OK;
}

cg_status cg__sgemm(cg_context *ctx, bool trans_a, bool trans_b, size_t m, size_t n, size_t k,
                    float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off,
                    size_t ldb, float beta, cl_mem c, size_t c_off, size_t ldc) {
    const uint32_t key[5] = {trans_a, trans_b, (uint32_t)m, (uint32_t)n, (uint32_t)k};
    if (ctx->tuning.n_gemm || ctx->tuning.has_gemm_default || ctx->tuning.force_gemm) {
        cg_status st = apply_tuning(ctx, key);
        if (st != CG_OK)
            return st;
    }
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
