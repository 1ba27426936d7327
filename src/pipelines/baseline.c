/* The baseline pipeline: LeNet-5 on digits composited onto per-class background pools, with
 * in-distribution and out-of-distribution (held-out backgrounds) test sets. */
#include "pipelines/pipeline.h"

const char *const cg__digits_bg_keys[] = {"backgrounds", "cifar10", "pools_per_class", "ood_pool",
                                          NULL};

static void defaults(cg_data_config *c) {
    (void)c; /* the shared defaults are the study's */
}

/* The poster's figure: accuracy per epoch in and out of distribution, one line per variant. */
const char cg__digits_bg_report[] =
    "figures:\n"
    "  - {type: epochs, metric: accuracy, splits: [test_id, test_ood],\n"
    "     title: 'Test accuracy per epoch: in distribution (solid), out of distribution "
    "(dashed)'}\n";

const cg_pipeline cg__pipeline_baseline = {
    .name = "baseline",
    .summary = "digits on per-class backgrounds: in- and out-of-distribution accuracy",
    .data_keys = cg__digits_bg_keys,
    .defaults = defaults,
    .generate = cg_gen_digits_on_backgrounds,
    .default_report = cg__digits_bg_report,
};
