/* Double-precision CPU references of every op, for tests only. Each reference has the same
 * shape as the device op: inputs, parameters and attributes in; output (forward) or input and
 * parameter gradients (backward) out. Written for clarity, not speed. */
#ifndef CG_TEST_REF_OPS_H
#define CG_TEST_REF_OPS_H

#include "ops/ops.h"

typedef struct ref_io {
    const cg_op_attrs *a;
    int n_in;
    cg_shape in_shape[CG_MAX_INPUTS];
    const double *in[CG_MAX_INPUTS];
    int n_params;
    cg_shape param_shape[CG_MAX_PARAMS];
    const double *params[CG_MAX_PARAMS];
    cg_shape out_shape;
    double *out;                    /* forward writes */
    const double *dout;             /* backward reads */
    double *din[CG_MAX_INPUTS];     /* backward writes (overwrites); NULL: not wanted */
    double *dparams[CG_MAX_PARAMS]; /* backward writes (overwrites) */
    bool training;
    uint32_t seed[2];
    uint32_t counter;
} ref_io;

typedef struct ref_op {
    const char *name;
    void (*forward)(ref_io *io);
    void (*backward)(ref_io *io);
} ref_op;

/* Philox4x32-10 on the CPU, and the draws the device ops derive from it for element i of a
 * launch (counter {i, launch, 0, 0}, key seed). */
void ref_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);
double ref_uniform(uint32_t i, uint32_t launch, const uint32_t seed[2]);
double ref_normal(uint32_t i, uint32_t launch, const uint32_t seed[2]);

/* The reference of the op of this name, or NULL. */
const ref_op *ref_find(const char *name);

size_t ref_numel(const cg_shape *s);

#endif
