/* The denoising-autoencoder pipeline: MNIST or Fashion-MNIST classification, open-set and
 * one-class splits, and the three-rings toy problem with its grid. */
#include <stdio.h>
#include <string.h>

#include "pipelines/pipeline.h"

static const char *const keys[] = {"classes", "task", "grid", "fooling_trials", NULL};

static void defaults(cg_data_config *c) {
    cg__copy_str(c->task, sizeof c->task, "classify");
    for (int k = 0; k < 6; k++)
        c->classes[k] = k;
    c->n_classes = 6;
}

static bool needs_images(const cg_data_config *c) {
    return strcmp(c->task, "rings") != 0;
}

static cg_status generate(const cg_data_config *c, const cg_images *train, const cg_images *test,
                          cg_dataset *out) {
    if (needs_images(c))
        return cg_gen_classes(c, train, test, out);
    snprintf(out->source, sizeof out->source, "three rings (generated)");
    return cg_gen_rings(c, out);
}

const cg_pipeline cg__pipeline_dae = {
    .name = "dae",
    .summary = "denoising autoencoders against overgeneralisation: classify, open set, one "
               "class, rings",
    .data_keys = keys,
    .defaults = defaults,
    .needs_images = needs_images,
    .generate = generate,
    .paper = "A. Spigler, \"Denoising Autoencoders for Overgeneralization in Neural Networks\", "
             "IEEE TPAMI 2019",
};
