/* The clgraph command: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "clgraph/clgraph.h"
#include "core/common.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"devices", cmd_devices, "list every OpenCL platform and device"},
    {"selftest", cmd_selftest, "compile every kernel for a device and check each one"},
    {"run", cmd_run, "train and evaluate an experiment, with reports"},
    {"validate", cmd_validate, "check an experiment file and print its layer table"},
    {"eval", cmd_eval, "evaluate a finished run's weights again, without training"},
    {"report", cmd_report, "rebuild a results folder's report (table, figures, report.html)"},
    {"data", cmd_data, "preview or export the data an experiment trains on"},
    {"bench", cmd_bench, "time every kernel and model on a device, against its peak"},
    {"tune", cmd_tune, "measure the fastest kernel settings for a device and save them"},
};

static void usage(FILE *out) {
    fprintf(out, "Usage: clgraph [--version] [--help] COMMAND [OPTIONS]\n\n"
                 "Runs small deep-learning experiments on any OpenCL device.\n\nCommands:\n");
    for (size_t i = 0; i < CG__ARRAY_LEN(commands); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'clgraph COMMAND --help' describes a command's options.\n"
                 "Environment: CLGRAPH_DEVICE (device choice), CLGRAPH_KERNEL_DIR (load .cl files "
                 "from a folder),\n  CLGRAPH_NO_CACHE=1 (do not cache compiled kernels), "
                 "XDG_CACHE_HOME (cache location),\n  CLGRAPH_DATA (a folder with mnist/ and "
                 "fashion-mnist/ data).\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("clgraph %s\n", cg_version());
        return CLI_OK;
    }
    const char *names[CG__ARRAY_LEN(commands)];
    for (size_t i = 0; i < CG__ARRAY_LEN(commands); i++) {
        names[i] = commands[i].name;
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    }
    const char *close = cg__closest(cmd, names, CG__ARRAY_LEN(commands));
    fprintf(stderr, "clgraph: error: unknown command '%s'", cmd);
    if (close)
        fprintf(stderr, " (did you mean '%s'?)", close);
    fprintf(stderr, "; see 'clgraph --help'\n");
    return CLI_USAGE;
}
