/* `clgraph selftest`: compiles every kernel program for the chosen device, checks every kernel
 * against a known answer, one line each, and exits 1 when anything failed. */
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "clgraph/clgraph.h"
#include "core/common.h"

typedef struct counts {
    int passed, failed;
} counts;

static void print_line(const cg_selftest_line *line, void *user) {
    counts *c = user;
    if (line->passed)
        c->passed++;
    else
        c->failed++;
    if (line->kind == CG_SELFTEST_PROGRAM)
        printf("%-4s program %-46s %8.1f ms  %s\n", line->passed ? "ok" : "FAIL", line->name,
               line->ms, line->detail);
    else if (line->kind == CG_SELFTEST_GRADIENT)
        printf("%-4s grad    %-46s %8.1f ms  %s\n", line->passed ? "ok" : "FAIL", line->name,
               line->ms, line->detail);
    else
        printf("%-4s kernel  %-46s %8.1f ms  %s%s%s\n", line->passed ? "ok" : "FAIL", line->name,
               line->ms, line->program, line->detail[0] ? ": " : "", line->detail);
    fflush(stdout);
}

int cmd_selftest(int argc, char **argv) {
    const char *device = NULL;
    bool help = false, no_cache = false;
    const cli_option options[] = {
        {"--device", "D", "the device: 'P:D', gpu, cpu, or part of a name (default: "
                          "CLGRAPH_DEVICE, else the first GPU, else the first CPU)",
         &device, NULL},
        {"--no-cache", NULL, "compile every program afresh, without the disk cache", NULL,
         &no_cache},
    };
    int rc = cli_parse("selftest", "[--device D] [--no-cache]",
                       "Compiles every kernel for the device and checks each one against a small "
                       "known answer,\nthen every op's backward against central differences of "
                       "its forward on its test\ncases (the op tests' rows). Prints one line per "
                       "program, kernel and op; exits 1 when\nany check fails.",
                       argc, argv, options, CG__ARRAY_LEN(options), NULL, 0, NULL, &help);
    if (rc != CLI_OK || help)
        return rc;
    cg_context_options o = {.device = device, .no_cache = no_cache};
    cg_context *ctx = NULL;
    cg_status st = cg_context_create(&o, &ctx);
    if (st != CG_OK) {
        cli_report_error("opening the device", st);
        return CLI_FAILED;
    }
    const cg_device_info *d = cg_context_device(ctx);
    const char *cache = cg_context_cache_dir(ctx);
    /* A cache that cannot be used costs a compile per run, nothing else: say so. */
    struct stat sb;
    const char *note = "";
    if (cache && stat(cache, &sb) == 0 && !S_ISDIR(sb.st_mode))
        note = " (not a folder: kernels are compiled on every run; remove it or set "
               "XDG_CACHE_HOME)";
    else if (cache && stat(cache, &sb) == 0 && access(cache, W_OK) != 0)
        note = " (not writable: kernels not found there are compiled on every run)";
    printf("device %d:%d %s (%s, %s)\nkernel cache: %s%s\n", d->platform_index,
           d->device_index, d->name, cg_device_type_str(d->type), d->platform_name,
           cache ? cache : "off", note);
    counts c = {0, 0};
    int failures = 0;
    st = cg_selftest_run(ctx, print_line, &c, &failures);
    cg_context_destroy(ctx);
    if (st != CG_OK) {
        cli_report_error("running the self-test", st);
        return CLI_FAILED;
    }
    printf("selftest: %d passed, %d failed\n", c.passed, c.failed);
    return failures ? CLI_FAILED : CLI_OK;
}
