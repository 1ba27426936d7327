/* `clgraph run EXPERIMENT.yaml`: trains and evaluates every variant and repeat, writes the run
 * folder and prints the table of results. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "clgraph/clgraph.h"
#include "core/common.h"
#include "pipelines/runner.h"

/* SIGINT and SIGTERM (what a batch system sends before it preempts a job): the run finishes its
 * step, writes a checkpoint and its files, and exits 128 + the signal. A second one ends the
 * process at once; every file is still whole, as each is written beside and renamed. */
static volatile sig_atomic_t stop_signal = 0;

static void on_stop(int sig) {
    if (stop_signal)
        _exit(128 + sig);
    stop_signal = sig;
    static const char msg[] = "\nclgraph: stopping after this step (a checkpoint is written); "
                              "press Ctrl-C again to stop at once\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
}

int cmd_run(int argc, char **argv) {
    const char *pos[1], *sets[32], *device = NULL, *repeats = NULL, *epochs = NULL, *out = NULL;
    const char *init = NULL, *variant = NULL, *resume = NULL;
    size_t n_pos = 0;
    int n_sets = 0;
    bool help = false, force = false, init_partial = false, allow_nan = false;
    char *rest[256];
    int n_rest = 0;
    if (!cli_take_sets("run", argc < 256 ? argc : 256, argv, sets, 32, &n_sets, rest, &n_rest))
        return CLI_USAGE;
    const cli_option options[] = {
        {"--device", "D", "the device ('P:D', gpu, cpu, or part of a name)", &device, NULL},
        {"--repeats", "N", "repeats per variant (default: the experiment's)", &repeats, NULL},
        {"--epochs", "N", "epochs of every stage (default: the experiment's); 0 evaluates only",
         &epochs, NULL},
        {"--out", "DIR", "the results folder (default: runs/<name>/<time>/, made anew)", &out,
         NULL},
        {"--force", NULL, "let --out name a folder that holds files (they are replaced)", NULL,
         &force},
        {"--init", "FILE", "start from these weights (.safetensors)", &init, NULL},
        {"--init-partial", NULL, "let --init hold tensors that match no parameter (else an "
                                 "error names them)",
         NULL, &init_partial},
        {"--variant", "NAME", "run only this variant", &variant, NULL},
        {"--set", "KEY=VALUE", "override a key, e.g. train.batch=128 (repeatable)", NULL, NULL},
        {"--resume", "RUNDIR", "go on with an interrupted run from its checkpoints (alone, "
                               "without EXPERIMENT.yaml)",
         &resume, NULL},
        {"--allow-nan", NULL, "train on when a loss becomes NaN or infinite (else that repeat "
                              "stops, named)",
         NULL, &allow_nan},
    };
    int rc = cli_parse("run", "EXPERIMENT.yaml [--device D] [--repeats N] [--epochs N] "
                              "[--out DIR [--force]] [--init FILE [--init-partial]] "
                              "[--set KEY=VALUE]... [--allow-nan]\n       clgraph run --resume "
                              "RUNDIR [--device D]",
                       "Trains and evaluates the experiment: every variant times every repeat. "
                       "Shows progress,\nwrites report.html (the table and the figures), "
                       "summary.json, metrics.csv, the weights\n(.safetensors, PyTorch names), "
                       "the resolved descriptors and the device into a new\nresults folder, and "
                       "ends with a table of each metric: mean ± standard deviation over\nthe "
                       "repeats, the 95% confidence interval from 3 repeats, and Welch's test "
                       "against the\nreference variant. --epochs 0 --init FILE evaluates saved "
                       "weights without training.\nEach repeat keeps a checkpoint (every epoch, "
                       "and every 10 minutes inside one); Ctrl-C\nor SIGTERM stops after the "
                       "current step with everything written, and --resume\nRUNDIR goes on "
                       "where it stopped, with the same results as a run never stopped.",
                       n_rest, rest, options, CG__ARRAY_LEN(options), pos, 1, &n_pos, &help);
    if (rc != CLI_OK || help)
        return rc;
    if (resume) {
        const char *clash = n_pos ? pos[0] : n_sets ? "--set" : repeats ? "--repeats"
                            : epochs ? "--epochs" : out ? "--out" : init ? "--init"
                            : variant ? "--variant" : NULL;
        if (clash) {
            fprintf(stderr, "clgraph run: error: --resume goes on with the run as it was "
                            "started; it takes no %s (only --device)\n",
                    clash);
            return CLI_USAGE;
        }
    } else if ((rc = cli_one_experiment("run", n_pos)) != CLI_OK) {
        return rc;
    }
    cg_run_options o = {.file = resume ? NULL : pos[0], .device = device, .out_dir = out,
                        .resume = resume, .allow_nan = allow_nan, .stop = &stop_signal,
                        .force = force, .init = init, .init_partial = init_partial,
                        .variant = variant, .sets = sets,
                        .n_sets = n_sets, .progress_bar = isatty(STDERR_FILENO)};
    if (repeats && (rc = cli_positive("run", "--repeats", repeats, &o.repeats)) != CLI_OK)
        return rc;
    if (epochs && (rc = cli_count("run", "--epochs", epochs, 0, &o.epochs)) != CLI_OK)
        return rc;
    o.no_training = epochs && o.epochs == 0;
    if (force && !out) {
        fprintf(stderr, "clgraph run: error: --force goes with --out DIR (a new folder is made "
                        "otherwise)\n");
        return CLI_USAGE;
    }
    char *command = cli_command_line("run", argc, argv);
    o.command = command;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    cg_status st = cg_run(&o);
    free(command);
    if (st == CG_ERR_INTERRUPTED && stop_signal) {
        fprintf(stderr, "clgraph run: %s\n", cg_error_message());
        return 128 + stop_signal;
    }
    if (st != CG_OK) {
        fprintf(stderr, "clgraph run: error: %s\n", cg_error_message());
        return st == CG_ERR_PARSE || st == CG_ERR_SHAPE ? CLI_USAGE : CLI_FAILED;
    }
    return CLI_OK;
}
