/* `clgraph selftest`: compiles every kernel program for a device and checks every kernel
 * against a small known answer. */
#ifndef CLGRAPH_SELFTEST_H
#define CLGRAPH_SELFTEST_H

#include <stdbool.h>

#include "device.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cg_selftest_kind {
    CG_SELFTEST_PROGRAM, /* one .cl file compiled (or loaded from the cache) */
    CG_SELFTEST_KERNEL,  /* one kernel checked against its known answer */
    CG_SELFTEST_GRADIENT, /* one op's backward against differences of its forward, on its
                             test cases (name: the op, program: "ops") */
} cg_selftest_kind;

typedef struct cg_selftest_line {
    cg_selftest_kind kind;
    const char *name;    /* the program file ("core.cl") or the kernel ("fill_f32") */
    const char *program; /* the program file the kernel lives in */
    bool passed;
    double ms;          /* compile or load time for a program, run time for a kernel check */
    const char *detail; /* "built, cache miss", or the first mismatch of a failed check */
} cg_selftest_line;

typedef void (*cg_selftest_callback)(const cg_selftest_line *line, void *user);

/* Runs every check, calling back once per program and once per kernel as each finishes.
 * *failures receives the number of failed lines. Returns CG_OK when the run itself could be
 * carried out, whatever the checks found. */
cg_status cg_selftest_run(cg_context *ctx, cg_selftest_callback callback, void *user,
                          int *failures);

#ifdef __cplusplus
}
#endif

#endif
