/* The VAE pipeline: unlabeled, labeled and two anomaly-bearing test sets of 32x32 images. */
#include "pipelines/pipeline.h"

static const char *const keys[] = {"classes", "labeled_per_class", NULL};

static void defaults(cg_data_config *c) {
    for (int k = 0; k < 5; k++)
        c->classes[k] = k;
    c->n_classes = 5;
    c->n_labeled = 20;
}

const cg_pipeline cg__pipeline_vae = {
    .name = "vae",
    .summary = "a VAE, a classifier transferred onto its latent space, anomaly scores",
    .data_keys = keys,
    .defaults = defaults,
    .generate = cg_gen_vae,
};
