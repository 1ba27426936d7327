/* A minimal test harness: CHECK records a failure with its location and goes on, so one run
 * shows every broken expectation; tests that need a device skip (exit 77) when none exists,
 * unless CLGRAPH_REQUIRE_DEVICE=1 makes that a failure. */
#ifndef CG_TEST_HARNESS_H
#define CG_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgraph/clgraph.h"

static int cgt_failures = 0;
static int cgt_checks = 0;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        cgt_checks++;                                                                              \
        if (!(cond)) {                                                                             \
            cgt_failures++;                                                                        \
            fprintf(stderr, "%s:%d: FAILED: %s\n    ", __FILE__, __LINE__, #cond);                \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

#define CHECK_OK(expr)                                                                             \
    do {                                                                                           \
        cg_status cgt_st = (expr);                                                                 \
        CHECK(cgt_st == CG_OK, "%s -> %s: %s", #expr, cg_status_str(cgt_st),                       \
              cg_error_message());                                                                 \
    } while (0)

#define CHECK_CONTAINS(text, part)                                                                 \
    CHECK(strstr((text), (part)) != NULL, "expected to find '%s' in:\n%s", (part), (text))

/* Exit status meaning "skipped" to meson. */
#define CGT_SKIP 77

static inline int cgt_require_device(void) {
    const char *r = getenv("CLGRAPH_REQUIRE_DEVICE");
    return r && strcmp(r, "1") == 0;
}

/* Opens a context on the default device, or ends the test: skipped when no OpenCL device exists
 * (failed under CLGRAPH_REQUIRE_DEVICE=1), failed on any other error. */
static inline cg_context *cgt_open(const cg_context_options *options) {
    cg_context *ctx = NULL;
    cg_status st = cg_context_create(options, &ctx);
    if (st == CG_OK)
        return ctx;
    if (st == CG_ERR_NO_PLATFORM && !cgt_require_device()) {
        fprintf(stderr, "skipped: no OpenCL device (%s)\n", cg_error_message());
        exit(CGT_SKIP);
    }
    fprintf(stderr, "cannot open a device: %s: %s\n", cg_status_str(st), cg_error_message());
    exit(1);
}

static inline int cgt_finish(const char *name) {
    printf("%s: %d checks, %d failed\n", name, cgt_checks, cgt_failures);
    return cgt_failures ? 1 : 0;
}

#endif
