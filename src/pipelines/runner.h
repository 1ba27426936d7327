/* Running an experiment: every variant times every repeat, each training on device-resident
 * data and evaluating every epoch, then the results folder: run.json (what ran), the resolved
 * descriptors, device.txt, metrics.csv, per-sample values where the experiment collects them,
 * the weights as .safetensors, and the report (summary.json, figures, report.html; see
 * report/report.h) with the final table. */
#ifndef CG_PIPELINES_RUNNER_H
#define CG_PIPELINES_RUNNER_H

#include "clgraph/clgraph.h"

typedef struct cg_run_options {
    const char *file;
    const char *device;   /* NULL: the experiment's device:, else CLGRAPH_DEVICE / default */
    int repeats;          /* 0: as the experiment says */
    int epochs;           /* epochs of every stage; 0: as the experiment says */
    bool no_training;     /* evaluate only (--epochs 0), the weights from init */
    const char *out_dir;  /* NULL: runs/<name>/<time>/ (made anew, never reused) */
    bool force;           /* allow out_dir to hold files already (they are replaced) */
    const char *init;     /* NULL: the experiment's init:, if any */
    bool init_partial;    /* tensors of init that match no parameter are left, not an error */
    const char *variant;  /* NULL: every variant (or the base when there are none) */
    const char *from_run; /* evaluate this finished run's weights with its descriptors (no
                             training; file is not read); results in <from_run>/eval-<time>/ */
    const char *const *sets;
    int n_sets;
    const char *command;  /* the command line, recorded with the results */
    bool progress_bar;    /* redraw one progress line (a terminal) instead of a line per epoch */
} cg_run_options;

/* Runs it; progress goes to stderr, the final table to stdout. */
cg_status cg_run(const cg_run_options *o);

#endif
