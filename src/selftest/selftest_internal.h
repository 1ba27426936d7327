/* The self-test registry: each kernel family lists one known-answer check per kernel. */
#ifndef CG_SELFTEST_INTERNAL_H
#define CG_SELFTEST_INTERNAL_H

#include "clgraph/selftest.h"
#include "device/device_internal.h"
#include "ops/ops.h"

/* One check. It runs the kernel on a small input and compares with a known answer, writing the
 * first mismatch (by index) into detail. It returns a status only when it could not run. */
typedef cg_status (*cg__selftest_fn)(cg_context *ctx, bool *passed, char *detail, size_t cap);

typedef struct cg__selftest_case {
    const char *program; /* "core.cl", or a library name such as "clblast" */
    const char *kernels; /* the kernels it covers, separated by spaces */
    cg__selftest_fn run;
} cg__selftest_case;

extern const cg__selftest_case cg__core_checks[];
extern const size_t cg__core_check_count;
extern const cg__selftest_case cg__elementwise_checks[];
extern const size_t cg__elementwise_check_count;
extern const cg__selftest_case cg__conv_checks[];
extern const size_t cg__conv_check_count;
extern const cg__selftest_case cg__pool_checks[];
extern const size_t cg__pool_check_count;
extern const cg__selftest_case cg__random_checks[];
extern const size_t cg__random_check_count;
extern const cg__selftest_case cg__loss_checks[];
extern const size_t cg__loss_check_count;
extern const cg__selftest_case cg__optim_checks[];
extern const size_t cg__optim_check_count;

/* The gradient check of one op (grad_checks.c) on each of its test cases: *passed, how many
 * cases ran, and the first disagreement in detail. */
cg_status cg__selftest_gradient(cg_context *ctx, const char *op, bool *passed, int *cases,
                                char *detail, size_t cap);

/* Compares n floats with expected values under |got - want| <= atol + rtol * |want|, writing
 * the first mismatches by index into detail. Returns true when all agree. */
bool cg__selftest_compare(const float *got, const double *want, size_t n, double atol,
                          double rtol, char *detail, size_t cap);

/* A kernel argument for cg__selftest_kernel: a float or int buffer filled from host data, or a
 * scalar. */
typedef enum cg__check_arg_kind {
    CG__ARG_F32_BUF,
    CG__ARG_I32_BUF,
    CG__ARG_F32,
    CG__ARG_U32,
    CG__ARG_I32,
} cg__check_arg_kind;

typedef struct cg__check_arg {
    cg__check_arg_kind kind;
    const float *f32s; /* CG__ARG_F32_BUF: n floats */
    const int *i32s;   /* CG__ARG_I32_BUF: n ints */
    size_t n;
    float f32;
    uint32_t u32;
    int32_t i32;
} cg__check_arg;

#define CG__F32_BUF(data, count) {.kind = CG__ARG_F32_BUF, .f32s = (data), .n = (count)}
#define CG__I32_BUF(data, count) {.kind = CG__ARG_I32_BUF, .i32s = (data), .n = (count)}
#define CG__F32(v) {.kind = CG__ARG_F32, .f32 = (v)}
#define CG__U32(v) {.kind = CG__ARG_U32, .u32 = (v)}
#define CG__I32(v) {.kind = CG__ARG_I32, .i32 = (v)}

/* Runs program/kernel once over `items` work-items (1-D) with the given arguments, reads back
 * the float buffer args[out] and compares it with want (args[out].n values) under the tolerance
 * of cg__selftest_compare. */
cg_status cg__selftest_kernel(cg_context *ctx, const char *program, const char *kernel,
                              const cg__check_arg *args, size_t nargs, size_t items, size_t out,
                              const double *want, double tol, bool *passed, char *detail,
                              size_t cap);

/* Runs an op through cg_op_run_host and compares its output, input gradients and parameter
 * gradients with the known answers given (NULL entries are not compared). Sizes come from the
 * op's shape rule. */
typedef struct cg__op_expect {
    const double *out;
    const double *din[CG_MAX_INPUTS];
    const double *dparams[CG_MAX_PARAMS];
} cg__op_expect;

cg_status cg__selftest_op(cg_context *ctx, cg_op_host_io *io, const cg__op_expect *want,
                          double tol, bool *passed, char *detail, size_t cap);

#endif
