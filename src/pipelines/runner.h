/* Running an experiment: every variant times every repeat, each training on device-resident
 * data and evaluating every epoch, then the results folder: run.json (what ran), the resolved
 * descriptors, device.txt, metrics.csv, per-sample values where the experiment collects them,
 * the weights as .safetensors, and the report (summary.json, figures, report.html; see
 * report/report.h) with the final table. */
#ifndef CG_PIPELINES_RUNNER_H
#define CG_PIPELINES_RUNNER_H

#include <signal.h>

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
    const char *resume;   /* go on with this interrupted run: every (variant, repeat) without
                             weights continues from its checkpoint (or starts again); file and
                             sets are not read, the descriptors are */
    bool allow_nan;       /* train on when a loss becomes NaN or infinite (else that repeat
                             stops, with the epoch, step and loss named) */
    /* Set (to the signal's number) by a signal handler: the run finishes the step, writes a
     * checkpoint, the metrics and a report marked interrupted, and returns
     * CG_ERR_INTERRUPTED. NULL: never. */
    const volatile sig_atomic_t *stop;
    double checkpoint_every_s; /* a checkpoint inside an epoch after this long; 0: 600 s */
} cg_run_options;

/* Runs it; progress goes to stderr, the final table to stdout. Each (variant, repeat) keeps a
 * checkpoint in checkpoints/ (parameters, optimizer state, the random-number counter, the place
 * in the data and how many metrics rows it has written) at every epoch's end, every
 * checkpoint_every_s inside an epoch and when stopped; it is removed with the repeat's weights
 * written. */
cg_status cg_run(const cg_run_options *o);

#endif
