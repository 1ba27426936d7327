/* GEMM through CLBlast on the context's queue. CLBlast compiles and tunes its own kernels per
 * device; its status codes are OpenCL's where they overlap, and named here otherwise. */
#include <stdio.h>

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

cg_status cg__sgemm(cg_context *ctx, bool trans_a, bool trans_b, size_t m, size_t n, size_t k,
                    float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off,
                    size_t ldb, float beta, cl_mem c, size_t c_off, size_t ldc) {
    cl_event *ev = NULL;
    if (ctx->prof) {
        double bytes = 4.0 * ((double)m * k + (double)k * n + (beta != 0 ? 2.0 : 1.0) * m * n);
        cg__profile_flops(ctx, 2.0 * (double)m * (double)n * (double)k);
        ev = cg__profile_record(ctx, "clblast_sgemm", m * n, bytes, NULL, 0);
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
