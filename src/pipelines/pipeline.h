/* The pipelines: one row per pipeline, as the op table has one per op. A row names the
 * pipeline, lists the `data:` keys it takes (a key another pipeline takes is an error on this
 * one), sets their defaults, generates its splits from the loaded images, and says what its
 * report shows by default. The runner (runner.c) keeps the generic loop and calls these; no other
 * file spells a pipeline's name. */
#ifndef CG_PIPELINES_PIPELINE_H
#define CG_PIPELINES_PIPELINE_H

#include "data/data.h"

typedef struct cg_pipeline {
    const char *name;
    const char *summary;
    /* The data: keys it takes besides the ones every pipeline takes (dataset, path, train,
     * test); NULL-terminated. */
    const char *const *data_keys;
    /* The study's defaults for every knob (the config is zeroed first). */
    void (*defaults)(cg_data_config *c);
    /* Whether this configuration needs the dataset's images (the dAE rings do not). */
    bool (*needs_images)(const cg_data_config *c);
    /* Builds every split; train and test are NULL when needs_images said no. */
    cg_status (*generate)(const cg_data_config *c, const cg_images *train, const cg_images *test,
                          cg_dataset *out);
    /* The report's sections when the experiment gives no `report:` of its own, as the YAML of a
     * `report:` mapping (NULL: the generic figures only). */
    const char *default_report;
    /* The original study, cited in the report; NULL when there is none to cite. */
    const char *paper;
} cg_pipeline;

/* The pipeline of this name, or NULL. */
const cg_pipeline *cg_pipeline_find(const char *name);

/* Every pipeline, in table order, for listings and errors. */
const cg_pipeline *cg_pipeline_at(size_t index);
size_t cg_pipeline_count(void);

/* The keys every pipeline's data takes. */
extern const char *const cg_pipeline_common_keys[];

/* Whether pipeline p takes data key k. */
bool cg_pipeline_takes(const cg_pipeline *p, const char *key);

/* The defaults of a pipeline; false for an unknown name. */
bool cg_data_defaults(const char *pipeline, cg_data_config *out);

/* Loads the images the config names (unless the pipeline needs none) and builds every split.
 * Deterministic: the same config and seed give the same bytes. */
cg_status cg_data_generate(const char *pipeline, const cg_data_config *cfg, cg_dataset *out);

/* The rows, one per file src/pipelines/<name>.c. */
extern const cg_pipeline cg__pipeline_baseline, cg__pipeline_similarity, cg__pipeline_siamese,
    cg__pipeline_dae, cg__pipeline_vae;

/* The data keys and default report of the two digits-on-backgrounds pipelines. */
extern const char *const cg__digits_bg_keys[];
extern const char cg__digits_bg_report[];

/* What every pipeline's defaults start from (the seed studies' shared values). */
void cg__pipeline_base_defaults(cg_data_config *c);

#endif
