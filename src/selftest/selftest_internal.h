/* The self-test registry: each kernel family lists one known-answer check per kernel. */
#ifndef CG_SELFTEST_INTERNAL_H
#define CG_SELFTEST_INTERNAL_H

#include "clgraph/selftest.h"
#include "device/device_internal.h"

/* One check. It runs the kernel on a small input and compares with a known answer, writing the
 * first mismatch (by index) into detail. It returns a status only when it could not run. */
typedef cg_status (*cg__selftest_fn)(cg_context *ctx, bool *passed, char *detail, size_t cap);

typedef struct cg__selftest_case {
    const char *program; /* "core.cl", or a library name such as "clblast" */
    const char *kernel;  /* the kernel's name in the program */
    cg__selftest_fn run;
} cg__selftest_case;

extern const cg__selftest_case cg__core_checks[];
extern const size_t cg__core_check_count;

/* Compares n floats with expected values under |got - want| <= atol + rtol * |want|, writing
 * the first mismatches by index into detail. Returns true when all agree. */
bool cg__selftest_compare(const float *got, const double *want, size_t n, double atol,
                          double rtol, char *detail, size_t cap);

#endif
