/* `clgraph data preview|export EXPERIMENT.yaml`: builds the data an experiment would train on and
 * shows it as a PNG grid, or writes it as NumPy files for use from Python. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "clgraph/clgraph.h"
#include "core/common.h"
#include "data/data.h"
#include "exp/data_section.h"
#include "pipelines/pipeline.h"

static int build(const char *file, cg_exp_data *exp, cg_dataset *d) {
    cg_status st = cg_exp_data_load(file, exp);
    if (st != CG_OK) {
        fprintf(stderr, "clgraph data: error: %s\n", cg_error_message());
        return CLI_USAGE;
    }
    fprintf(stderr, "generating the %s data of '%s' (seed %llu)...\n", exp->pipeline, exp->name,
            (unsigned long long)exp->data.seed);
    double t0 = cg__now_ms();
    st = cg_data_generate(exp->pipeline, &exp->data, d);
    if (st != CG_OK) {
        fprintf(stderr, "clgraph data: error: %s: %s\n", cg_status_str(st), cg_error_message());
        return CLI_FAILED;
    }
    fprintf(stderr, "from %s, in %.1f s:\n", d->source, (cg__now_ms() - t0) / 1000);
    for (int s = 0; s < d->n_splits; s++) {
        fprintf(stderr, "  %-16s %6d samples:", d->splits[s].name, cg_split_count(&d->splits[s]));
        for (int k = 0; k < d->splits[s].n_arrays; k++) {
            char shape[64];
            cg_shape_str(&d->splits[s].arrays[k].shape, shape, sizeof shape);
            fprintf(stderr, " %s %s", d->splits[s].arrays[k].name, shape);
        }
        fprintf(stderr, "\n");
    }
    return CLI_OK;
}

static void print_written(const char *path, void *user) {
    (*(int *)user)++;
    printf("%s\n", path);
}

static int preview(int argc, char **argv) {
    const char *out = NULL, *samples_s = NULL;
    const char *pos[1];
    size_t n_pos = 0;
    bool help = false;
    const cli_option options[] = {
        {"--out", "FILE", "the PNG to write (default: <experiment name>-preview.png)", &out, NULL},
        {"--samples", "N", "samples shown per split (default 8)", &samples_s, NULL},
    };
    int rc = cli_parse("data preview", "EXPERIMENT.yaml [--out FILE.png] [--samples N]",
                       "Builds the data the experiment trains and tests on and writes a PNG grid "
                       "of the first\nsamples of every split, with their labels.",
                       argc, argv, options, CG__ARRAY_LEN(options), pos, 1, &n_pos, &help);
    if (rc != CLI_OK || help)
        return rc;
    if ((rc = cli_one_experiment("data preview", n_pos)) != CLI_OK)
        return rc;
    int samples = 8;
    if (samples_s && ((samples = atoi(samples_s)) < 1 || samples > 64)) {
        fprintf(stderr, "clgraph data preview: error: --samples %s: give 1 to 64\n", samples_s);
        return CLI_USAGE;
    }
    cg_exp_data exp;
    cg_dataset d;
    if ((rc = build(pos[0], &exp, &d)) != CLI_OK)
        return rc;
    char path[4096];
    snprintf(path, sizeof path, "%s", out ? out : "");
    if (!out)
        snprintf(path, sizeof path, "%s-preview.png", exp.name);
    cg_status st = cg_dataset_preview_png(&d, path, samples);
    cg_dataset_free(&d);
    if (st != CG_OK) {
        fprintf(stderr, "clgraph data preview: error: %s\n", cg_error_message());
        return CLI_FAILED;
    }
    printf("%s\n", path);
    return CLI_OK;
}

static int export_npy(int argc, char **argv) {
    const char *out = NULL;
    const char *pos[1];
    size_t n_pos = 0;
    bool help = false;
    const cli_option options[] = {
        {"--out", "DIR", "the folder to write the .npy files into (created)", &out, NULL},
    };
    int rc = cli_parse("data export", "EXPERIMENT.yaml --out DIR",
                       "Builds the data the experiment trains and tests on and writes every split "
                       "as NumPy files,\nDIR/<split>_<array>.npy: images float32 NCHW as the "
                       "network sees them, labels and pair\ntargets int64. In Python: "
                       "numpy.load('DIR/train_x.npy').",
                       argc, argv, options, CG__ARRAY_LEN(options), pos, 1, &n_pos, &help);
    if (rc != CLI_OK || help)
        return rc;
    if (n_pos != 1 || !out) {
        fprintf(stderr, "clgraph data export: error: name an experiment file and --out DIR\n");
        return CLI_USAGE;
    }
    cg_exp_data exp;
    cg_dataset d;
    if ((rc = build(pos[0], &exp, &d)) != CLI_OK)
        return rc;
    int count = 0;
    cg_status st = cg_dataset_export_npy(&d, out, print_written, &count);
    cg_dataset_free(&d);
    if (st != CG_OK) {
        fprintf(stderr, "clgraph data export: error: %s\n", cg_error_message());
        return CLI_FAILED;
    }
    fprintf(stderr, "%d files written to %s\n", count, out);
    return CLI_OK;
}

int cmd_data(int argc, char **argv) {
    if (argc >= 1 && strcmp(argv[0], "preview") == 0)
        return preview(argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "export") == 0)
        return export_npy(argc - 1, argv + 1);
    FILE *o = argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) ? stdout
                                                                                          : stderr;
    fprintf(o, "Usage: clgraph data preview EXPERIMENT.yaml [--out FILE.png] [--samples N]\n"
               "       clgraph data export EXPERIMENT.yaml --out DIR\n\n"
               "Builds the data an experiment trains on, to look at (preview) or to load in "
               "Python (export).\n'clgraph data preview --help' and 'clgraph data export --help' "
               "say more.\n");
    if (o == stdout)
        return CLI_OK;
    if (argc >= 1)
        fprintf(stderr, "clgraph data: error: unknown subcommand '%s'\n", argv[0]);
    return CLI_USAGE;
}
