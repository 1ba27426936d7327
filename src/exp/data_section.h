/* The part of an experiment descriptor that decides its data: name, pipeline, seed and the
 * `data:` mapping. The full descriptor (model, graph, losses, training) builds on this. */
#ifndef CG_EXP_DATA_SECTION_H
#define CG_EXP_DATA_SECTION_H

#include "data/data.h"
#include "exp/ydoc.h"

typedef struct cg_exp_data {
    char name[64];
    char pipeline[16];
    cg_data_config data;
} cg_exp_data;

/* Every top-level key an experiment may have. */
extern const char *const cg_exp_top_keys[];
extern const size_t cg_exp_top_key_count;

/* Reads name, pipeline, seed and data from a parsed experiment, checking every key there and
 * the names of all top-level keys. Relative data paths are taken from the file's folder. */
cg_status cg_exp_data_parse(const cg_ydoc *doc, cg_exp_data *out);

/* Loads a file and parses it as above. */
cg_status cg_exp_data_load(const char *path, cg_exp_data *out);

#endif
