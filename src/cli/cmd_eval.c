/* `clgraph eval RUNDIR`: evaluates a finished run's saved weights again, each variant with its
 * descriptor and each repeat with its own weights and data seed, without training; the results
 * (table, report) go to a new folder, RUNDIR/eval-<time>/ or --out. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli/cli.h"
#include "clgraph/clgraph.h"
#include "core/common.h"
#include "pipelines/runner.h"

int cmd_eval(int argc, char **argv) {
    const char *pos[1], *device = NULL, *out = NULL, *variant = NULL;
    size_t n_pos = 0;
    bool help = false, force = false;
    const cli_option options[] = {
        {"--device", "D", "the device ('P:D', gpu, cpu, or part of a name)", &device, NULL},
        {"--out", "DIR", "the results folder (default: RUNDIR/eval-<time>/, made anew)", &out,
         NULL},
        {"--force", NULL, "let --out name a folder that holds files (they are replaced)", NULL,
         &force},
        {"--variant", "NAME", "evaluate only this variant", &variant, NULL},
    };
    int rc = cli_parse("eval", "RUNDIR [--device D] [--out DIR [--force]] [--variant NAME]",
                       "Evaluates a finished run's weights (RUNDIR/weights/) again without "
                       "training: each variant\nwith its descriptor as it ran, each repeat with "
                       "its own weights and data seed, on another\ndevice if you like. Writes a "
                       "new results folder with the table and report.html.",
                       argc, argv, options, CG__ARRAY_LEN(options), pos, 1, &n_pos, &help);
    if (rc != CLI_OK || help)
        return rc;
    if ((rc = cli_one_run_dir("eval", n_pos)) != CLI_OK)
        return rc;
    if (force && !out) {
        fprintf(stderr, "clgraph eval: error: --force goes with --out DIR\n");
        return CLI_USAGE;
    }
    char *command = cli_command_line("eval", argc, argv);
    cg_run_options o = {.from_run = pos[0], .file = pos[0], .device = device, .out_dir = out,
                        .force = force, .variant = variant, .no_training = true,
                        .command = command, .progress_bar = isatty(STDERR_FILENO)};
    cg_status st = cg_run(&o);
    free(command);
    if (st != CG_OK) {
        fprintf(stderr, "clgraph eval: error: %s\n", cg_error_message());
        return st == CG_ERR_PARSE || st == CG_ERR_SHAPE ? CLI_USAGE : CLI_FAILED;
    }
    return CLI_OK;
}
