/* The selftest on the default device: every program compiles, every kernel passes its
 * known-answer check and every op's backward agrees with differences of its forward. Then a kernel file with a kernel that has no check (through
 * CLGRAPH_KERNEL_DIR) must make the selftest fail, naming that kernel. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device/device_internal.h"
#include "harness.h"

typedef struct seen {
    int programs, kernels, gradients, gradients_failed, failed;
    char failed_names[1024];
} seen;

static void collect(const cg_selftest_line *line, void *user) {
    seen *s = user;
    if (line->kind == CG_SELFTEST_PROGRAM)
        s->programs++;
    else if (line->kind == CG_SELFTEST_GRADIENT)
        s->gradients++, s->gradients_failed += !line->passed;
    else
        s->kernels++;
    if (!line->passed) {
        s->failed++;
        size_t used = strlen(s->failed_names);
        snprintf(s->failed_names + used, sizeof s->failed_names - used, "%s (%s) ", line->name,
                 line->detail);
    }
}

/* Runs the whole selftest on the default device (a fresh context each time, so kernel files
 * are read anew). */
static seen run_all(void) {
    cg_context *ctx = cgt_open(NULL);
    seen s = {0};
    int failures = -1;
    CHECK_OK(cg_selftest_run(ctx, collect, &s, &failures));
    CHECK(failures == s.failed, "failure count %d agrees with the lines %d", failures, s.failed);
    cg_context_destroy(ctx);
    return s;
}

/* Writes the built-in kernel files into dir; in `file`, `from` is replaced by `to` (when
 * given) and `extra` is appended. */
static void write_kernels(const char *dir, const char *file, const char *from, const char *to,
                          const char *extra) {
    char path[256];
    for (size_t i = 0; i < cg__kernel_source_count; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, cg__kernel_sources[i].name);
        FILE *out = fopen(path, "w");
        CHECK(out != NULL, "write %s", path);
        if (!out)
            continue;
        const char *text = cg__kernel_sources[i].text;
        bool core = strcmp(cg__kernel_sources[i].name, file) == 0;
        const char *at = core && from ? strstr(text, from) : NULL;
        CHECK(!core || !from || at, "'%s' found in %s", from, file);
        if (at) {
            fwrite(text, 1, (size_t)(at - text), out);
            fputs(to, out);
            fputs(at + strlen(from), out);
        } else {
            fputs(text, out);
        }
        if (core)
            fputs(extra, out);
        fclose(out);
    }
}

int main(void) {
    seen s = run_all();
    CHECK(s.failed == 0, "failures: %s", s.failed_names);
    CHECK(s.programs >= 1 && s.kernels >= 5, "%d programs, %d kernels", s.programs, s.kernels);


    /* A kernel file with one kernel too many: the selftest names it. */
    char dir[] = "/tmp/clgraph-selftest-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    write_kernels(dir, "core.cl", NULL, NULL,
                  "\n__kernel void unchecked_extra(__global float *x) { x[0] = 0.0f; }\n");
    setenv("CLGRAPH_KERNEL_DIR", dir, 1);
    seen s2 = run_all();
    CHECK(s2.failed == 1, "exactly the unchecked kernel fails: %d (%s)", s2.failed,
          s2.failed_names);
    CHECK_CONTAINS(s2.failed_names, "unchecked_extra");
    CHECK_CONTAINS(s2.failed_names, "no known-answer check");

    /* A fill kernel that is wrong at one index: its check fails and names the index. */
    write_kernels(dir, "core.cl", "out[i] = value;", "out[i] = value + (i == 17);", "");
    seen s3 = run_all();
    CHECK(s3.failed == 1, "exactly fill_f32 fails: %d (%s)", s3.failed, s3.failed_names);
    CHECK_CONTAINS(s3.failed_names, "fill_f32");
    CHECK_CONTAINS(s3.failed_names, "[17] got 3.5 want 2.5");

    /* tanh's backward without the square: its known answer and its gradient check both fail,
     * the second against the differences of the (right) forward. */
    write_kernels(dir, "elementwise.cl", "dy[i] * (1.0f - y[i] * y[i])", "dy[i] * (1.0f - y[i])",
                  "");
    seen s4 = run_all();
    CHECK(s4.failed == 2 && s4.gradients_failed == 1,
          "the tanh kernel and its gradient fail: %d, %d (%s)", s4.failed, s4.gradients_failed,
          s4.failed_names);
    CHECK_CONTAINS(s4.failed_names, "tanh (input (2, 3, 13, 13): the gradient along a direction");
    CHECK(s.gradients >= 30 && s.gradients_failed == 0,
          "every op with a backward has its gradient checked: %d", s.gradients);

    char path[256];
    for (size_t i = 0; i < cg__kernel_source_count; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, cg__kernel_sources[i].name);
        remove(path);
    }
    rmdir(dir);
    return cgt_finish("test_selftest");
}
