/* The pipeline table (see pipeline.h): the one place that lists every pipeline. */
#include <stdio.h>
#include <string.h>

#include "pipelines/pipeline.h"

static const cg_pipeline *const table[] = {
    &cg__pipeline_baseline, &cg__pipeline_similarity, &cg__pipeline_siamese,
    &cg__pipeline_dae,      &cg__pipeline_vae,
};

const char *const cg_pipeline_common_keys[] = {"dataset", "path", "train", "test", NULL};

const cg_pipeline *cg_pipeline_find(const char *name) {
    for (size_t i = 0; name && i < CG__ARRAY_LEN(table); i++)
        if (strcmp(table[i]->name, name) == 0)
            return table[i];
    return NULL;
}

const cg_pipeline *cg_pipeline_at(size_t index) {
    return index < CG__ARRAY_LEN(table) ? table[index] : NULL;
}

size_t cg_pipeline_count(void) {
    return CG__ARRAY_LEN(table);
}

static bool listed(const char *const *keys, const char *key) {
    for (; keys && *keys; keys++)
        if (strcmp(*keys, key) == 0)
            return true;
    return false;
}

bool cg_pipeline_takes(const cg_pipeline *p, const char *key) {
    return listed(cg_pipeline_common_keys, key) || listed(p->data_keys, key);
}

void cg__pipeline_base_defaults(cg_data_config *c) {
    memset(c, 0, sizeof *c);
    cg__copy_str(c->dataset, sizeof c->dataset, "mnist");
    cg__copy_str(c->backgrounds, sizeof c->backgrounds, "procedural");
    c->pools_per_class = 5;
    c->ood_pool = 50;
    c->k_neighbours = 5;
    cg__copy_str(c->mining, sizeof c->mining, "knn");
    cg__copy_str(c->negatives, sizeof c->negatives, "other_class");
    c->shifts[0] = -6, c->shifts[1] = -3, c->shifts[2] = 3, c->shifts[3] = 6;
    c->n_shifts = 4;
    c->pair_weights[0] = c->pair_weights[1] = c->pair_weights[2] = 1.0f;
    c->grid = 64;
}

bool cg_data_defaults(const char *pipeline, cg_data_config *out) {
    const cg_pipeline *p = cg_pipeline_find(pipeline);
    cg__pipeline_base_defaults(out);
    if (p)
        p->defaults(out);
    return p != NULL;
}

cg_status cg_data_generate(const char *pipeline, const cg_data_config *c, cg_dataset *out) {
    memset(out, 0, sizeof *out);
    const cg_pipeline *p = cg_pipeline_find(pipeline);
    if (!p) {
        char list[256] = "";
        for (size_t i = 0, used = 0; i < CG__ARRAY_LEN(table); i++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                     table[i]->name);
        return cg__error(CG_ERR_INVALID_ARGUMENT, "unknown pipeline '%s'; the pipelines are %s",
                         pipeline, list);
    }
    cg_status st;
    if (p->needs_images && !p->needs_images(c)) {
        st = p->generate(c, NULL, NULL, out);
    } else {
        cg_images train, test;
        st = cg_dataset_load(c->dataset, c->path[0] ? c->path : NULL, &train, &test, NULL,
                             out->source, sizeof out->source);
        if (st != CG_OK && st != CG_ERR_OUT_OF_MEMORY && c->path[0] && c->path_at[0]) {
            /* Where the folder that failed is named. */
            char message[1024];
            cg__copy_str(message, sizeof message, cg_error_message());
            return cg__error(st, "%s: %s", c->path_at, message);
        }
        if (st != CG_OK)
            return st;
        st = p->generate(c, &train, &test, out);
        cg_images_free(&train);
        cg_images_free(&test);
    }
    if (st == CG_ERR_OUT_OF_MEMORY && !cg_error_message()[0])
        cg__error(st, "no memory for the %s data", pipeline);
    if (st != CG_OK)
        cg_dataset_free(out);
    return st;
}
