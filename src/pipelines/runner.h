/* Running an experiment: every variant times every repeat, each training on device-resident
 * data and evaluating every epoch, then the reports: metrics.csv, summary.json, the weights as
 * .safetensors, the resolved descriptors, the device, and a table of means with 95% intervals. */
#ifndef CG_PIPELINES_RUNNER_H
#define CG_PIPELINES_RUNNER_H

#include "clgraph/clgraph.h"

typedef struct cg_run_options {
    const char *file;
    const char *device;   /* NULL: the experiment's device:, else CLGRAPH_DEVICE / default */
    int repeats, epochs;  /* 0: as the experiment says */
    const char *out_dir;  /* NULL: runs/<name>/<time>/ */
    const char *init;     /* NULL: the experiment's init:, if any */
    const char *variant;  /* NULL: every variant (or the base when there are none) */
    const char *const *sets;
    int n_sets;
    bool progress_bar;    /* redraw one progress line (a terminal) instead of a line per epoch */
} cg_run_options;

/* Runs it; progress goes to stderr, the final table to stdout. */
cg_status cg_run(const cg_run_options *o);

/* The two-sided 95% Student t quantile for df degrees of freedom. */
double cg_t95(int df);

#endif
