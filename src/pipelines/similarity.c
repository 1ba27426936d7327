/* The similarity pipeline: the baseline's data and model plus a similarity loss on the
 * penultimate layer (pulling each class's features to their batch mean); the report sets it
 * against the baseline per epoch, with Welch's test of the final difference. */
#include "pipelines/pipeline.h"

static void defaults(cg_data_config *c) {
    (void)c;
}

const cg_pipeline cg__pipeline_similarity = {
    .name = "similarity",
    .summary = "the baseline plus a similarity loss on the penultimate layer",
    .data_keys = cg__digits_bg_keys,
    .defaults = defaults,
    .generate = cg_gen_digits_on_backgrounds,
    .default_report = cg__digits_bg_report,
};
