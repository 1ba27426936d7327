/* The selftest on the default device: every program compiles and every kernel passes its
 * known-answer check. Then a kernel file with a kernel that has no check (through
 * CLGRAPH_KERNEL_DIR) must make the selftest fail, naming that kernel. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device/device_internal.h"
#include "harness.h"

typedef struct seen {
    int programs, kernels, failed;
    char failed_names[1024];
} seen;

static void collect(const cg_selftest_line *line, void *user) {
    seen *s = user;
    if (line->kind == CG_SELFTEST_PROGRAM)
        s->programs++;
    else
        s->kernels++;
    if (!line->passed) {
        s->failed++;
        size_t used = strlen(s->failed_names);
        snprintf(s->failed_names + used, sizeof s->failed_names - used, "%s (%s) ", line->name,
                 line->detail);
    }
}

int main(void) {
    cg_context *ctx = cgt_open(NULL);
    seen s = {0};
    int failures = -1;
    CHECK_OK(cg_selftest_run(ctx, collect, &s, &failures));
    CHECK(failures == 0 && s.failed == 0, "failures: %s", s.failed_names);
    CHECK(s.programs >= 1 && s.kernels >= 5, "%d programs, %d kernels", s.programs, s.kernels);
    cg_context_destroy(ctx);

    /* The built-in kernel files written to a folder, core.cl with one kernel too many. */
    char dir[] = "/tmp/clgraph-selftest-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[256];
    for (size_t i = 0; i < cg__kernel_source_count; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, cg__kernel_sources[i].name);
        FILE *out = fopen(path, "w");
        CHECK(out != NULL, "write %s", path);
        if (!out)
            continue;
        fputs(cg__kernel_sources[i].text, out);
        if (strcmp(cg__kernel_sources[i].name, "core.cl") == 0)
            fputs("\n__kernel void unchecked_extra(__global float *x) { x[0] = 0.0f; }\n", out);
        fclose(out);
    }
    setenv("CLGRAPH_KERNEL_DIR", dir, 1);
    ctx = cgt_open(NULL);
    seen s2 = {0};
    CHECK_OK(cg_selftest_run(ctx, collect, &s2, &failures));
    CHECK(failures == 1, "exactly the unchecked kernel fails: %d (%s)", failures,
          s2.failed_names);
    CHECK_CONTAINS(s2.failed_names, "unchecked_extra");
    CHECK_CONTAINS(s2.failed_names, "no known-answer check");
    cg_context_destroy(ctx);
    for (size_t i = 0; i < cg__kernel_source_count; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, cg__kernel_sources[i].name);
        remove(path);
    }
    rmdir(dir);
    return cgt_finish("test_selftest");
}
