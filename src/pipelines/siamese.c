/* The siamese pipeline: (a) pairs and triplets of two digit classes for a contrastive embedding,
 * with shifted test sets; (b) digit comparison, pairs of 14x14 digits. */
#include <string.h>

#include "pipelines/pipeline.h"

static const char *const keys[] = {"classes",   "task",     "mining", "neighbours",
                                   "negatives", "triplets", "shifts", "pair_weights", NULL};

static void defaults(cg_data_config *c) {
    cg__copy_str(c->task, sizeof c->task, "embedding");
    c->classes[0] = 4, c->classes[1] = 9;
    c->n_classes = 2;
    c->n_train = 1000, c->n_test = 1000;
}

static cg_status generate(const cg_data_config *c, const cg_images *train, const cg_images *test,
                          cg_dataset *out) {
    if (strcmp(c->task, "compare") == 0)
        return cg_gen_compare(c, train, test, out);
    if (strcmp(c->task, "embedding") == 0)
        return cg_gen_pairs(c, train, test, out);
    return cg__error(CG_ERR_INVALID_ARGUMENT,
                     "unknown siamese task '%s'; use embedding or compare", c->task);
}

const cg_pipeline cg__pipeline_siamese = {
    .name = "siamese",
    .summary = "contrastive embeddings of two digit classes; digit comparison",
    .data_keys = keys,
    .defaults = defaults,
    .generate = generate,
};
